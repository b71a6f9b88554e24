package dns

import (
	"log"
	"net"
	"net/netip"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// maxChain bounds the CNAME links followed inside a zone, against loops.
const maxChain = 16

// AuthServer is an authoritative-only DNS server for a set of zones
// (RFC 1034/1035, RFC 2181, RFC 2308, RFC 6891, RFC 7766, RFC 8906). It
// runs its own UDP and TCP loops so limits and pipelining are under its
// control; miekg/dns only packs and unpacks messages.
//
// Example:
//
//	z, _ := dns.LoadZone("test.", strings.NewReader(zoneText))
//	s := &dns.AuthServer{Zones: []*dns.Zone{z}}
//	pc, _ := net.ListenPacket("udp", "127.0.0.1:5300")
//	go s.ServeUDP(pc)
//	defer s.Close()
type AuthServer struct {
	// Zones are the zones served; the longest matching origin wins. They
	// must not change once serving has started.
	Zones []*Zone
	// AllowTransfer lists the clients allowed to AXFR/IXFR; empty = none.
	AllowTransfer []netip.Prefix
	// MaxTCPConns bounds concurrent TCP connections (DefaultMaxTCPConns).
	MaxTCPConns int
	// TCPIdleTimeout closes idle TCP connections (DefaultTCPIdleTimeout).
	TCPIdleTimeout time.Duration
	// MaxTCPConnsPerClient bounds the concurrent TCP connections of one
	// client address (DefaultMaxTCPConnsPerClient).
	MaxTCPConnsPerClient int
	// TCPMaxLifetime bounds how long one TCP connection is served, however
	// busy (DefaultTCPMaxLifetime).
	TCPMaxLifetime time.Duration
	// EDNSSize is the UDP payload size advertised and used as our own
	// maximum (DefaultEDNSSize); at least 512.
	EDNSSize uint16
	// RateLimit is the number of UDP responses per second per client
	// address; 0 (the default) turns response rate limiting off.
	RateLimit int
	// NoCookies turns server cookies (RFC 7873) off: a COOKIE option is
	// then ignored like any option not understood (RFC 6891 6.1.2).
	NoCookies bool
	// NSID, when set, is the name server identifier returned to a query
	// that asks for it (RFC 5001 2.2); empty turns NSID off.
	NSID []byte
	// UDPWorkers is the number of goroutines reading each UDP socket
	// (default 1, as nsd's server-count). On two cores shared with the
	// load generator one worker answered 125k queries/s and two 116k;
	// raise it where cores are to spare.
	UDPWorkers int
	// AccessLog, if set, gets one line per query: client, transport,
	// qname, qtype and rcode.
	AccessLog *log.Logger
	// TSIGKeys maps lower-case key names (FQDN) to base64 hmac-sha256
	// secrets (RFC 8945); a signed query is verified and answered signed.
	TSIGKeys map[string]string

	cookies cookieJar
	core    serveCore
	rl      rateLimiter
	cache   packetCache
}

// ServeUDP answers queries arriving on pc until Close.
// Answers are computed from the zones alone, so the loop is batched
// (recvmmsg/sendmmsg) and answers to repeated queries come from a packet
// cache.
func (s *AuthServer) ServeUDP(pc net.PacketConn) error {
	return s.core.serveUDPBatched(pc, logged(s.AccessLog, s.handle), s.UDPWorkers)
}

// ServeTCP answers queries on connections accepted from ln until Close.
func (s *AuthServer) ServeTCP(ln net.Listener) error {
	return s.core.serveTCP(ln, logged(s.AccessLog, s.handle), tcpLimits{s.MaxTCPConns, s.MaxTCPConnsPerClient, s.TCPIdleTimeout, s.TCPMaxLifetime})
}

// Close stops all loops, closes their sockets and waits for the handlers.
func (s *AuthServer) Close() error { return s.core.close() }

func (s *AuthServer) ednsSize() uint16 {
	if s.EDNSSize < minUDPSize {
		return DefaultEDNSSize
	}
	return s.EDNSSize
}

// handle answers one raw query. Every failure turns into an rcode or a
// dropped query, never a panic.
func (s *AuthServer) handle(buf []byte, client netip.AddrPort, tcp bool) [][]byte {
	if !tcp && !s.rl.allow(client.Addr(), s.RateLimit) {
		return nil
	}
	if out, signed := s.tsigAnswer(buf, client, tcp); signed {
		return out
	}
	if !tcp {
		if out := s.cache.get(buf); out != nil {
			return [][]byte{out}
		}
	}
	out, personal := s.answerQuery(buf, client, tcp)
	if !tcp && len(out) == 1 && !personal {
		s.cache.put(buf, out[0])
	}
	return out
}

// answerQuery computes the answers to one raw query; personal says they
// carry a server cookie made for this client and time, which no other
// query may be answered with from the packet cache.
func (s *AuthServer) answerQuery(buf []byte, client netip.AddrPort, tcp bool) (_ [][]byte, personal bool) {
	limit := maxDNSMessage
	q, early := checkQuery(buf, s.ednsSize())
	if early != nil {
		if !tcp {
			limit = minUDPSize
		}
		out, err := pack(early, limit, false)
		if err != nil {
			return nil, false
		}
		return [][]byte{out}, false
	}
	if q == nil {
		return nil, false
	}
	if !tcp {
		limit = q.udpLimit
	}
	var cookie *mdns.EDNS0_COOKIE
	if raw, ok := requestCookie(q.opt); ok && !s.NoCookies {
		var malformed bool
		cookie, malformed = s.cookies.reply(raw, client.Addr(), time.Now())
		if malformed {
			// RFC 7873 5.2.2: a malformed COOKIE option gets FORMERR,
			// with an OPT record (RFC 6891 7).
			resp := replyTo(q.msg)
			resp.Rcode = mdns.RcodeFormatError
			addOPT(resp, q.opt, s.ednsSize())
			out, err := pack(resp, limit, false)
			if err != nil {
				return nil, false
			}
			return [][]byte{out}, false
		}
		personal = true
	}
	qt := q.msg.Question[0].Qtype
	if qt == mdns.TypeAXFR || qt == mdns.TypeIXFR {
		return s.transfer(q, client.Addr(), tcp), personal
	}
	resp := replyTo(q.msg)
	referral := s.answer(q.msg.Question[0], resp)
	if q.opt != nil {
		addOPTNSID(resp, q.opt, s.ednsSize(), s.NSID)
		if cookie != nil {
			addCookie(resp, cookie)
		}
		s.addExpire(resp, q)
	}
	out, err := pack(resp, limit, referral)
	if err != nil {
		return nil, false
	}
	return [][]byte{out}, personal
}

// zoneFor returns the zone with the longest origin containing the
// lower-case name, or nil.
func (s *AuthServer) zoneFor(name string) *Zone {
	var best *Zone
	for _, z := range s.Zones {
		if z == nil || !mdns.IsSubDomain(z.Origin, name) {
			continue
		}
		if best == nil || len(z.Origin) > len(best.Origin) {
			best = z
		}
	}
	return best
}

// answer fills resp for question q (RFC 1034 4.3.2) and reports whether
// resp is a referral.
func (s *AuthServer) answer(q mdns.Question, resp *mdns.Msg) bool {
	// RFC 8906 3.1.2: queries for classes we do not serve are refused.
	if q.Qclass != mdns.ClassINET {
		resp.Rcode = mdns.RcodeRefused
		return false
	}
	name := strings.ToLower(q.Name)
	z := s.zoneFor(name)
	// RFC 1034 4.3.2 step 2 fails: not authoritative, no recursion.
	if z == nil {
		resp.Rcode = mdns.RcodeRefused
		return false
	}
	resp.Authoritative = true
	spelled := q.Name
	seen := map[string]bool{}
	for hop := 0; hop < maxChain; hop++ {
		seen[name] = true
		// RFC 1034 4.3.2 step 3b: a match of a delegation point (or a name
		// below it) is answered with a referral: NS in authority, glue in
		// additional, AA clear for the delegated data.
		if cut := z.cutAbove(name); cut != "" && !(q.Qtype == mdns.TypeDS && cut == name) {
			if hop > 0 {
				return false // a CNAME led below a cut: stop at the CNAME
			}
			resp.Authoritative = false
			resp.Ns = append(resp.Ns, z.rrset(cut, mdns.TypeNS)...)
			resp.Extra = append(resp.Extra, z.glue(z.rrset(cut, mdns.TypeNS))...)
			return true
		}
		var node map[uint16][]mdns.RR
		if z.exists[name] {
			node = z.records[name]
		} else if wc := z.wildcard(name); wc != "" {
			// RFC 4592 3.3.1: synthesize from the source of synthesis,
			// the owner becoming the query name.
			node = z.records[wc]
		} else {
			// RFC 1034 4.3.2 step 3c / RFC 2308 2.1: the name does not
			// exist; NXDOMAIN with the SOA in authority.
			// RFC 6604 3: after a CNAME the rcode is that of the last name.
			resp.Rcode = mdns.RcodeNameError
			resp.Ns = append(resp.Ns, z.negativeSOA())
			return false
		}
		if q.Qtype == mdns.TypeANY && len(node) > 0 {
			for _, set := range sortedSets(node) {
				resp.Answer = append(resp.Answer, withOwner(set, spelled)...)
			}
			return false
		}
		if set := node[q.Qtype]; len(set) > 0 {
			resp.Answer = append(resp.Answer, withOwner(set, spelled)...)
			resp.Extra = append(resp.Extra, z.additional(set)...)
			return false
		}
		if cn := node[mdns.TypeCNAME]; len(cn) > 0 && q.Qtype != mdns.TypeCNAME {
			// RFC 1034 4.3.2 step 3a: copy the CNAME, restart at its target
			// while the target is in this zone.
			resp.Answer = append(resp.Answer, withOwner(cn, spelled)...)
			target := cn[0].(*mdns.CNAME).Target
			lower := strings.ToLower(target)
			if !mdns.IsSubDomain(z.Origin, lower) || seen[lower] {
				return false
			}
			name, spelled = lower, target
			continue
		}
		// RFC 2308 2.2: NODATA, the name exists (maybe as an empty
		// non-terminal) without the type; NOERROR with the SOA.
		resp.Ns = append(resp.Ns, z.negativeSOA())
		return false
	}
	return false
}

// wildcard returns the lower-case owner "*.<closest encloser>" if the name
// is covered by a wildcard of the zone (RFC 4592 3.3.1), or "".
func (z *Zone) wildcard(name string) string {
	for n := name; n != z.Origin && n != "."; {
		p := parent(n)
		if z.exists[p] {
			if wc := "*." + p; z.exists[wc] {
				return wc
			}
			return ""
		}
		n = p
	}
	return ""
}

// glue returns the address records, held in this zone, of the NS targets.
func (z *Zone) glue(ns []mdns.RR) []mdns.RR {
	var out []mdns.RR
	for _, rr := range ns {
		n, ok := rr.(*mdns.NS)
		if !ok {
			continue
		}
		t := strings.ToLower(n.Ns)
		out = append(out, z.rrset(t, mdns.TypeA)...)
		out = append(out, z.rrset(t, mdns.TypeAAAA)...)
	}
	return out
}

// additional returns in-zone, authoritative addresses of MX, NS and SRV
// targets: RFC 1035 3.3.9 / 3.3.11 "additional section processing".
func (z *Zone) additional(set []mdns.RR) []mdns.RR {
	var out []mdns.RR
	for _, rr := range set {
		var t string
		switch v := rr.(type) {
		case *mdns.MX:
			t = v.Mx
		case *mdns.NS:
			t = v.Ns
		case *mdns.SRV:
			t = v.Target
		default:
			continue
		}
		t = strings.ToLower(t)
		if !mdns.IsSubDomain(z.Origin, t) || z.cutAbove(t) != "" {
			continue
		}
		out = append(out, z.rrset(t, mdns.TypeA)...)
		out = append(out, z.rrset(t, mdns.TypeAAAA)...)
	}
	return out
}

// withOwner returns set with owner names spelled as in the question, as
// the question's spelling is preserved in the answer (RFC 4343 4.1).
func withOwner(set []mdns.RR, owner string) []mdns.RR {
	if len(set) == 0 || set[0].Header().Name == owner {
		return set
	}
	out := make([]mdns.RR, len(set))
	for i, rr := range set {
		c := mdns.Copy(rr)
		c.Header().Name = owner
		out[i] = c
	}
	return out
}

// sortedSets returns the RRsets of a node ordered by type.
func sortedSets(node map[uint16][]mdns.RR) [][]mdns.RR {
	types := make([]int, 0, len(node))
	for t := range node {
		types = append(types, int(t))
	}
	for i := 1; i < len(types); i++ {
		for j := i; j > 0 && types[j] < types[j-1]; j-- {
			types[j], types[j-1] = types[j-1], types[j]
		}
	}
	out := make([][]mdns.RR, 0, len(types))
	for _, t := range types {
		out = append(out, node[uint16(t)])
	}
	return out
}

// transferAllowed reports whether client may transfer zones.
func (s *AuthServer) transferAllowed(client netip.Addr) bool {
	for _, p := range s.AllowTransfer {
		if p.Contains(client.Unmap()) {
			return true
		}
	}
	return false
}

// addExpire answers an EDNS EXPIRE option (RFC 7314) for a zone this
// server is the primary of: the SOA EXPIRE field, the time a secondary
// that transfers the zone now may serve it without refreshing.
func (s *AuthServer) addExpire(resp *mdns.Msg, q *query) {
	asked := false
	for _, o := range q.opt.Option {
		if o.Option() == mdns.EDNS0EXPIRE {
			asked = true
		}
	}
	if !asked || len(resp.Extra) == 0 {
		return
	}
	z := s.zoneFor(strings.ToLower(q.msg.Question[0].Name))
	o, ok := resp.Extra[len(resp.Extra)-1].(*mdns.OPT)
	if z == nil || z.SOA == nil || !ok {
		return
	}
	o.Option = append(o.Option, &mdns.EDNS0_EXPIRE{Code: mdns.EDNS0EXPIRE, Expire: z.SOA.Expire})
}
