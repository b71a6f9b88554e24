// Package nsd launches NLnet Labs' NSD, an authoritative-only DNS server,
// as a target for the DNS suite: every zone of internal/fixture/dns served
// over UDP and TCP on one free loopback port, AXFR allowed from 127.0.0.0/8.
//
//	protospec run dns --target nsd --baseline builtin
package nsd

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/fixture/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs NSD is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(Launcher{}) }

// Launcher starts nsd.
type Launcher struct{}

const pkg = "nsd"

// Name implements targets.Launcher.
func (Launcher) Name() string { return "nsd" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string { return []string{"dns"} }

// Requirement implements targets.Launcher.
func (Launcher) Requirement() string { return "Debian package " + pkg }

// Available implements targets.Launcher.
func (Launcher) Available() error {
	_, err := targets.FindBinary("nsd", pkg)
	return err
}

// outsider is the client address the suite expects an AXFR ACL to refuse
// (suites/dns Outsider).
const outsider = "127.0.0.66"

const resolverReason = "nsd is an authoritative-only server: it does not resolve"

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := targets.FindBinary("nsd", pkg)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := targets.WorkDir(opts, "nsd")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (targets.Target, error) {
		cleanup()
		return nil, err
	}
	if err := fixture.Write(dir); err != nil {
		return fail(err)
	}
	confPath := filepath.Join(dir, "nsd.conf")
	logPath := filepath.Join(dir, "nsd.log")
	var p *targets.Process
	var addr string
	// A free port may be taken before nsd binds it: try another.
	for attempt := 1; ; attempt++ {
		ports, err := targets.FreePorts("127.0.0.1", 1)
		if err != nil {
			return fail(err)
		}
		addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		if err := os.WriteFile(confPath, []byte(config(dir, ports[0])), 0o644); err != nil {
			return fail(err)
		}
		// -d keeps nsd in the foreground (it still forks its server and
		// xfrd children, all in the launched process group) and sends its
		// log to stderr, that is to nsd.log.
		p, err = targets.StartProcess("nsd", logPath, opts.Log, bin, "-d", "-c", confPath)
		if err != nil {
			return fail(err)
		}
		err = p.WaitReady(ctx, 10*time.Second, probe(addr))
		if err == nil {
			break
		}
		p.Stop(3 * time.Second)
		if attempt < 3 && portTaken(err) {
			continue
		}
		return fail(startErr(opts, dir, err))
	}
	stop := func() error {
		err := p.Stop(3 * time.Second)
		cleanup()
		return err
	}
	return &targets.Static{
		TargetName: "nsd",
		Kind:       targets.KindLauncher,
		Version:    version(bin),
		Endpoints: map[string]targets.Endpoint{
			"dns/udp": {Network: "udp", Addr: addr},
			"dns/tcp": {Network: "tcp", Addr: addr},
		},
		// NSD reads every query of a TCP connection in turn and answers
		// each in order (measured: 10 queries in one write, 10 answers).
		Features: map[string]bool{"dns/axfr": true, "dns/axfr-acl": true, "dns/tcp-pipelining": true},
		Reasons: map[string]string{
			"resolver/udp":  resolverReason,
			"resolver/tcp":  resolverReason,
			"dns/iterative": resolverReason,
			"dns/allowlist": resolverReason,
		},
		OnClose: stop,
		Proc:    p,
	}, nil
}

// startErr is a failed start's error; it names the work directory when
// that is kept.
func startErr(opts targets.Options, dir string, err error) error {
	if opts.WorkDir != "" {
		return fmt.Errorf("%w (config and log in %s)", err, dir)
	}
	return err
}

// portTaken reports whether a start failed because the port was taken.
func portTaken(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "address already in use")
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
	// AXFR to 127.0.0.0/8 but the suite's outsider (dns/axfr-acl).
	for _, z := range fixture.Zones {
		fmt.Fprintf(&b, "zone:\n\tname: %q\n\tzonefile: %q\n\tprovide-xfr: %s BLOCKED\n\tprovide-xfr: 127.0.0.0/8 NOKEY\n", z.Origin, z.File, outsider)
	}
	return b.String()
}

// probe succeeds once every fixture zone's SOA is answered authoritatively
// over both UDP and TCP.
func probe(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, netw := range []string{"udp", "tcp"} {
			c := &dns.Client{Net: netw, Timeout: 500 * time.Millisecond}
			for _, z := range fixture.Zones {
				m := new(dns.Msg)
				m.SetQuestion(z.Origin, dns.TypeSOA)
				m.RecursionDesired = false
				r, _, err := c.ExchangeContext(ctx, m, addr)
				if err != nil {
					return err
				}
				if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) == 0 {
					return fmt.Errorf("%s SOA over %s: rcode %s, aa %v, %d answers", z.Origin, netw, dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
				}
			}
		}
		return nil
	}
}

// version is the first line of "nsd -v" ("NSD version 4.6.1").
func version(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-v").CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return "nsd"
	}
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "dns"
}
