package spec

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// RunSuite is the go test entry point of a suite package: it opens the
// target named by $PROTOSPEC_TARGET (default: the embedded reference), runs
// the protocol's specs against it and, when $PROTOSPEC_REPORT_DIR is set,
// writes the four reports there. $PROTOSPEC_TLS=1 runs the specs over the
// target's TLS services, as `run --tls` does. The test fails when a spec
// fails, except as the baseline of $PROTOSPEC_BASELINE expects, as `run
// --baseline` does: a file, "builtin" (the launcher's own: the default for
// a launcher that ships one) or "none".
//
//	func TestEcho(t *testing.T) { spec.RunSuite(t, "echo") }
//	PROTOSPEC_TLS=1 go test ./suites/http1
//	PROTOSPEC_TARGET=xinetd go test ./suites/echo   # xinetd's known deviations pass
func RunSuite(t *testing.T, protocol string) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	name := os.Getenv("PROTOSPEC_TARGET")
	base, err := goTestBaseline(os.Getenv("PROTOSPEC_BASELINE"), name, protocol)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	params, teardown, err := Prepare(ctx, protocol)
	if err != nil {
		cancel()
		t.Fatalf("preparing the %s suite: %v", protocol, err)
	}
	defer teardown()
	fx, err := tlsfixture.New()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	target, err := targets.Open(ctx, name, targets.Options{Protocol: protocol, Params: params, TLS: fx})
	cancel()
	if err != nil {
		t.Fatalf("opening target %q: %v", name, err)
	}
	defer target.Close()
	cfg := Config{Target: target, TLS: &tls.Config{RootCAs: fx.Pool()}, OverTLS: os.Getenv("PROTOSPEC_TLS") == "1"}
	var gt ginkgo.GinkgoTestingT = t
	if base != nil {
		// The result model, not Ginkgo's verdict, decides: a spec the
		// baseline expects to fail does not fail the test.
		gt = &failT{}
	}
	run, err := Execute(gt, RunOptions{Protocol: protocol, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if base != nil {
		base.Apply(run)
		for _, sp := range run.Specs {
			if sp.Known {
				t.Logf("known deviation (%s): %s %s: %s", run.Baseline, sp.ID, sp.State, sp.Message)
			}
		}
		for _, sp := range run.Unexpected() {
			t.Errorf("%s %s %s (not in %s): %s", sp.Level, sp.ID, sp.State, run.Baseline, sp.Message)
		}
		for _, n := range run.Notes {
			t.Log(n)
		}
		if unused := base.Unused(run); len(unused) > 0 {
			t.Logf("baseline entries that matched no failure: %s", strings.Join(unused, ", "))
		}
	}
	for _, sp := range run.Specs {
		if sp.Sentence == "" {
			t.Errorf("%s quotes no sentence: declare it with Specs.It and spec.Quote", sp.ID)
		}
	}
	if dir := os.Getenv("PROTOSPEC_REPORT_DIR"); dir != "" {
		if err := reports.WriteAll(dir, run); err != nil {
			t.Errorf("writing reports: %v", err)
		}
	}
}

// failT is the GinkgoTestingT of a run judged against a baseline.
type failT struct{ failed bool }

func (f *failT) Fail() { f.failed = true }

// goTestBaseline is the baseline of a go test run: the file env names,
// the launcher's own for "builtin" (and for "" when target is a launcher
// that ships one for protocol), none for "none" or otherwise.
func goTestBaseline(env, target, protocol string) (*reports.Baseline, error) {
	switch env {
	case "none":
		return nil, nil
	case "", "builtin":
		var text string
		l, ok := targets.Lookup(target)
		if ok {
			if bp, isBP := l.(targets.BaselineProvider); isBP {
				text, ok = bp.Baseline(protocol)
			} else {
				ok = false
			}
		}
		if !ok {
			if env == "" {
				return nil, nil
			}
			return nil, fmt.Errorf("PROTOSPEC_BASELINE=builtin: target %q ships no baseline for %s", target, protocol)
		}
		b, err := reports.ParseBaseline(strings.NewReader(text))
		if err != nil {
			return nil, fmt.Errorf("builtin baseline of %s: %w", target, err)
		}
		b.Name = "builtin:" + target
		return b, nil
	default:
		return reports.LoadBaseline(env)
	}
}

// Prepare runs the protocol's Setup, if it has one. The teardown it
// returns is never nil.
func Prepare(ctx context.Context, protocol string) (map[string]string, func(), error) {
	p, ok := LookupProtocol(protocol)
	if !ok {
		return nil, func() {}, fmt.Errorf("spec: unknown protocol %q", protocol)
	}
	if p.Setup == nil {
		return nil, func() {}, nil
	}
	params, teardown, err := p.Setup(ctx)
	if teardown == nil {
		teardown = func() {}
	}
	return params, teardown, err
}
