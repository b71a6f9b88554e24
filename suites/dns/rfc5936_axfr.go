package dns

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc5936_2_2 = spec.Section("dns", "rfc5936", "2.2", "AXFR Response")
var rfc5936_2_2_1 = spec.Section("dns", "rfc5936", "2.2.1", "Header Values")
var rfc5936_4_1 = spec.Section("dns", "rfc5936", "4.1", "")

// axfr runs a zone transfer on a new connection and returns its messages,
// reading until a message ends with the SOA after the first one, the
// server closes, or an error rcode arrives.
func axfr(t *spec.T, zone string) (*mdns.Msg, []*mdns.Msg) {
	t.Require(FeatureAXFR)
	c := t.Dial(ServiceAuthTCP)
	q := authQuery(zone, mdns.TypeAXFR)
	c.Send(tcpFrame(mustPack(t, q)))
	var msgs []*mdns.Msg
	soas := 0
	for len(msgs) < 1000 {
		b, err := readTCPMsg(c)
		if err != nil {
			if len(msgs) > 0 && spec.IsClosed(err) {
				break
			}
			t.Check(err)
		}
		m := unpack(t, b)
		msgs = append(msgs, m)
		if m.Rcode != mdns.RcodeSuccess {
			break
		}
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == mdns.TypeSOA {
				soas++
			}
		}
		if soas >= 2 {
			break
		}
	}
	return q, msgs
}

func transferRecords(msgs []*mdns.Msg) []mdns.RR {
	var out []mdns.RR
	for _, m := range msgs {
		out = append(out, m.Answer...)
	}
	return out
}

// fixtureRecords is the fixture zone's records in presentation form, sorted.
func fixtureRecords(t *spec.T, z fixture.Zone) []string {
	rrs, err := z.RRs()
	if err != nil {
		t.Failf("spec bug: %v", err)
	}
	var out []string
	seen := map[string]bool{}
	for _, rr := range rrs {
		s := rrText(rr)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// dialFrom opens a TCP connection to a service from a chosen loopback
// source address, through spec.Conn with its transcript, deadlines and
// limits.
func dialFrom(t *spec.T, service, source string) (*spec.Conn, error) {
	return t.TryDialFrom(service, source)
}

// exchangeFrom sends one framed query on c and reads one framed response,
// within the step deadline; nil without error when the server closed or
// stayed silent.
func exchangeFrom(t *spec.T, c *spec.Conn, q *mdns.Msg) (*mdns.Msg, error) {
	defer c.Close()
	if err := c.TrySend(tcpFrame(mustPack(t, q))); err != nil {
		t.Note("send failed: %v", err)
		return nil, nil
	}
	l, err := c.ReadN(2)
	if err != nil {
		t.Note("no response (%v)", err)
		return nil, nil
	}
	b, err := c.ReadN(int(binary.BigEndian.Uint16(l)))
	if err != nil {
		return nil, fmt.Errorf("the response was cut off: %v", err)
	}
	return parse(b)
}

// RFC 5936, DNS zone transfer protocol (AXFR).
var _ = Describe("RFC 5936 AXFR", func() {
	rfc5936_2_2.It("starts-with-soa", spec.MUST, "starts the transfer of test. with its SOA", spec.Quote(`RFC 5936 2.2: "The first message MUST begin with the SOA resource record of the zone".`), func(t *spec.T) {
		_, msgs := axfr(t, fixture.Origin)
		t.Check(checkRcode(msgs[0], mdns.RcodeSuccess))
		rrs := transferRecords(msgs)
		if len(rrs) == 0 || rrs[0].Header().Rrtype != mdns.TypeSOA {
			t.Mismatch("the SOA of test. first", "%s", summary(msgs[0]))
		}
	})

	rfc5936_2_2.It("ends-with-soa", spec.MUST, "ends the transfer of test. with the same SOA", spec.Quote(`RFC 5936 2.2: "the last message MUST conclude with the same SOA resource record".`), func(t *spec.T) {
		_, msgs := axfr(t, fixture.Origin)
		rrs := transferRecords(msgs)
		if len(rrs) < 2 || rrs[len(rrs)-1].Header().Rrtype != mdns.TypeSOA || rrs[len(rrs)-1].String() != rrs[0].String() {
			last := "nothing"
			if len(rrs) > 0 {
				last = rrText(rrs[len(rrs)-1])
			}
			t.Mismatch("the first SOA repeated as the last record", "last record %s", last)
		}
	})

	rfc5936_2_2.It("whole-zone", spec.MUST, "transfers every record of test. and nothing else", spec.Inferred(`RFC 5936 2.2: the transfer holds "the zone's RRs": every record of the zone, once the SOA's repetition is set aside.`, "RFC 5936 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		_, msgs := axfr(t, fixture.Origin)
		rrs := transferRecords(msgs)
		if len(rrs) > 1 {
			rrs = rrs[:len(rrs)-1]
		}
		var got []string
		for _, rr := range rrs {
			got = append(got, rrText(rr))
		}
		sort.Strings(got)
		want := fixtureRecords(t, fixture.Zones[0])
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Check(checkSection("transfer", rrs, want, false))
			t.Mismatch(fmt.Sprintf("%d records", len(want)), "%d records", len(got))
		}
	})

	rfc5936_2_2.It("whole-reverse-zone", spec.MUST, "transfers every record of 0.0.127.in-addr.arpa.", spec.Inferred(`RFC 5936 2.2 (as above), for the reverse zone.`, "RFC 5936 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		_, msgs := axfr(t, fixture.ReverseOrigin)
		rrs := transferRecords(msgs)
		if len(rrs) > 1 {
			rrs = rrs[:len(rrs)-1]
		}
		t.Check(checkSection("transfer", rrs, fixtureRecords(t, fixture.Zones[1]), false))
	})

	rfc5936_2_2_1.It("id-copied", spec.MUST, "copies the query's ID into every message of the transfer", spec.Inferred(`RFC 5936 2.2.1: "ID: Copy from request" (in every message of the response).`, "RFC 5936 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		q, msgs := axfr(t, fixture.Origin)
		for i, m := range msgs {
			if m.Id != q.Id || !m.Response {
				t.Mismatch(fmt.Sprintf("ID %d and QR=1 in message %d", q.Id, i+1), "%s", summary(m))
			}
		}
	})

	rfc5936_2_2_1.It("question-in-first", spec.MUST, "repeats the AXFR question in the first message", spec.Quote(`RFC 5936 2.2.1: "QDCOUNT MUST be 1 in the first message, and MUST be 0 or 1 in all following messages", the question being the query's.`), func(t *spec.T) {
		q, msgs := axfr(t, fixture.Origin)
		t.Check(checkQuestion(q, msgs[0]))
	})

	rfc5936_2_2_1.It("aa-set", spec.MUST, "sets AA in the messages of the transfer", spec.Quote(`RFC 5936 2.2.1, header values of an AXFR response: "If the RCODE is 0 (no error), then the AA bit MUST be 1."`), func(t *spec.T) {
		_, msgs := axfr(t, fixture.Origin)
		t.Check(checkAA(msgs[0], true))
	})

	rfc5936_2_2_1.It("non-apex-refused", spec.MUST, "refuses an AXFR of www.test., which is not a zone", spec.Inferred(`RFC 5936 2.1: the question's name is "the name of the zone requested"; a name that is not the apex of a served zone gets an error (NOTAUTH, REFUSED, FORMERR or SERVFAIL), never records.`, "RFC 5936 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		_, msgs := axfr(t, fixture.NameWWW)
		m := msgs[0]
		if m.Rcode == mdns.RcodeSuccess && len(m.Answer) > 0 {
			t.Mismatch("an error rcode (NOTAUTH, REFUSED, FORMERR) for a name that is not a zone", "%s", summary(m))
		}
		t.Check(checkRcode(m, mdns.RcodeNotAuth, mdns.RcodeRefused, mdns.RcodeFormatError, mdns.RcodeServerFailure))
	})

	rfc5936_2_2_1.It("unknown-zone-refused", spec.MUST, "refuses an AXFR of example.com., a zone it does not serve", spec.Inferred(`RFC 5936 2.2.1: a server not authoritative for the zone answers "NotAuth" or "Refused"; example.com. is not served.`, "RFC 5936 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		_, msgs := axfr(t, "example.com.")
		t.Check(checkRcode(msgs[0], mdns.RcodeNotAuth, mdns.RcodeRefused))
		if len(msgs[0].Answer) > 0 {
			t.Mismatch("no records", "%s", summary(msgs[0]))
		}
	})

	rfc5936_4_1.It("acl-refuses-outsider", spec.MUST, "refuses the transfer of test. to a client its ACL leaves out (127.0.0.66)", spec.Inferred(`RFC 5936 4.1: "A DNS implementation SHOULD provide means to restrict AXFR sessions to specific clients."; a client not allowed gets REFUSED (RFC 5936 2.2.1) or its connection closed, never the zone.`, "RFC 5936 4.1 asks only (SHOULD) for the means to restrict; a server whose ACL is set and that still hands the zone to a client the ACL leaves out breaks its own configuration, which the suite reads as MUST"), func(t *spec.T) {
		t.Require(FeatureAXFRACL)
		c, err := dialFrom(t, ServiceAuthTCP, Outsider)
		if err != nil {
			// Refusing the connection itself keeps the zone private too.
			return
		}
		m, err := exchangeFrom(t, c, authQuery(fixture.Origin, mdns.TypeAXFR))
		t.Check(err)
		if m == nil {
			return // closed without data: refused
		}
		for _, rr := range m.Answer {
			if rr.Header().Rrtype != mdns.TypeSOA || len(m.Answer) > 1 {
				t.Mismatch("REFUSED (or a closed connection) for a client outside the ACL", "%s", summary(m))
			}
		}
		t.Check(checkRcode(m, mdns.RcodeRefused, mdns.RcodeNotAuth))
	})

	rfc5936_4_1.It("acl-allows-permitted", spec.MUST, "transfers test. to a permitted client at 127.0.0.2", spec.Inferred(`RFC 5936 4.1 (as above): the same ACL lets a permitted client (an address of 127.0.0.0/8 other than the outsider) transfer.`, "RFC 5936 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		t.Require(FeatureAXFRACL)
		c, err := dialFrom(t, ServiceAuthTCP, "127.0.0.2")
		t.Check(err)
		m, err := exchangeFrom(t, c, authQuery(fixture.Origin, mdns.TypeAXFR))
		t.Check(err)
		if m == nil {
			t.Mismatch("the transfer", "no response")
		}
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		if len(m.Answer) == 0 || m.Answer[0].Header().Rrtype != mdns.TypeSOA {
			t.Mismatch("the transfer starting with the SOA", "%s", summary(m))
		}
	})
})
