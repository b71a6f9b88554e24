// Package dnsmasq launches dnsmasq as a forwarding, caching DNS server, a
// target for the DNS suite's resolver specs. It forwards every query to the
// suite's own authoritative server, given as Params["upstream"]
// ("127.0.0.1:PORT"), and to nothing else: no /etc/resolv.conf, no
// /etc/hosts, no DHCP.
//
//	protospec run dns --target dnsmasq --baseline builtin
package dnsmasq

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs dnsmasq is known to fail.
//
//go:embed baseline.txt
var Baseline string

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// forwarder with nothing on loopback to forward to cannot serve anything.
var ErrNoUpstream = errors.New("dnsmasq: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target dnsmasq`")

const authReason = "dnsmasq runs here as a forwarder: it serves no authoritative zones"

// launcher looks up dnsmasq in the Debian package dnsmasq-base (the
// "dnsmasq" package adds only a system service around it).
var launcher = targets.Declare(targets.Declared{
	Name:     "dnsmasq",
	Protocol: dns.Name,
	Binary:   "dnsmasq",
	Package:  "dnsmasq-base",
	// "Dnsmasq version 2.90  Copyright (c) ...".
	VersionArgs: []string{"-v"},
	VersionText: func(s string) string {
		if i := strings.Index(s, "  Copyright"); i >= 0 {
			s = s[:i]
		}
		return s
	},
	Baseline: Baseline,
	// dnsmasq's TCP child reads one query, forwards it, answers, and
	// reads the next (measured: 10 queries in one write, 10 answers in
	// order).
	Features: []string{dns.FeaturePipelining},
	Reasons: map[string]string{
		"dns/udp":            authReason,
		"dns/tcp":            authReason,
		dns.FeatureAXFR:      authReason,
		dns.FeatureAXFRACL:   authReason,
		dns.FeatureIterative: "dnsmasq forwards; it does not iterate",
		dns.FeatureAllowlist: "dnsmasq has no client access control: it answers every client that reaches its listening address",
	},
	Check: checkUpstream,
	Argv:  argv,
	// version.bind CH TXT is answered by dnsmasq itself, without
	// forwarding (and so without filling its cache).
	Probe:     func(r *targets.Run) func(context.Context) error { return dns.VersionProbe(r.Addr(0)) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return targets.UDPAndTCP("resolver", r.Addr(0)) },
	Output:    "dnsmasq.log",
	// A free port may be taken before dnsmasq binds it: try another.
	KeptNote: "log",
})

// checkUpstream wants Params["upstream"], a loopback address, and sets
// Vars upHost and upPort.
func checkUpstream(r *targets.Run) error {
	host, port, err := targets.LoopbackParam("dnsmasq", r.Opts.Params, dns.ParamUpstream, ErrNoUpstream)
	if err != nil {
		return err
	}
	r.Vars["upHost"], r.Vars["upPort"] = host, port
	return nil
}

// argv is dnsmasq's command line: everything is there (-C /dev/null: no
// config file). -k keeps dnsmasq in the foreground and --log-facility=-
// logs to stderr, that is to dnsmasq.log; --no-resolv and --no-hosts keep
// it from reading /etc/resolv.conf (it would forward off the host) and
// /etc/hosts.
func argv(r *targets.Run) []string {
	return []string{
		"-k", "-C", "/dev/null",
		"--pid-file=" + r.Path("dnsmasq.pid"),
		"--user=root", "--group=root",
		"--bind-interfaces", "--listen-address=127.0.0.1",
		fmt.Sprintf("--port=%d", r.Port(0)),
		"--no-resolv", "--no-hosts", "--no-poll",
		fmt.Sprintf("--server=%s#%d", r.Vars["upHost"], r.Vars["upPort"]),
		"--cache-size=1000",
		"--log-facility=-", "--log-queries",
	}
}
