package dns

import (
	"encoding/binary"
	"fmt"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

var rfc1035_4_1_2 = spec.Section("dns", "rfc1035", "4.1.2", "Question section format")
var rfc1035_4_1_4 = spec.Section("dns", "rfc1035", "4.1.4", "Message compression")
var rfc1035_4_2_1 = spec.Section("dns", "rfc1035", "4.2.1", "UDP usage")
var rfc2181_4_1 = spec.Section("dns", "rfc2181", "4.1", "UDP Source Address Selection")

// checkPointers walks a message's names and checks every compression
// pointer points to an earlier offset inside the message (RFC 1035 4.1.4:
// "a pointer to a prior occurance of the same name"). It returns how many
// pointers it saw.
func checkPointers(b []byte) (int, error) {
	n, _, err := walkMessage(b)
	return n, err
}

// walkMessage walks the sections the header's counts announce, checking
// names and pointers; it returns the pointers seen and the offset where
// the last record ends.
func walkMessage(b []byte) (int, int, error) {
	if len(b) < 12 {
		return 0, 0, fmt.Errorf("the response is %d bytes, shorter than a DNS header", len(b))
	}
	counts := []int{int(binary.BigEndian.Uint16(b[4:])), int(binary.BigEndian.Uint16(b[6:])),
		int(binary.BigEndian.Uint16(b[8:])), int(binary.BigEndian.Uint16(b[10:]))}
	off := 12
	pointers := 0
	name := func() error {
		for hops := 0; ; hops++ {
			if off >= len(b) {
				return fmt.Errorf("a name runs past the end of the message at offset %d", off)
			}
			l := int(b[off])
			switch {
			case l == 0:
				off++
				return nil
			case l&0xC0 == 0xC0:
				if off+1 >= len(b) {
					return fmt.Errorf("a pointer is cut off at offset %d", off)
				}
				target := int(binary.BigEndian.Uint16(b[off:]) & 0x3FFF)
				if target >= off {
					return fmt.Errorf("the pointer at offset %d points forward, to offset %d (RFC 1035 4.1.4: pointers refer to a prior occurrence)", off, target)
				}
				pointers++
				off += 2
				return nil
			case l&0xC0 != 0:
				return fmt.Errorf("label type 0x%02x at offset %d is not defined", l&0xC0, off)
			default:
				off += 1 + l
			}
		}
	}
	for i := 0; i < counts[0]; i++ {
		if err := name(); err != nil {
			return pointers, off, err
		}
		off += 4
	}
	for _, n := range counts[1:] {
		for i := 0; i < n; i++ {
			if err := name(); err != nil {
				return pointers, off, err
			}
			if off+10 > len(b) {
				return pointers, off, fmt.Errorf("a record header runs past the end at offset %d", off)
			}
			off += 10 + int(binary.BigEndian.Uint16(b[off+8:]))
		}
	}
	if off > len(b) {
		return pointers, off, fmt.Errorf("the records run past the end of the message (%d > %d bytes)", off, len(b))
	}
	return pointers, off, nil
}

// rawUDP sends q and returns the raw response bytes.
func rawUDP(t *spec.T, service string, q *mdns.Msg) []byte {
	p := t.DialPacket(service)
	b, err := p.Exchange(mustPack(t, q), 65535)
	t.Check(err)
	return b
}

// RFC 1035 4.1, the message format: header fields every response must get
// right.
var _ = Describe("RFC 1035 message header", func() {
	rfc1035_4_1_1.It("id-copied", spec.MUST, "copies the query's ID into the response", spec.Inferred(`RFC 1035 4.1.1: "ID ... This identifier is copied the corresponding reply and can be used by the requester to match up replies to outstanding queries."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.Id = 0xBEEF
		m := udp(t, ServiceAuthUDP, q)
		if m.Id != q.Id {
			t.Mismatch("ID 0xbeef", "ID 0x%04x", m.Id)
		}
	})

	rfc1035_4_1_1.It("id-copied-tcp", spec.MUST, "copies the query's ID into the response over TCP", spec.Inferred(`RFC 1035 4.1.1 (as above), over TCP.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		q.Id = 0x1234
		m := tcp(t, ServiceAuthTCP, q)
		if m.Id != q.Id {
			t.Mismatch("ID 0x1234", "ID 0x%04x", m.Id)
		}
	})

	rfc1035_4_1_1.It("qr-set", spec.MUST, "sets QR in the response", spec.Inferred(`RFC 1035 4.1.1: "QR A one bit field that specifies whether this message is a query (0), or a response (1)."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeA))
		if !m.Response {
			t.Mismatch("QR=1", "%s", summary(m))
		}
	})

	rfc1035_4_1_1.It("opcode-copied", spec.MUST, "copies OPCODE QUERY into the response", spec.Inferred(`RFC 1035 4.1.1: "OPCODE ... This value is set by the originator of a query and copied into the response."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkReplyHeader(q, m))
	})

	rfc1035_4_1_1.It("rd-copied-set", spec.MUST, "copies RD=1 into the response", spec.Inferred(`RFC 1035 4.1.1: "RD Recursion Desired - this bit may be set in a query and is copied into the response."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		q := recQuery(fixture.NameWWW, mdns.TypeA)
		m := udp(t, ServiceAuthUDP, q)
		if !m.RecursionDesired {
			t.Mismatch("RD=1 copied from the query", "%s", summary(m))
		}
	})

	rfc1035_4_1_1.It("rd-copied-clear", spec.MUST, "copies RD=0 into the response", spec.Inferred(`RFC 1035 4.1.1 (as above), for RD=0.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery(fixture.NameWWW, mdns.TypeA)
		m := udp(t, ServiceAuthUDP, q)
		if m.RecursionDesired {
			t.Mismatch("RD=0 copied from the query", "%s", summary(m))
		}
	})

	rfc1035_4_1_1.It("z-zero", spec.MUST, "keeps the Z bit zero in the response", spec.Inferred(`RFC 1035 4.1.1: "Z Reserved for future use. Must be zero in all queries and responses."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, authQuery(fixture.NameWWW, mdns.TypeA))
		if len(b) < 4 || b[3]&0x40 != 0 {
			t.Mismatch("Z=0 (bit 0x40 of the fourth header byte)", "header %s", spec.Excerpt(b[:min(len(b), 12)], 40))
		}
	})

	rfc1035_4_1_1.It("ra-matches-no-recursion", spec.SHOULD, "does not claim recursion (RA=0) while refusing names outside its zones", spec.Inferred(`RFC 1035 4.1.1: "RA Recursion Available - this be is set or cleared in a response, and denotes whether recursive query support is available in the name server." An authoritative-only server offers no recursion, so RA=1 on a refusal would claim what it does not do.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, recQuery("www.example.com.", mdns.TypeA))
		if m.RecursionAvailable && len(m.Answer) == 0 {
			t.Mismatch("RA=0 from a server that does not recurse", "%s", summary(m))
		}
	})

	rfc1035_4_1_2.It("question-copied", spec.MUST, "repeats the question in the response", spec.Inferred(`RFC 1035 4.1: the question section carries "the question for the name server"; responses repeat it (RFC 1035 7.3: resolvers match the question of the response with the query).`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		q := authQuery(fixture.NameTXT, mdns.TypeTXT)
		m := udp(t, ServiceAuthUDP, q)
		t.Check(checkQuestion(q, m))
	})

	rfc1035_4_1_1.It("counts-match-sections", spec.MUST, "sends a response whose counts match its sections, with nothing after them", spec.Inferred(`RFC 1035 4.1.1: "QDCOUNT ... ANCOUNT ... NSCOUNT ... ARCOUNT an unsigned 16 bit integer specifying the number of resource records in the ... section": the counts describe the sections exactly.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, authQuery(fixture.NameApex, mdns.TypeMX))
		_, end, err := walkMessage(b)
		t.Check(err)
		unpack(t, b)
		if end != len(b) {
			t.Mismatch(fmt.Sprintf("the response to end where its last counted record ends, at byte %d", end), "%d bytes", len(b))
		}
	})

	rfc1035_4_1_4.It("pointers-point-backwards", spec.MUST, "uses only compression pointers to earlier offsets", spec.Inferred(`RFC 1035 4.1.4: "The OFFSET field specifies an offset from the start of the message"; the name is replaced "with a pointer to a prior occurance of the same name."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		for _, q := range []*mdns.Msg{authQuery(fixture.NameApex, mdns.TypeMX), authQuery(fixture.NameChain, mdns.TypeA), authQuery(fixture.NameBelowCut, mdns.TypeA)} {
			b := rawUDP(t, ServiceAuthUDP, q)
			_, err := checkPointers(b)
			t.Check(err)
			unpack(t, b)
		}
	})

	rfc1035_4_1_4.It("compression-used", spec.MAY, "compresses repeated names in a response", spec.Inferred(`RFC 1035 4.1.4: "In order to reduce the size of messages, the domain system utilizes a compression scheme ... Programs are free to avoid using pointers in messages they generate".`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, authQuery(fixture.NameChain, mdns.TypeA))
		n, err := checkPointers(b)
		t.Check(err)
		if n == 0 {
			t.Mismatch("compression pointers in a response repeating chain2.test., chain3.test. and www.test.", "no pointer in %d bytes", len(b))
		}
	})

	rfc1035_4_2_1.It("udp-512-limit", spec.MUST, "keeps a UDP response without EDNS within 512 bytes", spec.Inferred(`RFC 1035 4.2.1: "Messages carried by UDP are restricted to 512 bytes (not counting the IP or UDP headers). Longer messages are truncated and the TC bit is set in the header."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		b := rawUDP(t, ServiceAuthUDP, authQuery(fixture.NameBig, mdns.TypeTXT))
		if len(b) > 512 {
			t.Mismatch("at most 512 bytes", "%d bytes", len(b))
		}
	})

	rfc1035_4_2_1.It("tc-on-truncation", spec.MUST, "sets TC when big.test. TXT does not fit in 512 bytes", spec.Inferred(`RFC 1035 4.2.1 (as above): "Longer messages are truncated and the TC bit is set in the header."`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		m := unpack(t, rawUDP(t, ServiceAuthUDP, authQuery(fixture.NameBig, mdns.TypeTXT)))
		if !m.Truncated {
			t.Mismatch(fmt.Sprintf("TC=1 for an answer of more than %d bytes", fixture.BigTXTMinBytes), "%s", summary(m))
		}
	})

	rfc1035_4_2_1.It("no-tc-when-fits", spec.MUST, "does not set TC on an answer that fits in 512 bytes", spec.Inferred(`RFC 1035 4.2.1 (as above): an answer that fits is not truncated.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		m := udp(t, ServiceAuthUDP, authQuery(fixture.NameTXT, mdns.TypeTXT))
		if m.Truncated {
			t.Mismatch("TC=0", "%s", summary(m))
		}
	})

	rfc1035_4_2_1.It("several-queries-one-socket", spec.MUST, "answers four queries sent at once from one socket, each once", spec.Inferred(`RFC 1035 4.2.1: "UDP ... Queries or their responses may be reordered" but each is answered: several queries on one socket get one response each, matched by ID.`, "RFC 1035 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket(ServiceAuthUDP)
		want := map[uint16]string{}
		for _, n := range []string{fixture.NameWWW, fixture.NameMail, fixture.NameNS, fixture.NameTXT} {
			q := authQuery(n, mdns.TypeA)
			want[q.Id] = n
			p.Send(mustPack(t, q))
		}
		for range 4 {
			b, err := p.Reply(65535)
			t.Check(err)
			m := unpack(t, b)
			n, ok := want[m.Id]
			if !ok {
				t.Mismatch("one response per query, matched by ID", "unexpected or repeated %s", summary(m))
			}
			delete(want, m.Id)
			if len(m.Question) != 1 || m.Question[0].Name != n {
				t.Mismatch(fmt.Sprintf("the response with ID %d to be about %s", m.Id, n), "%s", summary(m))
			}
		}
	})

	rfc2181_4_1.It("reply-from-queried-address", spec.MUST, "replies from the address and port the query was sent to", spec.Inferred(`RFC 2181 4.1: "servers when responding to queries using UDP must cause the reply to be sent with the source address field in the IP header set to the address that was in the destination address field of the IP header of the packet containing the query causing the response."; RFC 2181 4.2: "Replies to all queries must be directed to the port from which they were sent."`, "RFC 2181 words it in lower case; MUST is the suite's reading of it"), func(t *spec.T) {
		p := t.DialPacket(ServiceAuthUDP)
		_, err := p.Exchange(mustPack(t, authQuery(fixture.NameWWW, mdns.TypeA)), 65535)
		t.Check(err)
	})
})
