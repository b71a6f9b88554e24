package spec

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/protospec/protospec/targets"
)

// baselineLauncher is a launcher that ships a baseline for protocol "p".
type baselineLauncher struct{}

func (baselineLauncher) Name() string        { return "test-baseline-launcher" }
func (baselineLauncher) Protocols() []string { return []string{"p"} }
func (baselineLauncher) Requirement() string { return "" }
func (baselineLauncher) Available() error    { return nil }
func (baselineLauncher) Start(context.Context, targets.Options) (targets.Target, error) {
	return nil, targets.ErrUnsupportedProtocol
}
func (baselineLauncher) Baseline(protocol string) (string, bool) {
	return "p/doc/1/known # a known deviation\n", protocol == "p"
}

func init() { targets.Register(baselineLauncher{}) }

// TestGoTestBaseline checks which baseline a go test run is judged by.
func TestGoTestBaseline(t *testing.T) {
	const l = "test-baseline-launcher"
	for _, env := range []string{"", "builtin"} {
		b, err := goTestBaseline(env, l, "p")
		if err != nil || b == nil || !b.Match("p/doc/1/known") || b.Name != "builtin:"+l {
			t.Errorf("PROTOSPEC_BASELINE=%q against a launcher: %v, %v", env, b, err)
		}
	}
	if b, err := goTestBaseline("none", l, "p"); b != nil || err != nil {
		t.Errorf("none: %v, %v", b, err)
	}
	if b, err := goTestBaseline("", l, "other"); b != nil || err != nil {
		t.Errorf("a protocol the launcher has no baseline for: %v, %v", b, err)
	}
	if b, err := goTestBaseline("", "", "p"); b != nil || err != nil {
		t.Errorf("the reference: %v, %v", b, err)
	}
	if _, err := goTestBaseline("builtin", "127.0.0.1:7", "p"); err == nil {
		t.Error("builtin against an address: no error")
	}
	f := filepath.Join(t.TempDir(), "baseline.txt")
	if err := os.WriteFile(f, []byte("p/doc/2/*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := goTestBaseline(f, l, "p"); err != nil || !b.Match("p/doc/2/x") || b.Match("p/doc/1/known") {
		t.Errorf("a file: %v, %v", b, err)
	}
}
