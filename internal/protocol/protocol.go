// Package protocol is the protocol-free shape every protocol's rooms share:
// a protocol's contract (its name, services, features and params, declared
// once in internal/<p>) and a small typed registry that every engine keys by
// the contract's name.
//
// Each protocol registers its contract from internal/<p>:
//
//	var Contract = protocol.Register(protocol.Contract{
//		Name:     "echo",
//		Title:    "socket echo services",
//		Services: []protocol.Service{{Name: "echo", Transport: "tcp", Port: 7}},
//	})
//
// and each engine (suites, references, pcap dissectors, fuzz models, load
// clients, stress attacks) keeps its own Registry[T], filled from the
// protocol's own rooms, so that the engines know no protocol.
package protocol

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Service is one service of a protocol on one transport: "http" over
// "tcp" on port 80, "http" over "tls" on 443. Its target name is
// "<name>/<transport>".
type Service struct {
	Name      string
	Transport string // "tcp", "udp", "tls"
	// Port is the well-known port (0: none).
	Port uint16
}

// Key is the service's name as targets know it: "http/tcp".
func (s Service) Key() string { return s.Name + "/" + s.Transport }

// Feature is an optional behaviour or fixture endpoint that a target
// declares ("http1/trace"); a spec that needs one a target lacks is
// skipped with the target's reason.
type Feature struct {
	Name string
	Doc  string
	// Optional marks a feature that a server the user runs (an address
	// target) cannot be assumed to offer, such as TRACE or an AXFR
	// allow-list: its specs are skipped unless the user declares it
	// (run --feature NAME). Other features are assumed of such a server.
	Optional bool
}

// Feature returns the contract's feature of that name.
func (c Contract) Feature(name string) (Feature, bool) {
	for _, f := range c.Features {
		if f.Name == name {
			return f, true
		}
	}
	return Feature{}, false
}

// Param is a protocol-specific setting given as --param k=v.
type Param struct {
	Name    string
	Doc     string
	Default string
}

// Contract is what every room of a protocol agrees on.
type Contract struct {
	Name     string // "http1"
	Title    string // "HTTP/1.0 and HTTP/1.1"
	Services []Service
	Features []Feature
	Params   []Param
	// Probe, if set, checks that a service answers one valid exchange:
	// the liveness preflight of runs, the re-probe after a spec that
	// passed on a refusal, and the UDP discovery of address targets. It
	// asks for liveness, not conformance (any HTTP response to GET /, any
	// DNS response with the query's ID), and returns an error wrapping
	// ErrUnprobed for a service no exchange can show alive (discard).
	Probe func(ctx context.Context, service, addr string) error
	// Fixture, if set, writes what a server must serve for the suite into
	// dir (a docroot, zone files).
	Fixture func(dir string) error
}

// ErrUnprobed is what a contract's Probe returns for a service whose
// liveness no exchange shows (a discard service answers nothing): the
// preflight neither passes nor fails it.
var ErrUnprobed = errors.New("protocol: the service cannot be probed for liveness")

// Service returns the contract's service with key "<name>/<transport>".
func (c Contract) Service(key string) (Service, bool) {
	for _, s := range c.Services {
		if s.Key() == key {
			return s, true
		}
	}
	return Service{}, false
}

// Registry is a set of values keyed by protocol name, filled from init
// functions and read afterwards. The zero value is ready to use.
type Registry[T any] struct {
	// What names the registry in panics and errors: "pcap dissector".
	What string
	mu   sync.Mutex
	m    map[string]T
}

// NewRegistry returns an empty registry of what.
func NewRegistry[T any](what string) *Registry[T] { return &Registry[T]{What: what} }

// Register adds v under name. Registering a name twice is a programming
// error and panics.
func (r *Registry[T]) Register(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]T{}
	}
	if _, dup := r.m[name]; dup {
		panic(fmt.Sprintf("protocol: %s registered twice for %q", r.What, name))
	}
	r.m[name] = v
}

// Lookup returns the value registered under name.
func (r *Registry[T]) Lookup(name string) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[name]
	return v, ok
}

// Get is Lookup with an error that lists the known names.
func (r *Registry[T]) Get(name string) (T, error) {
	if v, ok := r.Lookup(name); ok {
		return v, nil
	}
	var zero T
	return zero, fmt.Errorf("no %s for %q (known: %v)", r.What, name, r.Names())
}

// Names lists the registered names in order.
func (r *Registry[T]) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.m))
	for n := range r.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var contracts = NewRegistry[Contract]("protocol contract")

// Register registers a protocol's contract and returns it, for
// `var Contract = protocol.Register(...)` in internal/<p>.
func Register(c Contract) Contract {
	contracts.Register(c.Name, c)
	return c
}

// Lookup returns the contract of a registered protocol.
func Lookup(name string) (Contract, bool) { return contracts.Lookup(name) }

// Names lists the registered protocols in order.
func Names() []string { return contracts.Names() }
