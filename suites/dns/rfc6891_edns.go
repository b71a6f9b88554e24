package dns

import (
	"fmt"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc6891_6_1_3 = spec.Section("dns", "rfc6891", "6.1.3", "OPT Record TTL Field Use")
var rfc6891_6_1_2 = spec.Section("dns", "rfc6891", "6.1.2", "Wire Format")
var rfc6891_6_1_4 = spec.Section("dns", "rfc6891", "6.1.4", "Flags")
var rfc3225_3 = spec.Section("dns", "rfc3225", "3", "Protocol Changes")
var rfc6891_6_2_3 = spec.Section("dns", "rfc6891", "6.2.3", "Requestor's Payload Size")
var rfc6891_6_2_5 = spec.Section("dns", "rfc6891", "6.2.5", "Payload Size Selection")
var rfc6891_6_1_1 = spec.Section("dns", "rfc6891", "6.1.1", "Basic Elements")

// ednsQuery is a query with an OPT record: payload size, version, DO, the
// reserved Z flags, and options.
func ednsQuery(name string, qtype uint16, size uint16, version uint8, do bool, zflags uint16, opts ...mdns.EDNS0) *mdns.Msg {
	q := authQuery(name, qtype)
	o := new(mdns.OPT)
	o.Hdr.Name = "."
	o.Hdr.Rrtype = mdns.TypeOPT
	o.SetUDPSize(size)
	o.SetVersion(version)
	if do {
		o.SetDo()
	}
	o.SetZ(zflags)
	o.Option = opts
	q.Extra = append(q.Extra, o)
	return q
}

func countOPT(m *mdns.Msg) int {
	n := 0
	for _, rr := range m.Extra {
		if rr.Header().Rrtype == mdns.TypeOPT {
			n++
		}
	}
	return n
}

// checkHasOPT checks the response carries exactly one OPT record.
func checkHasOPT(m *mdns.Msg) error {
	if n := countOPT(m); n != 1 {
		return spec.Errorf("exactly one OPT record in the response", "%d OPT records in: %s", n, summary(m))
	}
	return nil
}

func unknownOption() mdns.EDNS0 {
	return &mdns.EDNS0_LOCAL{Code: 65001, Data: []byte("protospec")}
}

// RFC 6891, extension mechanisms for DNS (EDNS(0)), as an authoritative
// server must handle them.
var _ = Describe("RFC 6891 EDNS(0)", func() {
	rfc6891_7.It("opt-in-response", spec.MUST, "includes an OPT record in the response to a query with one", spec.Quote(`RFC 6891 6.1.1: "If an OPT record is present in a received request, compliant responders MUST include an OPT record in their respective responses."`).SharedBecause("the same requirement, of an authoritative server and of a resolver").In("6.1.1"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkHasOPT(m))
	})

	rfc6891_7.It("no-opt-without-edns", spec.MUST, "includes no OPT record in the response to a query without one", spec.Quote(`RFC 6891 7: "Lack of presence of an OPT record in a request MUST be taken as an indication that the requestor does not implement any part of this specification and that the responder MUST NOT include an OPT record in its response."`), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeA))
		if n := countOPT(m); n != 0 {
			t.Mismatch("no OPT record", "%d in: %s", n, summary(m))
		}
	})

	rfc6891_7.It("opt-in-response-tcp", spec.MUST, "includes an OPT record in the response to an EDNS query over TCP", spec.Inferred(`RFC 6891 6.1.1 (as above), over TCP.`, "RFC 6891 states it without an RFC 2119 key word; MUST is the suite's reading of it").In("6.1.1"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0))
		t.Check(checkHasOPT(m))
	})

	rfc6891_6_1_3.It("badvers", spec.MUST, "answers an EDNS version 1 query with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		t.Check(checkHasOPT(m))
	})

	rfc6891_6_1_3.It("badvers-own-version", spec.SHOULD, "answers BADVERS with an OPT of version 0, not 1", spec.Quote(`All responses MUST be limited in format to the VERSION level of the request, but the VERSION of each response SHOULD be the highest implementation level of the responder.`), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0))
		t.Check(checkHasOPT(m))
		if o := m.IsEdns0(); o != nil && o.Version() != 0 {
			t.Mismatch("OPT version 0 (the highest the responder implements)", "version %d", o.Version())
		}
	})

	rfc6891_6_1_3.It("badvers-tcp", spec.MUST, "answers an EDNS version 1 query over TCP with BADVERS", spec.Quote(`If a responder does not implement the VERSION level of the request, then it MUST respond with RCODE=BADVERS.`).SharedBecause("the same requirement as badvers, over TCP"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
	})

	rfc6891_6_1_2.It("unknown-option-ignored", spec.MUST, "answers a query with an unknown EDNS option normally", spec.Quote(`RFC 6891 6.1.2: "Any OPTION-CODE values not understood by a responder or requestor MUST be ignored."`), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, unknownOption()))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, fixture.NameWWW, fixture.AddrWWW))
		t.Check(checkHasOPT(m))
	})

	rfc6891_6_1_2.It("unknown-option-not-echoed", spec.SHOULD, "does not echo an unknown EDNS option back", spec.Inferred(`RFC 6891 6.1.2 (as above): an ignored option is not echoed as if it had been understood (RFC 8906 3.2.4: "the response ... does not contain the unknown option").`, "RFC 6891 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, unknownOption()))
		if o := m.IsEdns0(); o != nil {
			for _, opt := range o.Option {
				if opt.Option() == 65001 {
					t.Mismatch("option 65001 ignored", "echoed in the response's OPT")
				}
			}
		}
	})

	rfc6891_6_1_4.It("unknown-flags-ignored", spec.MUST, "answers a query with unknown EDNS flags normally", spec.Inferred(`RFC 6891 6.1.4: "Z Set to zero by senders and ignored by receivers, unless modified in a subsequent specification."`, "RFC 6891 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0x4000))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, fixture.NameWWW, fixture.AddrWWW))
	})

	rfc6891_6_1_4.It("unknown-flags-cleared", spec.MUST, "clears unknown EDNS flags in its response", spec.Inferred(`RFC 6891 6.1.4 (as above): "Set to zero by senders": the response's OPT does not carry the unknown flag back.`, "RFC 6891 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0x4000))
		t.Check(checkHasOPT(m))
		if o := m.IsEdns0(); o != nil && o.Z() != 0 {
			t.Mismatch("EDNS Z flags 0 in the response", "0x%04x", o.Z())
		}
	})

	rfc3225_3.It("do-copied", spec.MUST, "copies DO=1 into the response's OPT", spec.Quote(`RFC 3225 3: "The DO bit of the query MUST be copied in the response."`), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, true, 0))
		t.Check(checkHasOPT(m))
		if o := m.IsEdns0(); o != nil && !o.Do() {
			t.Mismatch("DO=1 copied", "DO=0 in the response's OPT")
		}
	})

	rfc6891_6_2_3.It("payload-size-honoured", spec.MUST, "keeps big.test. TXT within the 1232 bytes the query advertises, with TC", spec.Inferred(`RFC 6891 6.2.3: "The requestor's UDP payload size ... the largest UDP payload that can be reassembled and delivered in the requestor's network stack"; a response larger than that is truncated with TC set, as RFC 1035 4.2.1 does at 512.`, "RFC 6891 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameBig, mdns.TypeTXT, 1232, 0, false, 0))
		if len(b) > 1232 {
			t.Mismatch("at most 1232 bytes", "%d bytes", len(b))
		}
		m := unpack(t, b)
		if !m.Truncated {
			t.Mismatch(fmt.Sprintf("TC=1 (the answer is over %d bytes)", fixture.BigTXTMinBytes), "%s", summary(m))
		}
	})

	rfc6891_7.It("opt-in-truncated-response", spec.MUST, "keeps the OPT record in a truncated response", spec.Quote(`RFC 6891 6.1.1: "compliant responders MUST include an OPT record in their respective responses", truncated ones included.`).In("6.1.1"), func(t *spec.T) {
		m := unpack(t, rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameBig, mdns.TypeTXT, 1232, 0, false, 0)))
		t.Check(checkHasOPT(m))
	})

	rfc6891_6_2_5.It("small-payload-as-512", spec.MUST, "answers fully (no TC) a 500-byte answer when the query advertises 100 bytes", spec.Quote(`RFC 6891 6.2.5: "Values lower than 512 MUST be treated as equal to 512."`), func(t *spec.T) {
		// The apex SOA answer (about 110 bytes with the OPT) fits 512, not 100.
		m := unpack(t, rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameApex, mdns.TypeSOA, 100, 0, false, 0)))
		if m.Truncated {
			t.Mismatch("a complete answer, the advertised 100 taken as 512", "%s", summary(m))
		}
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		if len(m.Answer) != 1 {
			t.Mismatch("the SOA in the answer", "%s", summary(m))
		}
	})

	rfc6891_6_1_1.It("two-opt-formerr", spec.MUST, "answers a query with two OPT records with FORMERR", spec.Quote(`RFC 6891 6.1.1: "If a query message with more than one OPT RR is received, a FORMERR (RCODE=1) MUST be returned."`), func(t *spec.T) {
		q := ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0)
		q.Extra = append(q.Extra, mdns.Copy(q.Extra[0]))
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkRcode(m, mdns.RcodeFormatError))
	})

	rfc6891_6_1_3.It("extended-rcode-zero", spec.MUST, "keeps EXTENDED-RCODE 0 in an NXDOMAIN to an EDNS query", spec.Inferred(`RFC 6891 6.1.3: "EXTENDED-RCODE Forms the upper 8 bits of extended 12-bit RCODE ... Note that EXTENDED-RCODE value 0 indicates that an unextended RCODE is in use": an NXDOMAIN keeps it 0.`, "RFC 6891 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameMissing, mdns.TypeA, 1232, 0, false, 0))
		m := unpack(t, b)
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkHasOPT(m))
		if len(b) >= 4 && b[3]&0x0F != mdns.RcodeNameError {
			t.Mismatch("header rcode 3", "%d", b[3]&0x0F)
		}
	})

	rfc6891_6_2_3.It("tcp-not-limited-by-payload-size", spec.MUST, "answers big.test. TXT in full over TCP even with EDNS 512", spec.Inferred(`RFC 6891 6.2.3 (as above), over TCP no payload limit applies: the whole answer comes (RFC 7766 / RFC 1035 4.2.2).`, "RFC 6891 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameBig, mdns.TypeTXT, 512, 0, false, 0))
		if m.Truncated || len(m.Answer) != fixture.BigTXTCount {
			t.Mismatch(fmt.Sprintf("all %d TXT records, TC=0", fixture.BigTXTCount), "%s", summary(m))
		}
	})
})
