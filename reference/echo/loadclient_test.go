package echo

import (
	"context"
	"testing"
	"time"

	contract "github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/internal/loadgen"
)

// TestLoadClientAgainstReference loads the uppercase server (every reply
// validated), and the echo server, whose replies are not upper case: the
// client must count those as bad responses.
func TestLoadClientAgainstReference(t *testing.T) {
	c, err := loadgen.LookupClient(contract.Name)
	if err != nil {
		t.Fatal(err)
	}
	load, err := c.Plan(nil)
	if err != nil {
		t.Fatal(err)
	}
	if load.Service != c.Service || load.Service != "uppercase/tcp" {
		t.Fatalf("planned service %q, client service %q", load.Service, c.Service)
	}
	for _, tc := range []struct {
		svc  Service
		ok   bool
		kind loadgen.Kind
	}{{Uppercase, true, ""}, {Echo, false, loadgen.KindBadResponse}} {
		t.Run(string(tc.svc), func(t *testing.T) {
			addr := startTCP(t, &Server{Service: tc.svc})
			p, err := load.Open(loadgen.TCP(addr), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := loadgen.Run(ctx, loadgen.Config{Protocol: p, Connections: 2, Pipeline: 4, Requests: 400})
			if err != nil {
				t.Fatal(err)
			}
			if tc.ok && (res.Completed != 400 || res.ErrorCount() != 0) {
				t.Errorf("completed %d, errors %v; want 400 and none", res.Completed, res.Errors)
			}
			if !tc.ok && (res.Completed != 0 || res.Errors[tc.kind] == 0) {
				t.Errorf("completed %d, errors %v; want only %s", res.Completed, res.Errors, tc.kind)
			}
		})
	}
}

func TestLoadClientOptions(t *testing.T) {
	for _, o := range []LoadClientOptions{{}, {Addr: "127.0.0.1:1", Lines: []string{"a\nb"}}} {
		if _, err := NewLoadClient(o); err == nil {
			t.Errorf("NewLoadClient(%+v) accepted bad options", o)
		}
	}
}
