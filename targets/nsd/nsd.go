// Package nsd launches NLnet Labs' NSD, an authoritative-only DNS server,
// as a target for the DNS suite: every zone of internal/dns served over
// UDP and TCP on one free loopback port, AXFR allowed from 127.0.0.0/8
// (nsd.conf.tmpl), queries signed with the TSIG key of internal/dns
// verified and their answers signed (dns/tsig).
//
//	protospec run dns --target nsd --baseline builtin
package nsd

import (
	"context"
	_ "embed"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs NSD is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed nsd.conf.tmpl
var config string

const resolverReason = "nsd is an authoritative-only server: it does not resolve"

var launcher = targets.Declare(targets.Declared{
	Name:     "nsd",
	Protocol: dns.Name,
	Binary:   "nsd",
	Package:  "nsd",
	// "NSD version 4.6.1".
	VersionArgs: []string{"-v"},
	Baseline:    Baseline,
	// NSD reads every query of a TCP connection in turn and answers each
	// in order (measured: 10 queries in one write, 10 answers).
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
	ConfigFile:     "nsd.conf",
	// -d keeps nsd in the foreground (it still forks its server and xfrd
	// children, all in the launched process group) and sends its log to
	// stderr, that is to nsd.log.
	Argv:      func(r *targets.Run) []string { return []string{"-d", "-c", r.Config} },
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.SOAProbe(r.Addr(0), dns.Origins()...) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("dns", r.Addr(0)) },
	Output:    "nsd.log",
	// A free port may be taken before nsd binds it: try another.
	KeptNote: "config and log",
})
