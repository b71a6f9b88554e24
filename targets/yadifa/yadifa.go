// Package yadifa launches EURid's YADIFA (yadifad), an authoritative-only
// DNS server, as a target for the DNS suite: every zone of internal/dns
// served over UDP and TCP on one free loopback port, AXFR allowed from
// 127.0.0.0/8 but the suite's outsider (yadifad.conf.tmpl).
//
//	protospec run dns --target yadifa --baseline builtin
package yadifa

import (
	"context"
	_ "embed"
	"os"
	"strings"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs YADIFA is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed yadifad.conf.tmpl
var config string

const resolverReason = "yadifa is an authoritative-only server: it does not resolve"

var launcher = targets.Declare(targets.Declared{
	Name:     "yadifa",
	Protocol: dns.Name,
	Binary:   "yadifad",
	Package:  "yadifa",
	// "yadifad 2.6.4-10892 (2023-03-01)", reported as "yadifad 2.6.4-10892".
	VersionArgs: []string{"-V"},
	VersionText: func(s string) string {
		if i := strings.Index(s, " ("); i >= 0 {
			s = s[:i]
		}
		return s
	},
	Baseline: Baseline,
	Features: []string{dns.FeatureAXFR, dns.FeatureAXFRACL, dns.FeaturePipelining},
	Reasons: map[string]string{
		"resolver/udp":       resolverReason,
		"resolver/tcp":       resolverReason,
		dns.FeatureIterative: resolverReason,
		dns.FeatureAllowlist: resolverReason,
	},
	Vars:           map[string]any{"zones": dns.Zones, "outsider": dns.Outsider},
	Check:          ids,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "yadifad.conf",
	// yadifad logs to stdout (yadifad.log).
	Argv:      func(r *targets.Run) []string { return []string{"--nodaemon", "-c", r.Config} },
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.SOAProbe(r.Addr(0), dns.Origins()...) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("dns", r.Addr(0)) },
	Output:    "yadifad.log",
	// A free port may be taken before yadifad binds it: try another.
	KeptNote: "config and log",
})

// ids makes yadifad keep the user and group protospec runs as (its default
// is root, which only root may switch to): it must write the work
// directory.
func ids(r *targets.Run) error {
	r.Vars["uid"], r.Vars["gid"] = os.Geteuid(), os.Getegid()
	return nil
}

// prepare writes the zones and the directories yadifad keeps its keys and
// transfers in.
func prepare(r *targets.Run) error {
	if err := dns.Write(r.Dir); err != nil {
		return err
	}
	for _, d := range []string{"keys", "xfr"} {
		if err := os.MkdirAll(r.Path(d), 0o755); err != nil {
			return err
		}
	}
	return nil
}
