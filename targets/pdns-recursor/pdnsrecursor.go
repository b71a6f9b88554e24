// Package pdnsrecursor launches the PowerDNS Recursor (pdns_recursor), an
// iterative caching resolver, as a target for the DNS suite's resolver
// specs. It iterates from the suite's own authoritative server, given as
// Params["upstream"] ("127.0.0.1:PORT"), named by its root hints and asked
// for the root zone (recursor.conf.tmpl), so no query ever leaves
// loopback.
//
//	protospec run dns --target pdns-recursor --baseline builtin
package pdnsrecursor

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs the PowerDNS Recursor is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed recursor.conf.tmpl
var config string

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// resolver with nothing on loopback to resolve from cannot serve anything.
var ErrNoUpstream = errors.New("pdns-recursor: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target pdns-recursor`")

const authReason = "pdns-recursor is a resolver: it serves no authoritative zones"

var launcher = targets.Declare(targets.Declared{
	Name:     "pdns-recursor",
	Protocol: dns.Name,
	Binary:   "pdns_recursor",
	Package:  "pdns-recursor",
	// "Dec 03 10:47:27 PowerDNS Recursor 4.8.8 (C) 2001-2022 PowerDNS.COM
	// BV", reported as "PowerDNS Recursor 4.8.8".
	VersionArgs: []string{"--version"},
	VersionText: func(s string) string {
		if i := strings.Index(s, "PowerDNS"); i >= 0 {
			s = s[i:]
		}
		if i := strings.Index(s, " (C)"); i >= 0 {
			s = s[:i]
		}
		return s
	},
	Baseline: Baseline,
	Features: []string{dns.FeatureAllowlist, dns.FeaturePipelining},
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
	ConfigFile:     "recursor.conf",
	// --config-dir makes it read recursor.conf from the work directory;
	// it logs to stderr (recursor.log).
	Argv: func(r *targets.Run) []string { return []string{"--config-dir=" + r.Dir} },
	// version.bind CH TXT is answered by the recursor itself, without
	// asking the upstream.
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.VersionProbe(r.Addr(0)) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("resolver", r.Addr(0)) },
	Finish:    iterative,
	Output:    "recursor.log",
	// A free port may be taken before the recursor binds it: try another.
	KeptNote: "config and log",
})

// checkUpstream wants Params["upstream"], a loopback address, and sets
// Vars upHost and upPort.
func checkUpstream(r *targets.Run) error {
	host, port, err := targets.LoopbackParam("pdns-recursor", r.Opts.Params, dns.ParamUpstream, ErrNoUpstream)
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
// port 53: the recursor sends every query beyond the root zone to port
// 53, so it can follow the suite's referrals only when they listen there.
func iterative(r *targets.Run, t *targets.Static) {
	switch sp := r.Opts.Params[dns.ParamServerPort]; sp {
	case "53":
		t.Features[dns.FeatureIterative] = true
	case "":
		t.Reasons[dns.FeatureIterative] = "pdns-recursor queries referred servers on port 53 only, and the suite did not say that its further servers listen there (Params[\"server-port\"])"
	default:
		t.Reasons[dns.FeatureIterative] = fmt.Sprintf("pdns-recursor queries referred servers on port 53 only, and the suite's further servers are on port %s (run the suite as root so they can bind port 53)", sp)
	}
}
