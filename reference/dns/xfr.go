package dns

import (
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// xfrChunk is the size an AXFR message is filled to before starting the next.
const xfrChunk = 16 * 1024

// transfer answers AXFR and IXFR queries (RFC 5936, RFC 1995).
func (s *AuthServer) transfer(q *query, client netip.Addr, tcp bool) [][]byte {
	resp := replyTo(q.msg)
	qq := q.msg.Question[0]
	one := func() [][]byte {
		if q.opt != nil {
			addOPTNSID(resp, q.opt, s.ednsSize(), s.NSID)
		}
		limit := maxDNSMessage
		if !tcp {
			limit = q.udpLimit
		}
		out, err := pack(resp, limit, false)
		if err != nil {
			return nil
		}
		return [][]byte{out}
	}
	// RFC 5936 4.2: "AXFR sessions over UDP transport are not defined";
	// we answer FORMERR.
	if qq.Qtype == mdns.TypeAXFR && !tcp {
		resp.Rcode = mdns.RcodeFormatError
		return one()
	}
	if qq.Qclass != mdns.ClassINET {
		resp.Rcode = mdns.RcodeRefused
		return one()
	}
	name := strings.ToLower(qq.Name)
	z := s.zoneFor(name)
	if z == nil {
		resp.Rcode = mdns.RcodeRefused
		return one()
	}
	// RFC 5936 2.2.1: a server not authoritative for the zone named in the
	// question answers NotAuth.
	if z.Origin != name {
		resp.Rcode = mdns.RcodeNotAuth
		return one()
	}
	// RFC 5936 4.1: servers restrict transfers by client address; others
	// are REFUSED.
	if !s.transferAllowed(client) {
		resp.Rcode = mdns.RcodeRefused
		return one()
	}
	resp.Authoritative = true
	// RFC 1995 2: an IXFR over UDP whose answer does not fit is answered
	// with the single current SOA, telling the client to use TCP.
	if qq.Qtype == mdns.TypeIXFR && !tcp {
		resp.Answer = []mdns.RR{withOwner([]mdns.RR{z.SOA}, qq.Name)[0]}
		return one()
	}
	// RFC 1995 2: "If an IXFR query with the same or newer version number
	// than that of the server is received, it is replied to with a single
	// SOA record of the server's current version."
	if qq.Qtype == mdns.TypeIXFR && clientUpToDate(q.msg, z.SOA) {
		resp.Answer = []mdns.RR{withOwner([]mdns.RR{z.SOA}, qq.Name)[0]}
		return one()
	}
	// RFC 5936 2.2: the answer starts and ends with the zone's SOA, the
	// records split over as many messages as needed. IXFR falls back to a
	// full transfer (RFC 1995 4).
	rrs := append(append([]mdns.RR(nil), z.Records()...), z.SOA)
	if qq.Qtype == mdns.TypeIXFR {
		if serial, ok := clientSerial(q.msg, z.SOA); ok {
			if inc := z.incremental(serial); inc != nil {
				rrs = inc
			}
		}
	}
	var outs [][]byte
	cur := replyTo(q.msg)
	cur.Authoritative = true
	cur.Compress = true
	flush := func() bool {
		if q.opt != nil && len(outs) == 0 {
			addOPT(cur, q.opt, s.ednsSize())
		}
		b, err := cur.Pack()
		if err != nil {
			return false
		}
		outs = append(outs, b)
		cur = replyTo(q.msg)
		cur.Authoritative = true
		cur.Compress = true
		return true
	}
	for _, rr := range rrs {
		cur.Answer = append(cur.Answer, rr)
		if len(cur.Answer) > 1 && cur.Len() > xfrChunk {
			cur.Answer = cur.Answer[:len(cur.Answer)-1]
			if !flush() {
				return nil
			}
			cur.Answer = append(cur.Answer, rr)
		}
	}
	if !flush() {
		return nil
	}
	return outs
}

// clientUpToDate reports whether an IXFR query's authority section holds
// an SOA of the zone whose serial is the current one or newer in serial
// number arithmetic (RFC 1982 3.2).
func clientUpToDate(m *mdns.Msg, current *mdns.SOA) bool {
	serial, ok := clientSerial(m, current)
	return ok && (serial == current.Serial || int32(serial-current.Serial) > 0)
}

// clientSerial is the serial of the SOA of the zone in an IXFR query's
// authority section (RFC 1995 3).
func clientSerial(m *mdns.Msg, current *mdns.SOA) (uint32, bool) {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*mdns.SOA); ok && strings.EqualFold(soa.Hdr.Name, current.Hdr.Name) {
			return soa.Serial, true
		}
	}
	return 0, false
}
