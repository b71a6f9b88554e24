package spec

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// RunSuite is the go test entry point of a suite package: it opens the
// target named by $PROTOSPEC_TARGET (default: the embedded reference), runs
// the protocol's specs against it and, when $PROTOSPEC_REPORT_DIR is set,
// writes the four reports there. The test fails when a spec fails.
//
//	func TestEcho(t *testing.T) { spec.RunSuite(t, "echo") }
func RunSuite(t *testing.T, protocol string) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	name := os.Getenv("PROTOSPEC_TARGET")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	params, teardown, err := Prepare(ctx, protocol)
	if err != nil {
		cancel()
		t.Fatalf("preparing the %s suite: %v", protocol, err)
	}
	defer teardown()
	target, err := targets.Open(ctx, name, targets.Options{Protocol: protocol, Params: params})
	cancel()
	if err != nil {
		t.Fatalf("opening target %q: %v", name, err)
	}
	defer target.Close()
	run, err := Execute(t, RunOptions{Protocol: protocol, Config: Config{Target: target}})
	if err != nil {
		t.Fatal(err)
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
