// Package dnsdist launches PowerDNS's dnsdist, a DNS load balancer and
// proxy, as a target for the DNS suite's authoritative specs: dnsdist on
// one free loopback port in front of protospec's reference authoritative
// server (reference/dns, started in-process with the fixture's zones, on
// another free port), with no packet cache (dnsdist.conf.tmpl).
//
// The backend is the reference because it passes the whole suite: every
// deviation of a run is then dnsdist's own, what it changes in the
// answers it relays (flags, EDNS, truncation, malformed queries it drops
// or answers itself), not a backend's.
//
//	protospec run dns --target dnsdist --baseline builtin
package dnsdist

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	// The backend: the reference launcher.
	_ "github.com/protospec/protospec/targets/reference"
)

// Baseline lists the specs dnsdist (in front of the reference) is known
// to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed dnsdist.conf.tmpl
var config string

// ParamBackend is the Params key Start sets to the backend's address for
// the config ("127.0.0.1:PORT").
const ParamBackend = "backend"

const resolverReason = "dnsdist proxies an authoritative server here: it does not resolve"

var declared = targets.NewDeclared(targets.Declared{
	Name:     "dnsdist",
	Protocol: dns.Name,
	Binary:   "dnsdist",
	Package:  "dnsdist",
	// "dnsdist 1.7.3 (Lua 5.1.4 [LuaJIT 2.1.0-beta3])", reported as
	// "dnsdist 1.7.3".
	VersionArgs: []string{"--version"},
	VersionText: func(s string) string {
		if i := strings.Index(s, " ("); i >= 0 {
			s = s[:i]
		}
		return s
	},
	Baseline: Baseline,
	// dnsdist reads every query of a TCP connection and relays each
	// (measured: 10 queries in one write, 10 answers).
	Features: []string{dns.FeatureAXFR, dns.FeatureAXFRACL, dns.FeaturePipelining},
	Reasons: map[string]string{
		"resolver/udp":       resolverReason,
		"resolver/tcp":       resolverReason,
		dns.FeatureIterative: resolverReason,
		dns.FeatureAllowlist: resolverReason,
	},
	Vars:           map[string]any{"outsider": dns.Outsider, "origin": dns.Origin},
	Check:          checkBackend,
	ConfigTemplate: config,
	ConfigFile:     "dnsdist.conf",
	// --supervised keeps dnsdist in the foreground without a console;
	// it logs to stdout (dnsdist.log).
	Argv: func(r *targets.Run) []string {
		return []string{"--supervised", "--disable-syslog", "-C", r.Config}
	},
	// Ready once the zones are answered through dnsdist, so once the
	// backend is up and dnsdist relays to it.
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.SOAProbe(r.Addr(0), dns.Origins()...) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("dns", r.Addr(0)) },
	Output:    "dnsdist.log",
	// A free port may be taken before dnsdist binds it: try another.
	KeptNote: "config and log",
})

func init() { targets.Register(launcher{declared}) }

// launcher is the declared dnsdist with its backend started first and
// stopped with it.
type launcher struct{ *targets.DeclaredLauncher }

// checkBackend sets Vars backend from Params["backend"], which Start sets.
func checkBackend(r *targets.Run) error {
	b := r.Opts.Params[ParamBackend]
	if b == "" {
		return errors.New("dnsdist: no backend address (Params[\"backend\"], set by Start)")
	}
	r.Vars["backend"] = b
	return nil
}

// Start implements targets.Launcher: it starts the reference
// authoritative server, then dnsdist in front of it; closing the target
// stops both.
func (l launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	if opts.Protocol != "" && opts.Protocol != dns.Name {
		return l.DeclaredLauncher.Start(ctx, opts)
	}
	if err := l.Available(); err != nil {
		return nil, err
	}
	ref, ok := targets.Lookup("reference")
	if !ok {
		return nil, errors.New("dnsdist: no reference launcher registered")
	}
	backend, err := ref.Start(ctx, targets.Options{Protocol: dns.Name, Log: opts.Log})
	if err != nil {
		return nil, fmt.Errorf("dnsdist: backend: %w", err)
	}
	ep, err := backend.Endpoint("dns/udp")
	if err != nil {
		backend.Close()
		return nil, fmt.Errorf("dnsdist: backend: %w", err)
	}
	o := opts
	o.Params = maps.Clone(opts.Params)
	if o.Params == nil {
		o.Params = map[string]string{}
	}
	o.Params[ParamBackend] = ep.Addr
	t, err := l.DeclaredLauncher.Start(ctx, o)
	if err != nil {
		backend.Close()
		return nil, err
	}
	lt := t.(*targets.Launched)
	stop := lt.OnClose
	lt.OnClose = func() error { return errors.Join(stop(), backend.Close()) }
	return lt, nil
}
