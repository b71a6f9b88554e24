package dns

import (
	"encoding/binary"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc8906_3_1_3_1 = spec.Section("dns", "rfc8906", "3.1.3.1", "Recursive Queries")
var rfc8906_3_1_3_2 = spec.Section("dns", "rfc8906", "3.1.3.2", "")
var rfc4035_3 = spec.Section("dns", "rfc4035", "3", "Serving")
var rfc8906_3_1_3_3 = spec.Section("dns", "rfc8906", "3.1.3.3", "")
var rfc8906_3_1_3_4 = spec.Section("dns", "rfc8906", "3.1.3.4", "")
var rfc8906_3_1_4 = spec.Section("dns", "rfc8906", "3.1.4", "Unknown DNS Opcodes")
var rfc3425_3 = spec.Section("dns", "rfc3425", "3", "")
var rfc1996_4_7 = spec.Section("dns", "rfc1996", "4.7", "")
var rfc2136_3_3 = spec.Section("dns", "rfc2136", "3.3", "")
var rfc8906_3_1_5 = spec.Section("dns", "rfc8906", "3.1.5", "TCP Queries")

// answersWWW checks a normal answer to www.test. A.
func answersWWW(m *mdns.Msg) error {
	if err := checkRcode(m, mdns.RcodeSuccess); err != nil {
		return err
	}
	return checkAddrs(m, fixture.NameWWW, fixture.AddrWWW)
}

// opcodeQuery builds a message with the given opcode about test. SOA.
func opcodeQuery(op int) *mdns.Msg {
	q := authQuery(fixture.NameApex, mdns.TypeSOA)
	q.Opcode = op
	return q
}

// checkOpcodeReaction checks the response to an opcode the server may not
// implement: the opcode copied (RFC 1035 4.1.1) and one of the rcodes
// allowed.
func checkOpcodeReaction(q, m *mdns.Msg, accepted ...int) error {
	if m.Id != q.Id || !m.Response {
		return spec.Errorf("a response with the query's ID", "%s", summary(m))
	}
	if m.Opcode != q.Opcode {
		return spec.Errorf("opcode "+opcodeName(q.Opcode)+" copied into the response (RFC 1035 4.1.1)", "opcode %s in: %s", opcodeName(m.Opcode), summary(m))
	}
	return checkRcode(m, accepted...)
}

// RFC 8906, "A Common Operational Problem in DNS Servers: Failure to
// Communicate": queries servers must answer, not drop, and RFC 9619 on
// QDCOUNT.
var _ = Describe("RFC 8906 unusual queries", func() {
	rfc8906_3_1_3_1.It("rd-set-answered", spec.MUST, "answers a query with RD=1 from its zone data", spec.Inferred(`RFC 8906 3.1.3.1: "Recursive Queries ... A non-recursive server is supposed to respond to recursive queries as if the Recursion Desired (RD) bit is not set."`, "RFC 8906 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := recQuery(fixture.NameWWW, mdns.TypeA)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(answersWWW(m))
		t.Check(checkAA(m, true))
	})

	rfc8906_3_1_3_2.It("cd-set-answered", spec.MUST, "answers a query with CD=1 normally", spec.Inferred(`RFC 8906 3.1.3.2: "CD=1 Queries ... the CD bit [is] ... to be copied into the response ... Otherwise, the query should be answered normally" (RFC 4035 3.1.6: the CD bit is copied).`, "RFC 8906 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.CheckingDisabled = true
		t.Check(answersWWW(udp(t, ServiceAuthUDP, q)))
	})

	// Which rule binds an authoritative server? The sentence quoted is in
	// RFC 4035 section 3 itself ("Serving"), which covers every
	// security-aware name server, authoritative or recursive; 3.2.2
	// repeats the CD rules for recursive servers only, so it is not the
	// citation. 3.1.6 ("The AD and CD Bits in an Authoritative Response")
	// adds that these bits are "for the most part not relevant to query
	// processing by security-aware authoritative name servers", and says
	// nothing of servers that are not security-aware (test. is unsigned,
	// and a server need not implement DNSSEC). RFC 1035 4.1.1 made the
	// bit part of Z ("Must be zero"), and RFC 6840 5.9 keeps CD a
	// resolver-to-resolver signal. So: a security-aware server MUST copy
	// CD; one that is not is bound by nothing, and copying is what lets a
	// validating resolver read the answer the same way from either. The
	// spec asks every authoritative server to copy it, as a SHOULD.
	rfc4035_3.It("cd-copied", spec.SHOULD, "copies CD=1 into the response", spec.Inferred(`The CD bit is controlled by resolvers; a security-aware name server MUST copy the CD bit from a query into the corresponding response.`, "RFC 4035 3 binds security-aware name servers (authoritative ones included; 3.2.2 repeats it for recursive ones); a server for an unsigned zone need not be security-aware, so the suite asks it of every authoritative server as a SHOULD"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.CheckingDisabled = true
		m := udp(t, ServiceAuthUDP, q)
		if !m.CheckingDisabled {
			t.Mismatch("CD=1 copied", "%s", summary(m))
		}
	})

	rfc8906_3_1_3_3.It("ad-set-answered", spec.MUST, "answers a query with AD=1 normally", spec.Inferred(`RFC 8906 3.1.3.3: "AD=1 Queries ... the server is expected to respond" (RFC 6840 5.7: AD in a query asks for AD in the response, nothing more).`, "RFC 8906 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.AuthenticatedData = true
		t.Check(answersWWW(udp(t, ServiceAuthUDP, q)))
	})

	rfc8906_3_1_3_4.It("z-set-answered", spec.MUST, "answers a query with the reserved Z flag set normally", spec.Inferred(`RFC 8906 3.1.3.4: "Reserved Flags ... Servers should ignore [the Z flag] ... and respond normally"; RFC 1035 4.1.1: Z "Must be zero in all queries and responses".`, "RFC 8906 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.Zero = true
		t.Check(answersWWW(udp(t, ServiceAuthUDP, q)))
	})

	rfc8906_3_1_3_4.It("z-cleared", spec.MUST, "clears the Z flag in the response to a query that set it", spec.Inferred(`RFC 1035 4.1.1: Z "Must be zero in all queries and responses", so a response to a query with Z=1 clears it.`, "RFC 8906 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.Zero = true
		m := udp(t, ServiceAuthUDP, q)
		if m.Zero {
			t.Mismatch("Z=0", "%s", summary(m))
		}
	})

	rfc8906_3_1_4.It("unknown-opcode-notimp", spec.MUST, "answers an unassigned opcode (15) with NOTIMP", spec.Inferred(`RFC 8906 3.1.4: "Unknown DNS Opcodes ... The response should be NOTIMP" (RFC 1035 4.1.1: "Not Implemented - The name server does not support the requested kind of query").`, "RFC 8906 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		q := opcodeQuery(15)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkOpcodeReaction(q, m, mdns.RcodeNotImplemented))
	})

	rfc8906_3_1_4.It("unknown-opcode-notimp-tcp", spec.MUST, "answers an unassigned opcode (15) over TCP with NOTIMP", spec.Inferred(`RFC 8906 3.1.4 (as above), over TCP.`, "RFC 8906 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := opcodeQuery(15)
		m := tcp(t, ServiceAuthTCP, q)
		t.Check(checkOpcodeReaction(q, m, mdns.RcodeNotImplemented))
	})

	rfc3425_3.It("iquery-notimp", spec.SHOULD, "answers an IQUERY (opcode 1) with NOTIMP", spec.Quote(`RFC 3425 3: "An implementation ... which receives an IQUERY ... SHOULD return a "Not Implemented" error" (IQUERY is obsolete).`), func(t *spec.T) {
		q := opcodeQuery(mdns.OpcodeIQuery)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkOpcodeReaction(q, m, mdns.RcodeNotImplemented, mdns.RcodeRefused, mdns.RcodeFormatError))
	})

	rfc8906_3_1_4.It("status-opcode-notimp", spec.MUST, "answers a STATUS query (opcode 2) with NOTIMP", spec.Inferred(`RFC 8906 3.1.4 (as above): STATUS (opcode 2) was never defined.`, "RFC 8906 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := opcodeQuery(mdns.OpcodeStatus)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkOpcodeReaction(q, m, mdns.RcodeNotImplemented, mdns.RcodeRefused))
	})

	rfc1996_4_7.It("notify-answered", spec.MUST, "answers a NOTIFY for test. (NOERROR, NOTIMP, REFUSED or NOTAUTH), opcode copied", spec.Inferred(`RFC 1996 3.7/4.7: a NOTIFY is answered with the same opcode; a server that does not take NOTIFY from this client answers NOTIMP, REFUSED or NOTAUTH (RFC 8906 3.1.4: not silence), and a server for the zone may acknowledge with NOERROR.`, "RFC 1996 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		q := opcodeQuery(mdns.OpcodeNotify)
		q.Authoritative = true
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkOpcodeReaction(q, m, mdns.RcodeSuccess, mdns.RcodeNotImplemented, mdns.RcodeRefused, mdns.RcodeNotAuth))
	})

	rfc2136_3_3.It("update-rejected", spec.MUST, "answers an unauthorized UPDATE with NOTIMP, REFUSED or NOTAUTH", spec.Inferred(`RFC 2136 3.3 (check requestor's permissions): an update the server does not permit is rejected with REFUSED; a server that does not support UPDATE (opcode 5) answers NOTIMP (RFC 1035 4.1.1); NOTAUTH from a server that will not act as the zone's primary.`, "RFC 2136 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := new(mdns.Msg)
		q.SetUpdate(fixture.Origin)
		q.Insert([]mdns.RR{mustRR("evil.test. 300 IN A 192.0.2.66")})
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkOpcodeReaction(q, m, mdns.RcodeNotImplemented, mdns.RcodeRefused, mdns.RcodeNotAuth))
	})

	rfc2136_3_3.It("update-not-applied", spec.MUST, "does not add the record an unauthorized UPDATE asked for", spec.Inferred(`RFC 2136 3.3 (as above): a refused update changes nothing.`, "RFC 2136 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := new(mdns.Msg)
		q.SetUpdate(fixture.Origin)
		q.Insert([]mdns.RR{mustRR("evil.test. 300 IN A 192.0.2.66")})
		udp(t, ServiceAuthUDP, q)
		m := udp(t, ServiceAuthUDP, authQuery("evil.test.", mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeNameError))
	})

	rfc9619_4.It("qdcount-2-formerr", spec.MUST, "answers a query with two questions with FORMERR", spec.Quote(`RFC 9619 4: "A DNS message with OPCODE = 0 MUST NOT include a QDCOUNT parameter whose value is greater than 1."; "A DNS message with OPCODE = 0 and QDCOUNT > 1 MUST be treated as an incorrectly formatted message. The value of the RCODE parameter in the response message MUST be set to 1 (FORMERR).".`), func(t *spec.T) {
		raw := header(0x5151, 0, 2, 0, 0, 0)
		raw = append(raw, question(wireName("www", "test"), mdns.TypeA, mdns.ClassINET)...)
		raw = append(raw, question(wireName("mail", "test"), mdns.TypeA, mdns.ClassINET)...)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(requireResponse(r))
		t.Check(checkFormerrOrDrop(raw, r))
	})

	rfc9619_4.It("qdcount-0-rejected", spec.MUST, "answers a query without a question with FORMERR (or NOTIMP/REFUSED)", spec.Inferred(`RFC 9619 4: QDCOUNT 0 in a QUERY without a COOKIE option (RFC 7873 5.4 defines that one case) has no question to answer: FORMERR (or NOTIMP/REFUSED from servers that treat it as unsupported), never an answer and not silence (RFC 8906 3: failing to respond is the problem).`, "RFC 9619 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		raw := header(0x5252, 0, 0, 0, 0, 0)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(requireResponse(r))
		t.Check(checkFormerrOrDrop(raw, r, mdns.RcodeNotImplemented, mdns.RcodeRefused))
	})

	rfc8906_3_1_5.It("tcp-query-answered", spec.MUST, "answers test. SOA over TCP", spec.Quote(`RFC 8906 3.1.5: queries over TCP are expected to be answered like those over UDP (RFC 7766 5: "Authoritative server implementations MUST support TCP").`), func(t *spec.T) {
		authCase(t, ServiceAuthTCP, fixture.NameApex, mdns.TypeSOA)
	})

	rfc1035_4_1_1.It("response-not-answered", spec.SHOULD, "does not answer a message that has QR=1", spec.Inferred(`RFC 1035 4.1.1: QR "specifies whether this message is a query (0), or a response (1)"; a server answers queries, and answering a response invites two servers to answer each other forever.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.Response = true
		raw := mustPack(t, q)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		if r.resp != nil && len(r.resp) >= 2 && binary.BigEndian.Uint16(r.resp) == q.Id {
			m, err := parse(r.resp)
			t.Check(err)
			if m.Rcode != mdns.RcodeFormatError {
				t.Mismatch("silence (or FORMERR) for a message that is itself a response", "%s", summary(m))
			}
		}
	})
})

// requireResponse fails when the server sent nothing back.
func requireResponse(r rawReaction) error {
	if r.resp == nil {
		return spec.Errorf("a response (RFC 8906 3: silence makes clients retry and give up)", "no response before the answer to the next query")
	}
	return nil
}
