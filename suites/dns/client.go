package dns

import (
	"encoding/binary"
	"fmt"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/suites/spec"
)

// The client side of the specs: queries built with miekg/dns (or by hand),
// sent over the spec's own sockets so every byte is in the transcript.

// query builds a query for name/qtype with a random ID; rd sets RD.
func query(name string, qtype uint16, rd bool) *mdns.Msg {
	m := new(mdns.Msg)
	m.Id = mdns.Id()
	m.RecursionDesired = rd
	m.Question = []mdns.Question{{Name: mdns.Fqdn(name), Qtype: qtype, Qclass: mdns.ClassINET}}
	return m
}

// authQuery is a non-recursive query, as a resolver sends to an
// authoritative server.
func authQuery(name string, qtype uint16) *mdns.Msg { return query(name, qtype, false) }

// recQuery is a recursive query, as a stub sends to a resolver.
func recQuery(name string, qtype uint16) *mdns.Msg { return query(name, qtype, true) }

// withEDNS adds an OPT record advertising size.
func withEDNS(m *mdns.Msg, size uint16) *mdns.Msg {
	m.SetEdns0(size, false)
	return m
}

func mustPack(t *spec.T, m *mdns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Failf("spec bug: cannot pack the query: %v", err)
	}
	return b
}

// unpack parses a response, failing the spec with the bytes when it cannot.
func unpack(t *spec.T, b []byte) *mdns.Msg {
	m, err := parse(b)
	t.Check(err)
	return m
}

func parse(b []byte) (*mdns.Msg, error) {
	m := new(mdns.Msg)
	if err := m.Unpack(b); err != nil {
		return nil, fmt.Errorf("the response does not parse as a DNS message (%v): %s (%d bytes)", err, spec.Excerpt(b, 120), len(b))
	}
	return m, nil
}

// udp sends q to a UDP service and returns the parsed response, retrying
// when it goes unanswered.
func udp(t *spec.T, service string, q *mdns.Msg) *mdns.Msg {
	p := t.DialPacket(service)
	return udpOn(t, p, q)
}

func udpOn(t *spec.T, p *spec.PacketConn, q *mdns.Msg) *mdns.Msg {
	b, err := p.Exchange(mustPack(t, q), 65535)
	t.Check(err)
	m := unpack(t, b)
	if m.Id != q.Id {
		// A stray answer to an earlier retransmission: wait for ours.
		for range 3 {
			b, err = p.Reply(65535)
			t.Check(err)
			m = unpack(t, b)
			if m.Id == q.Id {
				break
			}
		}
	}
	return m
}

// tcpFrame prefixes a message with its two-byte length (RFC 1035 4.2.2).
func tcpFrame(b []byte) []byte {
	out := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(out, uint16(len(b)))
	copy(out[2:], b)
	return out
}

// readTCPMsg reads one length-prefixed message.
func readTCPMsg(c *spec.Conn) ([]byte, error) {
	l, err := c.ReadN(2)
	if err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(l))
	if n == 0 {
		return nil, fmt.Errorf("the server sent a zero length prefix")
	}
	return c.ReadN(n)
}

// tcp sends q on a new TCP connection and returns the parsed response.
func tcp(t *spec.T, service string, q *mdns.Msg) *mdns.Msg {
	c := t.Dial(service)
	return tcpOn(t, c, q)
}

func tcpOn(t *spec.T, c *spec.Conn, q *mdns.Msg) *mdns.Msg {
	c.Send(tcpFrame(mustPack(t, q)))
	b, err := readTCPMsg(c)
	t.Check(err)
	return unpack(t, b)
}

// ask sends q over the service's transport (…/udp or …/tcp).
func ask(t *spec.T, service string, q *mdns.Msg) *mdns.Msg {
	if t.Endpoint(service).Network == "tcp" {
		return tcp(t, service, q)
	}
	return udp(t, service, q)
}

// rawReaction is what a server did with a malformed UDP message: the
// response to it, if one came before the answer to a valid probe sent
// right after it (which proves the server is still serving).
type rawReaction struct {
	resp  []byte
	probe *mdns.Msg
}

// sendMalformedUDP sends raw bytes (whose first two bytes, if any, are its
// ID) then a valid probe query, and reads until the probe is answered.
func sendMalformedUDP(t *spec.T, service string, raw []byte) rawReaction {
	p := t.DialPacket(service)
	p.Send(raw)
	probe := authQuery("www.test.", mdns.TypeA)
	if service == ServiceResolverUDP {
		probe = recQuery("www.test.", mdns.TypeA)
	}
	for probe.Id == 0 || (len(raw) >= 2 && probe.Id == binary.BigEndian.Uint16(raw)) {
		probe.Id = mdns.Id()
	}
	time.Sleep(50 * time.Millisecond)
	var r rawReaction
	pb := mustPack(t, probe)
	for try := 0; try < spec.Retransmits; try++ {
		p.Send(pb)
		for range 4 {
			b, err := p.Reply(65535)
			if spec.IsTimeout(err) {
				break
			}
			t.Check(err)
			if len(b) >= 2 && binary.BigEndian.Uint16(b) == probe.Id {
				if m, err := parse(b); err == nil && m.Response {
					r.probe = m
					return r
				}
			}
			if r.resp == nil {
				r.resp = b
			}
		}
	}
	t.Failf("the server stopped answering: after the malformed message %s it did not answer a valid query for www.test. A",
		spec.Excerpt(raw, 80))
	return r
}

// checkFormerrOrDrop accepts silence or FORMERR (with the query's ID) as
// the reaction to a malformed query; anything else that parses is wrong.
func checkFormerrOrDrop(raw []byte, r rawReaction, also ...int) error {
	if r.resp == nil {
		return nil
	}
	m, err := parse(r.resp)
	if err != nil {
		return err
	}
	if len(raw) >= 2 && m.Id != binary.BigEndian.Uint16(raw) {
		return spec.Errorf("silence or FORMERR carrying the query's ID", "%s", summary(m))
	}
	return checkRcode(m, append([]int{mdns.RcodeFormatError}, also...)...)
}

// header builds a raw 12-byte DNS header.
func header(id uint16, flags uint16, qd, an, ns, ar uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], id)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], qd)
	binary.BigEndian.PutUint16(b[6:], an)
	binary.BigEndian.PutUint16(b[8:], ns)
	binary.BigEndian.PutUint16(b[10:], ar)
	return b
}

// wireName encodes labels as a name in wire format, uncompressed.
func wireName(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// question appends a question's type and class to a wire name.
func question(name []byte, qtype, qclass uint16) []byte {
	b := append([]byte(nil), name...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, qclass)
}
