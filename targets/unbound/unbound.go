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
	"os"
	"path/filepath"
	"strings"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the specs Unbound is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(launcher) }

// Launcher starts unbound.
type Launcher struct{ targets.BinaryLauncher }

var launcher = Launcher{targets.BinaryLauncher{Server: "unbound", Serves: []string{"dns"}, Binary: "unbound", Package: "unbound"}}

// ErrNoUpstream is returned by Start without Params["upstream"]: a
// resolver with nothing on loopback to resolve from cannot serve anything.
var ErrNoUpstream = errors.New("unbound: needs the suite's upstream authoritative server (Params[\"upstream\"] = 127.0.0.1:PORT): run it through `protospec run dns --target unbound`")

const authReason = "unbound is a resolver: it serves no authoritative zones here"

// Start implements targets.Launcher.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	bin, err := l.Find()
	if err != nil {
		return nil, err
	}
	upHost, upPort, err := targets.LoopbackParam("unbound", opts.Params, fixture.ParamUpstream, ErrNoUpstream)
	if err != nil {
		return nil, err
	}
	run, err := targets.Server{
		Name: "unbound",
		Argv: func(dir string, ports []int) ([]string, error) {
			confPath := filepath.Join(dir, "unbound.conf")
			if err := os.WriteFile(confPath, []byte(config(dir, ports[0], upHost, upPort)), 0o644); err != nil {
				return nil, err
			}
			// -d keeps unbound in the foreground; with logfile "" and no
			// syslog it logs to stderr, that is to unbound.log.
			return []string{bin, "-d", "-c", confPath}, nil
		},
		// version.bind CH TXT is answered by unbound itself, without
		// asking the upstream (and so without filling its cache).
		Probe:  fixture.VersionProbe,
		Output: "unbound.log",
		// A free port may be taken before unbound binds it: try another.
		Attempts:  3,
		PortTaken: portTaken,
		KeptNote:  "config and log",
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	features := map[string]bool{fixture.FeatureAllowlist: true, fixture.FeaturePipelining: true}
	reasons := map[string]string{
		"dns/udp":              authReason,
		"dns/tcp":              authReason,
		fixture.FeatureAXFR:    authReason,
		fixture.FeatureAXFRACL: authReason,
	}
	// Unbound sends every query it iterates to beyond the stub to port 53:
	// it can follow the suite's referrals only when the further servers
	// listen there.
	switch sp := opts.Params[fixture.ParamServerPort]; sp {
	case "53":
		features[fixture.FeatureIterative] = true
	case "":
		reasons[fixture.FeatureIterative] = "unbound queries referred servers on port 53 only, and the suite did not say that its further servers listen there (Params[\"server-port\"])"
	default:
		reasons[fixture.FeatureIterative] = fmt.Sprintf("unbound queries referred servers on port 53 only, and the suite's further servers are on port %s (run the suite as root so they can bind port 53)", sp)
	}
	return run.Target(&targets.Static{
		TargetName: "unbound",
		Version:    version(bin),
		Endpoints:  targets.UDPAndTCP("resolver", run.Addr(0)),
		// Unbound reads every query of a TCP connection and may answer
		// them out of order (measured: 10 queries in one write, 10
		// answers).
		Features: features,
		Reasons:  reasons,
	}), nil
}

// portTaken reports whether a start failed because the port was taken.
func portTaken(err error) bool {
	return targets.PortTaken(err) || strings.Contains(strings.ToLower(err.Error()), "could not open ports")
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
`, port, dir, filepath.Join(dir, "unbound.pid"), upHost, upPort, fixture.Outsider)
}

// version is "Version 1.17.1" from "unbound -V", as "unbound 1.17.1".
func version(bin string) string {
	s, _ := targets.Version(bin, "-V")
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
