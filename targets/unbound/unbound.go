// Package unbound launches NLnet Labs' Unbound, an iterative caching
// resolver, as a target for the DNS suite's resolver specs. Unbound
// iterates from the suite's own authoritative server, given as
// Params["upstream"] ("127.0.0.1:PORT") and configured as the stub for the
// root zone (unbound.conf.tmpl), so no query ever leaves loopback.
//
//	protospec run dns --target unbound --baseline builtin
package unbound

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs Unbound is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed unbound.conf.tmpl
var config string

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// resolver with nothing on loopback to resolve from cannot serve anything.
var ErrNoUpstream = errors.New("unbound: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target unbound`")

const authReason = "unbound is a resolver: it serves no authoritative zones here"

var launcher = targets.Declare(targets.Declared{
	Name:     "unbound",
	Protocol: dns.Name,
	Binary:   "unbound",
	Package:  "unbound",
	// "Version 1.17.1", reported as "unbound 1.17.1".
	VersionArgs: []string{"-V"},
	VersionText: func(s string) string {
		if v, ok := strings.CutPrefix(s, "Version "); ok {
			return "unbound " + v
		}
		return s
	},
	Baseline: Baseline,
	// Unbound reads every query of a TCP connection and may answer them
	// out of order (measured: 10 queries in one write, 10 answers).
	Features: []string{dns.FeatureAllowlist, dns.FeaturePipelining},
	Reasons: map[string]string{
		"dns/udp":          authReason,
		"dns/tcp":          authReason,
		dns.FeatureAXFR:    authReason,
		dns.FeatureAXFRACL: authReason,
	},
	Vars:           map[string]any{"outsider": dns.Outsider},
	Check:          checkUpstream,
	ConfigTemplate: config,
	ConfigFile:     "unbound.conf",
	// -d keeps unbound in the foreground; with logfile "" and no syslog
	// it logs to stderr, that is to unbound.log.
	Argv: func(r *targets.Run) []string { return []string{"-d", "-c", r.Config} },
	// version.bind CH TXT is answered by unbound itself, without asking
	// the upstream (and so without filling its cache).
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.VersionProbe(r.Addr(0)) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("resolver", r.Addr(0)) },
	Finish:    iterative,
	Output:    "unbound.log",
	// A free port may be taken before unbound binds it: try another.
	PortTaken: portTaken,
	KeptNote:  "config and log",
})

// checkUpstream wants Params["upstream"], a loopback address, and sets
// Vars upHost and upPort.
func checkUpstream(r *targets.Run) error {
	host, port, err := targets.LoopbackParam("unbound", r.Opts.Params, dns.ParamUpstream, ErrNoUpstream)
	if err != nil {
		return err
	}
	r.Vars["upHost"], r.Vars["upPort"] = host, port
	return nil
}

// iterative offers dns/iterative when the suite's further servers are on
// port 53: Unbound sends every query it iterates to beyond the stub to
// port 53, so it can follow the suite's referrals only when they listen
// there.
func iterative(r *targets.Run, t *targets.Static) {
	switch sp := r.Opts.Params[dns.ParamServerPort]; sp {
	case "53":
		t.Features[dns.FeatureIterative] = true
	case "":
		t.Reasons[dns.FeatureIterative] = "unbound queries referred servers on port 53 only, and the suite did not say that its further servers listen there (Params[\"server-port\"])"
	default:
		t.Reasons[dns.FeatureIterative] = fmt.Sprintf("unbound queries referred servers on port 53 only, and the suite's further servers are on port %s (run the suite as root so they can bind port 53)", sp)
	}
}

// portTaken reports whether a start failed because the port was taken.
func portTaken(err error) bool {
	return targets.PortTaken(err) || strings.Contains(strings.ToLower(err.Error()), "could not open ports")
}
