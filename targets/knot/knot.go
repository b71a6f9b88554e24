// Package knot launches CZ.NIC's Knot DNS (knotd), an authoritative-only
// DNS server, as a target for the DNS suite: every zone of
// internal/dns served over UDP and TCP on one free loopback port,
// AXFR allowed from 127.0.0.0/8.
//
//	protospec run dns --target knot --baseline builtin
package knot

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs Knot DNS is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(launcher) }

// Launcher starts knotd.
type Launcher struct{ targets.BinaryLauncher }

var launcher = Launcher{targets.BinaryLauncher{Server: "knot", Serves: []string{"dns"}, Binary: "knotd", Package: "knot"}}

const resolverReason = "knot is an authoritative-only server: it does not resolve"

// Start implements targets.Launcher.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := l.Find()
	if err != nil {
		return nil, err
	}
	run, err := targets.Server{
		Name: "knot",
		Prepare: func(dir string) error {
			if err := fixture.Write(dir); err != nil {
				return err
			}
			// Knot keeps its timer database here; it warns when it is
			// missing.
			return os.MkdirAll(filepath.Join(dir, "db"), 0o755)
		},
		Argv: func(dir string, ports []int) ([]string, error) {
			confPath := filepath.Join(dir, "knot.conf")
			if err := os.WriteFile(confPath, []byte(config(dir, ports[0])), 0o644); err != nil {
				return nil, err
			}
			// knotd stays in the foreground unless given -d; its log goes
			// to stderr, that is to knot.log.
			return []string{bin, "-c", confPath}, nil
		},
		// Knot binds before it has loaded its zones (it answers SERVFAIL
		// meanwhile), so readiness is every zone's SOA answered.
		Probe: func(addr string) func(context.Context) error {
			return fixture.SOAProbe(addr, zones()...)
		},
		Output: "knot.log",
		// A free port may be taken before knotd binds it: try another.
		Attempts: 3,
		KeptNote: "config and log",
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return run.Target(&targets.Static{
		TargetName: "knot",
		Version:    version(bin),
		Endpoints:  targets.UDPAndTCP("dns", run.Addr(0)),
		// Knot answers every query of a TCP connection (measured: 10
		// queries in one write, 10 answers).
		Features: map[string]bool{fixture.FeatureAXFR: true, fixture.FeatureAXFRACL: true, fixture.FeaturePipelining: true},
		Reasons: map[string]string{
			"resolver/udp":           resolverReason,
			"resolver/tcp":           resolverReason,
			fixture.FeatureIterative: resolverReason,
			fixture.FeatureAllowlist: resolverReason,
		},
	}), nil
}

// config is knot.conf for the fixture's zones on 127.0.0.1@port, with
// every file Knot writes (control socket, PID, timer database) in dir.
func config(dir string, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
    listen: 127.0.0.1@%d
    rundir: %q
    pidfile: %q
%sdatabase:
    storage: %q
log:
  - target: stderr
    any: info
# AXFR to 127.0.0.0/8 but the suite's targets.DNSOutsider (dns/axfr-acl): the
# first matching rule applies
acl:
  - id: targets.DNSOutsider
    address: %s
    action: transfer
    deny: on
  - id: local_xfr
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: %q
    zonefile-load: whole
    # never write the zones back to their files
    zonefile-sync: -1
    journal-content: none
    acl: [targets.DNSOutsider, local_xfr]
zone:
`, port, dir, filepath.Join(dir, "knot.pid"), userLine(), filepath.Join(dir, "db"), fixture.Outsider, dir)
	for _, z := range fixture.Zones {
		fmt.Fprintf(&b, "  - domain: %q\n    file: %q\n", z.Origin, z.File)
	}
	return b.String()
}

// userLine pins knotd to root when started as root, so that it never
// switches to a user who cannot write the work directory; started as
// another user, knotd must not be told to change user at all (it fails to
// start when it cannot).
func userLine() string {
	if os.Geteuid() == 0 {
		return "    user: root:root\n"
	}
	return ""
}

// zones are the origins of the fixture's zones, whose SOA answered tells
// that knotd has loaded them.
func zones() []string {
	var out []string
	for _, z := range fixture.Zones {
		out = append(out, z.Origin)
	}
	return out
}

// version is "knotd -V" ("knotd (Knot DNS), version 3.2.6").
func version(bin string) string {
	s, err := targets.Version(bin, "-V")
	if err != nil {
		return "knotd"
	}
	return s
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "dns"
}
