package dns

import (
	"fmt"
	"time"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc1035_3_2_1 = spec.Section("dns", "rfc1035", "3.2.1", "Format")
var rfc1035_7_4 = spec.Section("dns", "rfc1035", "7.4", "Using the cache")
var rfc2181_8 = spec.Section("dns", "rfc2181", "8", "Time to Live (TTL)")
var rfc2181_5_2 = spec.Section("dns", "rfc2181", "5.2", "TTLs of RRs in an RRSet")
var rfc2181_5 = spec.Section("dns", "rfc2181", "5", "Resource Record Sets")
var rfc2181_5_4_1 = spec.Section("dns", "rfc2181", "5.4.1", "Ranking data")
var rfc2308_2_1 = spec.Section("dns", "rfc2308", "2.1", "Name Error")
var rfc2308_2_2 = spec.Section("dns", "rfc2308", "2.2", "No Data")
var rfc2308_6 = spec.Section("dns", "rfc2308", "6", "Negative answers from the cache")
var rfc2308_5 = spec.Section("dns", "rfc2308", "5", "Caching Negative Answers")

// subzone creates the zone "<label>.<origin>" served by the fake root
// itself with its own negative TTL, delegated from the scenario's zone.
func (sc *scenario) subzone(label string, negTTL uint32) *fakeZone {
	z := sc.newZone(sc.name(label), negTTL, map[int]serverMode{0: modeAnswer})
	sc.add(fmt.Sprintf("%s 3600 IN NS ns0.%s", label, z.origin), fmt.Sprintf("ns0.%s 3600 IN A %s", z.origin, sc.f.addr(0)))
	return z
}

// RFC 1035 7.4 / RFC 1034 5.3.3 / RFC 2181 5 and 8: the resolver's cache
// and TTLs.
var _ = Describe("RFC 1035 resolver cache and TTLs", func() {
	rfc1034_5_3_3.It("answer-cached", spec.SHOULD, "answers a repeated query from its cache without asking upstream again", spec.Inferred(`RFC 1034 5.3.3 step 4: "if the response answers the question or contains a name error, cache the data as well as returning it back to the client."`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		sc.resolve(sc.name("www"), mdns.TypeA)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("www"), realAddr))
		t.Check(checkUpstreamQueries(sc, sc.name("www"), mdns.TypeA, 1, "the second answer comes from the cache"))
	})

	rfc1035_3_2_1.It("ttl-not-increased", spec.MUST, "returns a TTL no larger than the upstream's 300", spec.Inferred(`RFC 1035 3.2.1: "TTL a 32 bit signed integer that specifies the time interval that the resource record may be cached before the source of the information should again be consulted": a resolver never gives a record a longer life than its source did.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		if ttl := answerTTL(t, m, sc.name("www"), mdns.TypeA); ttl > 300 {
			t.Mismatch("TTL <= 300", "TTL %d", ttl)
		}
	})

	rfc1035_7_4.It("ttl-decremented", spec.SHOULD, "hands out a cached record with its TTL decreased by the time spent in the cache", spec.Inferred(`RFC 1035 7.4 (using the cache) with 3.2.1: the TTL is "the time interval that the resource record may be cached", so a record handed out of the cache carries what is left of that interval, not the original.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		first := answerTTL(t, sc.resolve(sc.name("www"), mdns.TypeA), sc.name("www"), mdns.TypeA)
		time.Sleep(2200 * time.Millisecond)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		if len(sc.seen(sc.name("www"), mdns.TypeA)) > 1 {
			t.Skipf("not applicable: the resolver asked upstream again instead of answering from its cache")
		}
		second := answerTTL(t, m, sc.name("www"), mdns.TypeA)
		t.Note("TTL %d, then %d after 2.2 s", first, second)
		if second+2 > first {
			t.Mismatch(fmt.Sprintf("a TTL at least 2 s lower than the first answer's %d", first), "TTL %d after 2.2 s in the cache", second)
		}
	})

	rfc1035_3_2_1.It("expired-record-refetched", spec.SHOULD, "asks upstream again once a 2-second TTL has run out", spec.Inferred(`RFC 1035 3.2.1 (as above): once the TTL has run out, "the source of the information should again be consulted".`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 2 IN A " + realAddr)
		sc.resolve(sc.name("www"), mdns.TypeA)
		time.Sleep(3200 * time.Millisecond)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("www"), realAddr))
		t.Check(checkUpstreamQueries(sc, sc.name("www"), mdns.TypeA, 2, "the cached record expired after 2 s"))
	})

	rfc1035_3_2_1.It("ttl-zero-not-cached", spec.SHOULD, "asks upstream again for a record whose TTL is 0", spec.Inferred(`RFC 1035 3.2.1: "Zero values are interpreted to mean that the RR can only be used for the transaction in progress, and should not be cached."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 0 IN A " + realAddr)
		sc.resolve(sc.name("www"), mdns.TypeA)
		time.Sleep(1100 * time.Millisecond)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("www"), realAddr))
		t.Check(checkUpstreamQueries(sc, sc.name("www"), mdns.TypeA, 2, "a TTL of 0 is not cached"))
	})

	rfc2181_8.It("ttl-msb-as-zero", spec.SHOULD, "treats an upstream TTL with the top bit set as 0", spec.Inferred(`RFC 2181 8: "Implementations should treat a TTL value received with the most significant bit set as if the entire value received was zero."`, "RFC 2181 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		rr := mustRR(sc.name("www") + " 300 IN A " + realAddr)
		rr.Header().Ttl = 0x80000010
		sc.f.addRecords(sc.zone, rr)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		if ttl := answerTTL(t, m, sc.name("www"), mdns.TypeA); ttl != 0 {
			t.Mismatch("TTL 0 (2147483664 has the top bit set)", "TTL %d", ttl)
		}
	})

	rfc2181_5_2.It("rrset-ttl-lowest", spec.SHOULD, "gives both records of an RRset sent with TTLs 100 and 200 the lowest, 100 or less", spec.Inferred(`RFC 2181 5.2: "Should an authoritative source send such a malformed RRSet, the client should treat the RRs for all purposes as if all TTLs in the RRSet had been set to the value of the lowest TTL in the RRSet."`, "RFC 2181 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 100 IN A "+realAddr, "www 200 IN A "+realAddr2)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("www"), realAddr, realAddr2))
		var ttls []uint32
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == mdns.TypeA {
				ttls = append(ttls, rr.Header().Ttl)
			}
		}
		if len(ttls) != 2 || ttls[0] != ttls[1] || ttls[0] > 100 {
			t.Mismatch("one TTL <= 100 for the whole RRset", "TTLs %v", ttls)
		}
	})

	rfc2181_5.It("rrset-whole", spec.MUST, "returns all three records of an RRset", spec.Inferred(`RFC 2181 5: "It is however possible for most record types to exist with the same label, class and type, but with different data. Such a group of records is hereby defined to be a Resource Record Set (RRSet)."; 5.1: "A query for a specific (or non-specific) label, class, and type, will always return all records in the associated RRSet": the resolver returns the whole RRset, not part of it.`, "RFC 2181 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A 192.0.2.1", "www 300 IN A 192.0.2.2", "www 300 IN A 192.0.2.3")
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("www"), "192.0.2.1", "192.0.2.2", "192.0.2.3"))
		m = sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("www"), "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	})

	rfc1035_4_1_1.It("cached-answer-not-authoritative", spec.MUST, "clears AA in an answer from its cache", spec.Inferred(`RFC 1035 4.1.1: AA "specifies that the responding name server is an authority for the domain name in question section"; a resolver answering from its cache is not.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		sc.resolve(sc.name("www"), mdns.TypeA)
		m := sc.resolve(sc.name("www"), mdns.TypeA)
		t.Check(checkAA(m, false))
	})

	rfc2181_5_4_1.It("additional-not-returned-as-answer", spec.SHOULD, "does not answer from a record it only saw in an additional section", spec.Inferred(`RFC 2181 5.4.1: "Unauthenticated RRs received and cached from the least trustworthy of those groupings, that is data from the additional data section, and data from the authority section of a non-authoritative answer, should not be cached in such a way that they would ever be returned as answers to a received query."`, "RFC 2181 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A "+realAddr, "victim 300 IN A "+realAddr2)
		sc.rule(sc.name("www"), func(e *fakeExchange) bool {
			m := e.answer()
			m.Extra = append(m.Extra, mustRR(sc.name("victim")+" 300 IN A "+forgedAddr))
			e.send(m)
			return true
		})
		sc.resolve(sc.name("www"), mdns.TypeA)
		m := sc.resolve(sc.name("victim"), mdns.TypeA)
		t.Check(checkAddrs(m, sc.name("victim"), realAddr2))
	})
})

// RFC 2308: negative answers, as a resolver passes and caches them.
var _ = Describe("RFC 2308 resolver negative caching", func() {
	rfc2308_2_1.It("resolver-nxdomain", spec.MUST, "answers NXDOMAIN for a name its upstream says does not exist", spec.Inferred(`RFC 2308 2.1: "Name errors (NXDOMAIN) are indicated by the presence of "Name Error" in the RCODE field": the resolver passes the name error on.`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		m := sc.resolve(sc.name("missing"), mdns.TypeA)
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkSection("answer", m.Answer, nil, false))
	})

	rfc2308_2_2.It("resolver-nodata", spec.MUST, "answers NOERROR with no answer for a type the name lacks", spec.Inferred(`RFC 2308 2.2: "NODATA is indicated by an answer with the RCODE set to NOERROR and no relevant answers in the answer section."`, "RFC 2308 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		m := sc.resolve(sc.name("www"), mdns.TypeTXT)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkSection("answer", m.Answer, nil, false))
	})

	rfc2308_6.It("resolver-nxdomain-soa", spec.SHOULD, "includes the zone's SOA in the authority section of an NXDOMAIN", spec.Inferred(`RFC 2308 6 (negative answers from the cache): the negative answer handed out carries the SOA in its authority section, as the authoritative one did (section 3), so that the client can cache it in turn (section 5).`, "RFC 2308 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		m := sc.resolve(sc.name("missing"), mdns.TypeA)
		t.Check(checkNegativeSOA(m, sc.origin, -1))
	})

	rfc2308_5.It("nxdomain-cached", spec.SHOULD, "answers a repeated query for a missing name from its cache", spec.Inferred(`RFC 2308 5: "A negative answer that resulted from a name error (NXDOMAIN) should be cached such that it can be retrieved and returned in response to another query for the same <QNAME, QCLASS> that resulted in the cached negative response."`, "RFC 2308 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.resolve(sc.name("missing"), mdns.TypeA)
		m := sc.resolve(sc.name("missing"), mdns.TypeA)
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkUpstreamQueries(sc, sc.name("missing"), mdns.TypeA, 1, "the NXDOMAIN is cached for 60 s"))
	})

	rfc2308_5.It("nodata-cached", spec.SHOULD, "answers a repeated NODATA query from its cache", spec.Inferred(`RFC 2308 5: "A negative answer that resulted from a no data error (NODATA) should be cached such that it can be retrieved and returned in response to another query for the same <QNAME, QTYPE, QCLASS>".`, "RFC 2308 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.add("www 300 IN A " + realAddr)
		sc.resolve(sc.name("www"), mdns.TypeTXT)
		m := sc.resolve(sc.name("www"), mdns.TypeTXT)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkUpstreamQueries(sc, sc.name("www"), mdns.TypeTXT, 1, "the NODATA answer is cached for 60 s"))
	})

	rfc2308_5.It("negative-ttl-bounded", spec.SHOULD, "gives the SOA of an NXDOMAIN answer, fresh and cached, a TTL of at most min(SOA TTL, MINIMUM)", spec.Inferred(`RFC 2308 4: the SOA MINIMUM field's meaning is now "the TTL to be used for negative responses"; section 3 has the negative answer live for "the minimum of the MINIMUM field of the SOA record and the TTL of the SOA itself". An upstream that sends its SOA with the full TTL 3600 (MINIMUM 60) does not make the resolver hand it out for longer than 60 s.`, "RFC 2308 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.rule(sc.name("missing"), func(e *fakeExchange) bool {
			// Send the SOA with its full TTL, as old servers did: the
			// resolver still uses MINIMUM (RFC 2308 5).
			m := e.answer()
			for _, rr := range m.Ns {
				rr.Header().Ttl = 3600
			}
			e.send(m)
			return true
		})
		// The first answer is the forwarded one, the second the cached one:
		// both must be bounded.
		for i, which := range []string{"first (fresh)", "second (cached)"} {
			m := sc.resolve(sc.name("missing"), mdns.TypeA)
			for _, s := range soaOf(m.Ns) {
				if s.Hdr.Ttl > scenarioNegTTL {
					t.Mismatch(fmt.Sprintf("SOA TTL <= %d (the SOA's MINIMUM) in the %s NXDOMAIN answer", scenarioNegTTL, which), "TTL %d (query %d)", s.Hdr.Ttl, i+1)
				}
			}
		}
	})

	rfc2308_5.It("negative-cache-expires", spec.SHOULD, "asks upstream again once a 2-second negative TTL has run out", spec.Inferred(`RFC 2308 5 (as above): the negative answer is cached for the SOA's MINIMUM, no longer.`, "RFC 2308 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		z := sc.subzone("short", 2)
		name := "missing." + z.origin
		sc.resolve(name, mdns.TypeA)
		time.Sleep(3200 * time.Millisecond)
		m := sc.resolve(name, mdns.TypeA)
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkUpstreamQueries(sc, name, mdns.TypeA, 2, "the NXDOMAIN's 2 s negative TTL ran out"))
	})

	rfc8020_2.It("below-nxdomain", spec.MUST, "answers NXDOMAIN for a name below a name that does not exist", spec.Inferred(`RFC 8020 2: "when an iterative caching DNS resolver receives an NXDOMAIN, it SHOULD store it in its cache and then all names and types at or below that node SHOULD be considered unreachable"; it MAY answer below it from that; at least it must not make one up.`, "RFC 8020 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		sc := newScenario(t)
		sc.resolve(sc.name("gone"), mdns.TypeA)
		m := sc.resolve("deeper."+sc.name("gone"), mdns.TypeA)
		t.Check(checkRcode(m, mdns.RcodeNameError))
	})
})
