package ftp_test

import (
	"context"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/loadgen/loadgentest"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

// TestLoadClientAgainstReference runs both loads against the reference:
// every session and every transfer validated.
func TestLoadClientAgainstReference(t *testing.T) {
	if _, ok := reference.Lookup("ftp"); !ok {
		t.Skip("no FTP reference is registered in this build")
	}
	tg, err := targets.Open(context.Background(), "reference", targets.Options{Protocol: "ftp"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	c, err := loadgen.LookupClient("ftp")
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"session", "retr"} {
		t.Run(mode, func(t *testing.T) {
			load, err := c.Plan(map[string]string{"mode": mode})
			if err != nil {
				t.Fatal(err)
			}
			ep, err := tg.Endpoint(load.Service)
			if err != nil {
				t.Fatal(err)
			}
			p, err := load.Open(loadgen.Target{Endpoint: ep}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Requests: 100})
			if res.Completed != 100 || res.ErrorCount() != 0 {
				t.Errorf("completed %d, errors %v", res.Completed, res.Errors)
			}
		})
	}
}
