package dns

import (
	"encoding/binary"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

// Header flag bits of the second 16-bit word (RFC 1035 4.1.1, RFC 2535
// 6.1 for AD and CD).
const (
	flagQR = 0x8000
	flagAA = 0x0400
	flagTC = 0x0200
	flagRD = 0x0100
	flagRA = 0x0080
	flagZ  = 0x0040
	flagCD = 0x0010
)

// The sentences of RFC 1035 4.1.1 these specs read; RFC 1035 predates RFC
// 2119, so each is Inferred.
const (
	sentenceZ      = `RFC 1035 4.1.1: "Z Reserved for future use.  Must be zero in all queries and responses."`
	sentenceRD     = `RFC 1035 4.1.1: "RD Recursion Desired - this bit may be set in a query and is copied into the response."`
	sentenceOpcode = `RFC 1035 4.1.1: "OPCODE A four bit field that specifies kind of query in this message.  This value is set by the originator of a query and copied into the response."`
	sentenceAA     = `RFC 1035 4.1.1: "AA Authoritative Answer - this bit is valid in responses, and specifies that the responding name server is an authority for the domain name in question section."`
	sentenceRA     = `RFC 1035 4.1.1: "RA Recursion Available - this be is set or cleared in a response, and denotes whether recursive query support is available in the name server."`
	sentenceTC     = `RFC 1035 4.1.1: "TC TrunCation - specifies that this message was truncated due to length greater than that permitted on the transmission channel."`
	pre2119        = "RFC 1035 predates RFC 2119's key words"
)

// rawFlags is the header's second word.
func rawFlags(b []byte) uint16 { return binary.BigEndian.Uint16(b[2:]) }

// noQuestion is a message with no question: QDCOUNT 0, the given opcode and
// flags.
func noQuestion(id uint16, opcode int, flags uint16) []byte {
	return header(id, uint16(opcode&0xF)<<11|flags, 0, 0, 0, 0)
}

// rawTCP sends raw bytes as one framed message on a new connection and
// returns the first message back; a connection closed or reset before a
// message is a mismatch (RFC 8906 3: the client is left to time out).
func rawTCP(t *spec.T, service string, raw []byte) []byte {
	c := t.Dial(service)
	c.Send(tcpFrame(raw))
	b, err := readTCPMsg(c)
	if err != nil {
		t.Mismatch("a response over TCP (RFC 8906 3: failing to respond is the problem)", "%v", err)
	}
	if len(b) < 12 {
		t.Mismatch("a DNS message of at least 12 bytes", "%d bytes", len(b))
	}
	return b
}

// rawUDPReaction sends raw bytes over UDP and returns the response, failing
// when none came before the answer to the liveness probe sent after it.
func rawUDPReaction(t *spec.T, service string, raw []byte) []byte {
	r := sendMalformedUDP(t, service, raw)
	t.Check(requireResponse(r))
	if len(r.resp) < 12 {
		t.Mismatch("a DNS message of at least 12 bytes", "%d bytes", len(r.resp))
	}
	return r.resp
}

// checkRawReply checks the parts of a raw response every response shares:
// the query's ID, QR=1, the opcode copied, and one of the rcodes accepted.
func checkRawReply(raw, resp []byte, accepted ...int) error {
	if binary.BigEndian.Uint16(resp) != binary.BigEndian.Uint16(raw) {
		return spec.Errorf("the query's ID", "ID %d", binary.BigEndian.Uint16(resp))
	}
	f, qf := rawFlags(resp), rawFlags(raw)
	if f&flagQR == 0 {
		return spec.Errorf("QR=1", "flags 0x%04x", f)
	}
	if (f>>11)&0xF != (qf>>11)&0xF {
		return spec.Errorf("opcode "+opcodeName(int(qf>>11)&0xF)+" copied into the response", "opcode %s", opcodeName(int(f>>11)&0xF))
	}
	rc := int(f & 0xF)
	for _, a := range accepted {
		if rc == a {
			return nil
		}
	}
	names := ""
	for i, a := range accepted {
		if i > 0 {
			names += " or "
		}
		names += mdns.RcodeToString[a]
	}
	return spec.Errorf(names, "rcode %s", mdns.RcodeToString[rc])
}

// checkZClear fails when the response's Z bit is set.
func checkZClear(t *spec.T, resp []byte) {
	if rawFlags(resp)&flagZ != 0 {
		t.Mismatch("Z=0 (RFC 1035 4.1.1: zero in all responses)", "flags 0x%04x", rawFlags(resp))
	}
}

// checkFlagCopied fails when the response's flag differs from the query's.
func checkFlagCopied(t *spec.T, name string, flag uint16, raw, resp []byte) {
	if rawFlags(raw)&flag != rawFlags(resp)&flag {
		t.Mismatch(name+" copied from the query", "query flags 0x%04x, response flags 0x%04x", rawFlags(raw), rawFlags(resp))
	}
}

// twoQuestions is a QUERY with QDCOUNT 2 and the given flags: FORMERR
// (RFC 9619 4).
func twoQuestions(id uint16, flags uint16) []byte {
	raw := header(id, flags, 2, 0, 0, 0)
	raw = append(raw, question(wireName("www", "test"), mdns.TypeA, mdns.ClassINET)...)
	return append(raw, question(wireName("mail", "test"), mdns.TypeA, mdns.ClassINET)...)
}

// packed packs q and sets extra header flags in the wire form.
func packed(t *spec.T, q *mdns.Msg, flags uint16) []byte {
	b := mustPack(t, q)
	binary.BigEndian.PutUint16(b[2:], rawFlags(b)|flags)
	return b
}

// The header of error responses and of queries with unusual flags: what
// the peers' compliance testers (ISC's genreport, RFC 8906's list) send.
var _ = Describe("RFC 1035 header flags in unusual queries and error responses", func() {
	// Messages without a question (QDCOUNT 0).
	rfc9619_4.It("qdcount-0-tcp-rejected", spec.MUST, "answers a query without a question over TCP with FORMERR (or NOTIMP/REFUSED)", spec.Inferred(`RFC 9619 4: "A DNS message with OPCODE = 0 MUST NOT include a QDCOUNT parameter whose value is greater than 1"; a QUERY with QDCOUNT 0 (and no COOKIE, RFC 7873 5.4) has no question to answer: FORMERR, NOTIMP or REFUSED, over TCP as over UDP, never a closed connection (RFC 8906 3).`, "RFC 9619 words the QDCOUNT 0 case without an RFC 2119 key word; MUST is the suite's reading of it").SharedBecause("the QDCOUNT 0 case over TCP"), func(t *spec.T) {
		raw := noQuestion(0x5353, mdns.OpcodeQuery, 0)
		t.Check(checkRawReply(raw, rawTCP(t, ServiceAuthTCP, raw), mdns.RcodeFormatError, mdns.RcodeNotImplemented, mdns.RcodeRefused))
	})

	rfc1035_4_1_1.It("qdcount-0-z-clear", spec.MUST, "keeps Z=0 in the response to a query without a question that set Z", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in the error response to a message with no question"), func(t *spec.T) {
		raw := noQuestion(0x5454, mdns.OpcodeQuery, flagZ)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeFormatError, mdns.RcodeNotImplemented, mdns.RcodeRefused))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("qdcount-0-rd-copied", spec.MUST, "copies RD=1 into the response to a query without a question", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD in the error response to a message with no question"), func(t *spec.T) {
		raw := noQuestion(0x5555, mdns.OpcodeQuery, flagRD)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeFormatError, mdns.RcodeNotImplemented, mdns.RcodeRefused))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc8906_3_1_4.It("unknown-opcode-no-question", spec.MUST, "answers opcode 15 without a question with NOTIMP (or FORMERR)", spec.Inferred(`RFC 8906 3.1.4: "Unknown DNS Opcodes ... The response should be NOTIMP"; with no question the server may also see a format error (RFC 1035 4.1.1: "Format error - The name server was unable to interpret the query"), but not stay silent.`, "RFC 8906 words it in lower case; MUST is the suite's reading of it").SharedBecause("the unknown opcode with QDCOUNT 0"), func(t *spec.T) {
		raw := noQuestion(0x5656, 15, 0)
		t.Check(checkRawReply(raw, rawUDPReaction(t, ServiceAuthUDP, raw), mdns.RcodeNotImplemented, mdns.RcodeFormatError))
	})

	rfc8906_3_1_4.It("unknown-opcode-no-question-tcp", spec.MUST, "answers opcode 15 without a question over TCP with NOTIMP (or FORMERR)", spec.Inferred(`RFC 8906 3.1.4 (as above), over TCP: a connection reset is no answer.`, "RFC 8906 words it in lower case; MUST is the suite's reading of it").SharedBecause("the unknown opcode with QDCOUNT 0 over TCP"), func(t *spec.T) {
		raw := noQuestion(0x5757, 15, 0)
		t.Check(checkRawReply(raw, rawTCP(t, ServiceAuthTCP, raw), mdns.RcodeNotImplemented, mdns.RcodeFormatError))
	})

	rfc8906_3_1_4.It("status-opcode-no-question", spec.MUST, "answers STATUS (opcode 2) without a question with NOTIMP (or FORMERR/REFUSED)", spec.Inferred(`RFC 8906 3.1.4 (as above): STATUS was never defined.`, "RFC 8906 words it in lower case; MUST is the suite's reading of it").SharedBecause("STATUS with QDCOUNT 0"), func(t *spec.T) {
		raw := noQuestion(0x5858, mdns.OpcodeStatus, 0)
		t.Check(checkRawReply(raw, rawUDPReaction(t, ServiceAuthUDP, raw), mdns.RcodeNotImplemented, mdns.RcodeFormatError, mdns.RcodeRefused))
	})

	// NOTIMP responses.
	rfc1035_4_1_1.It("notimp-z-clear", spec.MUST, "keeps Z=0 in the NOTIMP response to opcode 15 with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a NOTIMP response"), func(t *spec.T) {
		q := opcodeQuery(15)
		raw := packed(t, q, flagZ)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("notimp-z-clear-tcp", spec.MUST, "keeps Z=0 in the NOTIMP response to opcode 15 with Z=1 over TCP", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a NOTIMP response over TCP"), func(t *spec.T) {
		raw := packed(t, opcodeQuery(15), flagZ)
		resp := rawTCP(t, ServiceAuthTCP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("notimp-rd-copied", spec.MUST, "copies RD=1 into the NOTIMP response to opcode 15", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD in a NOTIMP response"), func(t *spec.T) {
		raw := packed(t, opcodeQuery(15), flagRD)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc1035_4_1_1.It("notimp-rd-clear-copied", spec.MUST, "keeps RD=0 in the NOTIMP response to opcode 15 with RD=0", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD=0 in a NOTIMP response"), func(t *spec.T) {
		raw := packed(t, opcodeQuery(15), 0)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc1035_4_1_1.It("notimp-rd-copied-tcp", spec.MUST, "copies RD=1 into the NOTIMP response to opcode 15 over TCP", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD in a NOTIMP response over TCP"), func(t *spec.T) {
		raw := packed(t, opcodeQuery(15), flagRD)
		resp := rawTCP(t, ServiceAuthTCP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc1035_4_1_1.It("notimp-opcode-copied-tcp", spec.MUST, "copies opcode 15 into its NOTIMP response over TCP", spec.Inferred(sentenceOpcode, pre2119).SharedBecause("the opcode of a NOTIMP response over TCP"), func(t *spec.T) {
		raw := packed(t, opcodeQuery(15), 0)
		t.Check(checkRawReply(raw, rawTCP(t, ServiceAuthTCP, raw), mdns.RcodeNotImplemented))
	})

	rfc1035_4_1_1.It("iquery-z-clear", spec.MUST, "keeps Z=0 in the response to an IQUERY with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in the response to IQUERY"), func(t *spec.T) {
		raw := packed(t, opcodeQuery(mdns.OpcodeIQuery), flagZ)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeNotImplemented, mdns.RcodeRefused, mdns.RcodeFormatError))
		checkZClear(t, resp)
	})

	// FORMERR responses.
	rfc1035_4_1_1.It("formerr-z-clear", spec.MUST, "keeps Z=0 in the FORMERR response to two questions with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a FORMERR response"), func(t *spec.T) {
		raw := twoQuestions(0x5959, flagZ)
		resp := formerrUDP(t, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeFormatError))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("formerr-rd-copied", spec.MUST, "copies RD=1 into the FORMERR response to two questions", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD in a FORMERR response"), func(t *spec.T) {
		raw := twoQuestions(0x5a5a, flagRD)
		resp := formerrUDP(t, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeFormatError))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc1035_4_1_1.It("formerr-z-clear-tcp", spec.MUST, "keeps Z=0 in the FORMERR response to two questions over TCP", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a FORMERR response over TCP"), func(t *spec.T) {
		raw := twoQuestions(0x5b5b, flagZ)
		resp := formerrTCP(t, raw)
		t.Check(checkRawReply(raw, resp, mdns.RcodeFormatError))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("badvers-z-clear", spec.MUST, "keeps Z=0 in the BADVERS response to a query with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a BADVERS response"), func(t *spec.T) {
		raw := packed(t, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0), flagZ)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		m := unpack(t, resp)
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("badvers-rd-copied", spec.MUST, "copies RD=1 into the BADVERS response", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD in a BADVERS response"), func(t *spec.T) {
		raw := packed(t, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0), flagRD)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		t.Check(checkRcode(unpack(t, resp), mdns.RcodeBadVers))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	// Flags set in queries.
	rfc1035_4_1_1.It("aa-in-query-answered", spec.MUST, "answers a query with AA=1 normally", spec.Inferred(sentenceAA, pre2119+"; AA means something only in responses, so a query's AA is ignored").SharedBecause("AA set in a query"), func(t *spec.T) {
		m := unpack(t, rawReply(t, packed(t, authQuery(fixture.NameWWW, mdns.TypeA), flagAA)))
		t.Check(answersWWW(m))
		t.Check(checkAA(m, true))
	})

	rfc1035_4_1_1.It("ra-in-query-answered", spec.MUST, "answers a query with RA=1 normally", spec.Inferred(sentenceRA, pre2119+"; RA means something only in responses, so a query's RA is ignored").SharedBecause("RA set in a query"), func(t *spec.T) {
		t.Check(answersWWW(unpack(t, rawReply(t, packed(t, authQuery(fixture.NameWWW, mdns.TypeA), flagRA)))))
	})

	rfc1035_4_1_1.It("ra-not-echoed", spec.SHOULD, "does not echo a query's RA=1 when it offers no recursion", spec.Inferred(sentenceRA, pre2119+"; the server's RA says what it offers, not what the query set: an authoritative-only server clears it").SharedBecause("RA in the response to a query that set it"), func(t *spec.T) {
		resp := rawReply(t, packed(t, authQuery(fixture.NameWWW, mdns.TypeA), flagRA))
		plain := rawReply(t, mustPack(t, authQuery(fixture.NameWWW, mdns.TypeA)))
		if rawFlags(resp)&flagRA != rawFlags(plain)&flagRA {
			t.Mismatch("the same RA as in the answer to a query without RA", "RA=%d with the query's RA=1, RA=%d without", rawFlags(resp)&flagRA>>7, rawFlags(plain)&flagRA>>7)
		}
	})

	rfc1035_4_1_1.It("tc-in-query-answered", spec.MUST, "answers a query with TC=1 (NOERROR, or FORMERR), not silence", spec.Inferred(sentenceTC+` A query marked truncated is either answered as it stands or rejected as one the server "was unable to interpret" (FORMERR); RFC 8906 3: silence is the problem.`, pre2119).SharedBecause("TC set in a query"), func(t *spec.T) {
		raw := packed(t, authQuery(fixture.NameWWW, mdns.TypeA), flagTC)
		resp := rawUDPReaction(t, ServiceAuthUDP, raw)
		m := unpack(t, resp)
		t.Check(checkRcode(m, mdns.RcodeSuccess, mdns.RcodeFormatError))
		if m.Rcode == mdns.RcodeSuccess {
			t.Check(checkAddrs(m, fixture.NameWWW, fixture.AddrWWW))
		}
	})

	rfc1035_4_1_1.It("tc-in-query-not-echoed", spec.MUST, "does not set TC in the answer to a query with TC=1 when the answer fits", spec.Inferred(sentenceTC, pre2119+"; TC describes the message it is in, and the small answer is complete").SharedBecause("TC in the response to a query that set it"), func(t *spec.T) {
		resp := rawUDPReaction(t, ServiceAuthUDP, packed(t, authQuery(fixture.NameWWW, mdns.TypeA), flagTC))
		if unpack(t, resp).Rcode == mdns.RcodeSuccess && rawFlags(resp)&flagTC != 0 {
			t.Mismatch("TC=0 (the answer fits)", "flags 0x%04x", rawFlags(resp))
		}
	})

	rfc1035_4_1_1.It("z-cleared-tcp", spec.MUST, "clears Z in the answer to a query with Z=1 over TCP", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z over TCP"), func(t *spec.T) {
		resp := rawTCP(t, ServiceAuthTCP, packed(t, authQuery(fixture.NameWWW, mdns.TypeA), flagZ))
		t.Check(answersWWW(unpack(t, resp)))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("z-cleared-nxdomain", spec.MUST, "clears Z in the NXDOMAIN answer to a query with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z in a negative answer"), func(t *spec.T) {
		resp := rawReply(t, packed(t, authQuery(fixture.NameMissing, mdns.TypeA), flagZ))
		t.Check(checkRcode(unpack(t, resp), mdns.RcodeNameError))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("z-cleared-edns", spec.MUST, "clears Z in the answer to an EDNS query with Z=1", spec.Inferred(sentenceZ, pre2119).SharedBecause("Z with EDNS"), func(t *spec.T) {
		resp := rawReply(t, packed(t, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0), flagZ))
		t.Check(answersWWW(unpack(t, resp)))
		checkZClear(t, resp)
	})

	rfc1035_4_1_1.It("rd-copied-nxdomain", spec.MUST, "copies RD=1 into an NXDOMAIN answer", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD in a negative answer"), func(t *spec.T) {
		raw := packed(t, authQuery(fixture.NameMissing, mdns.TypeA), flagRD)
		resp := rawReply(t, raw)
		t.Check(checkRcode(unpack(t, resp), mdns.RcodeNameError))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc1035_4_1_1.It("rd-copied-tcp", spec.MUST, "copies RD=1 into an answer over TCP", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD over TCP"), func(t *spec.T) {
		raw := packed(t, authQuery(fixture.NameWWW, mdns.TypeA), flagRD)
		resp := rawTCP(t, ServiceAuthTCP, raw)
		t.Check(answersWWW(unpack(t, resp)))
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})

	rfc1035_4_1_1.It("rd-clear-kept", spec.MUST, "keeps RD=0 in the answer to a query with RD=0", spec.Inferred(sentenceRD, pre2119).SharedBecause("RD=0 copied"), func(t *spec.T) {
		raw := mustPack(t, authQuery(fixture.NameWWW, mdns.TypeA))
		resp := rawReply(t, raw)
		checkFlagCopied(t, "RD", flagRD, raw, resp)
	})
})

// formerrUDP sends a message the server must answer with FORMERR and
// returns the response; a server that drops it instead is judged by
// qdcount-2-formerr, so here the flags cannot be judged.
func formerrUDP(t *spec.T, raw []byte) []byte {
	r := sendMalformedUDP(t, ServiceAuthUDP, raw)
	if r.resp == nil {
		t.Skipf("the server dropped the message with two questions (judged by dns/rfc9619/4/qdcount-2-formerr): no response whose flags to judge")
	}
	if len(r.resp) < 12 {
		t.Mismatch("a DNS message of at least 12 bytes", "%d bytes", len(r.resp))
	}
	return r.resp
}

// formerrTCP is formerrUDP over TCP: a server that closes the connection
// answered nothing whose flags could be judged, provided it still answers
// a valid query on a new connection.
func formerrTCP(t *spec.T, raw []byte) []byte {
	c := t.Dial(ServiceAuthTCP)
	c.Send(tcpFrame(raw))
	b, err := readTCPMsg(c)
	if err != nil {
		t.Check(answersWWW(tcp(t, ServiceAuthTCP, authQuery(fixture.NameWWW, mdns.TypeA))))
		t.Skipf("the server closed the connection on the message with two questions (%v): no response whose flags to judge", err)
	}
	if len(b) < 12 {
		t.Mismatch("a DNS message of at least 12 bytes", "%d bytes", len(b))
	}
	return b
}

// rawReply sends a packed query over UDP to the authoritative service and
// returns the raw response with its ID.
func rawReply(t *spec.T, raw []byte) []byte {
	q := unpack(t, raw)
	p := t.DialPacket(ServiceAuthUDP)
	b, err := p.Exchange(raw, 65535)
	t.Check(err)
	for range 3 {
		if len(b) >= 12 && binary.BigEndian.Uint16(b) == q.Id {
			return b
		}
		b, err = p.Reply(65535)
		t.Check(err)
	}
	if len(b) < 12 || binary.BigEndian.Uint16(b) != q.Id {
		t.Mismatch("a response with the query's ID", "%s", spec.Excerpt(b, 40))
	}
	return b
}
