// Package knotresolver launches CZ.NIC's Knot Resolver (kresd), an
// iterative caching resolver, as a target for the DNS suite's resolver
// specs. kresd iterates from the suite's own authoritative server, given
// as Params["upstream"] ("127.0.0.1:53"), set as its only root hint
// (kresd.conf.tmpl), so no query ever leaves loopback. Root hints take no
// port: an upstream on another port is kresd's stub (every query sent to
// it), and kresd does not iterate.
//
//	protospec run dns --target knot-resolver --baseline builtin
package knotresolver

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs Knot Resolver is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed kresd.conf.tmpl
var config string

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// resolver with nothing on loopback to resolve from cannot serve anything.
var ErrNoUpstream = errors.New("knot-resolver: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target knot-resolver`")

const authReason = "knot-resolver is a resolver: it serves no authoritative zones"

var launcher = targets.Declare(targets.Declared{
	Name:     "knot-resolver",
	Protocol: dns.Name,
	Binary:   "kresd",
	Package:  "knot-resolver",
	// "Knot Resolver, version 5.6.0".
	VersionArgs: []string{"--version"},
	Baseline:    Baseline,
	Features:    []string{dns.FeatureAllowlist, dns.FeaturePipelining},
	Reasons: map[string]string{
		"dns/udp":          authReason,
		"dns/tcp":          authReason,
		dns.FeatureAXFR:    authReason,
		dns.FeatureAXFRACL: authReason,
	},
	Vars:           map[string]any{"outsider": dns.Outsider},
	Check:          checkUpstream,
	ConfigTemplate: config,
	ConfigFile:     "kresd.conf",
	// -n: no interactive console on stdin; the work directory is kresd's
	// rundir (cache, control socket). It logs to stderr (kresd.log).
	Argv: func(r *targets.Run) []string { return []string{"-n", "-c", r.Config, r.Dir} },
	// version.bind CH TXT is answered by kresd itself, without asking the
	// upstream.
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.VersionProbe(r.Addr(0)) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("resolver", r.Addr(0)) },
	Finish:    iterative,
	Output:    "kresd.log",
	// A free port may be taken before kresd binds it: try another.
	KeptNote: "config and log",
})

// checkUpstream wants Params["upstream"], a loopback address, and sets
// Vars upHost and upPort.
func checkUpstream(r *targets.Run) error {
	host, port, err := targets.LoopbackParam("knot-resolver", r.Opts.Params, dns.ParamUpstream, ErrNoUpstream)
	if err != nil {
		return err
	}
	r.Vars["upHost"], r.Vars["upPort"] = host, port
	return nil
}

// iterative offers dns/iterative when the upstream and the suite's
// further servers are on port 53, the only port kresd sends iterative
// queries to.
func iterative(r *targets.Run, t *targets.Static) {
	if r.Vars["upPort"] != 53 {
		t.Reasons[dns.FeatureIterative] = fmt.Sprintf("kresd's root hints take no port, and the upstream is on port %d: kresd is its stub, sending it every query", r.Vars["upPort"])
		return
	}
	switch sp := r.Opts.Params[dns.ParamServerPort]; sp {
	case "53":
		t.Features[dns.FeatureIterative] = true
	case "":
		t.Reasons[dns.FeatureIterative] = "kresd queries referred servers on port 53 only, and the suite did not say that its further servers listen there (Params[\"server-port\"])"
	default:
		t.Reasons[dns.FeatureIterative] = fmt.Sprintf("kresd queries referred servers on port 53 only, and the suite's further servers are on port %s (run the suite as root so they can bind port 53)", sp)
	}
}
