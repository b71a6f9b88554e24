// Package nsd launches NLnet Labs' NSD, an authoritative-only DNS server,
// as a target for the DNS suite: every zone of internal/dns served
// over UDP and TCP on one free loopback port, AXFR allowed from 127.0.0.0/8.
//
//	protospec run dns --target nsd --baseline builtin
package nsd

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

// Baseline lists the specs NSD is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(launcher) }

// Launcher starts nsd.
type Launcher struct{ targets.BinaryLauncher }

var launcher = Launcher{targets.BinaryLauncher{Server: "nsd", Serves: []string{"dns"}, Binary: "nsd", Package: "nsd"}}

const resolverReason = "nsd is an authoritative-only server: it does not resolve"

// Start implements targets.Launcher.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := l.Find()
	if err != nil {
		return nil, err
	}
	run, err := targets.Server{
		Name:    "nsd",
		Prepare: fixture.Write,
		Argv: func(dir string, ports []int) ([]string, error) {
			confPath := filepath.Join(dir, "nsd.conf")
			if err := os.WriteFile(confPath, []byte(config(dir, ports[0])), 0o644); err != nil {
				return nil, err
			}
			// -d keeps nsd in the foreground (it still forks its server
			// and xfrd children, all in the launched process group) and
			// sends its log to stderr, that is to nsd.log.
			return []string{bin, "-d", "-c", confPath}, nil
		},
		Probe: func(addr string) func(context.Context) error {
			return fixture.SOAProbe(addr, zones()...)
		},
		Output: "nsd.log",
		// A free port may be taken before nsd binds it: try another.
		Attempts: 3,
		KeptNote: "config and log",
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return run.Target(&targets.Static{
		TargetName: "nsd",
		Version:    version(bin),
		Endpoints:  targets.UDPAndTCP("dns", run.Addr(0)),
		// NSD reads every query of a TCP connection in turn and answers
		// each in order (measured: 10 queries in one write, 10 answers).
		Features: map[string]bool{fixture.FeatureAXFR: true, fixture.FeatureAXFRACL: true, fixture.FeaturePipelining: true},
		Reasons: map[string]string{
			"resolver/udp":           resolverReason,
			"resolver/tcp":           resolverReason,
			fixture.FeatureIterative: resolverReason,
			fixture.FeatureAllowlist: resolverReason,
		},
	}), nil
}

// config is nsd.conf for the fixture's zones on 127.0.0.1@port, with every
// file NSD writes kept in dir.
func config(dir string, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	ip-address: 127.0.0.1@%d
	port: %d
	do-ip4: yes
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: %q
	# no nsd.db: zones are read from their files
	database: ""
	zonelistfile: %q
	xfrdfile: %q
	xfrdir: %q
	pidfile: %q
	server-count: 1
	verbosity: 1
	# response rate limiting drops and truncates answers at the rate a
	# suite queries; 0 turns it off
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
`, port, port, dir, filepath.Join(dir, "zone.list"), filepath.Join(dir, "xfrd.state"), dir, filepath.Join(dir, "nsd.pid"))
	// AXFR to 127.0.0.0/8 but the suite's targets.DNSOutsider (dns/axfr-acl).
	for _, z := range fixture.Zones {
		fmt.Fprintf(&b, "zone:\n\tname: %q\n\tzonefile: %q\n\tprovide-xfr: %s BLOCKED\n\tprovide-xfr: 127.0.0.0/8 NOKEY\n", z.Origin, z.File, fixture.Outsider)
	}
	return b.String()
}

// zones are the origins of the fixture's zones, whose SOA answered tells
// that nsd has loaded them.
func zones() []string {
	var out []string
	for _, z := range fixture.Zones {
		out = append(out, z.Origin)
	}
	return out
}

// version is the first line of "nsd -v" ("NSD version 4.6.1").
func version(bin string) string {
	s, err := targets.Version(bin, "-v")
	if err != nil {
		return "nsd"
	}
	return s
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "dns"
}
