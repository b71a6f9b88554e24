// Package dns is the contract of DNS that every room of it shares
// (reference/dns, suites/dns, fuzz/dns, pcap/dns and the DNS launchers:
// nsd, knot, bind9, pdns, yadifa, dnsdist, unbound, dnsmasq,
// bind9-resolver, pdns-recursor, knot-resolver): its name, its services with their
// well-known ports, its features and params, the readiness probes, and the
// fixture itself: the zones an authoritative target serves (README.md
// lists them).
//
//	if err := dns.Write("/tmp/zones"); err != nil { ... }
//	// /tmp/zones/test.zone and /tmp/zones/0.0.127.in-addr.arpa.zone now exist.
//	probe := dns.SOAProbe("127.0.0.1:5300", dns.Origin) // ready once test. is served
package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
)

// Name is the protocol's name in every registry and on the command line.
const Name = "dns"

// Params the suite hands to a launcher (targets.Options.Params), and those
// of `protospec serve dns`.
const (
	// ParamUpstream is the address ("127.A.B.1:53") of the suite's fake
	// root server, the only root or forwarder a resolver target may use.
	ParamUpstream = "upstream"
	// ParamServerPort is the port of the further fake servers the fake
	// root refers to.
	ParamServerPort = "server-port"
	// ParamHierarchy ("true") makes serve run the loopback hierarchy of
	// reference/dns.
	ParamHierarchy = "hierarchy"
	// ParamResolver ("true") makes serve run the iterative resolver.
	ParamResolver = "resolver"
	// ParamUDPWorkers is the number of goroutines serve's authoritative
	// server reads each UDP socket with.
	ParamUDPWorkers = "udp-workers"
	// ParamTSIGKey is a TSIG key (RFC 8945) serve's authoritative server
	// verifies signed queries with and signs their answers: NAME:SECRET,
	// the secret in base64, hmac-sha256; keys are comma-separated.
	ParamTSIGKey = "tsig-key"
	// ParamAllow is serve's allow-list, comma-separated prefixes: the
	// clients the resolver recurses for and the authoritative server
	// transfers zones to. The default is the suite's: loopback except
	// Outsider.
	ParamAllow = "allow"
	// ParamRateLimit is UDP responses per second per client address
	// (response rate limiting; 0 = off).
	ParamRateLimit = "rate-limit"
	// ParamNSID is the name server identifier serve's authoritative
	// server returns to a query with an NSID option (RFC 5001); empty
	// turns NSID off.
	ParamNSID = "nsid"
	// DefaultNSID is the identifier the reference returns by default.
	DefaultNSID = "protospec-reference"
	// ParamMaxTCPConns, ParamMaxTCPConnsPerClient, ParamTCPIdleTimeout
	// and ParamTCPMaxLifetime bound serve's TCP service.
	ParamMaxTCPConns          = "max-tcp-conns"
	ParamMaxTCPConnsPerClient = "max-tcp-conns-per-client"
	ParamTCPIdleTimeout       = "tcp-idle-timeout"
	ParamTCPMaxLifetime       = "tcp-max-lifetime"
	// ParamMaxInflightPerClient bounds the UDP queries of one client the
	// resolver resolves at once.
	ParamMaxInflightPerClient = "max-inflight-per-client"
	// ParamMaxCacheEntries bounds the resolver's cache.
	ParamMaxCacheEntries = "max-cache-entries"
	// ParamServeStale ("false") turns off the resolver's serve-stale
	// (RFC 8767).
	ParamServeStale = "serve-stale"
	// ParamQNameMin ("false") turns off the resolver's QNAME
	// minimisation (RFC 9156).
	ParamQNameMin = "qname-minimisation"
	// ParamQNameMinLeakQType ("true") makes the reference's minimised
	// queries keep the original QTYPE: the qname-min-leak-qtype mutant.
	ParamQNameMinLeakQType = "qname-minimisation-leak-qtype"
	// ParamQuerySourcePort ("fixed" or a port) gives the reference
	// resolver one UDP source port for every upstream query, against RFC
	// 5452 9.2: the fixed-source-port mutant.
	ParamQuerySourcePort = "query-source-port"
)

// Features a target may lack (targets.Static.Features); a spec that needs
// one is skipped with the target's reason.
const (
	FeatureAXFR       = "dns/axfr"           // AXFR allowed to 127.0.0.0/8
	FeatureAXFRACL    = "dns/axfr-acl"       // ... but refused to Outsider
	FeatureIterative  = "dns/iterative"      // the resolver iterates from the root itself
	FeaturePipelining = "dns/tcp-pipelining" // several queries answered on one TCP connection
	FeatureAllowlist  = "dns/allowlist"      // recursion refused to Outsider
	FeatureTSIG       = "dns/tsig"           // queries signed with the TSIG key (TSIGKeyName) verified, answers signed
)

// The TSIG key (RFC 8945, hmac-sha256) that targets offering FeatureTSIG
// share with the suite: its name and base64 secret. A user's server is
// judged with its own key from $PROTOSPEC_DNS_TSIG_KEY (NAME:SECRET).
const (
	TSIGKeyName   = "protospec-key."
	TSIGKeySecret = "cHJvdG9zcGVjLWZpeHR1cmUtdHNpZy1rZXktaG1hYy1zaGEyNTY="
)

// Outsider is the loopback client address that targets offering
// FeatureAXFRACL or FeatureAllowlist refuse.
const Outsider = "127.0.0.66"

// Contract is DNS's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "DNS (RFC 1034, 1035, 2181, 2308, 5452, 5936, 6891, 7766, 8906, 9619)",
	Services: []protocol.Service{
		{Name: "dns", Transport: "udp", Port: 53}, {Name: "dns", Transport: "tcp", Port: 53},
	},
	Features: []protocol.Feature{
		{Name: FeatureAXFR, Doc: "the authoritative server allows AXFR of the fixture's zones to 127.0.0.0/8"},
		{Name: FeatureAXFRACL, Doc: "AXFR from " + Outsider + " is refused while the rest of 127.0.0.0/8 may transfer",
			// Allow-lists name a client address the user's configuration must
			// refuse: no server does that by default.
			Optional: true},
		{Name: FeatureIterative, Doc: "the resolver iterates from the root itself, following referrals (not a forwarder)"},
		{Name: FeaturePipelining, Doc: "several queries sent on one TCP connection are all answered without waiting for each"},
		{Name: FeatureAllowlist, Doc: "the resolver refuses recursion to (or ignores) " + Outsider + " while it serves 127.0.0.1", Optional: true},
		{Name: FeatureTSIG, Doc: "the authoritative server verifies queries signed with the TSIG key " + TSIGKeyName + " (hmac-sha256; a user's own key in $PROTOSPEC_DNS_TSIG_KEY as NAME:SECRET) and signs their answers", Optional: true},
	},
	Params: []protocol.Param{
		{Name: ParamUpstream, Doc: "the fake root server a resolver target must use as its only root or forwarder (set by the suite)"},
		{Name: ParamServerPort, Doc: "the port of the further servers the fake root refers to (set by the suite)"},
		{Name: ParamHierarchy, Doc: "serve: run the loopback hierarchy of reference/dns", Default: "false"},
		{Name: ParamResolver, Doc: "serve: run the iterative resolver, rooted at upstream or at a hierarchy of its own", Default: "false"},
		{Name: ParamUDPWorkers, Doc: "serve: goroutines per UDP socket of the authoritative server (1 to 64)", Default: "1"},
		{Name: ParamTSIGKey, Doc: "serve: TSIG keys (hmac-sha256) the authoritative server verifies and signs with, NAME:BASE64SECRET,...; a query signed with another key gets BADKEY; none for no TSIG", Default: TSIGKeyName + ":" + TSIGKeySecret},
		{Name: ParamAllow, Doc: "serve: comma-separated prefixes the resolver recurses for and the authoritative server transfers zones to", Default: "127.0.0.0/8 and ::1 except " + Outsider},
		{Name: ParamRateLimit, Doc: "serve: UDP responses per second per client address, 0 for no limit", Default: "0"},
		{Name: ParamNSID, Doc: "serve: the name server identifier returned to a query that asks for one (RFC 5001), empty for none", Default: DefaultNSID},
		{Name: ParamMaxTCPConns, Doc: "serve: concurrent TCP connections", Default: "512"},
		{Name: ParamMaxTCPConnsPerClient, Doc: "serve: concurrent TCP connections of one client address", Default: "32"},
		{Name: ParamTCPIdleTimeout, Doc: "serve: how long an idle TCP connection is kept (a Go duration)", Default: "10s"},
		{Name: ParamTCPMaxLifetime, Doc: "serve: how long one TCP connection is served however busy (a Go duration)", Default: "2m"},
		{Name: ParamMaxInflightPerClient, Doc: "serve: UDP queries of one client the resolver resolves at once (cache hits do not count)", Default: "64"},
		{Name: ParamMaxCacheEntries, Doc: "serve: entries of the resolver's cache", Default: "10000"},
		{Name: ParamQuerySourcePort, Doc: "reference: one fixed UDP source port (\"fixed\" picks one) for every upstream query, defeating RFC 5452 9.2: for the fixed-source-port mutant only", Default: ""},
		{Name: ParamQNameMin, Doc: "serve: QNAME minimisation (RFC 9156) of the resolver's upstream queries, true or false", Default: "true"},
		{Name: ParamQNameMinLeakQType, Doc: "reference: minimised queries keep the original QTYPE, against RFC 9156: for the qname-min-leak-qtype mutant only", Default: "false"},
		{Name: ParamServeStale, Doc: "serve: answer from expired cache data when the authorities cannot refresh it (RFC 8767), true or false", Default: "true"},
	},
	Probe:   probe,
	Fixture: Write,
})

// probe checks that a DNS server answers at addr over the service's
// transport: one SOA query for the root, any response with its ID.
func probe(ctx context.Context, service, addr string) error {
	_, transport, _ := strings.Cut(service, "/")
	if transport != "udp" && transport != "tcp" {
		return fmt.Errorf("dns: no probe for %s", service)
	}
	timeout := time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	q := new(mdns.Msg)
	q.SetQuestion(".", mdns.TypeSOA)
	if transport == "udp" {
		// A response to the query from whichever port counts: the specs
		// judge the port. A lost datagram is sent again.
		wire, err := q.Pack()
		if err != nil {
			return err
		}
		answers := func(b []byte) bool {
			r := new(mdns.Msg)
			return r.Unpack(b) == nil && r.Id == q.Id && r.Response
		}
		if err := dial.ProbeUDP(ctx, addr, wire, 3, answers); err != nil {
			return fmt.Errorf("dns: %s at %s: %w", service, addr, err)
		}
		return nil
	}
	c := &mdns.Client{Net: transport, Timeout: timeout}
	r, err := Exchange(ctx, c, q, addr)
	if err != nil {
		return fmt.Errorf("dns: %s at %s: %w", service, addr, err)
	}
	if r.Id != q.Id || !r.Response {
		return fmt.Errorf("dns: %s at %s: not a response to the query", service, addr)
	}
	return nil
}
