// Package enginetest holds the tests every protocol's network-fuzz model
// runs against the engine, so that each fuzz/<p> states only its specifics:
//
//	func TestReferenceClean(t *testing.T) { enginetest.ReferenceClean(t, myModel{}, contract.Name) }
//	func TestRegistered(t *testing.T)     { enginetest.Registered[myModel](t, contract.Name) }
package enginetest

import (
	"context"
	"time"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/targets"
)

// TB is what the helpers need of a test: *testing.T, and the T of the
// libFuzzer build's testing shim, which has no testing.TB (the helpers are
// called from files that hold a fuzz harness).
type TB interface {
	Helper()
	Fatal(args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// ReferenceTarget opens the reference implementation of the protocol named
// protocol (the caller blank-imports targets/reference to register it).
func ReferenceTarget(protocol string) engine.TargetSpec {
	return engine.TargetSpec{Name: "reference", Open: func(ctx context.Context) (targets.Target, error) {
		return targets.Open(ctx, "reference", targets.Options{Protocol: protocol})
	}}
}

// ReferenceClean fuzzes the reference server of protocol briefly with m:
// nothing must be found, and every seed reaches a state.
func ReferenceClean(t TB, m engine.Model, protocol string) {
	t.Helper()
	res, err := engine.Run(context.Background(), engine.Config{
		Model: m, Targets: []engine.TargetSpec{ReferenceTarget(protocol)},
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

// Registered checks that the model registered under name is of type M.
func Registered[M engine.Model](t TB, name string) {
	t.Helper()
	m, err := engine.LookupModel(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(M); !ok {
		t.Errorf("LookupModel(%q) = %T", name, m)
	}
}
