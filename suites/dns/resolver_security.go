package dns

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc5452_9_1 = spec.Section("dns", "rfc5452", "9.1", "")
var dns0x20_4 = spec.Section("dns", "dns0x20", "4", "")
var rfc5452_6 = spec.Section("dns", "rfc5452", "6", "")
var rfc5452_9_2 = spec.Section("dns", "rfc5452", "9.2", "")
var rfc5358_4 = spec.Section("dns", "rfc5358", "4", "")

// forgeFirst installs a rule for name that sends forged (built from the
// real answer by forge, sent by send) before the real answer, over UDP.
func forgeFirst(sc *scenario, name string, send func(e *fakeExchange, forged *mdns.Msg)) {
	sc.rule(name, func(e *fakeExchange) bool {
		if e.tcp {
			return false
		}
		send(e, forgedAnswer(e, forgedAddr))
		time.Sleep(20 * time.Millisecond)
		e.send(e.answer())
		return true
	})
}

// checkNotPoisoned resolves name twice (fresh, then from the cache) and
// checks both answers give the real address. With mayFail, a SERVFAIL
// without data is accepted too: a resolver that gives up on a server that
// sent it a bogus reply has not believed the reply.
func checkNotPoisoned(sc *scenario, name string, mayFail bool) {
	for i := 0; i < 2; i++ {
		m := sc.resolve(name, mdns.TypeA)
		for _, a := range answerAddrs(m, name) {
			if a == forgedAddr {
				sc.t.Mismatch(fmt.Sprintf("only the real address %s for %s", realAddr, name), "the forged %s was accepted (query %d of 2): %s", forgedAddr, i+1, summary(m))
			}
		}
		if mayFail && m.Rcode == mdns.RcodeServerFailure && len(m.Answer) == 0 {
			sc.t.Note("SERVFAIL for %s: the bogus reply was not believed", name)
			continue
		}
		sc.t.Check(checkAddrs(m, name, realAddr))
	}
}

// entropy sample: 64 upstream queries' IDs and source ports, measured once
// per run.
const entropySamples = 64

type idPortSample struct {
	ids, ports []uint16
	err        error
}

var (
	sampleMu sync.Mutex
	samples  = map[*fake]*idPortSample{}
)

func measureIDsAndPorts(sc *scenario) *idPortSample {
	sampleMu.Lock()
	defer sampleMu.Unlock()
	if s, ok := samples[sc.f]; ok {
		return s
	}
	s := &idPortSample{}
	for i := 0; i < entropySamples; i++ {
		sc.add(fmt.Sprintf("e%d 300 IN A %s", i, realAddr))
	}
	p := sc.t.DialPacket(ServiceResolverUDP)
	for i := 0; i < entropySamples; i++ {
		name := sc.name(fmt.Sprintf("e%d", i))
		udpOn(sc.t, p, recQuery(name, mdns.TypeA))
		qs := sc.f.queries(func(q seenQuery) bool { return !q.TCP && equalFold(q.Name, name) && q.Type == mdns.TypeA })
		if len(qs) == 0 {
			s.err = fmt.Errorf("the fake upstream saw no UDP query for %s", name)
			break
		}
		s.ids = append(s.ids, qs[0].ID)
		s.ports = append(s.ports, qs[0].From.Port())
	}
	samples[sc.f] = s
	return s
}

// bitEntropy estimates the entropy of 16-bit values as the sum of each
// bit's binary entropy (with the Miller-Madow correction for the sample
// size), and the same for the XOR of consecutive values; it returns the
// smaller, so that a counter (whose low bits flip evenly) scores low.
func bitEntropy(vals []uint16) float64 {
	h := func(vs []uint16) float64 {
		n := float64(len(vs))
		if n == 0 {
			return 0
		}
		total := 0.0
		for bit := 0; bit < 16; bit++ {
			ones := 0.0
			for _, v := range vs {
				if v&(1<<bit) != 0 {
					ones++
				}
			}
			p := ones / n
			if p == 0 || p == 1 {
				continue
			}
			e := -p*math.Log2(p) - (1-p)*math.Log2(1-p)
			e += 1 / (2 * n * math.Ln2) // Miller-Madow: 2 bins
			total += math.Min(e, 1)
		}
		return total
	}
	var xors []uint16
	for i := 1; i < len(vals); i++ {
		xors = append(xors, vals[i]^vals[i-1])
	}
	return math.Min(h(vals), h(xors))
}

func distinct(vals []uint16) int {
	m := map[uint16]bool{}
	for _, v := range vals {
		m[v] = true
	}
	return len(m)
}

// RFC 5452, measures for making DNS more resilient against forged answers,
// and RFC 2181 5.4.1 / RFC 5358: what a resolver must not believe or do.
var _ = Describe("RFC 5452 resolver resilience against forged answers", func() {
	rfc5452_9_1.It("wrong-id-ignored", spec.MUST, "ignores a forged answer with the wrong ID that arrives before the real one", spec.Quote(`RFC 5452 9.1: "A resolver implementation MUST match responses to all of the following attributes of the query:" "Source address against query destination address", "Destination address against query source address", "Destination port against query source port", "Query ID", "Query name", "Query class and type".`), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		forgeFirst(sc, sc.name("www"), func(e *fakeExchange, forged *mdns.Msg) {
			forged.Id ^= 0x5a5a
			e.send(forged)
		})
		checkNotPoisoned(sc, sc.name("www"), false)
	})

	rfc5452_9_1.It("wrong-source-port-ignored", spec.MUST, "ignores a forged answer from the server's address but another port", spec.Inferred(`RFC 5452 9.1 (as above): "Destination port against query source port", and the source port of the reply against the port the query went to (RFC 2181 4.2); a reply from the server's address but another port is not the reply.`, "RFC 5452 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		forgeFirst(sc, sc.name("www"), func(e *fakeExchange, forged *mdns.Msg) {
			e.sendFrom(sc.f.spoofPort, forged)
		})
		checkNotPoisoned(sc, sc.name("www"), false)
	})

	rfc5452_9_1.It("wrong-source-address-ignored", spec.MUST, "ignores a forged answer from another address with the server's port", spec.Inferred(`RFC 5452 9.1 (as above): "Source address against query destination address".`, "RFC 5452 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		forgeFirst(sc, sc.name("www"), func(e *fakeExchange, forged *mdns.Msg) {
			e.sendFrom(sc.f.spoofAddr, forged)
		})
		checkNotPoisoned(sc, sc.name("www"), false)
	})

	rfc5452_9_1.It("other-question-ignored", spec.MUST, "ignores a reply with the right ID but another question, and its records", spec.Inferred(`RFC 5452 9.1 (as above): the question must match too; a reply with the right ID about another name is not an answer, and its records are not believed.`, "RFC 5452 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A "+realAddr, "target 300 IN A "+realAddr)
		sc.rule(sc.name("www"), func(e *fakeExchange) bool {
			if e.tcp {
				return false
			}
			forged := forgedAnswer(e, forgedAddr)
			forged.Question = []mdns.Question{{Name: sc.name("target"), Qtype: mdns.TypeA, Qclass: mdns.ClassINET}}
			forged.Answer = []mdns.RR{mustRR(sc.name("target") + " 300 IN A " + forgedAddr)}
			e.send(forged)
			time.Sleep(20 * time.Millisecond)
			e.send(e.answer())
			return true
		})
		checkNotPoisoned(sc, sc.name("www"), true)
		checkNotPoisoned(sc, sc.name("target"), false)
	})

	rfc5452_9_1.It("unsolicited-answer-ignored", spec.MUST, "ignores an unsolicited answer sent to the port it last queried from", spec.Inferred(`RFC 5452 9.1 (as above): a reply nobody asked for matches no outstanding query.`, "RFC 5452 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("warmup 300 IN A "+realAddr, "www 300 IN A "+realAddr)
		sc.resolve(sc.name("warmup"), mdns.TypeA)
		seen := sc.seen(sc.name("warmup"), mdns.TypeA)
		if len(seen) == 0 || seen[0].TCP {
			t.Skipf("not applicable: the warm-up query did not reach the fake upstream over UDP")
		}
		m := new(mdns.Msg)
		m.Id = mdns.Id()
		m.Response, m.Authoritative = true, true
		m.Question = []mdns.Question{{Name: sc.name("www"), Qtype: mdns.TypeA, Qclass: mdns.ClassINET}}
		m.Answer = []mdns.RR{mustRR(sc.name("www") + " 300 IN A " + forgedAddr)}
		b, err := m.Pack()
		t.Check(err)
		for id := 0; id < 8; id++ {
			m.Id++
			b, _ = m.Pack()
			_ = sc.f.root().pc.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = sc.f.root().pc.WriteToUDPAddrPort(b, seen[0].From)
		}
		t.Note("sent 8 unsolicited answers for %s to %s", sc.name("www"), seen[0].From)
		time.Sleep(50 * time.Millisecond)
		checkNotPoisoned(sc, sc.name("www"), false)
	})

	dns0x20_4.It("case-mismatch-ignored", spec.MAY, "ignores a forged answer in the wrong case when it randomizes case (0x20)", spec.Inferred(`draft-vixie-dnsext-dns0x20 ("Use of Bit 0x20 in DNS Labels to Improve Transaction Identity"): a resolver that randomizes the case of its questions checks that the reply repeats it exactly, and so ignores a reply in another case. Using 0x20 is optional.`, "draft-vixie-dnsext-dns0x20 states it without an RFC 2119 key word; MAY is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("a-rather-long-name-with-letters 300 IN A " + realAddr)
		name := sc.name("a-rather-long-name-with-letters")
		var mu sync.Mutex
		randomizes := false
		sc.rule(name, func(e *fakeExchange) bool {
			asked := e.q.Question[0].Name
			if asked == strings.ToLower(asked) {
				return false
			}
			mu.Lock()
			randomizes = true
			mu.Unlock()
			if e.tcp {
				return false
			}
			forged := forgedAnswer(e, forgedAddr)
			forged.Question[0].Name = strings.ToLower(asked)
			forged.Answer[0].Header().Name = strings.ToLower(asked)
			e.send(forged)
			time.Sleep(20 * time.Millisecond)
			e.send(e.answer())
			return true
		})
		m := sc.resolve(name, mdns.TypeA)
		mu.Lock()
		r := randomizes
		mu.Unlock()
		if !r {
			t.Skipf("not applicable: the resolver does not randomize the case of its questions (0x20)")
		}
		for _, a := range answerAddrs(m, name) {
			if a == forgedAddr {
				t.Mismatch("the reply in the wrong case ignored", "the forged %s was accepted: %s", forgedAddr, summary(m))
			}
		}
	})

	rfc5452_6.It("out-of-bailiwick-additional-ignored", spec.SHOULD, "does not believe an address for another zone's name added by a child zone's server", spec.Inferred(`RFC 2181 5.4.1: data "from the additional data section ... should not be cached in such a way that they would ever be returned as answers"; RFC 5452 6 (accepting only in-domain records): records outside the bailiwick of the zone a server was asked as are not to be accepted. A delegated zone's server that adds an address for a name of its parent zone is not believed.`, "RFC 5452 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		sc.add("victim 300 IN A " + realAddr)
		child := sc.delegate("child", 60, modeAnswer)
		sc.addTo(child, "www 300 IN A "+realAddr2)
		sc.rule("www."+child.origin, func(e *fakeExchange) bool {
			m := e.answer()
			if e.srv.idx != 0 {
				m.Extra = append(m.Extra, mustRR(sc.name("victim")+" 300 IN A "+forgedAddr))
				m.Ns = append(m.Ns, mustRR(sc.origin+" 300 IN NS ns.evil."+sc.origin))
			}
			e.send(m)
			return true
		})
		m := sc.resolveSlow("www."+child.origin, mdns.TypeA, 10*time.Second)
		t.Check(checkAddrs(m, "www."+child.origin, realAddr2))
		checkNotPoisoned(sc, sc.name("victim"), false)
	})

	rfc5452_6.It("out-of-bailiwick-answer-ignored", spec.SHOULD, "does not believe an answer record for another zone's name from a child zone's server", spec.Inferred(`RFC 5452 6 (as above), for a record slipped into the answer section of a child zone's answer.`, "RFC 5452 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		requireIterative(t)
		sc := newScenario(t)
		sc.add("victim 300 IN A " + realAddr)
		child := sc.delegate("child", 60, modeAnswer)
		sc.addTo(child, "www 300 IN A "+realAddr2)
		sc.rule("www."+child.origin, func(e *fakeExchange) bool {
			m := e.answer()
			if e.srv.idx != 0 {
				m.Answer = append(m.Answer, mustRR(sc.name("victim")+" 300 IN A "+forgedAddr))
			}
			e.send(m)
			return true
		})
		sc.resolveSlow("www."+child.origin, mdns.TypeA, 10*time.Second)
		checkNotPoisoned(sc, sc.name("victim"), false)
	})

	rfc5452_9_2.It("id-and-port-entropy", spec.SHOULD, "draws query IDs and source ports with at least 30 bits of entropy combined", spec.Inferred(`RFC 5452 9.2: "Resolver implementations MUST: Use an unpredictable source port for outgoing queries from the range of available ports (53, or 1024 and above) that is as large as possible and practicable; ... Use an unpredictable query ID for outgoing queries, utilizing the full range available (0-65535)." A full 16-bit ID and a port drawn from tens of thousands give about 30 bits or more: the bar set after Kaminsky's 2008 attack.`, "RFC 5452 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		s := measureIDsAndPorts(sc)
		t.Check(s.err)
		idBits, portBits := bitEntropy(s.ids), bitEntropy(s.ports)
		t.Note("%d upstream queries: ID entropy %.1f bits (%d distinct), source port entropy %.1f bits (%d distinct), combined %.1f bits",
			len(s.ids), idBits, distinct(s.ids), portBits, distinct(s.ports), idBits+portBits)
		if idBits+portBits < 30 {
			t.Mismatch("at least 30 bits of ID and source-port entropy combined", "%.1f bits (ID %.1f, port %.1f) over %d queries", idBits+portBits, idBits, portBits, len(s.ids))
		}
	})

	rfc5452_9_2.It("unpredictable-id", spec.MUST, "draws unpredictable query IDs (not constant, not sequential)", spec.Inferred(`RFC 5452 9.2 (as above): "Use an unpredictable query ID": at the least not a constant or a counter (10 bits measured over 64 queries).`, "RFC 5452 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		s := measureIDsAndPorts(sc)
		t.Check(s.err)
		bits := bitEntropy(s.ids)
		t.Note("ID entropy %.1f bits over %d queries", bits, len(s.ids))
		if bits < 10 {
			t.Mismatch("IDs with at least 10 bits of measured entropy", "%.1f bits; IDs %v", bits, s.ids[:min(len(s.ids), 16)])
		}
	})

	rfc5452_9_2.It("unpredictable-port", spec.MUST, "draws unpredictable source ports for its upstream queries", spec.Inferred(`RFC 5452 9.2 (as above): "Use an unpredictable source port": not one fixed port (10 bits measured over 64 queries).`, "RFC 5452 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		s := measureIDsAndPorts(sc)
		t.Check(s.err)
		bits := bitEntropy(s.ports)
		t.Note("source port entropy %.1f bits over %d queries", bits, len(s.ports))
		if bits < 10 {
			t.Mismatch("source ports with at least 10 bits of measured entropy", "%.1f bits; ports %v", bits, s.ports[:min(len(s.ports), 16)])
		}
	})

	rfc5358_4.It("outsider-refused", spec.SHOULD, "refuses recursion to a client outside its allow-list", spec.Quote(`RFC 5358 4: by default, "nameservers SHOULD NOT offer recursive service to external networks"; a client outside the allow-list (127.0.0.66 here) gets REFUSED or nothing, and no recursion is done for it.`), func(t *spec.T) {
		t.Require(FeatureAllowlist)
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		pc := t.DialPacketFrom(ServiceResolverUDP, Outsider)
		q := recQuery(sc.name("www"), mdns.TypeA)
		pc.Send(mustPack(t, q))
		b, _, err := pc.RecvWithin(pc.Scaled(1500*time.Millisecond), 0)
		switch {
		case err == nil:
			m, perr := parse(b)
			t.Check(perr)
			t.Note("received: %s", summary(m))
			if len(answerAddrs(m, sc.name("www"))) > 0 {
				t.Mismatch("REFUSED or no answer for a client outside the allow-list", "%s", summary(m))
			}
		case spec.IsTimeout(err):
			t.Note("no response within %v", pc.Scaled(1500*time.Millisecond))
		default:
			t.Check(err)
		}
		if len(sc.seen(sc.name("www"), 0)) > 0 {
			t.Mismatch("no recursion on behalf of a client outside the allow-list", "the resolver asked the upstream for %s", sc.name("www"))
		}
	})
})
