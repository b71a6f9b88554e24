package dns

import (
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc8767_4 = spec.Section("dns", "rfc8767", "4", "Standards Action")
	rfc8767_5 = spec.Section("dns", "rfc8767", "5", "Example Method")
	rfc8767_7 = spec.Section("dns", "rfc8767", "7", "Implementation Caveats")
)

// Serve-stale (RFC 8767), judged through the fake upstream: a record with a
// short TTL is resolved once while its authority answers; then the
// authority falls silent (or changes its answer) and the TTL runs out.

// staleTTL is the TTL of the record the serve-stale specs prime the cache
// with, and staleWait how long they wait for it to expire.
const (
	staleTTL  = 2
	staleWait = 3 * time.Second
	// staleAnswerWithin bounds the wait for a stale answer: a stub
	// resolver's usual patience (5 seconds) with room to spare, well
	// beyond RFC 8767's 1.8-second client response timer.
	staleAnswerWithin = 8 * time.Second
)

// primeStale resolves www.<scenario> (TTL staleTTL, realAddr) once while
// the authority answers; a resolver that does not resolve it fails the
// spec, so that no serve-stale spec passes on a resolver that never
// answered.
func primeStale(t *spec.T) (*scenario, string) {
	sc := newScenario(t)
	sc.add("www " + itoa(staleTTL) + " IN A " + realAddr)
	name := sc.name("www")
	m := sc.resolve(name, mdns.TypeA)
	if !slices.Contains(answerAddrs(m, name), realAddr) {
		t.Mismatch("the record "+name+" A "+realAddr+" resolved while its authority answers", "%s", summary(m))
	}
	return sc, name
}

// silenceAndExpire makes the authority drop every query for name and waits
// for the cached record to expire.
func silenceAndExpire(sc *scenario, name string) {
	sc.rule(name, func(*fakeExchange) bool { return true })
	sc.t.Note("the authority now drops every query for %s; waiting %v for its TTL (%ds) to run out", name, staleWait, staleTTL)
	time.Sleep(staleWait)
}

// askStale asks for name A over UDP, retransmitting, until an answer with
// the query's ID comes or within passes; it returns nil without one, and
// the time from the first query to the answer.
func askStale(sc *scenario, name string, within time.Duration) (*mdns.Msg, time.Duration) {
	q := recQuery(name, mdns.TypeA)
	p := sc.t.DialPacket(ServiceResolverUDP)
	pb := mustPack(sc.t, q)
	start := time.Now()
	// Not scaled by the step timeout: how soon stale data comes is the
	// resolver's own timers' business.
	deadline := start.Add(within)
	interval := sc.t.StepTimeout() / spec.Retransmits
	for time.Now().Before(deadline) {
		p.Send(pb)
		resend := time.Now().Add(interval)
		if resend.After(deadline) {
			resend = deadline
		}
		for wait := time.Until(resend); wait > 0; wait = time.Until(resend) {
			b, err := p.ReplyWithin(wait, 65535)
			if spec.IsTimeout(err) {
				break
			}
			sc.t.Check(err)
			if m := unpack(sc.t, b); m.Id == q.Id && m.Response {
				return m, time.Since(start)
			}
		}
	}
	return nil, time.Since(start)
}

// staleAnswer primes, silences the authority, and returns the resolver's
// answer when it is the stale record; it skips the spec when the resolver
// does not serve stale data.
func staleAnswer(t *spec.T) (*mdns.Msg, string, time.Duration) {
	sc, name := primeStale(t)
	silenceAndExpire(sc, name)
	m, took := askStale(sc, name, staleAnswerWithin)
	if m == nil || !slices.Contains(answerAddrs(m, name), realAddr) {
		t.Skipf("not applicable: the resolver does not serve stale data (after the TTL ran out with the authority silent it answered: %s)", summaryOrNone(m))
	}
	return m, name, took
}

func summaryOrNone(m *mdns.Msg) string {
	if m == nil {
		return "nothing within " + staleAnswerWithin.String()
	}
	return summary(m)
}

var _ = Describe("RFC 8767 serve-stale", func() {
	rfc8767_4.It("stale-served", spec.MAY, "answers with the expired record when its authority no longer answers", spec.Inferred(`RFC 8767, abstract: "This document defines a method (serve-stale) for recursive resolvers to use stale DNS data to avoid outages when authoritative nameservers cannot be reached to refresh expired data."`, "serve-stale is optional: MAY"), func(t *spec.T) {
		sc, name := primeStale(t)
		silenceAndExpire(sc, name)
		m, took := askStale(sc, name, staleAnswerWithin)
		if m == nil || !slices.Contains(answerAddrs(m, name), realAddr) {
			t.Mismatch("the stale "+name+" A "+realAddr+" (serve-stale supported)", "%s", summaryOrNone(m))
		}
		t.Note("stale answer after %v", took.Round(time.Millisecond))
	})

	rfc8767_4.It("stale-ttl-30", spec.SHOULD, "gives stale records it serves a TTL of 30 seconds", spec.Inferred(`RFC 8767 4 updates RFC 1035's TTL definition: stale data served to clients carries a TTL greater than zero, and the section recommends 30 seconds.`, "the exact sentence of section 4 could not be retrieved for this spec; the 30-second TTL is the RFC's recommendation, which the reference, unbound (serve-expired-reply-ttl) and BIND (stale-answer-ttl) follow: SHOULD"), func(t *spec.T) {
		m, name, _ := staleAnswer(t)
		for _, rr := range m.Answer {
			if a, ok := rr.(*mdns.A); ok && strings.EqualFold(a.Hdr.Name, name) && a.Hdr.Ttl != 30 {
				t.Mismatch("the stale record with TTL 30", "TTL %d: %s", a.Hdr.Ttl, summary(m))
			}
		}
	})

	rfc8767_5.It("client-response-timer", spec.MAY, "sends the stale answer within a client response timer, not after a stub gave up", spec.Inferred(`RFC 8767 5: "A client response timer, which is the maximum amount of time a recursive resolver should allow between the receipt of a resolution request and sending its response."`, "the timers are an example method: MAY; the spec allows 4 seconds, a stub's usual 5-second patience less a margin"), func(t *spec.T) {
		_, _, took := staleAnswer(t)
		if took > 4*time.Second {
			t.Mismatch("the stale answer within 4s of the query", "it came after %v", took.Round(time.Millisecond))
		}
		t.Note("stale answer after %v", took.Round(time.Millisecond))
	})

	rfc8767_7.It("fresh-preferred", spec.MUST, "answers with the authority's new data, not the stale record, when the authority answers", spec.Inferred(`RFC 8767 7: "Stale data is used only when refreshing has failed in order to adhere to the original intent of the design of the DNS and the behavior expected by operators."`, "the sentence has no RFC 2119 key word; MUST is the suite's reading of it (RFC 1035's TTL rules apply whenever the authority answers)"), func(t *spec.T) {
		sc, name := primeStale(t)
		sc.rule(name, func(e *fakeExchange) bool { e.send(forgedAnswer(e, realAddr2)); return true })
		t.Note("the authority now answers %s with %s; waiting %v for the old TTL to run out", name, realAddr2, staleWait)
		time.Sleep(staleWait)
		m := sc.resolveSlow(name, mdns.TypeA, staleAnswerWithin)
		addrs := answerAddrs(m, name)
		if !slices.Contains(addrs, realAddr2) || slices.Contains(addrs, realAddr) {
			t.Mismatch("the fresh "+realAddr2+" only", "%s", summary(m))
		}
	})

	rfc8767_7.It("nxdomain-not-stale", spec.MUST, "answers NXDOMAIN, not the stale record, once the authority says the name is gone", spec.Inferred(`RFC 8767 7: "Stale data is used only when refreshing has failed in order to adhere to the original intent of the design of the DNS and the behavior expected by operators."; an authoritative NXDOMAIN is a refresh that succeeded.`, "the sentence has no RFC 2119 key word; MUST is the suite's reading of it").SharedBecause("the negative case of the same sentence"), func(t *spec.T) {
		sc, name := primeStale(t)
		sc.rule(name, func(e *fakeExchange) bool {
			m := new(mdns.Msg)
			m.SetRcode(e.q, mdns.RcodeNameError)
			m.Authoritative = true
			m.Ns = []mdns.RR{sc.zone.negSOA()}
			if e.q.IsEdns0() != nil {
				m.SetEdns0(1232, false)
			}
			e.send(m)
			return true
		})
		t.Note("the authority now answers %s with NXDOMAIN; waiting %v for the old TTL to run out", name, staleWait)
		time.Sleep(staleWait)
		m := sc.resolveSlow(name, mdns.TypeA, staleAnswerWithin)
		t.Check(checkRcode(m, mdns.RcodeNameError))
		if slices.Contains(answerAddrs(m, name), realAddr) {
			t.Mismatch("no stale record with the NXDOMAIN", "%s", summary(m))
		}
	})
})
