package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

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
	// RFC 1034 4.3.2 step 3a: "If the whole of QNAME is matched, we have
	// found the node. If the data at the node is a CNAME, and QTYPE doesn't
	// match CNAME, copy the CNAME RR into the answer section ... Otherwise,
	// copy all RRs which match QTYPE into the answer section".
	spec.It("dns/rfc1034/4.3.2/answer-a", spec.MUST, "answers www.test. A with its A record", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWWW, mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 3a (as above), for type AAAA (RFC 3596).
	spec.It("dns/rfc1034/4.3.2/answer-aaaa", spec.MUST, "answers www.test. AAAA with its AAAA record", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWWW, mdns.TypeAAAA)
	})

	// RFC 1034 4.3.2 step 3a, for the zone's own NS RRset at the apex.
	spec.It("dns/rfc1034/4.3.2/answer-apex-ns", spec.MUST, "answers test. NS with the zone's NS RRset, authoritatively", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameApex, mdns.TypeNS)
	})

	// RFC 1034 4.3.2 step 3a, for the SOA at the apex.
	spec.It("dns/rfc1034/4.3.2/answer-soa", spec.MUST, "answers test. SOA with the zone's SOA record", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameApex, mdns.TypeSOA)
	})

	// RFC 1034 4.3.2 step 3a, for MX (RFC 1035 3.3.9).
	spec.It("dns/rfc1034/4.3.2/answer-mx", spec.MUST, "answers test. MX with its MX record", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameApex, mdns.TypeMX)
	})

	// RFC 1035 3.3.9: "MX records cause type A additional section processing
	// for the host specified by EXCHANGE."
	spec.It("dns/rfc1035/3.3.9/mx-additional-a", spec.SHOULD, "adds mail.test.'s A record to the additional section of test. MX", func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameApex, mdns.TypeMX))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkSection("additional", m.Extra, []string{"mail.test.\t3600\tIN\tA\t127.0.0.2"}, true))
	})

	// RFC 1034 4.3.2 step 3a, for TXT (RFC 1035 3.3.14).
	spec.It("dns/rfc1034/4.3.2/answer-txt", spec.MUST, "answers txt.test. TXT with its text", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameTXT, mdns.TypeTXT)
	})

	// RFC 1034 4.3.2 step 3a, for SRV (RFC 2782).
	spec.It("dns/rfc1034/4.3.2/answer-srv", spec.MUST, "answers _sip._tcp.test. SRV with its SRV record", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameSRV, mdns.TypeSRV)
	})

	// RFC 1034 4.3.2 step 3a, for PTR in the reverse zone (RFC 1035 3.5).
	spec.It("dns/rfc1034/4.3.2/answer-ptr", spec.MUST, "answers 1.0.0.127.in-addr.arpa. PTR from the reverse zone", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NamePTR, mdns.TypePTR)
	})

	// RFC 1034 4.3.2 step 3a: "If the data at the node is a CNAME, and QTYPE
	// doesn't match CNAME, copy the CNAME RR into the answer section of the
	// response, change QNAME to the canonical name in the CNAME RR, and go
	// back to step 1."
	spec.It("dns/rfc1034/4.3.2/cname-followed", spec.MUST, "answers alias.test. A with the CNAME and www.test.'s A record", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameAlias, mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 3a: the CNAME is only followed when "QTYPE doesn't
	// match CNAME".
	spec.It("dns/rfc1034/4.3.2/cname-query", spec.MUST, "answers alias.test. CNAME with the CNAME record alone", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameAlias, mdns.TypeCNAME)
	})

	// RFC 1034 4.3.2 step 3a, applied again at each canonical name ("go
	// back to step 1").
	spec.It("dns/rfc1034/4.3.2/cname-chain", spec.MUST, "follows a three-link CNAME chain inside the zone to the A record", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameChain, mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 2: the search restarts "in the zone which is the
	// nearest ancestor to QNAME"; for a canonical name in no zone the server
	// holds, the answer ends with the CNAME (RFC 6604 3: the rcode is that
	// of the CNAME's owner, NOERROR).
	spec.It("dns/rfc1034/4.3.2/cname-out-of-zone", spec.MUST, "answers external.test. A with the CNAME alone, NOERROR", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameExternal, mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 3b: "If a match would take us out of the
	// authoritative data, we have a referral. ... Copy the NS RRs for the
	// subzone into the authority section of the reply. Put whatever
	// addresses are available into the additional section, using glue RRs".
	spec.It("dns/rfc1034/4.3.2/referral-at-cut", spec.MUST, "answers sub.test. A with a referral: NS in authority, glue in additional, AA=0", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameSub, mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 3b, for a name below the delegation point.
	spec.It("dns/rfc1034/4.3.2/referral-below-cut", spec.MUST, "answers host.sub.test. A with the referral to sub.test.", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameBelowCut, mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 3b: the referral's data is not authoritative:
	// AA "specifies that the responding name server is an authority for the
	// domain name in question section" (RFC 1035 4.1.1), which the child's
	// servers are, not this one.
	spec.It("dns/rfc1034/4.3.2/referral-not-authoritative", spec.MUST, "clears AA in a referral", func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameBelowCut, mdns.TypeA))
		t.Check(checkAA(m, false))
		if len(m.Answer) > 0 {
			t.Failf("expected: an empty answer section in a referral\n  actual:   %s", summary(m))
		}
	})

	// RFC 1034 4.3.2 step 3c: "If at some label, a match is impossible (i.e.,
	// the corresponding label does not exist), look to see if a the "*"
	// label exists. If the "*" label does exist, match RRs at that node
	// against QTYPE. If any match, copy them into the answer section, but
	// set the owner of the RR to be QNAME, and not the node with the "*"
	// label." (RFC 4592 3.3.1)
	spec.It("dns/rfc4592/3.3.1/wildcard-synthesis", spec.MUST, "synthesizes anything.wild.test. A from *.wild.test., owned by the query name", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWildHit, mdns.TypeA)
	})

	// RFC 4592 3.3.1 / RFC 2308 2.2: a wildcard match without the type is a
	// NODATA answer, "NOERROR ... and the authority section will contain an
	// SOA record".
	spec.It("dns/rfc4592/3.3.1/wildcard-nodata", spec.MUST, "answers anything.wild.test. MX with NODATA from the wildcard", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWildHit, mdns.TypeMX)
	})

	// RFC 4592 2.2.2: "The existence of a wildcard domain name does not
	// affect the existence of ... its parent"; wild.test. exists as the
	// parent of *.wild.test. and owns no A record: NODATA, not a synthesized
	// answer.
	spec.It("dns/rfc4592/2.2.2/wildcard-parent-nodata", spec.MUST, "answers wild.test. A with NODATA, not from the wildcard", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, "wild.test.", mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 3a, for a name below an empty non-terminal,
	// which exists like any other node.
	spec.It("dns/rfc1034/4.3.2/below-empty-non-terminal", spec.MUST, "answers a.b.ent.test. TXT, a name below an empty non-terminal", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameBelowENT, mdns.TypeTXT)
	})

	// RFC 1034 3.3: "A name ... may have no RRs" yet exist in the tree;
	// RFC 8020 2: "when an NXDOMAIN is received ... there is nothing below
	// it", so an empty non-terminal (which has names below it) must not be
	// NXDOMAIN: it is NODATA.
	spec.It("dns/rfc8020/2/empty-non-terminal-nodata", spec.MUST, "answers b.ent.test. A with NODATA, not NXDOMAIN", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameENT, mdns.TypeA)
	})

	// RFC 8020 2 (as above), one level higher: ent.test. has a.b.ent.test.
	// below it.
	spec.It("dns/rfc8020/2/upper-empty-non-terminal-nodata", spec.MUST, "answers ent.test. TXT with NOERROR, not NXDOMAIN", func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery("ent.test.", mdns.TypeTXT))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAA(m, true))
		t.Check(checkSection("answer", m.Answer, nil, false))
	})

	// RFC 1034 4.3.2 step 3c: "If the "*" label does not exist, check
	// whether the name we are looking for is the original QNAME in the
	// query ... If so, set an authoritative name error in the response".
	spec.It("dns/rfc1034/4.3.2/nxdomain", spec.MUST, "answers nonexistent.test. A with an authoritative NXDOMAIN", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameMissing, mdns.TypeA)
	})

	// RFC 8020 2: "when an NXDOMAIN is received ... there is nothing below
	// it": a name below a nonexistent one is NXDOMAIN as well.
	spec.It("dns/rfc8020/2/nxdomain-below-nxdomain", spec.MUST, "answers deep.nonexistent.test. A with NXDOMAIN", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, "deep.nonexistent.test.", mdns.TypeA)
	})

	// RFC 1035 4.1.1: AA "specifies that the responding name server is an
	// authority for the domain name in question section".
	spec.It("dns/rfc1035/4.1.1/aa-on-authoritative-answer", spec.MUST, "sets AA in an answer from its own zone", func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAA(m, true))
	})

	// RFC 1035 4.1.1 (as above), over TCP: the transport changes nothing.
	spec.It("dns/rfc1035/4.1.1/aa-on-authoritative-answer-tcp", spec.MUST, "sets AA in an answer from its own zone over TCP", func(t *spec.T) {
		authCase(t, ServiceAuthTCP, fixture.NameWWW, mdns.TypeA)
	})

	// RFC 1034 4.3.2 step 2: "Search the available zones for the zone which
	// is the nearest ancestor to QNAME"; when none is found, a server that
	// does not recurse has no authority for the name: it refuses (RFC 1035
	// 4.1.1 rcode 5, "Refused - The name server refuses to perform the
	// specified operation for policy reasons") or, in old practice, refers
	// upwards; it never answers authoritatively.
	spec.It("dns/rfc1034/4.3.2/out-of-zone-refused", spec.MUST, "does not answer authoritatively for example.com., a zone it does not serve", func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery("www.example.com.", mdns.TypeA))
		t.Check(checkNoAnswerData(m))
		if m.Rcode != mdns.RcodeRefused && m.Rcode != mdns.RcodeSuccess && m.Rcode != mdns.RcodeServerFailure && m.Rcode != mdns.RcodeNotAuth {
			t.Failf("expected: REFUSED (or a non-authoritative NOERROR upward referral)\n  actual:   %s", summary(m))
		}
	})

	// As above, over TCP.
	spec.It("dns/rfc1034/4.3.2/out-of-zone-refused-tcp", spec.MUST, "does not answer authoritatively for a zone it does not serve, over TCP", func(t *spec.T) {
		m := ask(t, ServiceAuthTCP, authQuery("nonexistent.invalid.", mdns.TypeA))
		t.Check(checkNoAnswerData(m))
	})

	// RFC 1034 4.3.2 step 2 with the root: a server for test. has no
	// authority for ".".
	spec.It("dns/rfc1034/4.3.2/root-not-served", spec.MUST, "does not answer authoritatively for the root zone", func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(".", mdns.TypeSOA))
		if m.Authoritative || len(m.Answer) > 0 {
			t.Failf("expected: no authoritative answer for . SOA\n  actual:   %s", summary(m))
		}
	})

	// RFC 1034 3.1: "When you receive a domain name ... the class is part of
	// the question"; the zone is class IN only, so a CHAOS question about
	// test. gets none of its data.
	spec.It("dns/rfc1034/3.1/other-class-no-in-data", spec.MUST, "does not answer a CH-class question for test. with IN data", func(t *spec.T) {
		q := authQuery(fixture.NameApex, mdns.TypeSOA)
		q.Question[0].Qclass = mdns.ClassCHAOS
		m := ask(t, ServiceAuthUDP, q)
		for _, rr := range m.Answer {
			if rr.Header().Class == mdns.ClassINET {
				t.Failf("expected: no IN records for a CH question\n  actual:   %s", summary(m))
			}
		}
	})

	// RFC 8482 4.1: "A DNS responder that receives an ANY query ... MAY
	// return a conventional ANY response" or one RRset or a synthesized
	// HINFO; in every case the answer is about the name asked.
	spec.It("dns/rfc8482/4.1/any-answered", spec.SHOULD, "answers www.test. ANY with records of www.test.", func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeANY)
		m := udp(t, ServiceAuthUDP, q)
		if m.Truncated {
			m = tcp(t, ServiceAuthTCP, q)
		}
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		if len(m.Answer) == 0 {
			t.Failf("expected: at least one record of www.test.\n  actual:   %s", summary(m))
		}
		for _, rr := range m.Answer {
			if !strings.EqualFold(rr.Header().Name, fixture.NameWWW) {
				t.Failf("expected: only records owned by www.test.\n  actual:   %s", summary(m))
			}
		}
	})

	// RFC 3597 / RFC 8906 3.1.2: "a query for an unknown type ... should be
	// answered as for any other type": the name exists, the type has no
	// data: NODATA.
	spec.It("dns/rfc8906/3.1.2/unknown-type-nodata", spec.MUST, "answers www.test. TYPE65280 with NODATA", func(t *spec.T) {
		authCase(t, ServiceAuthUDP, fixture.NameWWW, 65280)
	})

	// RFC 8906 3.1.2 (as above), for an unknown type at a name that does
	// not exist: NXDOMAIN, like any other type.
	spec.It("dns/rfc8906/3.1.2/unknown-type-nxdomain", spec.MUST, "answers nonexistent.test. TYPE65280 with NXDOMAIN", func(t *spec.T) {
		m := ask(t, ServiceAuthUDP, authQuery(fixture.NameMissing, 65280))
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkAA(m, true))
	})
})
