package dns

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	mdns "github.com/miekg/dns"
)

// randomID returns a fresh transaction ID from crypto/rand (RFC 5452 4.3:
// the ID must be unpredictable).
func randomID() uint16 {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint16(time.Now().UnixNano())
	}
	return binary.BigEndian.Uint16(b[:])
}

// randomCase applies DNS 0x20 (draft-vixie-dnsext-dns0x20): each ASCII
// letter of name gets a random case, adding entropy a spoofer must guess.
func randomCase(name string) string {
	b := []byte(name)
	rnd := make([]byte, len(b))
	if _, err := rand.Read(rnd); err != nil {
		return name
	}
	for i, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			if rnd[i]&1 == 1 {
				b[i] = c | 0x20
			} else {
				b[i] = c &^ 0x20
			}
		}
	}
	return string(b)
}

// acceptable reports whether resp answers q: RFC 5452 9.1: "accept ... only
// if the answer matches ... the ID, the question section, ..."; with 0x20 the
// question's case must match byte for byte.
func acceptable(q, resp *mdns.Msg) bool {
	return resp.Response && resp.Id == q.Id && resp.Opcode == q.Opcode &&
		len(resp.Question) == 1 &&
		resp.Question[0].Name == q.Question[0].Name &&
		resp.Question[0].Qtype == q.Question[0].Qtype &&
		resp.Question[0].Qclass == q.Question[0].Qclass
}

// exchange sends one iterative query (RD=0) for qname/qtype to server, with
// a fresh random ID, a fresh random source port, and 0x20 case, and returns
// the first answer that passes every check. A truncated UDP answer is
// retried over TCP (RFC 7766 5); a FORMERR without OPT is retried without
// EDNS (RFC 6891 7).
func (r *Resolver) exchange(ctx context.Context, server netip.AddrPort, qname string, qtype uint16) (*mdns.Msg, error) {
	if !server.Addr().IsLoopback() {
		return nil, ErrUpstreamNotLoopback
	}
	for _, edns := range []bool{true, false} {
		m := new(mdns.Msg)
		m.Id = randomID()
		m.Question = []mdns.Question{{Name: randomCase(qname), Qtype: qtype, Qclass: mdns.ClassINET}}
		if edns {
			m.SetEdns0(r.ednsSize(), false)
			r.cookies.withCookie(m, server.Addr())
		}
		resp, err := r.exchangeUDP(ctx, server, m)
		if err != nil {
			return nil, err
		}
		if edns && resp.Rcode == mdns.RcodeBadCookie {
			// RFC 7873 5.3: retry once with the server cookie just
			// learnt (exchangeUDP remembered it).
			m.Id = randomID()
			r.cookies.withCookie(m, server.Addr())
			if resp, err = r.exchangeUDP(ctx, server, m); err != nil {
				return nil, err
			}
		}
		if resp.Truncated {
			m.Id = randomID()
			resp, err = r.exchangeTCP(ctx, server, m)
			if err != nil {
				return nil, err
			}
		}
		if edns && resp.Rcode == mdns.RcodeFormatError && resp.IsEdns0() == nil {
			continue
		}
		return resp, nil
	}
	return nil, ErrNoAnswer
}

func (r *Resolver) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(r.timeout())
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// exchangeUDP uses a new socket per query, so each query has a fresh
// kernel-chosen random source port (RFC 5452 9.2), and reads until an
// acceptable answer or the deadline: datagrams from another address or port,
// unparsable ones and mismatching ones are discarded, not fatal, so a
// spoofer cannot make the real answer be ignored.
func (r *Resolver) exchangeUDP(ctx context.Context, server netip.AddrPort, m *mdns.Msg) (*mdns.Msg, error) {
	out, err := m.Pack()
	if err != nil {
		return nil, err
	}
	local := netip.AddrPortFrom(netip.IPv6Loopback(), r.SourcePort)
	if server.Addr().Unmap().Is4() {
		local = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), r.SourcePort)
	}
	if r.SourcePort != 0 {
		r.fixedPort.Lock()
		defer r.fixedPort.Unlock()
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	server = normalize(server)
	_ = conn.SetDeadline(r.deadline(ctx))
	if _, err := conn.WriteToUDPAddrPort(out, server); err != nil {
		return nil, err
	}
	buf := make([]byte, maxDNSMessage)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, ErrNoAnswer
			}
			return nil, err
		}
		// RFC 5452 9.1: only answers from the address and port queried.
		if normalize(from) != server {
			continue
		}
		resp := new(mdns.Msg)
		if resp.Unpack(buf[:n]) != nil || !acceptable(m, resp) || !r.cookies.check(server.Addr(), resp) {
			continue
		}
		return resp, nil
	}
}

// exchangeTCP sends m over a new TCP connection with a 2-byte length
// prefix and reads one acceptable answer (RFC 1035 4.2.2).
func (r *Resolver) exchangeTCP(ctx context.Context, server netip.AddrPort, m *mdns.Msg) (*mdns.Msg, error) {
	out, err := m.Pack()
	if err != nil {
		return nil, err
	}
	dl := r.deadline(ctx)
	d := net.Dialer{Deadline: dl}
	conn, err := d.DialContext(ctx, "tcp", normalize(server).String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(dl)
	frame := make([]byte, 2+len(out))
	binary.BigEndian.PutUint16(frame, uint16(len(out)))
	copy(frame[2:], out)
	if _, err := conn.Write(frame); err != nil {
		return nil, err
	}
	for range 4 {
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return nil, ErrNoAnswer
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, b); err != nil {
			return nil, ErrNoAnswer
		}
		resp := new(mdns.Msg)
		if resp.Unpack(b) == nil && acceptable(m, resp) && r.cookies.check(server.Addr(), resp) {
			return resp, nil
		}
	}
	return nil, ErrNoAnswer
}
