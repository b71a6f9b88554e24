// Package bind9 launches ISC BIND 9 (named) as an authoritative-only DNS
// server, a target for the DNS suite: every zone of internal/dns served
// over UDP and TCP on one free loopback port, recursion off, AXFR allowed
// from 127.0.0.0/8 but the suite's outsider (named.conf.tmpl), queries
// signed with the TSIG key of internal/dns verified and their answers
// signed (dns/tsig).
//
//	protospec run dns --target bind9 --baseline builtin
package bind9

import (
	"context"
	_ "embed"
	"strings"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs BIND 9 (authoritative) is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed named.conf.tmpl
var config string

const resolverReason = "bind9 runs here as an authoritative-only server (recursion no): it does not resolve"

var launcher = targets.Declare(targets.Declared{
	Name:     "bind9",
	Protocol: dns.Name,
	Binary:   "named",
	Package:  "bind9",
	// "BIND 9.18.49-1~deb12u3-Debian (Extended Support Version) <id:>",
	// reported as "BIND 9.18.49-1~deb12u3-Debian".
	VersionArgs: []string{"-v"},
	VersionText: VersionText,
	Baseline:    Baseline,
	// named reads every query of a TCP connection and answers each
	// (measured: 10 queries in one write, 10 answers).
	Features: []string{dns.FeatureAXFR, dns.FeatureTSIG, dns.FeatureAXFRACL, dns.FeaturePipelining},
	Reasons: map[string]string{
		"resolver/udp":       resolverReason,
		"resolver/tcp":       resolverReason,
		dns.FeatureIterative: resolverReason,
		dns.FeatureAllowlist: resolverReason,
	},
	Vars:           map[string]any{"tsigName": dns.TSIGKeyName, "tsigSecret": dns.TSIGKeySecret, "zones": dns.Zones, "outsider": dns.Outsider},
	Prepare:        func(r *targets.Run) error { return dns.Write(r.Dir) },
	ConfigTemplate: config,
	ConfigFile:     "named.conf",
	Argv:           Argv,
	Probe:          func(r *targets.Run) func(context.Context) error { return dns.SOAProbe(r.Addr(0), dns.Origins()...) },
	Endpoints:      func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("dns", r.Addr(0)) },
	Output:         "named.log",
	// A free port may be taken before named binds it: try another.
	KeptNote: "config and log",
})

// Argv is named's command line: -g keeps it in the foreground and logs to
// stderr (named.log), -4 IPv4 only, -n 1 one worker thread (the machine
// is shared). As root named stays root: no -u, so it can write the work
// directory.
func Argv(r *targets.Run) []string { return []string{"-g", "-4", "-n", "1", "-c", r.Config} }

// VersionText cuts named -v's "(Extended Support Version) <id:...>".
func VersionText(s string) string {
	if i := strings.Index(s, " ("); i >= 0 {
		s = s[:i]
	}
	return s
}
