// Package pdns launches the PowerDNS Authoritative Server (pdns_server)
// with its bind backend as a target for the DNS suite: every zone of
// internal/dns, read from its zone file, served over UDP and TCP on one
// free loopback port, AXFR allowed from 127.0.0.0/8 but the suite's
// outsider (pdns.conf.tmpl).
//
//	protospec run dns --target pdns --baseline builtin
package pdns

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs the PowerDNS Authoritative Server is known to
// fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed pdns.conf.tmpl
var config string

const resolverReason = "pdns is an authoritative-only server: it does not resolve"

var launcher = targets.Declare(targets.Declared{
	Name:     "pdns",
	Protocol: dns.Name,
	Binary:   "pdns_server",
	Package:  "pdns-server",
	// The bind backend is its own package: pdns_server without it
	// fails to start ("Unable to load module").
	Requires: requires,
	// "Dec 03 10:47:27 PowerDNS Authoritative Server 4.7.3 (C) 2001-2022
	// PowerDNS.COM BV", reported as "PowerDNS Authoritative Server 4.7.3".
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
	// pdns answers every query of a TCP connection (measured: 10 queries
	// in one write, 10 answers).
	Features: []string{dns.FeatureAXFR, dns.FeatureAXFRACL, dns.FeaturePipelining},
	Reasons: map[string]string{
		"resolver/udp":       resolverReason,
		"resolver/tcp":       resolverReason,
		dns.FeatureIterative: resolverReason,
		dns.FeatureAllowlist: resolverReason,
	},
	Vars:           map[string]any{"outsider": dns.Outsider},
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "pdns.conf",
	// --config-dir makes pdns_server read pdns.conf from the work
	// directory; it logs to stderr (pdns.log).
	Argv:      func(r *targets.Run) []string { return []string{"--config-dir=" + r.Dir} },
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.SOAProbe(r.Addr(0), dns.Origins()...) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("dns", r.Addr(0)) },
	Output:    "pdns.log",
	// A free port may be taken before pdns binds it: try another.
	KeptNote: "config and log",
})

// backend is the bind backend's module, from pdns-backend-bind.
const backend = "/usr/lib/x86_64-linux-gnu/pdns/libbindbackend.so"

// requires checks that the bind backend is installed.
func requires() error {
	matches, _ := filepath.Glob("/usr/lib/*/pdns/libbindbackend.so")
	if len(matches) == 0 {
		return fmt.Errorf("%w: pdns: the bind backend (%s) is missing: install the Debian package pdns-backend-bind", targets.ErrMissingBinary, backend)
	}
	return nil
}

// prepare writes the fixture's zones and the bind backend's list of them.
func prepare(r *targets.Run) error {
	if err := dns.Write(r.Dir); err != nil {
		return err
	}
	return os.WriteFile(r.Path("zones.conf"), []byte(ZoneList(r.Dir)), 0o644)
}

// ZoneList is the bind backend's named.conf-style list of the fixture's
// zones, their files in dir.
func ZoneList(dir string) string {
	var b strings.Builder
	for _, z := range dns.Zones {
		fmt.Fprintf(&b, "zone %q {\n\ttype master;\n\tfile %q;\n};\n", z.Origin, filepath.Join(dir, z.File))
	}
	return b.String()
}
