// Package bind9resolver launches ISC BIND 9 (named) as an iterative
// caching resolver, a target for the DNS suite's resolver specs. named
// iterates from the suite's own authoritative server, given as
// Params["upstream"] ("127.0.0.1:PORT"), its only root hint; BIND's "port"
// option sends every query, root and referred servers alike, to the
// upstream's port (named.conf.tmpl), so no query ever leaves loopback.
//
//	protospec run dns --target bind9-resolver --baseline builtin
package bind9resolver

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/bind9"
)

// Baseline lists the specs BIND 9 (resolver) is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed named.conf.tmpl
var config string

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// resolver with nothing on loopback to resolve from cannot serve anything.
var ErrNoUpstream = errors.New("bind9-resolver: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target bind9-resolver`")

const authReason = "bind9-resolver is a resolver: it serves no authoritative zones"

var launcher = targets.Declare(targets.Declared{
	Name:        "bind9-resolver",
	Protocol:    dns.Name,
	Binary:      "named",
	Package:     "bind9",
	VersionArgs: []string{"-v"},
	VersionText: bind9.VersionText,
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
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "named.conf",
	Argv:           bind9.Argv,
	// version.bind CH TXT is answered by named itself, without asking
	// the upstream.
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.VersionProbe(r.Addr(0)) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("resolver", r.Addr(0)) },
	Finish:    iterative,
	Output:    "named.log",
	// A free port may be taken before named binds it: try another.
	KeptNote: "config and log",
})

// checkUpstream wants Params["upstream"], a loopback address, and sets
// Vars upHost and upPort.
func checkUpstream(r *targets.Run) error {
	host, port, err := targets.LoopbackParam("bind9-resolver", r.Opts.Params, dns.ParamUpstream, ErrNoUpstream)
	if err != nil {
		return err
	}
	r.Vars["upHost"], r.Vars["upPort"] = host, port
	return nil
}

// prepare writes the root hints: one root server, the upstream's host.
func prepare(r *targets.Run) error {
	return os.WriteFile(r.Path("root.hints"), []byte(RootHints(r.Vars["upHost"].(string))), 0o644)
}

// RootHints is a root hints file naming host as the only root server.
func RootHints(host string) string {
	return fmt.Sprintf(".\t3600000\tIN\tNS\troot.upstream.\nroot.upstream.\t3600000\tIN\tA\t%s\n", host)
}

// iterative offers dns/iterative when the suite's further servers are on
// the upstream's port, where named sends every query.
func iterative(r *targets.Run, t *targets.Static) {
	up := strconv.Itoa(r.Vars["upPort"].(int))
	switch sp := r.Opts.Params[dns.ParamServerPort]; sp {
	case up:
		t.Features[dns.FeatureIterative] = true
	case "":
		t.Reasons[dns.FeatureIterative] = "named sends every query to the upstream's port, and the suite did not say that its further servers listen there (Params[\"server-port\"])"
	default:
		t.Reasons[dns.FeatureIterative] = fmt.Sprintf("named sends every query to the upstream's port %s, and the suite's further servers are on port %s", up, sp)
	}
}
