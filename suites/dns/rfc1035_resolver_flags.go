package dns

import (
	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// resolverEDNS is a recursive EDNS query for the scenario's www name.
func resolverEDNS(sc *scenario, opts ...mdns.EDNS0) *mdns.Msg {
	q := ednsQuery(sc.name("www"), mdns.TypeA, 1232, 0, false, 0, opts...)
	q.RecursionDesired = true
	return q
}

// resolvesWithOption checks a resolver's answer to resolverEDNS: NOERROR,
// the scenario's address, an OPT record.
func resolvesWithOption(t *spec.T, sc *scenario, m *mdns.Msg) {
	t.Check(checkRcode(m, mdns.RcodeSuccess))
	t.Check(checkAddrs(m, sc.name("www"), realAddr))
	t.Check(checkHasOPT(m))
}

// The same header and EDNS rules for a resolver's service: a resolver
// answers the unusual messages as an authoritative server does.
var _ = Describe("Header flags and EDNS options at a resolver", func() {
	rfc1035_4_1_1.It("resolver-notimp-z-clear", spec.MUST, "keeps Z=0 in its NOTIMP response to opcode 15 with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a resolver's NOTIMP response"), func(t *spec.T) {
		q := opcodeQuery(15)
		q.RecursionDesired = true
		raw := packed(t, q, flagZ)
		resp := rawUDPReaction(t, ServiceResolverUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented, mdns.RcodeRefused))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("resolver-notimp-rd-copied", spec.MUST, "copies RD=1 into its NOTIMP response to opcode 15", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD in a resolver's NOTIMP response"), func(t *spec.T) {
		raw := packed(t, opcodeQuery(15), flagRD)
		resp := rawUDPReaction(t, ServiceResolverUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented, mdns.RcodeRefused))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc9619_4.It("resolver-qdcount-0-rejected", spec.MUST, "answers a recursive query without a question with FORMERR (or NOTIMP/REFUSED)", spec.Inferred(`RFC 9619 4: "A DNS message with OPCODE = 0 MUST NOT include a QDCOUNT parameter whose value is greater than 1"; QDCOUNT 0 without a COOKIE (RFC 7873 5.4) leaves nothing to resolve: FORMERR, NOTIMP or REFUSED, not silence (RFC 8906 3).`, "RFC 9619 words the QDCOUNT 0 case without an RFC 2119 key word; MUST is the suite's reading of it").SharedBecause("QDCOUNT 0 at a resolver"), func(t *spec.T) {
		raw := noQuestion(0x6262, mdns.OpcodeQuery, flagRD)
		t.Check(checkRawReply(raw, rawUDPReaction(t, ServiceResolverUDP, raw), mdns.RcodeFormatError, mdns.RcodeNotImplemented, mdns.RcodeRefused))
	})

	rfc8906_3_1_4.It("resolver-unknown-opcode-no-question", spec.MUST, "answers opcode 15 without a question with NOTIMP (or FORMERR/REFUSED)", spec.Inferred(`RFC 8906 3.1.4: "Unknown DNS Opcodes ... The response should be NOTIMP"; not silence.`, "RFC 8906 words it in lower case; MUST is the suite's reading of it").SharedBecause("an unknown opcode with QDCOUNT 0 at a resolver"), func(t *spec.T) {
		raw := noQuestion(0x6464, 15, flagRD)
		t.Check(checkRawReply(raw, rawUDPReaction(t, ServiceResolverUDP, raw), mdns.RcodeNotImplemented, mdns.RcodeFormatError, mdns.RcodeRefused))
	})

	rfc6891_6_1_3.It("resolver-badvers", spec.MUST, "answers a recursive EDNS version 1 query with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`).SharedBecause("a resolver is a responder too"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		q := ednsQuery(sc.name("www"), mdns.TypeA, 1232, 1, false, 0)
		q.RecursionDesired = true
		m := udp(t, ServiceResolverUDP, q)
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		t.Check(checkHasOPT(m))
	})

	rfc1035_4_1_1.It("resolver-badvers-z-clear", spec.MUST, "keeps Z=0 in its BADVERS response to a query with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a resolver's BADVERS response"), func(t *spec.T) {
		sc := newScenario(t)
		q := ednsQuery(sc.name("www"), mdns.TypeA, 1232, 1, false, 0)
		q.RecursionDesired = true
		raw := packed(t, q, flagZ)
		// The rcode is resolver-badvers's to judge; this spec judges Z.
		checkZClear(t, rawUDPReaction(t, ServiceResolverUDP, raw))
	})

	rfc6891_6_1_2.It("resolver-unknown-option-ignored", spec.MUST, "resolves a query with an unknown EDNS option normally", spec.Quote(sentenceUnknownOption).SharedBecause("an unknown option at a resolver"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		resolvesWithOption(t, sc, udp(t, ServiceResolverUDP, resolverEDNS(sc, unknownOption())))
	})

	rfc7871_7_2_1.It("resolver-ecs-answered", spec.MUST, "resolves a query with a client subnet option normally", spec.Quote(sentenceUnknownOption).SharedBecause("ECS at a resolver, which may use it (RFC 7871 7.1) or ignore it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		resolvesWithOption(t, sc, udp(t, ServiceResolverUDP, resolverEDNS(sc, ecsOption(1, 24, []byte{192, 0, 2}))))
	})

	rfc7873_5_2.It("resolver-cookie-answered", spec.MUST, "resolves a query with a client cookie normally", spec.Quote(sentenceUnknownOption).SharedBecause("a client cookie at a resolver, which answers it (RFC 7873 5.2.3) or ignores it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		resolvesWithOption(t, sc, udp(t, ServiceResolverUDP, resolverEDNS(sc, rawOption(mdns.EDNS0COOKIE, clientCookie))))
	})

	rfc5001_2_2.It("resolver-nsid-answered", spec.MUST, "resolves a query with an NSID request normally", spec.Quote(sentenceUnknownOption).SharedBecause("NSID at a resolver"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		resolvesWithOption(t, sc, udp(t, ServiceResolverUDP, resolverEDNS(sc, rawOption(mdns.EDNS0NSID, nil))))
	})
})
