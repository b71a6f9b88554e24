package dns

import (
	"fmt"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc1995_2 = spec.Section("dns", "rfc1995", "2", "Brief Description of the Protocol")
var rfc1995_4 = spec.Section("dns", "rfc1995", "4", "Response Format")

// RFC 1995 words its server behaviour without RFC 2119 key words.
const ixfrNoKeyword = "RFC 1995 states it without an RFC 2119 key word; MUST is the suite's reading of it"

// ixfrQuery is an IXFR for zone carrying, in its authority section, the
// SOA of the client's copy with serial (RFC 1995 3).
func ixfrQuery(zone string, serial uint32) *mdns.Msg {
	q := authQuery(zone, mdns.TypeIXFR)
	q.Ns = []mdns.RR{&mdns.SOA{
		Hdr:    mdns.RR_Header{Name: mdns.Fqdn(zone), Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: fixture.SOAMinimum},
		Ns:     fixture.SOAMName,
		Mbox:   fixture.SOARName,
		Serial: serial,
		Expire: fixture.SOAExpire, Refresh: fixture.SOARefresh, Retry: fixture.SOARetry, Minttl: fixture.SOAMinimum,
	}}
	return q
}

// currentSerial asks the target for the SOA of zone over TCP and returns
// its serial.
func currentSerial(t *spec.T, zone string) uint32 {
	m := tcp(t, ServiceAuthTCP, authQuery(zone, mdns.TypeSOA))
	t.Check(checkRcode(m, mdns.RcodeSuccess))
	for _, rr := range m.Answer {
		if soa, ok := rr.(*mdns.SOA); ok {
			return soa.Serial
		}
	}
	t.Failf("%v", spec.Errorf("the SOA of "+zone+" in the answer", "%s", summary(m)))
	return 0
}

// ixfr sends an IXFR over TCP and reads its messages: one when it is a
// single SOA (the client is up to date) or an error, else until the
// transfer ends: the second SOA of a full (AXFR-form) response, or the
// third copy of the current SOA of an incremental one (first, in the last
// difference sequence's additions, last).
func ixfr(t *spec.T, zone string, serial uint32) []*mdns.Msg {
	t.Require(FeatureAXFR)
	c := t.Dial(ServiceAuthTCP)
	q := ixfrQuery(zone, serial)
	c.Send(tcpFrame(mustPack(t, q)))
	var msgs []*mdns.Msg
	var rrs []mdns.RR
	for len(msgs) < 1000 {
		b, err := readTCPMsg(c)
		if err != nil {
			if len(msgs) > 0 && spec.IsClosed(err) {
				break
			}
			t.Check(err)
		}
		m := unpack(t, b)
		if m.Id != q.Id || !m.Response {
			t.Mismatch(fmt.Sprintf("ID %d and QR=1 in message %d", q.Id, len(msgs)+1), "%s", summary(m))
		}
		msgs = append(msgs, m)
		rrs = append(rrs, m.Answer...)
		if m.Rcode != mdns.RcodeSuccess || len(rrs) == 0 {
			break
		}
		first, ok := rrs[0].(*mdns.SOA)
		if !ok {
			break
		}
		if len(msgs) == 1 && len(rrs) == 1 && !serialNewer(first.Serial, serial) {
			break
		}
		if ixfrComplete(rrs, first.Serial) {
			break
		}
	}
	return msgs
}

// ixfrComplete reports whether rrs, starting with the current SOA of
// serial cur, hold a whole response.
func ixfrComplete(rrs []mdns.RR, cur uint32) bool {
	incremental := len(rrs) > 1 && rrs[1].Header().Rrtype == mdns.TypeSOA
	seen := 0
	for _, rr := range rrs {
		if soa, ok := rr.(*mdns.SOA); ok && (!incremental || soa.Serial == cur) {
			seen++
		}
	}
	if incremental {
		return seen >= 3
	}
	return seen >= 2
}

// serialNewer reports whether a is newer than b in serial number
// arithmetic (RFC 1982 3.2).
func serialNewer(a, b uint32) bool { return a != b && int32(a-b) > 0 }

// singleSOA checks that msgs is one message whose answer is the target's
// current SOA of zone and nothing else.
func singleSOA(t *spec.T, msgs []*mdns.Msg, cur uint32) {
	t.Check(checkRcode(msgs[0], mdns.RcodeSuccess))
	var rrs []mdns.RR
	for _, m := range msgs {
		rrs = append(rrs, m.Answer...)
	}
	soa, ok := mdns.RR(nil), false
	if len(rrs) == 1 {
		soa, ok = rrs[0].(*mdns.SOA)
	}
	if !ok || soa.(*mdns.SOA).Serial != cur {
		t.Mismatch(fmt.Sprintf("a single SOA with the current serial %d", cur), "%d records in %d messages: %s", len(rrs), len(msgs), summary(msgs[0]))
	}
}

// RFC 1995, incremental zone transfer (IXFR).
var _ = Describe("RFC 1995 IXFR", func() {
	rfc1995_2.It("current-serial-single-soa", spec.MUST, "answers an IXFR carrying the current serial with the single current SOA", spec.Inferred(`RFC 1995 2: "If an IXFR query with the same or newer version number than that of the server is received, it is replied to with a single SOA record of the server's current version."`, ixfrNoKeyword), func(t *spec.T) {
		cur := currentSerial(t, fixture.Origin)
		singleSOA(t, ixfr(t, fixture.Origin, cur), cur)
	})

	rfc1995_2.It("newer-serial-single-soa", spec.MUST, "answers an IXFR carrying a newer serial with the single current SOA", spec.Inferred(`RFC 1995 2: "If an IXFR query with the same or newer version number than that of the server is received, it is replied to with a single SOA record of the server's current version."`, ixfrNoKeyword).SharedBecause("the same sentence, for a serial ahead of the server's"), func(t *spec.T) {
		cur := currentSerial(t, fixture.Origin)
		singleSOA(t, ixfr(t, fixture.Origin, cur+1000), cur)
	})

	rfc1995_4.It("older-serial-transfer", spec.MUST, "answers an IXFR carrying an older serial with the whole zone or the differences, between copies of the current SOA", spec.Inferred(`RFC 1995 4: "If incremental zone transfer is not available, the entire zone is returned. The first and the last RR of the response is the SOA record of the zone." and "The list of difference sequences is preceded and followed by a copy of the server's current version of the SOA."`, ixfrNoKeyword), func(t *spec.T) {
		cur := currentSerial(t, fixture.Origin)
		msgs := ixfr(t, fixture.Origin, cur-1)
		t.Check(checkRcode(msgs[0], mdns.RcodeSuccess))
		rrs := transferRecords(msgs)
		isCur := func(rr mdns.RR) bool { soa, ok := rr.(*mdns.SOA); return ok && soa.Serial == cur }
		if len(rrs) < 2 || !isCur(rrs[0]) || !isCur(rrs[len(rrs)-1]) {
			t.Mismatch(fmt.Sprintf("the current SOA (serial %d) first and last", cur), "%d records in %d messages: %s", len(rrs), len(msgs), summary(msgs[0]))
		}
		if rrs[1].Header().Rrtype == mdns.TypeSOA {
			t.Note("an incremental response")
			t.Check(checkIncremental(t, rrs, cur-1, cur))
			return
		}
		// A full response is an AXFR's: every record of the zone.
		t.Check(checkSection("transfer", rrs[:len(rrs)-1], fixtureRecords(t, fixture.Zones[0]), false))
	})

	rfc1995_4.It("incremental-supported", spec.MAY, "answers an IXFR from the version before the current one with the differences", spec.Inferred(`RFC 1995 2: "When an IXFR request with an older version number is received, the IXFR server needs to send only the differences required to make that version current. Alternatively, the server may choose to transfer the entire zone just as in a normal full zone transfer."`, "sending the whole zone instead is allowed: MAY"), func(t *spec.T) {
		cur := currentSerial(t, fixture.Origin)
		msgs := ixfr(t, fixture.Origin, cur-1)
		t.Check(checkRcode(msgs[0], mdns.RcodeSuccess))
		rrs := transferRecords(msgs)
		if len(rrs) < 2 || rrs[1].Header().Rrtype != mdns.TypeSOA {
			t.Mismatch("an incremental response: the current SOA, then the SOA of serial "+fmt.Sprint(cur-1), "%d records in %d messages: %s", len(rrs), len(msgs), summary(msgs[0]))
		}
		t.Check(checkIncremental(t, rrs, cur-1, cur))
	})

	rfc1995_2.It("udp-single-soa-or-whole", spec.MUST, "answers an IXFR over UDP carrying an older serial with the single current SOA, a whole response that fits, TC, or a refusal", spec.Inferred(`RFC 1995 2: "If an IXFR query is via UDP, the IXFR server may attempt to reply using UDP if the entire response can be contained in a single DNS packet. If the UDP reply does not fit, the query is responded to with a single SOA record of the server's current version to inform the client that a TCP query should be initiated."`, "RFC 1995 states it without an RFC 2119 key word; MUST is the suite's reading of it; a truncated answer (TC, RFC 1035 4.2.1) tells the client to use TCP as well, and REFUSED or NOTIMP leave it to fall back to TCP"), func(t *spec.T) {
		t.Require(FeatureAXFR)
		cur := currentSerial(t, fixture.Origin)
		m := udp(t, ServiceAuthUDP, ixfrQuery(fixture.Origin, cur-1))
		if m.Truncated {
			t.Note("TC: the client is sent to TCP")
			return
		}
		if m.Rcode == mdns.RcodeRefused || m.Rcode == mdns.RcodeNotImplemented {
			// RFC 1995 2 has the client fall back to TCP (and to AXFR)
			// when the server does not take the query over UDP.
			t.Note("%s: the target takes IXFR over TCP only", mdns.RcodeToString[m.Rcode])
			return
		}
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		isCur := func(rr mdns.RR) bool { soa, ok := rr.(*mdns.SOA); return ok && soa.Serial == cur }
		switch n := len(m.Answer); {
		case n == 1 && isCur(m.Answer[0]):
			t.Note("the single current SOA: the client is sent to TCP")
		case n >= 2 && isCur(m.Answer[0]) && isCur(m.Answer[n-1]):
			t.Note("the whole response in one datagram")
		default:
			t.Mismatch(fmt.Sprintf("the single current SOA (serial %d), or a whole response between copies of it", cur), "%s", summary(m))
		}
	})
})

// checkIncremental checks an incremental IXFR answer rrs from serial from
// to cur (RFC 1995 4): the current SOA first and last, then difference
// sequences whose serials chain from from to cur, each an old SOA, the
// deleted records, a new SOA and the added records; undoing them, newest
// first, from the zone the target transfers now (by AXFR) must find every
// added record present and no deleted record present.
func checkIncremental(t *spec.T, rrs []mdns.RR, from, cur uint32) error {
	type seq struct {
		from, to       uint32
		deleted, added []mdns.RR
	}
	var seqs []seq
	var at *seq
	adding := false
	for _, rr := range rrs[1 : len(rrs)-1] {
		soa, isSOA := rr.(*mdns.SOA)
		switch {
		case isSOA && (at == nil || adding):
			seqs = append(seqs, seq{from: soa.Serial})
			at, adding = &seqs[len(seqs)-1], false
		case isSOA:
			at.to, adding = soa.Serial, true
		case at == nil:
			return spec.Errorf("an SOA opening each difference sequence", "%s before any", rrText(rr))
		case adding:
			at.added = append(at.added, rr)
		default:
			at.deleted = append(at.deleted, rr)
		}
	}
	if len(seqs) == 0 || !adding {
		return spec.Errorf("difference sequences, each with its old and new SOA", "%d sequences, the last one without its new SOA", len(seqs))
	}
	want := from
	for i, s := range seqs {
		if s.from != want {
			return spec.Errorf(fmt.Sprintf("sequence %d starting at serial %d", i+1, want), "it starts at %d", s.from)
		}
		want = s.to
	}
	if want != cur {
		return spec.Errorf(fmt.Sprintf("the last sequence ending at the current serial %d", cur), "it ends at %d", want)
	}
	_, msgs := axfr(t, fixture.Origin)
	zone := map[string]bool{}
	for _, rr := range transferRecords(msgs) {
		if rr.Header().Rrtype != mdns.TypeSOA {
			zone[rrText(rr)] = true
		}
	}
	for i := len(seqs) - 1; i >= 0; i-- {
		s := seqs[i]
		for _, rr := range s.added {
			if !zone[rrText(rr)] {
				return spec.Errorf(fmt.Sprintf("%s, added at serial %d, in the zone of that version", rrText(rr), s.to), "it is not there (undoing the later changes from the zone's AXFR)")
			}
			delete(zone, rrText(rr))
		}
		for _, rr := range s.deleted {
			if zone[rrText(rr)] {
				return spec.Errorf(fmt.Sprintf("%s, deleted at serial %d, absent from the zone of that version", rrText(rr), s.to), "it is still there")
			}
			zone[rrText(rr)] = true
		}
	}
	return nil
}
