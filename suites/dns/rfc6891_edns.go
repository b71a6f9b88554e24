package dns

import (
	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

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
	// RFC 6891 7: "If an OPT record is present in a received request,
	// compliant responders MUST include an OPT record in their respective
	// responses."
	spec.It("dns/rfc6891/7/opt-in-response", spec.MUST, "includes an OPT record in the response to a query with one", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkHasOPT(m))
	})

	// RFC 6891 7: "Lack of presence of an OPT record in a request MUST be
	// taken as an indication that the requestor does not implement any part
	// of this specification and that the responder MUST NOT include an OPT
	// record in its response."
	spec.It("dns/rfc6891/7/no-opt-without-edns", spec.MUST, "includes no OPT record in the response to a query without one", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeA))
		if n := countOPT(m); n != 0 {
			t.Failf("expected: no OPT record\n  actual:   %d in: %s", n, summary(m))
		}
	})

	// RFC 6891 7 (as above), over TCP.
	spec.It("dns/rfc6891/7/opt-in-response-tcp", spec.MUST, "includes an OPT record in the response to an EDNS query over TCP", func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0))
		t.Check(checkHasOPT(m))
	})

	// RFC 6891 6.1.3: "If a responder does not implement the VERSION level
	// of the request, then it MUST respond with RCODE=BADVERS."
	spec.It("dns/rfc6891/6.1.3/badvers", spec.MUST, "answers an EDNS version 1 query with BADVERS", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
		t.Check(checkHasOPT(m))
	})

	// RFC 6891 6.1.3: "... it MUST respond with RCODE=BADVERS" with, in its
	// OPT, the version the responder implements (0 for EDNS(0)): never the
	// unimplemented one.
	spec.It("dns/rfc6891/6.1.3/badvers-own-version", spec.MUST, "answers BADVERS with an OPT of version 0, not 1", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0))
		t.Check(checkHasOPT(m))
		if o := m.IsEdns0(); o != nil && o.Version() != 0 {
			t.Failf("expected: OPT version 0 (the highest the responder implements)\n  actual:   version %d", o.Version())
		}
	})

	// RFC 6891 6.1.3 (as above), over TCP.
	spec.It("dns/rfc6891/6.1.3/badvers-tcp", spec.MUST, "answers an EDNS version 1 query over TCP with BADVERS", func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 1, false, 0))
		t.Check(checkRcode(m, mdns.RcodeBadVers))
	})

	// RFC 6891 6.1.2: "Any OPTION-CODE values not understood by a responder
	// or requestor MUST be ignored."
	spec.It("dns/rfc6891/6.1.2/unknown-option-ignored", spec.MUST, "answers a query with an unknown EDNS option normally", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, unknownOption()))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, fixture.NameWWW, fixture.AddrWWW))
		t.Check(checkHasOPT(m))
	})

	// RFC 6891 6.1.2 (as above): an ignored option is not echoed as if it
	// had been understood (RFC 8906 3.2.4: "the response ... does not
	// contain the unknown option").
	spec.It("dns/rfc6891/6.1.2/unknown-option-not-echoed", spec.SHOULD, "does not echo an unknown EDNS option back", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0, unknownOption()))
		if o := m.IsEdns0(); o != nil {
			for _, opt := range o.Option {
				if opt.Option() == 65001 {
					t.Failf("expected: option 65001 ignored\n  actual:   echoed in the response's OPT")
				}
			}
		}
	})

	// RFC 6891 6.1.4: "Z Set to zero by senders and ignored by receivers,
	// unless modified in a subsequent specification."
	spec.It("dns/rfc6891/6.1.4/unknown-flags-ignored", spec.MUST, "answers a query with unknown EDNS flags normally", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0x4000))
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		t.Check(checkAddrs(m, fixture.NameWWW, fixture.AddrWWW))
	})

	// RFC 6891 6.1.4 (as above): "Set to zero by senders": the response's
	// OPT does not carry the unknown flag back.
	spec.It("dns/rfc6891/6.1.4/unknown-flags-cleared", spec.MUST, "clears unknown EDNS flags in its response", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0x4000))
		t.Check(checkHasOPT(m))
		if o := m.IsEdns0(); o != nil && o.Z() != 0 {
			t.Failf("expected: EDNS Z flags 0 in the response\n  actual:   0x%04x", o.Z())
		}
	})

	// RFC 3225 3: "The DO bit of the query MUST be copied in the response."
	spec.It("dns/rfc3225/3/do-copied", spec.MUST, "copies DO=1 into the response's OPT", func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, true, 0))
		t.Check(checkHasOPT(m))
		if o := m.IsEdns0(); o != nil && !o.Do() {
			t.Failf("expected: DO=1 copied\n  actual:   DO=0 in the response's OPT")
		}
	})

	// RFC 6891 6.2.3: "The requestor's UDP payload size ... the largest UDP
	// payload that can be delivered in the requestor's network"; a response
	// larger than that is truncated with TC set, as RFC 1035 4.2.1 does at
	// 512.
	spec.It("dns/rfc6891/6.2.3/payload-size-honoured", spec.MUST, "keeps big.test. TXT within the 1232 bytes the query advertises, with TC", func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameBig, mdns.TypeTXT, 1232, 0, false, 0))
		if len(b) > 1232 {
			t.Failf("expected: at most 1232 bytes\n  actual:   %d bytes", len(b))
		}
		m := unpack(t, b)
		if !m.Truncated {
			t.Failf("expected: TC=1 (the answer is over %d bytes)\n  actual:   %s", fixture.BigTXTMinBytes, summary(m))
		}
	})

	// RFC 6891 7: "compliant responders MUST include an OPT record in their
	// respective responses", truncated ones included.
	spec.It("dns/rfc6891/7/opt-in-truncated-response", spec.MUST, "keeps the OPT record in a truncated response", func(t *spec.T) {
		m := unpack(t, rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameBig, mdns.TypeTXT, 1232, 0, false, 0)))
		t.Check(checkHasOPT(m))
	})

	// RFC 6891 6.2.5: "Values lower than 512 MUST be treated as equal to
	// 512."
	spec.It("dns/rfc6891/6.2.5/small-payload-as-512", spec.MUST, "answers fully (no TC) a 500-byte answer when the query advertises 100 bytes", func(t *spec.T) {
		// The apex SOA answer (about 110 bytes with the OPT) fits 512, not 100.
		m := unpack(t, rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameApex, mdns.TypeSOA, 100, 0, false, 0)))
		if m.Truncated {
			t.Failf("expected: a complete answer, the advertised 100 taken as 512\n  actual:   %s", summary(m))
		}
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		if len(m.Answer) != 1 {
			t.Failf("expected: the SOA in the answer\n  actual:   %s", summary(m))
		}
	})

	// RFC 6891 6.1.1: "If a query message with more than one OPT RR is
	// received, a FORMERR (RCODE=1) MUST be returned."
	spec.It("dns/rfc6891/6.1.1/two-opt-formerr", spec.MUST, "answers a query with two OPT records with FORMERR", func(t *spec.T) {
		q := ednsQuery(fixture.NameWWW, mdns.TypeA, 1232, 0, false, 0)
		q.Extra = append(q.Extra, mdns.Copy(q.Extra[0]))
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkRcode(m, mdns.RcodeFormatError))
	})

	// RFC 6891 6.1.3: "EXTENDED-RCODE Forms the upper 8 bits of extended
	// 12-bit RCODE ... Note that EXTENDED-RCODE value 0 indicates that an
	// unextended RCODE is in use": an NXDOMAIN keeps it 0.
	spec.It("dns/rfc6891/6.1.3/extended-rcode-zero", spec.MUST, "keeps EXTENDED-RCODE 0 in an NXDOMAIN to an EDNS query", func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, ednsQuery(fixture.NameMissing, mdns.TypeA, 1232, 0, false, 0))
		m := unpack(t, b)
		t.Check(checkRcode(m, mdns.RcodeNameError))
		t.Check(checkHasOPT(m))
		if len(b) >= 4 && b[3]&0x0F != mdns.RcodeNameError {
			t.Failf("expected: header rcode 3\n  actual:   %d", b[3]&0x0F)
		}
	})

	// RFC 6891 6.2.3 (as above), over TCP no payload limit applies: the
	// whole answer comes (RFC 7766 / RFC 1035 4.2.2).
	spec.It("dns/rfc6891/6.2.3/tcp-not-limited-by-payload-size", spec.MUST, "answers big.test. TXT in full over TCP even with EDNS 512", func(t *spec.T) {
		m := tcp(t, ServiceAuthTCP, ednsQuery(fixture.NameBig, mdns.TypeTXT, 512, 0, false, 0))
		if m.Truncated || len(m.Answer) != fixture.BigTXTCount {
			t.Failf("expected: all %d TXT records, TC=0\n  actual:   %s", fixture.BigTXTCount, summary(m))
		}
	})
})
