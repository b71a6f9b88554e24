// Package knot launches CZ.NIC's Knot DNS (knotd), an authoritative-only
// DNS server, as a target for the DNS suite: every zone of
// internal/fixture/dns served over UDP and TCP on one free loopback port,
// AXFR allowed from 127.0.0.0/8.
//
//	protospec run dns --target knot --baseline builtin
package knot

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

// Baseline lists the specs Knot DNS is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(Launcher{}) }

// Launcher starts knotd.
type Launcher struct{}

const pkg = "knot"

// Name implements targets.Launcher.
func (Launcher) Name() string { return "knot" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string { return []string{"dns"} }

// Requirement implements targets.Launcher.
func (Launcher) Requirement() string { return "Debian package " + pkg }

// Available implements targets.Launcher.
func (Launcher) Available() error {
	_, err := targets.FindBinary("knotd", pkg)
	return err
}

// outsider is the client address the suite expects an AXFR ACL to refuse
// (suites/dns Outsider).
const outsider = "127.0.0.66"

const resolverReason = "knot is an authoritative-only server: it does not resolve"

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := targets.FindBinary("knotd", pkg)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := targets.WorkDir(opts, "knot")
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
	// Knot keeps its timer database here; it warns when it is missing.
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		return fail(err)
	}
	confPath := filepath.Join(dir, "knot.conf")
	logPath := filepath.Join(dir, "knot.log")
	var p *targets.Process
	var addr string
	// A free port may be taken before knotd binds it: try another.
	for attempt := 1; ; attempt++ {
		ports, err := targets.FreePorts("127.0.0.1", 1)
		if err != nil {
			return fail(err)
		}
		addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		if err := os.WriteFile(confPath, []byte(config(dir, ports[0])), 0o644); err != nil {
			return fail(err)
		}
		// knotd stays in the foreground unless given -d; its log goes to
		// stderr, that is to knot.log.
		p, err = targets.StartProcess("knot", logPath, opts.Log, bin, "-c", confPath)
		if err != nil {
			return fail(err)
		}
		// Knot binds before it has loaded its zones (it answers SERVFAIL
		// meanwhile), so readiness is every zone's SOA answered.
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
		TargetName: "knot",
		Kind:       targets.KindLauncher,
		Version:    version(bin),
		Endpoints: map[string]targets.Endpoint{
			"dns/udp": {Network: "udp", Addr: addr},
			"dns/tcp": {Network: "tcp", Addr: addr},
		},
		// Knot answers every query of a TCP connection (measured: 10
		// queries in one write, 10 answers).
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
# AXFR to 127.0.0.0/8 but the suite's outsider (dns/axfr-acl): the
# first matching rule applies
acl:
  - id: outsider
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
    acl: [outsider, local_xfr]
zone:
`, port, dir, filepath.Join(dir, "knot.pid"), userLine(), filepath.Join(dir, "db"), outsider, dir)
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

// version is "knotd -V" ("knotd (Knot DNS), version 3.2.6").
func version(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-V").CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return "knotd"
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
