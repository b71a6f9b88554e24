package spec

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
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
// fails.
//
//	func TestEcho(t *testing.T) { spec.RunSuite(t, "echo") }
//	PROTOSPEC_TLS=1 go test ./suites/http1
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
	run, err := Execute(t, RunOptions{Protocol: protocol, Config: cfg})
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
