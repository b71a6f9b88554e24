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
	"path/filepath"
	"strings"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs dnsmasq is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(launcher) }

// Launcher starts dnsmasq.
type Launcher struct{ targets.BinaryLauncher }

// launcher looks up dnsmasq in the Debian package dnsmasq-base (the
// "dnsmasq" package adds only a system service around it).
var launcher = Launcher{targets.BinaryLauncher{Server: "dnsmasq", Serves: []string{"dns"}, Binary: "dnsmasq", Package: "dnsmasq-base"}}

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// forwarder with nothing on loopback to forward to cannot serve anything.
var ErrNoUpstream = errors.New("dnsmasq: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target dnsmasq`")

const authReason = "dnsmasq runs here as a forwarder: it serves no authoritative zones"

// Start implements targets.Launcher.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := l.Find()
	if err != nil {
		return nil, err
	}
	upHost, upPort, err := targets.LoopbackParam("dnsmasq", opts.Params, fixture.ParamUpstream, ErrNoUpstream)
	if err != nil {
		return nil, err
	}
	run, err := targets.Server{
		Name: "dnsmasq",
		Argv: func(dir string, ports []int) ([]string, error) {
			return argv(bin, dir, ports[0], upHost, upPort), nil
		},
		// version.bind CH TXT is answered by dnsmasq itself, without
		// forwarding (and so without filling its cache).
		Probe:  fixture.VersionProbe,
		Output: "dnsmasq.log",
		// A free port may be taken before dnsmasq binds it: try another.
		Attempts: 3,
		KeptNote: "log",
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return run.Target(&targets.Static{
		TargetName: "dnsmasq",
		Version:    version(bin),
		Endpoints:  targets.UDPAndTCP("resolver", run.Addr(0)),
		// dnsmasq's TCP child reads one query, forwards it, answers, and
		// reads the next (measured: 10 queries in one write, 10 answers
		// in order).
		Features: map[string]bool{fixture.FeaturePipelining: true},
		Reasons: map[string]string{
			"dns/udp":                authReason,
			"dns/tcp":                authReason,
			fixture.FeatureAXFR:      authReason,
			fixture.FeatureAXFRACL:   authReason,
			fixture.FeatureIterative: "dnsmasq forwards; it does not iterate",
			fixture.FeatureAllowlist: "dnsmasq has no client access control: it answers every client that reaches its listening address",
		},
	}), nil
}

// argv is dnsmasq's command line: everything is there (-C /dev/null: no
// config file). -k keeps dnsmasq in the foreground and --log-facility=-
// logs to stderr, that is to dnsmasq.log; --no-resolv and --no-hosts keep
// it from reading /etc/resolv.conf (it would forward off the host) and
// /etc/hosts.
func argv(bin, dir string, port int, upHost string, upPort int) []string {
	return []string{bin,
		"-k", "-C", "/dev/null",
		"--pid-file=" + filepath.Join(dir, "dnsmasq.pid"),
		"--user=root", "--group=root",
		"--bind-interfaces", "--listen-address=127.0.0.1",
		fmt.Sprintf("--port=%d", port),
		"--no-resolv", "--no-hosts", "--no-poll",
		fmt.Sprintf("--server=%s#%d", upHost, upPort),
		"--cache-size=1000",
		"--log-facility=-", "--log-queries",
	}
}

// version is "Dnsmasq version 2.90" from "dnsmasq -v".
func version(bin string) string {
	s, _ := targets.Version(bin, "-v")
	if i := strings.Index(s, "  Copyright"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "dnsmasq"
	}
	return s
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "dns"
}
