// Package targets is the contract between protospec's suites and the servers
// they judge. A Target says where each service of a protocol can be reached,
// which optional features it offers, and why it lacks the others, so that a
// spec which needs something the target cannot offer is skipped with that
// reason rather than passed or failed.
//
// A target comes from one of three places, all opened with Open:
//
//   - "reference" (the default): the embedded reference implementation,
//     started in-process on ephemeral loopback ports;
//   - a launcher name ("xinetd", "nginx", ...): a third-party server that
//     protospec configures in a temporary directory, starts on free loopback
//     ports, waits for and stops afterwards; "<launcher>:<variant>" names one
//     of a VariantLauncher's variants ("mutant:drop-content-length");
//   - an address: a server the user runs ("127.0.0.1:7000", "udp://[::1]:7",
//     "uppercase/tcp=127.0.0.1:7001,discard/udp=127.0.0.1:9").
//
// A launcher of a third-party server is one Declared value registered with
// Declare (its config an embedded text/template beside it); package
// targets itself names no protocol: the names, features and probes of each
// live in its contract package, internal/<p>.
//
// Example:
//
//	t, err := targets.Open(ctx, "xinetd", targets.Options{Protocol: echo.Name})
//	if err != nil { ... }
//	defer t.Close()
//	ep, err := t.Endpoint("daytime/tcp") // ep.Network "tcp", ep.Addr "127.0.0.1:40123"
package targets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/tlsfixture"
)

// Target is a running server (or set of servers) that specs talk to.
type Target interface {
	// Name is the name the user gave: "reference", "xinetd", an address.
	Name() string
	// Info describes the target for reports.
	Info() Info
	// Endpoint returns where a service is reached. Services are named
	// "<service>/<transport>": "daytime/tcp", "uppercase/udp", "http/tcp",
	// "http/tls" (TCP with TLS from the first byte; its Endpoint has
	// Security dial.TLS). A
	// service the target does not offer gives an error wrapping
	// ErrNotOffered whose text is the reason, fit to be a skip message.
	Endpoint(service string) (Endpoint, error)
	// Feature reports whether an optional behaviour or fixture endpoint is
	// offered (a contract's feature, such as http1.FeatureTrace): nil when
	// it is, an error wrapping ErrNotOffered with the reason when it is
	// not.
	Feature(name string) error
	// Close stops whatever Open started. Closing an address target does
	// nothing to the user's server.
	Close() error
}

// Directories is implemented by targets whose server runs on this machine
// with a directory the specs may read: a mail server's Maildir store, to
// see what it delivered. Dir returns an error wrapping ErrNotOffered when
// the target has no such directory (an address target never has).
type Directories interface {
	Dir(name string) (string, error)
}

// Endpoint is a network address of one service, with its transport
// security and TLS server name: the dialer of internal/dial, which every
// pillar uses, reaches it.
type Endpoint = dial.Endpoint

// Security is an endpoint's transport security: dial.Plain, dial.TLS or
// dial.StartTLS.
type Security = dial.Security

// Info describes a target for reports.
type Info struct {
	Name string
	// Kind is "reference", "launcher" or "address".
	Kind    string
	Version string
	// Endpoints maps each offered service to its address.
	Endpoints map[string]string
}

// Target kinds.
const (
	KindReference = "reference"
	KindLauncher  = "launcher"
	KindAddress   = "address"
)

// Errors of the package.
var (
	// ErrNotOffered marks a service or feature that a target lacks; the
	// wrapping error's text says why.
	ErrNotOffered = errors.New("targets: not offered by this target")
	// ErrUnknownTarget is returned by Open for a name that is neither a
	// launcher nor an address.
	ErrUnknownTarget = errors.New("targets: unknown target")
	// ErrUnsupportedProtocol is returned by Open when a launcher does not
	// serve the protocol asked for.
	ErrUnsupportedProtocol = errors.New("targets: protocol not served by this target")
	// ErrMissingBinary is returned by a launcher whose server is not
	// installed; the wrapping error names the package to install.
	ErrMissingBinary = errors.New("targets: server binary not found")
)

// NotOffered returns an error wrapping ErrNotOffered with the given reason.
func NotOffered(format string, args ...any) error {
	return notOffered{fmt.Sprintf(format, args...)}
}

type notOffered struct{ reason string }

func (e notOffered) Error() string { return e.reason }
func (e notOffered) Unwrap() error { return ErrNotOffered }

// Options configure a target for one run.
type Options struct {
	// Protocol is the protocol the suite will test: its contract's Name
	// (internal/<p>).
	Protocol string
	// WorkDir is where a launcher writes its configuration, fixtures and
	// logs; empty means a new temporary directory, removed on Close.
	WorkDir string
	// Params carry protocol-specific settings, such as the addresses of the
	// suite's own authoritative servers that a resolver is pointed at.
	Params map[string]string
	// Log receives the launcher's progress and the server's output; nil
	// discards it.
	Log io.Writer
	// Features are the optional features (protocol.Feature.Optional) the
	// user declares a server at an address offers (run --feature).
	Features []string

	// TLS is the run's fixture CA and leaf certificate: launchers that
	// offer TLS services serve its leaf, and the suites trust its CA. Nil
	// means the launcher makes its own (see TLSFixture).
	TLS *tlsfixture.Fixture
}

// TLSFixture returns opts.TLS, or a new fixture when the caller gave none.
func (o Options) TLSFixture() (*tlsfixture.Fixture, error) {
	if o.TLS != nil {
		return o.TLS, nil
	}
	return tlsfixture.New()
}

// Launcher starts a target of one kind.
type Launcher interface {
	// Name is what --target takes: "reference", "xinetd", "nginx".
	Name() string
	// Protocols lists the protocols the launcher serves.
	Protocols() []string
	// Requirement describes what must be installed ("Debian package
	// xinetd"); empty when nothing is.
	Requirement() string
	// Available returns nil when the launcher can start its server here, or
	// an error wrapping ErrMissingBinary that says what to install.
	Available() error
	// Start starts a target for opts.Protocol and returns it once it
	// answers. It must give up when ctx is done.
	Start(ctx context.Context, opts Options) (Target, error)
}

var launchers = map[string]Launcher{}

// Register makes a launcher available to Open. It is meant to be called
// from the init function of the launcher's package; registering two
// launchers under one name is a programming error and panics.
func Register(l Launcher) {
	if _, dup := launchers[l.Name()]; dup {
		panic("targets: launcher registered twice: " + l.Name())
	}
	launchers[l.Name()] = l
}

// Launchers returns the registered launchers ordered by name, the
// reference first.
func Launchers() []Launcher {
	out := make([]Launcher, 0, len(launchers))
	for _, l := range launchers {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name() == "reference") != (out[j].Name() == "reference") {
			return out[i].Name() == "reference"
		}
		return out[i].Name() < out[j].Name()
	})
	return out
}

// Lookup returns the launcher with the given name.
func Lookup(name string) (Launcher, bool) {
	l, ok := launchers[name]
	return l, ok
}

// Serves reports whether l serves protocol.
func Serves(l Launcher, protocol string) bool {
	for _, p := range l.Protocols() {
		if p == protocol {
			return true
		}
	}
	return false
}

// Open starts or resolves the target named by spec for opts.Protocol: a
// launcher name, or an address (see ParseAddress). The empty name means
// "reference".
func Open(ctx context.Context, spec string, opts Options) (Target, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = "reference"
	}
	if l, ok := launchers[spec]; ok {
		if !Serves(l, opts.Protocol) {
			return nil, fmt.Errorf("%w: %s serves %s, not %q", ErrUnsupportedProtocol, spec, strings.Join(l.Protocols(), ", "), opts.Protocol)
		}
		if err := l.Available(); err != nil {
			return nil, err
		}
		return l.Start(ctx, opts)
	}
	if t, ok, err := openVariant(ctx, spec, opts); ok {
		return t, err
	}
	if looksLikeAddress(spec) {
		return OpenAddress(ctx, spec, opts)
	}
	names := make([]string, 0, len(launchers))
	for _, l := range Launchers() {
		names = append(names, l.Name())
	}
	return nil, fmt.Errorf("%w %q: not a launcher (%s) nor an address like 127.0.0.1:7000", ErrUnknownTarget, spec, strings.Join(names, ", "))
}

// BaselineProvider is implemented by launchers that ship a baseline: the
// specs their server is known to fail, one ID per line (see
// reports.ParseBaseline). `run --baseline builtin` uses it.
type BaselineProvider interface {
	// Baseline returns the baseline for protocol, if the launcher has one.
	Baseline(protocol string) (text string, ok bool)
}
