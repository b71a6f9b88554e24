package dns

import (
	"fmt"
	"time"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc1035_4_2_2 = spec.Section("dns", "rfc1035", "4.2.2", "TCP usage")
var rfc7766_6_2_1 = spec.Section("dns", "rfc7766", "6.2.1", "Connection Reuse")
var rfc7766_6_2_1_1 = spec.Section("dns", "rfc7766", "6.2.1.1", "Query Pipelining")
var rfc7766_8 = spec.Section("dns", "rfc7766", "8", "TCP Message Length Field")
var rfc7766_6_2_2 = spec.Section("dns", "rfc7766", "6.2.2", "Concurrent Connections")
var rfc7766_6_2_3 = spec.Section("dns", "rfc7766", "6.2.3", "Idle Timeouts")

// readResponses reads n length-prefixed responses on c and matches each
// to a query by ID and question (RFC 7766 7: "clients MUST match responses
// to outstanding queries on the same TCP connection using the Message ID
// ... the client MUST match the QNAME, QCLASS, and QTYPE fields").
func readResponses(t *spec.T, c *spec.Conn, qs []*mdns.Msg) map[uint16]*mdns.Msg {
	byID := map[uint16]*mdns.Msg{}
	for _, q := range qs {
		byID[q.Id] = q
	}
	got := map[uint16]*mdns.Msg{}
	for range qs {
		b, err := readTCPMsg(c)
		t.Check(err)
		m := unpack(t, b)
		q, ok := byID[m.Id]
		if !ok || got[m.Id] != nil {
			t.Mismatch("one response per query, matched by ID", "unexpected or repeated %s", summary(m))
		}
		t.Check(checkQuestion(q, m))
		got[m.Id] = m
	}
	return got
}

// RFC 7766, DNS transport over TCP, and RFC 1035 4.2.2.
var _ = Describe("RFC 7766 DNS over TCP", func() {
	rfc7766_5.It("tcp-full-answer", spec.MUST, "answers big.test. TXT over TCP with all 12 records, TC=0", spec.Quote(`RFC 7766 5: "Authoritative server implementations MUST support TCP so that they do not limit the size of responses to what fits in a single UDP packet."`), func(t *spec.T) {
		q := authQuery(fixture.NameBig, mdns.TypeTXT)
		m := tcp(t, ServiceAuthTCP, q)
		t.Check(checkRcode(m, mdns.RcodeSuccess))
		if m.Truncated || len(m.Answer) != fixture.BigTXTCount {
			t.Mismatch(fmt.Sprintf("%d TXT records and TC=0 over TCP", fixture.BigTXTCount), "%s", summary(m))
		}
	})

	rfc1035_4_2_2.It("length-prefix", spec.MUST, "prefixes its TCP response with the response's exact length", spec.Inferred(`RFC 1035 4.2.2: "The message is prefixed with a two byte length field which gives the message length, excluding the two byte length field."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial(ServiceAuthTCP)
		c.Send(tcpFrame(mustPack(t, authQuery(fixture.NameWWW, mdns.TypeA))))
		b, err := readTCPMsg(c)
		t.Check(err)
		unpack(t, b)
		extra, _, err := c.ReadFor(c.Scaled(200*time.Millisecond), 4096)
		t.Check(err)
		if len(extra) > 0 {
			t.Mismatch("nothing after the response the length announced", "%d more bytes: %s", len(extra), spec.Excerpt(extra, 80))
		}
	})

	rfc7766_6_2_1.It("connection-reuse", spec.SHOULD, "answers a second query sent on the same connection after the first answer", spec.Quote(`RFC 7766 6.2.1: "To amortise connection setup costs, both clients and servers SHOULD support connection reuse by sending multiple queries and responses over a single persistent TCP connection."; the connection stays open after the first response.`), func(t *spec.T) {
		c := t.Dial(ServiceAuthTCP)
		m := tcpOn(t, c, authQuery(fixture.NameWWW, mdns.TypeA))
		t.Check(answersWWW(m))
		q := authQuery(fixture.NameMail, mdns.TypeA)
		m = tcpOn(t, c, q)
		t.Check(checkAddrs(m, fixture.NameMail, fixture.AddrMail))
	})

	rfc7766_6_2_1_1.It("pipelined-queries", spec.SHOULD, "answers three queries sent in one write on one connection", spec.Quote(`RFC 7766 6.2.1.1: "DNS clients SHOULD pipeline their queries and DNS servers SHOULD process pipelined queries concurrently" (Appendix B); each pipelined query gets its response, in any order (section 7).`), func(t *spec.T) {
		t.Require(FeaturePipelining)
		c := t.Dial(ServiceAuthTCP)
		qs := []*mdns.Msg{authQuery(fixture.NameWWW, mdns.TypeA), authQuery(fixture.NameMail, mdns.TypeA), authQuery(fixture.NameTXT, mdns.TypeTXT)}
		var all []byte
		for _, q := range qs {
			all = append(all, tcpFrame(mustPack(t, q))...)
		}
		c.Send(all)
		got := readResponses(t, c, qs)
		t.Check(answersWWW(got[qs[0].Id]))
		t.Check(checkAddrs(got[qs[1].Id], fixture.NameMail, fixture.AddrMail))
	})

	rfc7766_6_2_1_1.It("pipelined-mixed", spec.SHOULD, "answers pipelined NXDOMAIN, NODATA and large queries, each matched by ID", spec.Inferred(`RFC 7766 6.2.1.1 (as above), with a mix of answers, a negative one and a large one among them.`, "RFC 7766 states it without an RFC 2119 key word; SHOULD is the suite's reading of it"), func(t *spec.T) {
		t.Require(FeaturePipelining)
		c := t.Dial(ServiceAuthTCP)
		qs := []*mdns.Msg{authQuery(fixture.NameMissing, mdns.TypeA), authQuery(fixture.NameWWW, mdns.TypeMX), authQuery(fixture.NameBig, mdns.TypeTXT), authQuery(fixture.NameAlias, mdns.TypeA)}
		var all []byte
		for _, q := range qs {
			all = append(all, tcpFrame(mustPack(t, q))...)
		}
		c.Send(all)
		got := readResponses(t, c, qs)
		t.Check(checkRcode(got[qs[0].Id], mdns.RcodeNameError))
		t.Check(checkRcode(got[qs[1].Id], mdns.RcodeSuccess))
		if n := len(got[qs[2].Id].Answer); n != fixture.BigTXTCount {
			t.Mismatch(fmt.Sprintf("%d TXT records for big.test.", fixture.BigTXTCount), "%s", summary(got[qs[2].Id]))
		}
	})

	rfc7766_8.It("length-and-message-apart", spec.MUST, "answers when the length prefix and the message arrive in separate segments", spec.Inferred(`RFC 7766 8: senders "SHOULD pass the two-octet length field, and the message described by that length field, to the TCP layer at the same time", because receivers have been seen to fail otherwise; TCP is a byte stream (RFC 793), so a server must still read a length and a message that arrive apart.`, "RFC 7766 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		c := t.Dial(ServiceAuthTCP)
		frame := tcpFrame(mustPack(t, authQuery(fixture.NameWWW, mdns.TypeA)))
		c.Send(frame[:2])
		time.Sleep(100 * time.Millisecond)
		c.Send(frame[2:])
		b, err := readTCPMsg(c)
		t.Check(err)
		t.Check(answersWWW(unpack(t, b)))
	})

	rfc7766_8.It("message-in-pieces", spec.MUST, "answers a query sent in five pieces", spec.Inferred(`RFC 7766 8 (as above), a message dribbled a few bytes at a time.`, "RFC 7766 states it without an RFC 2119 key word; MUST is the suite's reading of it"), func(t *spec.T) {
		c := t.Dial(ServiceAuthTCP)
		frame := tcpFrame(mustPack(t, authQuery(fixture.NameWWW, mdns.TypeA)))
		step := (len(frame) + 4) / 5
		for i := 0; i < len(frame); i += step {
			c.Send(frame[i:min(i+step, len(frame))])
			time.Sleep(30 * time.Millisecond)
		}
		b, err := readTCPMsg(c)
		t.Check(err)
		t.Check(answersWWW(unpack(t, b)))
	})

	rfc7766_6_2_2.It("concurrent-connections", spec.SHOULD, "answers on two open connections, the second first", spec.Quote(`Similarly, servers MAY impose limits on the number of concurrent TCP connections being handled for any particular client IP address or subnet. These limits SHOULD be much looser than the client guidelines above, because the server does not know, for example, if a client IP address belongs to a single client, is multiple resolvers on a single machine, or is multiple clients behind a device performing Network Address Translation (NAT).`), func(t *spec.T) {
		a, b := t.Dial(ServiceAuthTCP), t.Dial(ServiceAuthTCP)
		t.Check(answersWWW(tcpOn(t, b, authQuery(fixture.NameWWW, mdns.TypeA))))
		t.Check(answersWWW(tcpOn(t, a, authQuery(fixture.NameWWW, mdns.TypeA))))
	})

	rfc7766_6_2_3.It("answer-after-half-close", spec.SHOULD, "answers a query whose client half-closed right after sending it", spec.Inferred(`RFC 7766 6.2.3 / RFC 1035 4.2.2: the server may close a connection but must not break the answers it owes: a client that half-closes after its query still gets the answer.`, "RFC 7766 words it in lower case; SHOULD is the suite's reading of it"), func(t *spec.T) {
		c := t.Dial(ServiceAuthTCP)
		c.Send(tcpFrame(mustPack(t, authQuery(fixture.NameWWW, mdns.TypeA))))
		t.Check(c.CloseWrite())
		b, err := readTCPMsg(c)
		t.Check(err)
		t.Check(answersWWW(unpack(t, b)))
	})

	rfc1035_4_2_2.It("two-messages-one-segment", spec.MUST, "answers both of two queries sent in one segment", spec.Inferred(`RFC 1035 4.2.2 / RFC 7766 8 (as above): several queries in one segment are several messages, each with its own length.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial(ServiceAuthTCP)
		qs := []*mdns.Msg{authQuery(fixture.NameWWW, mdns.TypeA), authQuery(fixture.NameWWW, mdns.TypeAAAA)}
		c.Send(append(tcpFrame(mustPack(t, qs[0])), tcpFrame(mustPack(t, qs[1]))...))
		readResponses(t, c, qs)
	})
})
