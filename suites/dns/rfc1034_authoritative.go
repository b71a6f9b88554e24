package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc1034_4_3_2 = spec.Section("dns", "rfc1034", "4.3.2", "Algorithm")
var rfc1035_3_3_9 = spec.Section("dns", "rfc1035", "3.3.9", "MX RDATA format")
var rfc4592_3_3_1 = spec.Section("dns", "rfc4592", "3.3.1", "")
var rfc4592_2_2_2 = spec.Section("dns", "rfc4592", "2.2.2", "")
var rfc8020_2 = spec.Section("dns", "rfc8020", "2", "Rules")
var rfc1035_4_1_1 = spec.Section("dns", "rfc1035", "4.1.1", "Header section format")
var rfc1034_3_1 = spec.Section("dns", "rfc1034", "3.1", "Name space specifications and terminology")
var rfc8482_4_1 = spec.Section("dns", "rfc8482", "4.1", "Answer with a Subset of Available RRsets")
var rfc8906_3_1_2 = spec.Section("dns", "rfc8906", "3.1.2", "Unknown/Unsupported Type Queries")

// fixtureCase returns the fixture's expectation for name/qtype.
func fixtureCase(t *spec.T, name string, qtype uint16) fixture.Case {
	for _, c := range fixture.Cases {
		if strings.EqualFold(c.Name, name) && c.Type == qtype {
			return c
		}
	}
	t.Failf("spec bug: internal/dns has no case for %s %s", name, typeName(qtype))
	return fixture.Case{}
}

// authCase asks the authoritative server (over service) the fixture
// case's question and checks the response against it.
func authCase(t *spec.T, service, name string, qtype uint16) *mdns.Msg {
	c := fixtureCase(t, name, qtype)
	q := authQuery(c.Name, c.Type)
	m := ask(t, service, q)
	t.Check(checkReplyID(q, m))
	t.Check(checkCase(m, c))
	return m
}

// RFC 1034 4.3.2, the algorithm of a name server, and the answers RFC 1035
// 3.3 defines for each type, against the fixture zone test.
var _ = Describe("RFC 1034 authoritative answers", func() {
	rfc1034_4_3_2.It("answer-a", spec.MUST, "answers www.test. A with its A record", spec.Inferred(`RFC 1034 4.3.2 step 3a: "If the whole of QNAME is matched, we have found the node. If the data at the node is a CNAME, and QTYPE doesn't match CNAME, copy the CNAME RR into the answer section ... Otherwise, copy all RRs which match QTYPE into the answer section".`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWWW, mdns.TypeA)
	})

	rfc1034_4_3_2.It("answer-aaaa", spec.MUST, "answers www.test. AAAA with its AAAA record", spec.Inferred(`RFC 1034 4.3.2 step 3a (as above), for type AAAA (RFC 3596).`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWWW, mdns.TypeAAAA)
	})

	rfc1034_4_3_2.It("answer-apex-ns", spec.MUST, "answers test. NS with the zone's NS RRset, authoritatively", spec.Inferred(`RFC 1034 4.3.2 step 3a, for the zone's own NS RRset at the apex.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameApex, mdns.TypeNS)
	})

	rfc1034_4_3_2.It("answer-soa", spec.MUST, "answers test. SOA with the zone's SOA record", spec.Inferred(`RFC 1034 4.3.2 step 3a, for the SOA at the apex.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameApex, mdns.TypeSOA)
	})

	rfc1034_4_3_2.It("answer-mx", spec.MUST, "answers test. MX with its MX record", spec.Inferred(`RFC 1034 4.3.2 step 3a, for MX (RFC 1035 3.3.9).`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameApex, mdns.TypeMX)
	})

	rfc1035_3_3_9.It("mx-additional-a", spec.SHOULD, "adds mail.test.'s A record to the additional section of test. MX", spec.Inferred(`RFC 1035 3.3.9: "MX records cause type A additional section processing for the host specified by EXCHANGE."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameApex, mdns.TypeMX))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkSection("additional", m.Extra, []string{"mail.test.\t3600\tIN\tA\t127.0.0.2"}, true))
	})

	rfc1034_4_3_2.It("answer-txt", spec.MUST, "answers txt.test. TXT with its text", spec.Inferred(`RFC 1034 4.3.2 step 3a, for TXT (RFC 1035 3.3.14).`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameTXT, mdns.TypeTXT)
	})

	rfc1034_4_3_2.It("answer-srv", spec.MUST, "answers _sip._tcp.test. SRV with its SRV record", spec.Inferred(`RFC 1034 4.3.2 step 3a, for SRV (RFC 2782).`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameSRV, mdns.TypeSRV)
	})

	rfc1034_4_3_2.It("answer-ptr", spec.MUST, "answers 1.0.0.127.in-addr.arpa. PTR from the reverse zone", spec.Inferred(`RFC 1034 4.3.2 step 3a, for PTR in the reverse zone (RFC 1035 3.5).`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NamePTR, mdns.TypePTR)
	})

	rfc1034_4_3_2.It("cname-followed", spec.MUST, "answers alias.test. A with the CNAME and www.test.'s A record", spec.Inferred(`RFC 1034 4.3.2 step 3a: "If the data at the node is a CNAME, and QTYPE doesn't match CNAME, copy the CNAME RR into the answer section of the response, change QNAME to the canonical name in the CNAME RR, and go back to step 1."`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameAlias, mdns.TypeA)
	})

	rfc1034_4_3_2.It("cname-query", spec.MUST, "answers alias.test. CNAME with the CNAME record alone", spec.Inferred(`RFC 1034 4.3.2 step 3a: the CNAME is only followed when "QTYPE doesn't match CNAME".`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameAlias, mdns.TypeCNAME)
	})

	rfc1034_4_3_2.It("cname-chain", spec.MUST, "follows a three-link CNAME chain inside the zone to the A record", spec.Inferred(`RFC 1034 4.3.2 step 3a, applied again at each canonical name ("go back to step 1").`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameChain, mdns.TypeA)
	})

	rfc1034_4_3_2.It("cname-out-of-zone", spec.MUST, "answers external.test. A with the CNAME alone, NOERROR", spec.Inferred(`RFC 1034 4.3.2 step 2: the search restarts at "Search the available zones for the zone which is the nearest ancestor to QNAME"; for a canonical name in no zone the server holds, the answer ends with the CNAME (RFC 6604 3: the rcode is that of the CNAME's owner, NOERROR).`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameExternal, mdns.TypeA)
	})

	rfc1034_4_3_2.It("referral-at-cut", spec.MUST, "answers sub.test. A with a referral: NS in authority, glue in additional, AA=0", spec.Inferred(`RFC 1034 4.3.2 step 3b: "If a match would take us out of the authoritative data, we have a referral. ... Copy the NS RRs for the subzone into the authority section of the reply. Put whatever addresses are available into the additional section, using glue RRs".`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameSub, mdns.TypeA)
	})

	rfc1034_4_3_2.It("referral-below-cut", spec.MUST, "answers host.sub.test. A with the referral to sub.test.", spec.Inferred(`RFC 1034 4.3.2 step 3b, for a name below the delegation point.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameBelowCut, mdns.TypeA)
	})

	rfc1034_4_3_2.It("referral-not-authoritative", spec.MUST, "clears AA in a referral", spec.Inferred(`RFC 1034 4.3.2 step 3b: the referral's data is not authoritative: AA "specifies that the responding name server is an authority for the domain name in question section" (RFC 1035 4.1.1), which the child's servers are, not this one.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameBelowCut, mdns.TypeA))
		t.Check(checkAA(m, false))
		if len(m.Answer) > 0 {
			t.Mismatch("an empty answer section in a referral", "%s", summary(m))
		}
	})

	rfc4592_3_3_1.It("wildcard-synthesis", spec.MUST, "synthesizes anything.wild.test. A from *.wild.test., owned by the query name", spec.Inferred(`RFC 1034 4.3.2 step 3c: "If at some label, a match is impossible (i.e., the corresponding label does not exist), look to see if a the "*" label exists. If the "*" label does exist, match RRs at that node against QTYPE. If any match, copy them into the answer section, but set the owner of the RR to be QNAME, and not the node with the "*" label." (RFC 4592 3.3.1)`, "RFC 4592 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWildHit, mdns.TypeA)
	})

	rfc4592_3_3_1.It("wildcard-nodata", spec.MUST, "answers anything.wild.test. MX with NODATA from the wildcard", spec.Inferred(`RFC 4592 3.3.1 / RFC 2308 2.2: a wildcard match without the type is a NODATA answer, "NODATA is indicated by an answer with the RCODE set to NOERROR and no relevant answers in the answer section. The authority section will contain an SOA record, or there will be no NS records there.".`, "RFC 4592 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWildHit, mdns.TypeMX)
	})

	rfc4592_2_2_2.It("wildcard-parent-nodata", spec.MUST, "answers wild.test. A with NODATA, not from the wildcard", spec.Inferred(`RFC 4592 2.2.2: "The existence of a wildcard domain name does not affect the existence of ... its parent"; wild.test. exists as the parent of *.wild.test. and owns no A record: NODATA, not a synthesized answer.`, "RFC 4592 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, "wild.test.", mdns.TypeA)
	})

	rfc1034_4_3_2.It("below-empty-non-terminal", spec.MUST, "answers a.b.ent.test. TXT, a name below an empty non-terminal", spec.Inferred(`RFC 1034 4.3.2 step 3a, for a name below an empty non-terminal, which exists like any other node.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameBelowENT, mdns.TypeTXT)
	})

	rfc8020_2.It("empty-non-terminal-nodata", spec.MUST, "answers b.ent.test. A with NODATA, not NXDOMAIN", spec.Inferred(`RFC 1034 3.3: "A name ... may have no RRs" yet exist in the tree; RFC 8020 2: "when an NXDOMAIN is received ... there is nothing below it", so an empty non-terminal (which has names below it) must not be NXDOMAIN: it is NODATA.`, "RFC 8020 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameENT, mdns.TypeA)
	})

	rfc8020_2.It("upper-empty-non-terminal-nodata", spec.MUST, "answers ent.test. TXT with NOERROR, not NXDOMAIN", spec.Inferred(`RFC 8020 2 (as above), one level higher: ent.test. has a.b.ent.test. below it.`, "RFC 8020 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery("ent.test.", mdns.TypeTXT))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAA(m, true))
		t.Check(checkSection("answer", m.Answer, nil, false))
	})

	rfc1034_4_3_2.It("nxdomain", spec.MUST, "answers nonexistent.test. A with an authoritative NXDOMAIN", spec.Inferred(`RFC 1034 4.3.2 step 3c: "If the "*" label does not exist, check whether the name we are looking for is the original QNAME in the query or a name we have followed due to a CNAME. If the name is original, set an authoritative name error in the response".`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameMissing, mdns.TypeA)
	})

	rfc8020_2.It("nxdomain-below-nxdomain", spec.MUST, "answers deep.nonexistent.test. A with NXDOMAIN", spec.Inferred(`RFC 8020 2: "when an NXDOMAIN is received ... there is nothing below it": a name below a nonexistent one is NXDOMAIN as well.`, "RFC 8020 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, "deep.nonexistent.test.", mdns.TypeA)
	})

	rfc1035_4_1_1.It("aa-on-authoritative-answer", spec.MUST, "sets AA in an answer from its own zone", spec.Inferred(`RFC 1035 4.1.1: AA "specifies that the responding name server is an authority for the domain name in question section".`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAA(m, true))
	})

	rfc1035_4_1_1.It("aa-on-authoritative-answer-tcp", spec.MUST, "sets AA in an answer from its own zone over TCP", spec.Inferred(`RFC 1035 4.1.1 (as above), over TCP: the transport changes nothing.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		authCase(t, ServiceAuthTCP, fixture.NameWWW, mdns.TypeA)
	})

	rfc1034_4_3_2.It("out-of-zone-refused", spec.MUST, "does not answer authoritatively for example.com., a zone it does not serve", spec.Inferred(`RFC 1034 4.3.2 step 2: "Search the available zones for the zone which is the nearest ancestor to QNAME"; when none is found, a server that does not recurse has no authority for the name: it refuses (RFC 1035 4.1.1 rcode 5, "Refused - The name server refuses to perform the specified operation for policy reasons") or, in old practice, refers upwards; it never answers authoritatively.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery("www.example.com.", mdns.TypeA))
		t.Check(checkNoAnswerData(m))
		if m.Rcode != mdns.RcodeRefused && m.Rcode != mdns.RcodeSuccess && m.Rcode != mdns.RcodeServerFailure && m.Rcode != mdns.RcodeNotAuth {
			t.Mismatch("REFUSED (or a non-authoritative NOERROR upward referral)", "%s", summary(m))
		}
	})

	rfc1034_4_3_2.It("out-of-zone-refused-tcp", spec.MUST, "does not answer authoritatively for a zone it does not serve, over TCP", spec.Inferred(`As above, over TCP.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		m := ask(t, ServiceAuthTCP, authQuery("nonexistent.invalid.", mdns.TypeA))
		t.Check(checkNoAnswerData(m))
	})

	rfc1034_4_3_2.It("root-not-served", spec.MUST, "does not answer authoritatively for the root zone", spec.Inferred(`RFC 1034 4.3.2 step 2 with the root: a server for test. has no authority for ".".`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(".", mdns.TypeSOA))
		if m.Authoritative || len(m.Answer) > 0 {
			t.Mismatch("no authoritative answer for . SOA", "%s", summary(m))
		}
	})

	rfc1034_3_1.It("other-class-no-in-data", spec.MUST, "does not answer a CH-class question for test. with IN data", spec.Inferred(`RFC 1035 4.1.2: "QCLASS a two octet code that specifies the class of the query."; RFC 1034 has no sentence that says the class selects the data, it follows from 3.6 (each RR has a class); the zone is class IN only, so a CHAOS question about test. gets none of its data.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery(fixture.NameApex, mdns.TypeSOA)
		q.Question[0].Qclass = mdns.ClassCHAOS
		m := ask(t, ServiceAuthUDP, q)
		for _, rr := range m.Answer {
			if rr.Header().Class == mdns.ClassINET {
				t.Mismatch("no IN records for a CH question", "%s", summary(m))
			}
		}
	})

	rfc8482_4_1.It("any-answered", spec.SHOULD, "answers www.test. ANY with records of www.test.", spec.Inferred(`RFC 8482 4.1: "A DNS responder that receives an ANY query ... MAY return a conventional ANY response" or one RRset or a synthesized HINFO; in every case the answer is about the name asked.`, "RFC 8482 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeANY)
		m := udp(t, ServiceAuthUDP, q)
		if m.Truncated {
			m = tcp(t, ServiceAuthTCP, q)
		}
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		if len(m.Answer) == 0 {
			t.Mismatch("at least one record of www.test.", "%s", summary(m))
		}
		for _, rr := range m.Answer {
			if !strings.EqualFold(rr.Header().Name, fixture.NameWWW) {
				t.Mismatch("only records owned by www.test.", "%s", summary(m))
			}
		}
	})

	rfc8906_3_1_2.It("unknown-type-nodata", spec.MUST, "answers www.test. TYPE65280 with NODATA", spec.Inferred(`RFC 3597 / RFC 8906 3.1.2: "a query for an unknown type ... should be answered as for any other type": the name exists, the type has no data: NODATA.`, "RFC 8906 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWWW, 65280)
	})

	rfc8906_3_1_2.It("unknown-type-nxdomain", spec.MUST, "answers nonexistent.test. TYPE65280 with NXDOMAIN", spec.Inferred(`RFC 8906 3.1.2 (as above), for an unknown type at a name that does not exist: NXDOMAIN, like any other type.`, "RFC 8906 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameMissing, 65280))
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkAA(m, true))
	})
})
