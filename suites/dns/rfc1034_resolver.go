package dns

import (
	"fmt"
	"time"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc1034_5_3_3 = spec.Section("dns", "rfc1034", "5.3.3", "Algorithm")
var rfc4343_4_1 = spec.Section("dns", "rfc4343", "4.1", "DNS Output Case Preservation")
var rfc7766_5 = spec.Section("dns", "rfc7766", "5", "Transport Protocol Selection")
var rfc7766_7 = spec.Section("dns", "rfc7766", "7", "Response Reordering")
var rfc6891_7 = spec.Section("dns", "rfc6891", "7", "Transport Considerations")
var rfc9619_4 = spec.Section("dns", "rfc9619", "4", "")
var rfc3597_3 = spec.Section("dns", "rfc3597", "3", "Transparency")
var rfc2181_9 = spec.Section("dns", "rfc2181", "9", "The TC (truncated) header bit")

// Addresses the fake hands out: real answers and forged ones.
const (
	realAddr   = "192.0.2.1"
	realAddr2  = "192.0.2.2"
	forgedAddr = "192.0.2.66"
)

// answerTTL returns the TTL of the first record of type qtype owned by
// name in the answer section, or fails.
func answerTTL(t *spec.T, m *mdns.Msg, name string, qtype uint16) uint32 {
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == qtype && equalFold(rr.Header().Name, name) {
			return rr.Header().Ttl
		}
	}
	t.Mismatch(fmt.Sprintf("a %s record for %s in the answer", typeName(qtype), name), "%s", summary(m))
	return 0
}

// checkUpstreamQueries checks how often the fake was asked name/qtype.
func checkUpstreamQueries(sc *scenario, name string, qtype uint16, want int, why string) error {
	got := len(sc.seen(name, qtype))
	if got != want {
		return spec.Errorf(fmt.Sprintf("%d upstream %s for %s %s (%s)", want, plural(want, "query", "queries"), name, typeName(qtype), why),
			"the fake upstream received %d", got)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// RFC 1034 5.3.3 and RFC 1035 7: what a resolver does for its clients, with
// the suite's fake upstream controlling every answer.
var _ = Describe("RFC 1034 resolver behaviour", func() {
	rfc1034_5_3_3.It("resolves-name", spec.MUST, "resolves a name of the fake upstream and returns its address", spec.Inferred(`RFC 1034 5.3.3: "The top level algorithm has four steps: 1. See if the answer is in local information, and if so return it to the client. 2. Find the best servers to ask. 3. Send them queries until one returns a response. 4. Analyze the response".`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, sc.name("www"), realAddr))
		if len(sc.seen(sc.name("www"), mdns.TypeA)) == 0 {
			t.Mismatch("the resolver to ask the suite's upstream", "the fake upstream never saw the query (is the resolver pointed at Params[\", upstream\"]?)")
		}
	})

	rfc1035_4_1_1.It("resolver-header", spec.MUST, "answers with the query's ID, QR=1, RD copied, Z=0 and the question", spec.Inferred(`RFC 1035 4.1.1: the header of a response: ID copied, QR=1, opcode copied, "RD ... is copied into the response", Z zero, the question repeated.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		q := recQuery(sc.name("www"), mdns.TypeA)
		m := udp(t, ServiceResolverUDP, q)
		t.Check(checkReplyHeader(q, m))
	})

	rfc1035_4_1_1.It("resolver-ra-set", spec.MUST, "sets RA in its answers", spec.Inferred(`RFC 1035 4.1.1: "RA Recursion Available - this be is set or cleared in a response, and denotes whether recursive query support is available in the name server."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		if !m.RecursionAvailable {
			t.Mismatch("RA=1 from a recursive resolver", "%s", summary(m))
		}
	})

	rfc4343_4_1.It("resolver-question-case", spec.MUST, "repeats a mixed-case question exactly", spec.Inferred(`RFC 1035 4.1.2 / RFC 4343 4.1: the question comes back as asked, case included.`, "RFC 4343 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		q := recQuery("WwW."+sc.origin, mdns.TypeA)
		m := udp(t, ServiceResolverUDP, q)
		t.Check(checkQuestion(q, m))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
	})

	rfc7766_5.It("resolver-tcp", spec.MUST, "answers a query over TCP", spec.Quote(`RFC 7766 5: "Recursive server (or forwarder) implementations MUST support TCP so that they do not prevent large responses from a TCP-capable server from reaching its TCP-capable clients."`), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		m := sc.resolveTCP(sc.name("www"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("www"), realAddr))
	})

	rfc7766_7.It("resolver-pipelined", spec.SHOULD, "answers two queries pipelined on one TCP connection", spec.Quote(`RFC 7766 7: "recursive resolvers SHOULD process TCP queries in parallel and return individual responses as soon as they are available, possibly out of order."`), func(t *spec.T) {
		t.Require(FeaturePipelining)
		sc := newScenario(t)
		sc.add("a 300 IN A "+realAddr, "b 300 IN A "+realAddr2)
		c := t.Dial(ServiceResolverTCP)
		qs := []*mdns.Msg{recQuery(sc.name("a"), mdns.TypeA), recQuery(sc.name("b"), mdns.TypeA)}
		c.Send(append(tcpFrame(mustPack(t, qs[0])), tcpFrame(mustPack(t, qs[1]))...))
		got := readResponses(t, c, qs)
		t.Check(checkAddrs(got[qs[0].Id], sc.name("a"), realAddr))
		t.Check(checkAddrs(got[qs[1].Id], sc.name("b"), realAddr2))
	})

	rfc6891_7.It("resolver-opt-in-response", spec.MUST, "includes an OPT record in its answer to an EDNS query", spec.Quote(`RFC 6891 6.1.1: "If an OPT record is present in a received request, compliant responders MUST include an OPT record in their respective responses."`).In("6.1.1"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		q := withEDNS(recQuery(sc.name("www"), mdns.TypeA), 1232)
		m := udp(t, ServiceResolverUDP, q)
		t.Check(checkHasOPT(m))
	})

	rfc9619_4.It("upstream-queries-well-formed", spec.MUST, "sends the upstream queries with QR=0, OPCODE QUERY and one question", spec.Inferred(`RFC 1035 4.1.1 / RFC 9619 4: the queries a resolver sends upstream are queries: QR=0, OPCODE QUERY, exactly one question.`, "RFC 9619 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		sc.resolve(sc.name("www"), mdns.TypeA)
		seen := sc.seen(sc.name("www"), 0)
		if len(seen) == 0 {
			t.Mismatch("at least one upstream query for "+sc.name("www")+" to judge", "none reached the fake upstream")
		}
		for _, q := range seen {
			if q.QR || q.Opcode != mdns.OpcodeQuery || q.QDs != 1 {
				t.Mismatch("QR=0, QUERY, QDCOUNT 1", "QR=%v opcode %s %d questions", q.QR, opcodeName(q.Opcode), q.QDs)
			}
		}
	})

	rfc3597_3.It("resolver-unknown-type", spec.MUST, "returns a record of an unknown type (TYPE65280) as the upstream gave it", spec.Inferred(`RFC 3597 3: resolvers handle RRs of unknown type transparently: "...must treat RRs of unknown types as unstructured binary data" and pass them on.`, "RFC 3597 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add(`opaque 300 IN TYPE65280 \# 4 0a0b0c0d`)
		m := sc.resolve(sc.name("opaque"), 65280)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkSection("answer", m.Answer, []string{sc.name("opaque") + ` 300 IN TYPE65280 \# 4 0a0b0c0d`}, true))
	})

	rfc1034_5_3_3.It("cname-chain-returned", spec.MUST, "returns the CNAME and the target's A record from one upstream answer", spec.Inferred(`RFC 1034 5.3.3 step 4: "if the response shows a CNAME and that is not the answer itself, cache the CNAME, change the SNAME to the canonical name in the CNAME RR and go to step 1": an answer holding the chain is passed on whole.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("alias 300 IN CNAME www", "www 300 IN A "+realAddr)
		m := sc.resolve(sc.name("alias"), mdns.TypeA)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkSection("answer", m.Answer, []string{sc.name("alias") + " 300 IN CNAME " + sc.name("www")}, true))
		t.Check(checkAddrs(m, sc.name("www"), realAddr))
	})

	rfc1034_5_3_3.It("cname-chased-across-zones", spec.MUST, "chases a CNAME into a delegated zone and returns CNAME and A", spec.Inferred(`RFC 1034 5.3.3 step 4 (as above), with the canonical name in another zone on other servers: the resolver restarts there.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		child := sc.delegate("other", 60, modeAnswer)
		sc.addTo(child, "www 300 IN A "+realAddr)
		sc.add("alias 300 IN CNAME www.other")
		m := sc.resolveSlow(sc.name("alias"), mdns.TypeA, 10*time.Second)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, "www."+child.origin, realAddr))
	})

	rfc1034_5_3_3.It("referral-followed", spec.MUST, "follows a referral to a delegated zone's server and returns its answer", spec.Inferred(`RFC 1034 5.3.3 step 4: "if the response contains a better delegation to other servers, cache the delegation information, and go to step 2."`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		child := sc.delegate("sub", 60, modeAnswer)
		sc.addTo(child, "www 300 IN A "+realAddr)
		m := sc.resolveSlow("www."+child.origin, mdns.TypeA, 10*time.Second)
		t.Check(checkAddrs(m, "www."+child.origin, realAddr))
		if len(sc.f.queries(func(q seenQuery) bool { return q.Server == 1 && equalFold(q.Name, "www."+child.origin) })) == 0 {
			t.Mismatch(fmt.Sprintf("the child zone's server (%s) to be asked", sc.f.addr(1)), "it was not")
		}
	})

	rfc1034_5_3_3.It("glueless-delegation", spec.MUST, "resolves the address of a glueless delegation's server and then the name", spec.Inferred(`RFC 1034 5.3.3 step 2, "Find the best servers to ask": for servers whose addresses came without glue, the resolver looks the addresses up itself (the SLIST of RFC 1034 5.3.2 lists the servers with their addresses; RFC 1034 words no more than that), then asks them.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		hosts := sc.delegate("hosts", 60, modeAnswer) // server 1
		sc.addTo(hosts, fmt.Sprintf("ns 300 IN A %s", sc.f.addr(2)))
		gl := sc.newZone(sc.name("gl"), 60, map[int]serverMode{2: modeAnswer})
		sc.addTo(gl, "www 300 IN A "+realAddr)
		sc.add("gl 3600 IN NS ns.hosts")
		gl.nsNames = []string{"ns." + hosts.origin}
		m := sc.resolveSlow("www."+gl.origin, mdns.TypeA, 15*time.Second)
		t.Check(checkAddrs(m, "www."+gl.origin, realAddr))
	})

	rfc2181_9.It("tc-retried-over-tcp", spec.SHOULD, "retries a truncated upstream answer over TCP and returns the full answer", spec.Inferred(`RFC 2181 9: "When a DNS client receives a reply with TC set, it should ignore that response, and query again, using a mechanism, such as a TCP connection, that will permit larger replies."`, "RFC 2181 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("big 300 IN A "+realAddr, "big 300 IN A "+realAddr2)
		sc.rule(sc.name("big"), func(e *fakeExchange) bool {
			if e.tcp {
				return false
			}
			m := e.answer()
			m.Answer = nil
			m.Truncated = true
			e.send(m)
			return true
		})
		m := sc.resolve(sc.name("big"), mdns.TypeA)
		if m.Truncated {
			// A forwarder may hand TC to its client, which then asks over
			// TCP (RFC 7766 5).
			t.Note("the resolver passed TC=1 on; asking it over TCP")
			m = sc.resolveTCP(sc.name("big"), mdns.TypeA)
		}
		t.Check(checkAddrs(m, sc.name("big"), realAddr, realAddr2))
		if len(sc.f.queries(func(q seenQuery) bool { return q.TCP && equalFold(q.Name, sc.name("big")) })) == 0 {
			t.Mismatch("a TCP query upstream after the truncated answer", "none")
		}
	})

	rfc1034_5_3_3.It("lame-server-skipped", spec.MUST, "gets the answer from the one working server of a zone whose others refuse or stay silent", spec.Inferred(`RFC 1034 5.3.3 step 4: "if the response shows a servers failure or other bizarre contents, delete the server from the SLIST and go back to step 3" (sic): a silent or refusing server leads to the next.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		lame := sc.newZone(sc.name("lame"), 60, map[int]serverMode{3: modeRefused, 4: modeServfail, 5: modeAnswer})
		sc.addTo(lame, "www 300 IN A "+realAddr)
		var recs []string
		for _, idx := range []int{3, 4, 5} {
			recs = append(recs, fmt.Sprintf("lame 3600 IN NS ns%d.lame", idx), fmt.Sprintf("ns%d.lame 3600 IN A %s", idx, sc.f.addr(idx)))
		}
		sc.add(recs...)
		m := sc.resolveSlow("www."+lame.origin, mdns.TypeA, 20*time.Second)
		t.Check(checkAddrs(m, "www."+lame.origin, realAddr))
	})

	rfc1034_5_3_3.It("silent-server-skipped", spec.MUST, "gets the answer from a zone's second server when the first never answers", spec.Inferred(`RFC 1034 5.3.3 step 3 (as above): a server that never answers is given up on and the next one tried.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		z := sc.newZone(sc.name("quiet"), 60, map[int]serverMode{silentServer: modeSilent, 6: modeAnswer})
		sc.addTo(z, "www 300 IN A "+realAddr)
		sc.add(fmt.Sprintf("quiet 3600 IN NS ns%d.quiet", silentServer), fmt.Sprintf("ns%d.quiet 3600 IN A %s", silentServer, sc.f.addr(silentServer)),
			"quiet 3600 IN NS ns6.quiet", fmt.Sprintf("ns6.quiet 3600 IN A %s", sc.f.addr(6)))
		m := sc.resolveSlow("www."+z.origin, mdns.TypeA, 25*time.Second)
		t.Check(checkAddrs(m, "www."+z.origin, realAddr))
	})

	rfc1035_4_1_1.It("servfail-when-all-fail", spec.SHOULD, "answers SERVFAIL when every server of the zone refuses or fails", spec.Inferred(`RFC 1035 4.1.1: "Server failure - The name server was unable to process this query due to a problem with the name server": when every server of the zone fails, the resolver says so.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		z := sc.newZone(sc.name("dead"), 60, map[int]serverMode{3: modeRefused, 4: modeServfail})
		sc.add("dead 3600 IN NS ns3.dead", fmt.Sprintf("ns3.dead 3600 IN A %s", sc.f.addr(3)),
			"dead 3600 IN NS ns4.dead", fmt.Sprintf("ns4.dead 3600 IN A %s", sc.f.addr(4)))
		m := sc.resolveSlow("www."+z.origin, mdns.TypeA, 25*time.Second)
		t.Check(checkRcode(m, mdns.RcodeServerFailure))
		t.Check(checkNoAnswerData(m))
	})

	rfc1035_4_1_1.It("servfail-passed-on", spec.SHOULD, "answers SERVFAIL when its upstream answers SERVFAIL", spec.Inferred(`RFC 1035 4.1.1 (as above): an upstream that fails makes the resolver's answer a failure, not data.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.rule(sc.name("broken"), func(e *fakeExchange) bool {
			m := e.answer()
			m.Authoritative = false
			m.Answer, m.Ns = nil, nil
			m.Rcode = mdns.RcodeServerFailure
			e.send(m)
			return true
		})
		m := sc.resolveSlow(sc.name("broken"), mdns.TypeA, 25*time.Second)
		t.Check(checkRcode(m, mdns.RcodeServerFailure))
	})
})

// silentServer is the fake server reserved for silence, so that a
// resolver's memory of a server that timed out (RFC 1034 5.3.3 step 4)
// never spills over into specs that need the others.
const silentServer = 7

func equalFold(a, b string) bool {
	return len(a) == len(b) && lowerASCII(a) == lowerASCII(b)
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
