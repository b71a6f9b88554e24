package targets

import (
	"context"
	"errors"
	"testing"
)

// variants is a VariantLauncher that records the variant it was asked for.
type variants struct{ asked string }

func (*variants) Name() string             { return "variants-test" }
func (*variants) Protocols() []string      { return []string{"proto-a"} }
func (*variants) Requirement() string      { return "" }
func (*variants) Available() error         { return nil }
func (*variants) Variants(string) []string { return []string{"one"} }
func (*variants) Start(context.Context, Options) (Target, error) {
	return nil, errors.New("no variant")
}
func (v *variants) StartVariant(_ context.Context, name string, _ Options) (Target, error) {
	v.asked = name
	return &Static{TargetName: v.Name() + ":" + name}, nil
}

func TestOpenVariant(t *testing.T) {
	v := &variants{}
	Register(v)
	defer delete(launchers, v.Name())
	ctx := context.Background()
	tg, err := Open(ctx, "variants-test:one", Options{Protocol: "proto-a"})
	if err != nil || v.asked != "one" || tg.Name() != "variants-test:one" {
		t.Fatalf("Open variants-test:one: %v, asked %q", err, v.asked)
	}
	if _, err := Open(ctx, "variants-test:one", Options{Protocol: "proto-b"}); !errors.Is(err, ErrUnsupportedProtocol) {
		t.Errorf("a protocol the launcher does not serve: %v", err)
	}
	// A name before the colon that is no variant launcher is an address.
	tg, err = Open(ctx, "udp://127.0.0.1:9", Options{Protocol: "proto-a"})
	if err != nil || tg.Info().Kind != KindAddress {
		t.Errorf("an address: %v", err)
	}
}
