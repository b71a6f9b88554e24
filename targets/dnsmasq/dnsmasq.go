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
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs dnsmasq is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(Launcher{}) }

// Launcher starts dnsmasq.
type Launcher struct{}

// pkg is the Debian package of the dnsmasq binary (the "dnsmasq" package
// adds only a system service around it).
const pkg = "dnsmasq-base"

// Name implements targets.Launcher.
func (Launcher) Name() string { return "dnsmasq" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string { return []string{"dns"} }

// Requirement implements targets.Launcher.
func (Launcher) Requirement() string { return "Debian package " + pkg }

// Available implements targets.Launcher.
func (Launcher) Available() error {
	_, err := targets.FindBinary("dnsmasq", pkg)
	return err
}

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// forwarder with nothing on loopback to forward to cannot serve anything.
var ErrNoUpstream = errors.New("dnsmasq: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target dnsmasq`")

const authReason = "dnsmasq runs here as a forwarder: it serves no authoritative zones"

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := targets.FindBinary("dnsmasq", pkg)
	if err != nil {
		return nil, err
	}
	upHost, upPort, err := upstream(opts.Params)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := targets.WorkDir(opts, "dnsmasq")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "dnsmasq.log")
	var p *targets.Process
	var addr string
	// A free port may be taken before dnsmasq binds it: try another.
	for attempt := 1; ; attempt++ {
		ports, err := targets.FreePorts("127.0.0.1", 1)
		if err != nil {
			cleanup()
			return nil, err
		}
		addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		p, err = targets.StartProcess("dnsmasq", logPath, opts.Log, argv(bin, dir, ports[0], upHost, upPort)...)
		if err != nil {
			cleanup()
			return nil, err
		}
		err = p.WaitReady(ctx, 10*time.Second, probe(addr))
		if err == nil {
			break
		}
		p.Stop(3 * time.Second)
		if attempt < 3 && strings.Contains(strings.ToLower(err.Error()), "address already in use") {
			continue
		}
		cleanup()
		if opts.WorkDir != "" {
			err = fmt.Errorf("%w (log in %s)", err, dir)
		}
		return nil, err
	}
	stop := func() error {
		err := p.Stop(3 * time.Second)
		cleanup()
		return err
	}
	return &targets.Static{
		TargetName: "dnsmasq",
		Kind:       targets.KindLauncher,
		Version:    version(bin),
		Endpoints: map[string]targets.Endpoint{
			"resolver/udp": {Network: "udp", Addr: addr},
			"resolver/tcp": {Network: "tcp", Addr: addr},
		},
		// dnsmasq's TCP child reads one query, forwards it, answers, and
		// reads the next (measured: 10 queries in one write, 10 answers
		// in order).
		Features: map[string]bool{"dns/tcp-pipelining": true},
		Reasons: map[string]string{
			"dns/udp":       authReason,
			"dns/tcp":       authReason,
			"dns/axfr":      authReason,
			"dns/axfr-acl":  authReason,
			"dns/iterative": "dnsmasq forwards; it does not iterate",
			"dns/allowlist": "dnsmasq has no client access control: it answers every client that reaches its listening address",
		},
		OnClose: stop,
		Proc:    p,
	}, nil
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

// upstream parses Params["upstream"], a loopback host:port.
func upstream(params map[string]string) (string, int, error) {
	up := params["upstream"]
	if up == "" {
		return "", 0, ErrNoUpstream
	}
	host, port, err := net.SplitHostPort(up)
	if err != nil {
		return "", 0, fmt.Errorf("dnsmasq: upstream %q: %w", up, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", 0, fmt.Errorf("dnsmasq: upstream %q: not a loopback address", up)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("dnsmasq: upstream %q: bad port", up)
	}
	return ip.String(), n, nil
}

// probe succeeds once dnsmasq answers version.bind CH TXT, which it does
// itself without forwarding (and so without filling its cache).
func probe(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, netw := range []string{"udp", "tcp"} {
			m := new(dns.Msg)
			m.SetQuestion("version.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			c := &dns.Client{Net: netw, Timeout: 500 * time.Millisecond}
			if _, _, err := c.ExchangeContext(ctx, m, addr); err != nil {
				return err
			}
		}
		return nil
	}
}

// version is "Dnsmasq version 2.90" from "dnsmasq -v".
func version(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "-v").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
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
