package targets

import (
	"context"
	"fmt"
	"strings"
)

// VariantLauncher is a launcher of a family of targets named
// "<launcher>:<variant>", such as "mutant:drop-content-length": Open hands
// it the part after the colon.
type VariantLauncher interface {
	Launcher
	// Variants lists the variants offered for protocol.
	Variants(protocol string) []string
	// StartVariant starts the named variant for opts.Protocol.
	StartVariant(ctx context.Context, variant string, opts Options) (Target, error)
}

// openVariant opens "<launcher>:<variant>" when the part before the colon
// names a VariantLauncher; ok is false when it does not, and spec is then
// something else (an address).
func openVariant(ctx context.Context, spec string, opts Options) (t Target, ok bool, err error) {
	name, variant, found := strings.Cut(spec, ":")
	if !found {
		return nil, false, nil
	}
	l, found := launchers[name]
	if !found {
		return nil, false, nil
	}
	v, found := l.(VariantLauncher)
	if !found {
		return nil, false, nil
	}
	if !Serves(l, opts.Protocol) {
		return nil, true, fmt.Errorf("%w: %s serves %s, not %q", ErrUnsupportedProtocol, name, strings.Join(l.Protocols(), ", "), opts.Protocol)
	}
	if err := l.Available(); err != nil {
		return nil, true, err
	}
	t, err = v.StartVariant(ctx, variant, opts)
	return t, true, err
}
