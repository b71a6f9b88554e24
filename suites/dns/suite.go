// Package dns is the conformance suite of DNS servers: authoritative
// servers (RFC 1034, 1035, 2181, 2308, 4343, 6891, 7766, 8020, 8906, 5936)
// and recursive resolvers or forwarders (RFC 1034 5.3.3, 1035 7, 2181,
// 2308, 5452), judged over UDP and TCP with messages built by miekg/dns and,
// where a spec needs malformed input, by hand.
//
//	protospec run dns                      # against the embedded reference
//	protospec run dns --target nsd         # the authoritative specs against nsd
//	protospec run dns --target unbound --label-filter 'rfc5452'
//
// # Contract with launchers
//
// Services:
//
//   - "dns/udp" and "dns/tcp": an authoritative-only server loaded with the
//     zones of internal/dns (test. and 0.0.127.in-addr.arpa.), on
//     one loopback address and port for both transports. AXFR of both zones
//     is allowed to 127.0.0.0/8.
//   - "resolver/udp" and "resolver/tcp": a recursive resolver or a
//     forwarder, which must use Params["upstream"] (below) as its only root
//     server (an iterating resolver: root hints / a stub zone for ".") or
//     its only forwarder (a forwarder). Recursion is offered to 127.0.0.1
//     and ::1.
//
// Params the suite's Setup hands to the launcher (targets.Options.Params):
//
//   - "upstream": "127.A.B.1:53", the address of the suite's own fake root
//     server. Examples: reference Resolver.RootHints; unbound
//     `stub-zone: name: "."  stub-addr: 127.A.B.1@53` (with
//     `do-not-query-localhost: no`); dnsmasq `--server=127.A.B.1#53`.
//   - "server-port": the port of every further fake server that the fake
//     root refers to (its glue carries addresses only). It is "53" when the
//     suite can bind port 53 (it runs as root); then iterating resolvers
//     reach the referred servers without being told anything. A resolver
//     that can be told the port (the reference: Resolver.ServerPort) uses
//     it; one that cannot (unbound) should not offer "dns/iterative" when it
//     is not "53".
//
// The fake upstream listens on a /24 of loopback chosen at random per run
// (127.A.B.0/24, A in 100..250), UDP and TCP, port 53: 127.A.B.1 is the
// root, 127.A.B.2.. are the further servers. It is authoritative (AA set,
// whatever the RD bit, so forwarders work too) for the root zone ".", whose
// names the specs make up: every spec works under its own zone
// "<spec-label>.example." (for instance s12-k3x9.example.), served by the
// root itself or delegated to the further servers. Nothing the fake serves
// exists in the real DNS, and it never forwards anything.
//
// Features (targets.NotOffered with a reason when missing):
//
//   - "dns/axfr": the authoritative server allows AXFR to 127.0.0.0/8.
//   - "dns/axfr-acl": AXFR from 127.0.0.66 (Outsider) is refused, while the
//     rest of 127.0.0.0/8 may transfer.
//   - "dns/iterative": the resolver iterates from the root itself (follows
//     referrals to further servers, retries lame ones, chases CNAMEs across
//     zones): reference, unbound; not a forwarder such as dnsmasq.
//   - "dns/tcp-pipelining": the authoritative server answers several queries
//     sent on one TCP connection without waiting for each answer.
//   - "dns/allowlist": the resolver refuses recursion to (or ignores) a
//     client at 127.0.0.66 (Outsider) while it serves 127.0.0.1.
package dns

import (
	"context"
	"fmt"
	"strconv"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

// Names of the contract, for launchers and specs.
const (
	// ParamUpstream is the Params key of the fake root's address.
	ParamUpstream = fixture.ParamUpstream
	// ParamServerPort is the Params key of the port of the further servers.
	ParamServerPort = fixture.ParamServerPort

	FeatureAXFR        = fixture.FeatureAXFR
	FeatureAXFRACL     = fixture.FeatureAXFRACL
	FeatureIterative   = fixture.FeatureIterative
	FeaturePipelining  = fixture.FeaturePipelining
	FeatureAllowlist   = fixture.FeatureAllowlist
	ServiceAuthUDP     = "dns/udp"
	ServiceAuthTCP     = "dns/tcp"
	ServiceResolverUDP = "resolver/udp"
	ServiceResolverTCP = "resolver/tcp"

	// Outsider is the loopback address that "dns/allowlist" and
	// "dns/axfr-acl" targets refuse.
	Outsider = fixture.Outsider
)

var _ = spec.RegisterProtocol(spec.Protocol{
	Name:  "dns",
	Title: "DNS: authoritative servers and recursive resolvers (RFC 1034, 1035, 2181, 2308, 4343, 5452, 5936, 6891, 7766, 8020, 8906)",
	Docs: []string{"rfc1034", "rfc1035", "rfc2181", "rfc2308", "rfc3597", "rfc4343", "rfc4592", "rfc1995",
		"rfc5358", "rfc5452", "dns0x20", "rfc3225", "rfc4035", "rfc3425", "rfc1996", "rfc2136", "rfc8482", "rfc5936", "rfc6891", "rfc7766", "rfc8020", "rfc8906", "rfc9619"},
	Setup:    setup,
	Services: []string{ServiceResolverUDP, ServiceResolverTCP},
	Examples: []string{
		"dns --target nsd --baseline builtin",
		"dns --target 127.0.0.1:5300 --feature dns/axfr-acl",
	},
})

// setup starts the fake upstream the resolver specs play against and
// tells the launcher where it is.
func setup(ctx context.Context) (map[string]string, func(), error) {
	f, err := startFake(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("dns suite: starting the fake upstream: %w", err)
	}
	setCurrentFake(f)
	params := map[string]string{
		ParamUpstream:   f.root().addr.String(),
		ParamServerPort: strconv.Itoa(int(f.port)),
	}
	return params, func() {
		setCurrentFake(nil)
		f.Close()
	}, nil
}
