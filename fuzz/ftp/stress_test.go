package ftpfuzz

import (
	"context"
	"testing"
	"time"

	"github.com/protospec/protospec/fuzz/engine/enginetest"
	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/stress"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

// TestAttacksMount mounts every attack of the battery on the reference
// for a moment and its legitimate client once after each: each attack
// can be mounted (no error) and the probe works. The verdicts, which
// depend on latency, are CI's (`protospec stress ftp` in .ci/run), not a
// unit test's.
func TestAttacksMount(t *testing.T) {
	if _, ok := reference.Lookup(contractName); !ok {
		t.Skip("no FTP reference is registered in this build")
	}
	tg, err := targets.Open(context.Background(), "reference", targets.Options{Protocol: contractName})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ep, err := tg.Endpoint(ftpService)
	if err != nil {
		t.Fatal(err)
	}
	bat, err := stress.Lookup(contractName)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range bat.Attacks {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		d := &dial.Dialer{Timeout: 5 * time.Second, Source: "127.0.0.13"}
		fig, err := a.Run(ctx, ep, stress.Budget{Duration: time.Second, Conns: 100, Bytes: 16 << 20, Step: 5 * time.Second, Dialer: d})
		cancel()
		if err != nil {
			t.Errorf("%s: %v", a.Name(), err)
			continue
		}
		t.Logf("%s: %v", a.Name(), fig)
		pctx, pcancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = bat.Probe(pctx, ftpService, ep.Addr)
		pcancel()
		if err != nil {
			t.Errorf("the legitimate client after %s: %v", a.Name(), err)
		}
	}
}

// TestReferenceClean fuzzes the reference server briefly: nothing must be
// found, and every seed reaches a state.
func TestReferenceClean(t *testing.T) {
	if _, ok := reference.Lookup(contractName); !ok {
		t.Skip("no FTP reference is registered in this build")
	}
	enginetest.ReferenceClean(t, ftpModel{}, contractName)
}
