package echofuzz

import (
	"context"
	"testing"
	"time"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/targets"
	_ "github.com/protospec/protospec/targets/reference"
)

// referenceTarget opens the reference implementation of the protocol.
func referenceTarget() engine.TargetSpec {
	return engine.TargetSpec{Name: "reference", Open: func(ctx context.Context) (targets.Target, error) {
		return targets.Open(ctx, "reference", targets.Options{Protocol: contract.Name})
	}}
}

// TestReferenceClean fuzzes the reference server briefly: nothing must be
// found, and every seed reaches a state.
func TestReferenceClean(t *testing.T) {
	m := echoModel{}
	res, err := engine.Run(context.Background(), engine.Config{
		Model: m, Targets: []engine.TargetSpec{referenceTarget()},
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

// TestRegistered checks the model is registered under the contract's name.
func TestRegistered(t *testing.T) {
	m, err := engine.LookupModel(contract.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(echoModel); !ok {
		t.Errorf("LookupModel(%q) = %T", contract.Name, m)
	}
}

// FuzzModel feeds arbitrary bytes to the model's sessions, as what was sent
// and what came back, and to its mutator: nothing may panic, and Parse may
// never claim more bytes than it was given.
func FuzzModel(f *testing.F) {
	f.Add([]byte("hello\r\n"), []byte("hello\r\n"), uint64(1))
	f.Add([]byte("a\nb"), []byte("a\nc"), uint64(2))
	f.Fuzz(func(t *testing.T, sent, got []byte, seed uint64) {
		if err := engine.CheckModel(echoModel{}, sent, got, seed); err != nil {
			t.Fatal(err)
		}
	})
}
