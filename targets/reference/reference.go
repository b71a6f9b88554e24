// Package reference is the launcher of protospec's own reference
// implementations: the default target of every suite, started in-process on
// ephemeral loopback ports, and the servers behind `protospec serve`.
//
//	t, err := targets.Open(ctx, "reference", targets.Options{Protocol: "echo"})
package reference

import (
	"context"
	"fmt"
	"io"
	"log"
	"sort"
	"strings"

	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/targets"
)

func init() { targets.Register(Launcher{}) }

// Protocol is how the reference of one protocol is started.
type Protocol struct {
	// Start starts the reference as a target on ephemeral loopback ports.
	Start func(ctx context.Context, opts targets.Options) (targets.Target, error)
	// Serve runs the reference for a user until ctx is done.
	Serve func(ctx context.Context, opts ServeOptions) error
	// Params are the settings Serve takes (ServeOptions.Params, given as
	// `protospec serve --param k=v`), with their documentation and
	// defaults; `protospec serve` refuses any other.
	Params []protocol.Param
	// Examples are `protospec serve <protocol>` argument lists shown in
	// the command's help ("--addr 127.0.0.1:8080 --root ./docroot").
	Examples []string
}

// ServeOptions are the settings of `protospec serve`.
type ServeOptions struct {
	// Addr is where to listen ("127.0.0.1:7000"); each protocol documents
	// whether it listens on TCP, UDP or both there.
	Addr string
	// Params are protocol-specific settings from the command line
	// (service=uppercase, root=DIR, hierarchy=true).
	Params map[string]string
	// Log receives one line per event worth telling (listening on...).
	Log io.Writer
	// AccessLog, if set, receives one line per request, query, datagram
	// or connection served; nil keeps the servers' hot paths free of it.
	AccessLog io.Writer
	// Serving, if set, is called once, when every listener is bound, with
	// what a suite run needs to test the servers (`protospec run
	// --target`).
	Serving func(Serving)
}

// Serving is what `protospec serve` serves, told once every listener is
// bound.
type Serving struct {
	// Endpoints are the contract's services served, by key
	// ("uppercase/udp").
	Endpoints map[string]targets.Endpoint
	// Features are the optional features of the contract the servers
	// offer (run --feature NAME).
	Features []string
	// Flags are further flags of the run that tests them ("--ca", FILE).
	Flags []string
	// Untestable, if set, says why no suite run tests the servers as
	// they serve (no Endpoints then).
	Untestable string
}

// serving calls opts.Serving, if set.
func (opts ServeOptions) serving(s Serving) {
	if opts.Serving != nil {
		opts.Serving(s)
	}
}

// accessLogger returns a logger of opts.AccessLog, nil without one.
func (opts ServeOptions) accessLogger() *log.Logger {
	if opts.AccessLog == nil {
		return nil
	}
	return log.New(opts.AccessLog, "", log.LstdFlags)
}

var protocols = map[string]Protocol{}

func register(name string, p Protocol) { protocols[name] = p }

// Launcher starts the reference implementations.
type Launcher struct{}

// Name implements targets.Launcher.
func (Launcher) Name() string { return "reference" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string {
	out := make([]string, 0, len(protocols))
	for p := range protocols {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Requirement implements targets.Launcher: the reference is built in.
func (Launcher) Requirement() string { return "" }

// Available implements targets.Launcher.
func (Launcher) Available() error { return nil }

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	p, ok := protocols[opts.Protocol]
	if !ok {
		return nil, fmt.Errorf("%w: no reference implementation of %q", targets.ErrUnsupportedProtocol, opts.Protocol)
	}
	return p.Start(ctx, opts)
}

// Lookup returns how the reference of the protocol name is started and
// served.
func Lookup(name string) (Protocol, bool) {
	p, ok := protocols[name]
	return p, ok
}

// Serve runs the reference implementation of protocol until ctx is done.
func Serve(ctx context.Context, protocol string, opts ServeOptions) error {
	p, ok := protocols[protocol]
	if !ok || p.Serve == nil {
		return fmt.Errorf("%w: no reference implementation of %q to serve", targets.ErrUnsupportedProtocol, protocol)
	}
	return p.Serve(ctx, opts)
}

// ServeParams are the params of `protospec serve` that a contract
// declares: those whose doc starts with "serve: " (the prefix dropped).
// The contract keeps one list of a protocol's params; the CLI validates
// serve's params against this one.
func ServeParams(c protocol.Contract) []protocol.Param {
	var out []protocol.Param
	for _, p := range c.Params {
		if doc, ok := strings.CutPrefix(p.Doc, "serve: "); ok {
			p.Doc = doc
			out = append(out, p)
		}
	}
	return out
}
