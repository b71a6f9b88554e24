package smtpfuzz

import (
	"context"
	"testing"
	"time"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/fuzz/engine/enginetest"
	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/stress"
	launcher "github.com/protospec/protospec/targets/reference"
)

// TestAttacksMount mounts every attack of the battery on the reference
// for a moment and its legitimate client once after each: each attack
// can be mounted (no error) and the probe works. The verdicts, which
// depend on latency, are CI's (`protospec stress smtp`), not a unit
// test's.
func TestAttacksMount(t *testing.T) {
	r, err := startReference()
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	ep := dial.Endpoint{Network: "tcp", Addr: r.addr}
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
		err = bat.Probe(pctx, smtpService, r.addr)
		pcancel()
		if err != nil {
			t.Errorf("the legitimate client after %s: %v", a.Name(), err)
		}
	}
}

// TestReferenceClean fuzzes the reference server briefly: nothing must be
// found, and every seed reaches a state.
func TestReferenceClean(t *testing.T) {
	m := smtpModel{}
	res, err := engine.Run(context.Background(), engine.Config{
		Model: m, Targets: []engine.TargetSpec{referenceSpec()},
		Seed: 7, Execs: 300, Duration: 20 * time.Second, Timing: engine.Timing{Deadline: 2 * time.Second},
		NoMinimize: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d execs in %v (%.0f/s), %d states", res.Execs, res.Elapsed.Round(time.Millisecond), res.ExecsPerSecond(), res.States)
	for _, f := range res.Findings {
		t.Errorf("finding on the reference: %s %s: %s\n%s", f.Oracle, f.State, f.Detail, f.Transcript())
	}
	if res.Execs < 300 {
		t.Errorf("only %d execs", res.Execs)
	}
	if res.States < len(m.Seeds()) {
		t.Errorf("only %d states reached", res.States)
	}
}

// TestLauncherClean is TestReferenceClean through the reference launcher
// (targets/reference, `--target reference`), once one registers SMTP.
func TestLauncherClean(t *testing.T) {
	if _, ok := launcher.Lookup(contractName); !ok {
		t.Skip("no SMTP reference launcher is registered in this build")
	}
	enginetest.ReferenceClean(t, smtpModel{}, contractName)
}
