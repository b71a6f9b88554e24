package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc1035_2_3_4 = spec.Section("dns", "rfc1035", "2.3.4", "Size limits")
var rfc2181_11 = spec.Section("dns", "rfc2181", "11", "Name syntax")

// rawQuery builds a query with id for a wire-format name.
func rawQuery(id uint16, name []byte, qtype uint16) []byte {
	return append(header(id, 0, 1, 0, 0, 0), question(name, qtype, mdns.ClassINET)...)
}

// labelsOfLength returns labels of the given lengths made of 'a'..'z'.
func labelsOfLength(lengths ...int) []string {
	var out []string
	for i, n := range lengths {
		out = append(out, strings.Repeat(string(rune('a'+i%26)), n))
	}
	return out
}

// RFC 1035 2.3.4 and 4.1.4, RFC 2181 11, RFC 4343: names on the wire.
var _ = Describe("RFC 1035 domain names", func() {
	rfc1035_2_3_4.It("label-63-accepted", spec.MUST, "answers a query whose label is 63 octets long", spec.Inferred(`RFC 1035 2.3.4: "labels 63 octets or less": a 63-octet label is a valid name, answered like any other (NXDOMAIN here).`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		name := strings.Repeat("x", 63) + "." + fixture.Origin
		m := udp(t, ServiceAuthUDP, authQuery(name, mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkAA(m, true))
	})

	rfc1035_2_3_4.It("name-255-accepted", spec.MUST, "answers a query for a name of exactly 255 octets", spec.Inferred(`RFC 1035 2.3.4: "names 255 octets or less": a name of exactly 255 octets on the wire is valid.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		// 3 labels of 63 (192 octets with their lengths) + one of 56 (57)
		// + test (5) + the root (1) = 255.
		labels := append(labelsOfLength(63, 63, 63, 56), "test")
		wire := wireName(labels...)
		if len(wire) != 255 {
			t.Failf("spec bug: name is %d octets", len(wire))
		}
		name := strings.Join(labels, ".") + "."
		m := udp(t, ServiceAuthUDP, authQuery(name, mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeNameError))
	})

	rfc1035_2_3_4.It("label-64-rejected", spec.MUST, "answers a 64-octet label with FORMERR or not at all, and keeps serving", spec.Inferred(`RFC 1035 2.3.4: "labels 63 octets or less"; 4.1.4: the two high bits of a length octet are zero for a label, "The 10 and 01 combinations are reserved": a 64-octet label cannot be encoded; a length octet of 64 is a reserved label type. The server must neither crash nor answer it as a name: FORMERR or silence (RFC 1035 4.1.1 "Format error").`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		raw := rawQuery(0x4444, wireName(strings.Repeat("a", 64), "test"), mdns.TypeA)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r, mdns.RcodeNameError, mdns.RcodeRefused))
	})

	rfc1035_2_3_4.It("name-256-rejected", spec.MUST, "answers a name of more than 255 octets with FORMERR or not at all, and keeps serving", spec.Inferred(`RFC 1035 2.3.4: "names 255 octets or less"; a longer name is a format error.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		labels := append(labelsOfLength(63, 63, 63, 60), "test")
		raw := rawQuery(0x4545, wireName(labels...), mdns.TypeA)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r, mdns.RcodeRefused))
	})

	rfc1035_4_1_4.It("pointer-loop-rejected", spec.MUST, "survives a question name that is a compression pointer to itself", spec.Inferred(`RFC 1035 4.1.4: a pointer refers to "a prior occurance of the same name"; a question name that points at itself loops forever if followed. FORMERR or silence; the server keeps serving.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		raw := append(header(0x4646, 0, 1, 0, 0, 0), 0xC0, 12, 0, 1, 0, 1)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r))
	})

	rfc1035_4_1_4.It("pointer-out-of-bounds-rejected", spec.MUST, "survives a compression pointer beyond the end of the message", spec.Inferred(`RFC 1035 4.1.4 (as above): a pointer past the end of the message.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		raw := append(header(0x4747, 0, 1, 0, 0, 0), 0xC3, 0xFF, 0, 1, 0, 1)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r))
	})

	rfc1035_4_1_4.It("pointer-chain-loop-rejected", spec.MUST, "survives two compression pointers pointing at each other", spec.Inferred(`RFC 1035 4.1.4 (as above): a chain of pointers that ends in a loop (one name pointing into the other).`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		// question name at 12: label "a", then pointer to 16; at 16 a
		// pointer back to 12.
		raw := append(header(0x4848, 0, 1, 0, 0, 0), 1, 'a', 0xC0, 16, 0xC0, 12, 0, 1, 0, 1)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r))
	})

	rfc1035_4_1_1.It("truncated-question-rejected", spec.MUST, "answers a question cut off inside its name with FORMERR or not at all", spec.Inferred(`RFC 1035 4.1.1: "Format error - The name server was unable to interpret the query": a question cut off in the middle of its name.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		raw := append(header(0x4949, 0, 1, 0, 0, 0), 3, 'w', 'w')
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r))
	})

	rfc1035_4_1_1.It("short-message-survived", spec.MUST, "survives a 5-octet datagram and keeps serving", spec.Inferred(`RFC 1035 4.1.1: a message shorter than the 12-octet header cannot be interpreted; there is nothing to answer (no full header).`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		raw := []byte{0x4a, 0x4a, 0x01, 0x00, 0x00}
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r))
	})

	rfc1035_4_1_1.It("garbage-survived", spec.MUST, "survives a header whose counts promise records that are missing", spec.Inferred(`RFC 1035 4.1.1: a datagram of random octets after a plausible header (counts claiming records that are not there) cannot be interpreted.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		raw := append(header(0x4b4b, 0, 1, 3, 3, 3), wireName("www", "test")...)
		raw = append(raw, 0, 1, 0, 1, 0xde, 0xad, 0xbe, 0xef)
		r := sendMalformedUDP(t, ServiceAuthUDP, raw)
		t.Check(checkFormerrOrDrop(raw, r))
	})

	rfc2181_11.It("binary-label-answered", spec.MUST, "answers a query whose label holds a dot, a NUL and octets above 127", spec.Inferred(`RFC 2181 11: "any binary string whatever can be used as the label of any resource record"; a query for such a name is a valid query, here for a name that does not exist.`, "RFC 2181 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		raw := rawQuery(0x4c4c, wireName("a.b\x00\xff\x80", "test"), mdns.TypeA)
		p := t.DialPacket(ServiceAuthUDP)
		b, err := p.Exchange(raw, 65535)
		t.Check(err)
		m := unpack(t, b)
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkAA(m, true))
	})

	rfc1034_3_1.It("case-insensitive-lookup", spec.MUST, "answers wWw.TeSt. A with www.test.'s address", spec.Inferred(`RFC 1034 3.1: "By convention, domain names can be stored with arbitrary case, but domain name comparisons for all present domain functions are done in a case-insensitive manner" (restated by RFC 4343).`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery("wWw.TeSt.", mdns.TypeA)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, "www.test.", fixture.AddrWWW))
	})

	rfc1034_3_1.It("mixed-case-data-found", spec.MUST, "answers mixedcase.test. A from the zone's MixedCase.test.", spec.Inferred(`RFC 1034 3.1 (as above): data spelled with capitals in the zone is found by a lower-case query.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, authQuery("mixedcase.test.", mdns.TypeA))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, "mixedcase.test.", fixture.AddrMixed))
	})

	rfc4343_4_1.It("question-case-preserved", spec.MUST, "repeats the question's mixed case exactly", spec.Inferred(`RFC 4343 4.1 (DNS output case preservation): a server passes names on with their case; the question is copied into the response (RFC 1035 4.1.2), so its case comes back as sent, which 0x20 resolvers rely on.`, "RFC 4343 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q := authQuery("WwW.tEsT.", mdns.TypeA)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkQuestion(q, m))
	})

	rfc1034_3_1.It("case-insensitive-nodata", spec.MUST, "answers WWW.TEST. MX with NODATA, not NXDOMAIN", spec.Inferred(`RFC 1034 3.1 (as above), for negative answers: case does not turn an existing name into a missing one.`, "RFC 1034 predates RFC 2119's key words"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, authQuery("WWW.TEST.", mdns.TypeMX))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkNegativeSOA(m, fixture.Origin, -1))
	})
})
