// Package knot launches CZ.NIC's Knot DNS (knotd), an authoritative-only
// DNS server, as a target for the DNS suite: every zone of internal/dns
// served over UDP and TCP on one free loopback port, AXFR allowed from
// 127.0.0.0/8 (knot.conf.tmpl), queries signed with the TSIG key of
// internal/dns verified and their answers signed (dns/tsig).
//
//	protospec run dns --target knot --baseline builtin
package knot

import (
	"context"
	_ "embed"
	"os"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs Knot DNS is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed knot.conf.tmpl
var config string

const resolverReason = "knot is an authoritative-only server: it does not resolve"

var launcher = targets.Declare(targets.Declared{
	Name:     "knot",
	Protocol: dns.Name,
	Binary:   "knotd",
	Package:  "knot",
	// "knotd (Knot DNS), version 3.2.6".
	VersionArgs: []string{"-V"},
	Baseline:    Baseline,
	// Knot answers every query of a TCP connection (measured: 10 queries
	// in one write, 10 answers).
	Features: []string{dns.FeatureAXFR, dns.FeatureTSIG, dns.FeatureAXFRACL, dns.FeaturePipelining},
	Reasons: map[string]string{
		"resolver/udp":       resolverReason,
		"resolver/tcp":       resolverReason,
		dns.FeatureIterative: resolverReason,
		dns.FeatureAllowlist: resolverReason,
	},
	Vars:           map[string]any{"tsigName": dns.TSIGKeyName, "tsigSecret": dns.TSIGKeySecret, "zones": dns.Zones, "outsider": dns.Outsider},
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "knot.conf",
	// knotd stays in the foreground unless given -d; its log goes to
	// stderr, that is to knot.log.
	Argv: func(r *targets.Run) []string { return []string{"-c", r.Config} },
	// Knot binds before it has loaded its zones (it answers SERVFAIL
	// meanwhile), so readiness is every zone's SOA answered.
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.SOAProbe(r.Addr(0), dns.Origins()...) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("dns", r.Addr(0)) },
	Output:    "knot.log",
	// A free port may be taken before knotd binds it: try another.
	KeptNote: "config and log",
})

// prepare writes the zones and the directory of Knot's timer database
// (it warns when it is missing).
func prepare(r *targets.Run) error {
	if err := dns.Write(r.Dir); err != nil {
		return err
	}
	return os.MkdirAll(r.Path("db"), 0o755)
}
