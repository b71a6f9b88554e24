package mutant

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/targets"
)

func init() { targets.Register(Launcher{}) }

// Launcher starts "mutant:NAME": the protocol's reference with the proxy of
// mutant NAME in front of every service.
type Launcher struct{}

var _ targets.VariantLauncher = Launcher{}

// Name implements targets.Launcher.
func (Launcher) Name() string { return "mutant" }

// Protocols implements targets.Launcher: the protocols with mutants.
func (Launcher) Protocols() []string { return Protocols() }

// Requirement implements targets.Launcher: the reference is built in.
func (Launcher) Requirement() string { return "" }

// Available implements targets.Launcher.
func (Launcher) Available() error { return nil }

// Variants implements targets.VariantLauncher: the protocol's mutants.
func (Launcher) Variants(proto string) []string {
	var out []string
	for _, m := range Mutants(proto) {
		out = append(out, m.Name)
	}
	return out
}

// Start implements targets.Launcher: a mutant must be named.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	return nil, fmt.Errorf("name a mutant: --target mutant:NAME, one of %s", strings.Join(l.Variants(opts.Protocol), ", "))
}

// StartVariant implements targets.VariantLauncher: it starts the
// reference and a proxy in front of each of its services.
func (l Launcher) StartVariant(ctx context.Context, name string, opts targets.Options) (targets.Target, error) {
	m, ok := Lookup(opts.Protocol, name)
	if !ok {
		return nil, fmt.Errorf("no %s mutant %q (known: %s)", opts.Protocol, name, strings.Join(l.Variants(opts.Protocol), ", "))
	}
	ref, ok := targets.Lookup("reference")
	if !ok {
		return nil, fmt.Errorf("mutant: no reference launcher registered")
	}
	if len(m.Params) > 0 {
		params := map[string]string{}
		for k, v := range opts.Params {
			params[k] = v
		}
		for k, v := range m.Params {
			params[k] = v
		}
		opts.Params = params
	}
	inner, err := ref.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	t, err := Wrap(inner, m, Limits{})
	if err != nil {
		inner.Close()
		return nil, err
	}
	return t, nil
}

// Wrap puts m's proxy in front of every TCP and UDP service of inner. The
// returned target closes inner when it is closed.
func Wrap(inner targets.Target, m Mutant, lim Limits) (targets.Target, error) {
	info := inner.Info()
	services := make([]string, 0, len(info.Endpoints))
	for s := range info.Endpoints {
		services = append(services, s)
	}
	sort.Strings(services)
	t := &target{name: "mutant:" + m.Name, inner: inner, eps: map[string]targets.Endpoint{}}
	t.info = targets.Info{Name: t.name, Kind: targets.KindLauncher, Version: info.Version + " behind mutant " + m.Name, Endpoints: map[string]string{}}
	for _, svc := range services {
		ep, err := inner.Endpoint(svc)
		if err != nil || ep.Security != dial.Plain {
			// The mutations rewrite plaintext: a TLS service is not
			// offered behind the proxy (Endpoint says so).
			continue
		}
		var addr string
		switch ep.Network {
		case "tcp":
			var f StreamFactory
			if m.Stream != nil {
				f = func() (Stream, Stream) { return m.Stream(svc) }
			}
			p, err := ListenTCP("127.0.0.1:0", ep.Addr, f, lim)
			if err != nil {
				t.closeProxies()
				return nil, fmt.Errorf("mutant %s: %w", m.Name, err)
			}
			t.closers = append(t.closers, p.Close)
			addr = p.Addr()
		case "udp":
			var d *Datagram
			if m.Datagram != nil {
				d = m.Datagram(svc)
			}
			p, err := ListenUDP("127.0.0.1:0", ep.Addr, d, lim)
			if err != nil {
				t.closeProxies()
				return nil, fmt.Errorf("mutant %s: %w", m.Name, err)
			}
			t.closers = append(t.closers, p.Close)
			addr = p.Addr()
		default:
			continue
		}
		t.eps[svc] = targets.Endpoint{Network: ep.Network, Addr: addr}
		t.info.Endpoints[svc] = t.eps[svc].String()
	}
	return t, nil
}

// target is the reference behind a mutant's proxies.
type target struct {
	name    string
	info    targets.Info
	inner   targets.Target
	eps     map[string]targets.Endpoint
	closers []func() error
}

func (t *target) Name() string       { return t.name }
func (t *target) Info() targets.Info { return t.info }

func (t *target) Endpoint(service string) (targets.Endpoint, error) {
	if ep, ok := t.eps[service]; ok {
		return ep, nil
	}
	if _, err := t.inner.Endpoint(service); err != nil {
		return targets.Endpoint{}, err
	}
	return targets.Endpoint{}, targets.NotOffered("the mutant proxy rewrites plaintext TCP and UDP only, not %s", service)
}

func (t *target) Feature(name string) error { return t.inner.Feature(name) }

// Dir implements targets.Directories with the reference's directories:
// the proxy changes the wire, not what the server stores.
func (t *target) Dir(name string) (string, error) {
	if d, ok := t.inner.(targets.Directories); ok {
		return d.Dir(name)
	}
	return "", targets.NotOffered("target %s has no directory %s", t.inner.Name(), name)
}

func (t *target) closeProxies() error {
	var errs []error
	for _, c := range t.closers {
		errs = append(errs, c())
	}
	t.closers = nil
	return errors.Join(errs...)
}

func (t *target) Close() error {
	return errors.Join(t.closeProxies(), t.inner.Close())
}
