// Package unbound launches NLnet Labs' Unbound, an iterative caching
// resolver, as a target for the DNS suite's resolver specs. Unbound
// iterates from the suite's own authoritative server, given as
// Params["upstream"] ("127.0.0.1:PORT") and configured as the stub for the
// root zone, so no query ever leaves loopback.
//
//	protospec run dns --target unbound --baseline builtin
package unbound

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs Unbound is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(Launcher{}) }

// Launcher starts unbound.
type Launcher struct{}

const pkg = "unbound"

// Name implements targets.Launcher.
func (Launcher) Name() string { return "unbound" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string { return []string{"dns"} }

// Requirement implements targets.Launcher.
func (Launcher) Requirement() string { return "Debian package " + pkg }

// Available implements targets.Launcher.
func (Launcher) Available() error {
	_, err := targets.FindBinary("unbound", pkg)
	return err
}

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// resolver with nothing on loopback to resolve from cannot serve anything.
var ErrNoUpstream = errors.New("unbound: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target unbound`")

// outsider is the client address the suite expects a resolver's access
// control to refuse (suites/dns Outsider).
const outsider = "127.0.0.66"

const authReason = "unbound is a resolver: it serves no authoritative zones here"

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := targets.FindBinary("unbound", pkg)
	if err != nil {
		return nil, err
	}
	upHost, upPort, err := upstream(opts.Params)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := targets.WorkDir(opts, "unbound")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (targets.Target, error) {
		cleanup()
		return nil, err
	}
	confPath := filepath.Join(dir, "unbound.conf")
	logPath := filepath.Join(dir, "unbound.log")
	var p *targets.Process
	var addr string
	// A free port may be taken before unbound binds it: try another.
	for attempt := 1; ; attempt++ {
		ports, err := targets.FreePorts("127.0.0.1", 1)
		if err != nil {
			return fail(err)
		}
		addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		if err := os.WriteFile(confPath, []byte(config(dir, ports[0], upHost, upPort)), 0o644); err != nil {
			return fail(err)
		}
		// -d keeps unbound in the foreground; with logfile "" and no
		// syslog it logs to stderr, that is to unbound.log.
		p, err = targets.StartProcess("unbound", logPath, opts.Log, bin, "-d", "-c", confPath)
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
	features := map[string]bool{"dns/allowlist": true, "dns/tcp-pipelining": true}
	reasons := map[string]string{
		"dns/udp":      authReason,
		"dns/tcp":      authReason,
		"dns/axfr":     authReason,
		"dns/axfr-acl": authReason,
	}
	// Unbound sends every query it iterates to beyond the stub to port 53:
	// it can follow the suite's referrals only when the further servers
	// listen there.
	switch sp := opts.Params["server-port"]; sp {
	case "53":
		features["dns/iterative"] = true
	case "":
		reasons["dns/iterative"] = "unbound queries referred servers on port 53 only, and the suite did not say that its further servers listen there (Params[\"server-port\"])"
	default:
		reasons["dns/iterative"] = fmt.Sprintf("unbound queries referred servers on port 53 only, and the suite's further servers are on port %s (run the suite as root so they can bind port 53)", sp)
	}
	return &targets.Static{
		TargetName: "unbound",
		Kind:       targets.KindLauncher,
		Version:    version(bin),
		Endpoints: map[string]targets.Endpoint{
			"resolver/udp": {Network: "udp", Addr: addr},
			"resolver/tcp": {Network: "tcp", Addr: addr},
		},
		// Unbound reads every query of a TCP connection and may answer
		// them out of order (measured: 10 queries in one write, 10
		// answers).
		Features: features,
		Reasons:  reasons,
		OnClose:  stop,
		Proc:     p,
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
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "address already in use") || strings.Contains(s, "could not open ports")
}

// upstream parses Params["upstream"], a loopback host:port.
func upstream(params map[string]string) (string, int, error) {
	up := params["upstream"]
	if up == "" {
		return "", 0, ErrNoUpstream
	}
	host, port, err := net.SplitHostPort(up)
	if err != nil {
		return "", 0, fmt.Errorf("unbound: upstream %q: %w", up, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", 0, fmt.Errorf("unbound: upstream %q: not a loopback address", up)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("unbound: upstream %q: bad port", up)
	}
	return ip.String(), n, nil
}

// config is unbound.conf: a resolver on 127.0.0.1@port iterating from the
// upstream as the only root server, every file it writes in dir.
func config(dir string, port int, upHost string, upPort int) string {
	return fmt.Sprintf(`server:
	interface: 127.0.0.1@%[1]d
	port: %[1]d
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	do-daemonize: no
	username: ""
	chroot: ""
	directory: %[2]q
	pidfile: %[3]q
	use-syslog: no
	logfile: ""
	verbosity: 1
	access-control: 127.0.0.0/8 allow
	# the suite's outsider is refused recursion (dns/allowlist)
	access-control: %[6]s/32 refuse
	num-threads: 1
	so-reuseport: no
	# no DNSSEC validation: the suite's zones are unsigned and there is
	# no trust anchor
	module-config: "iterator"
	# queries leave from 127.0.0.1 only, so they cannot leave the host,
	# and may go to loopback (unbound refuses to by default)
	outgoing-interface: 127.0.0.1
	do-not-query-localhost: no
	# the upstream sees the full query name, so the specs that count what
	# it is asked see one query per name (the suite passes with yes too)
	qname-minimisation: no
	# RFC 6761: unbound answers test. itself by default; the suite may
	# serve names in it from its upstream
	local-zone: "test." nodefault
	# small caches; forget upstream timeouts quickly so one spec that
	# silences the upstream does not make the next ones fail
	msg-cache-size: 1m
	rrset-cache-size: 1m
	key-cache-size: 1m
	neg-cache-size: 1m
	infra-host-ttl: 5
	infra-keep-probing: yes
remote-control:
	control-enable: no
# iterate from the suite's server as the root: nothing else is ever asked
stub-zone:
	name: "."
	stub-addr: %[4]s@%[5]d
`, port, dir, filepath.Join(dir, "unbound.pid"), upHost, upPort, outsider)
}

// probe succeeds once unbound answers version.bind CH TXT, which it does
// itself without asking the upstream (and so without filling its cache).
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

// version is "Version 1.17.1" from "unbound -V", as "unbound 1.17.1".
func version(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, "-V").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if v, ok := strings.CutPrefix(s, "Version "); ok {
		return "unbound " + v
	}
	if s == "" {
		return "unbound"
	}
	return s
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "dns"
}
