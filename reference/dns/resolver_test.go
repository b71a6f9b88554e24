package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

const worldRoot = `$TTL 86400
. IN SOA a.root. hostmaster.root. 1 3600 900 604800 300
. NS a.root.
a.root. A 127.0.0.40
spy. NS ns.spy.
ns.spy. A 127.0.0.41
lame. NS ns1.lame.
lame. NS ns2.lame.
ns1.lame. A 127.0.0.42
ns2.lame. A 127.0.0.41
dead. NS ns.dead.
ns.dead. A 127.0.0.42
`

const worldSpy = `$TTL 3600
spy. IN SOA ns.spy. hostmaster.spy. 1 3600 900 604800 60
spy. NS ns.spy.
ns.spy. A 127.0.0.41
www.spy. A 192.0.2.1
a-rather-long-name-for-case.spy. A 192.0.2.3
`

const worldLame = `$TTL 3600
lame. IN SOA ns1.lame. hostmaster.lame. 1 3600 900 604800 60
lame. NS ns1.lame.
lame. NS ns2.lame.
www.lame. A 192.0.2.2
`

type spyQuery struct {
	id    uint16
	from  netip.AddrPort
	qname string
	rd    bool
}

// spy is an authoritative server on a real loopback socket that records
// the queries it gets and can misbehave in the ways an attacker would.
type spy struct {
	auth *AuthServer
	pc   *net.UDPConn
	mu   sync.Mutex
	got  []spyQuery
	tcp  int

	tc        bool              // UDP answers come back header-only with TC
	lowerCase bool              // the question is echoed in lower case
	inject    func(r *mdns.Msg) // extra records added to every answer
	spoof     func(r *mdns.Msg) // a forged answer sent first, from another port
	wrongID   bool              // a forged answer with a wrong ID is sent first
	other     *net.UDPConn
}

func (s *spy) queries() []spyQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]spyQuery(nil), s.got...)
}

func (s *spy) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := s.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		req := new(mdns.Msg)
		if req.Unpack(buf[:n]) != nil || len(req.Question) != 1 {
			continue
		}
		s.mu.Lock()
		s.got = append(s.got, spyQuery{req.Id, from, req.Question[0].Name, req.RecursionDesired})
		s.mu.Unlock()
		out := s.auth.handle(buf[:n], from, false)
		if len(out) != 1 {
			continue
		}
		resp := new(mdns.Msg)
		resp.Unpack(out[0])
		if s.inject != nil {
			s.inject(resp)
		}
		if s.lowerCase {
			resp.Question[0].Name = strings.ToLower(resp.Question[0].Name)
		}
		if s.spoof != nil {
			forged := resp.Copy()
			s.spoof(forged)
			b, _ := forged.Pack()
			s.other.WriteToUDPAddrPort(b, from)
		}
		if s.wrongID {
			forged := resp.Copy()
			forged.Id++
			forged.Answer = []mdns.RR{mustRR("www.spy. 3600 IN A 6.6.6.6")}
			b, _ := forged.Pack()
			s.pc.WriteToUDPAddrPort(b, from)
		}
		if s.tc {
			resp.Truncated = true
			resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
		}
		b, _ := resp.Pack()
		s.pc.WriteToUDPAddrPort(b, from)
	}
}

func mustRR(s string) mdns.RR {
	rr, err := mdns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

// world is a root (127.0.0.40), the spy (127.0.0.41, serving spy. and
// lame.) and a silent server (127.0.0.42) on one port, plus a resolver.
type world struct {
	port   uint16
	spy    *spy
	silent net.PacketConn
	res    *Resolver
}

func newWorld(t *testing.T, setup func(*spy)) *world {
	t.Helper()
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.40"), netip.MustParseAddr("127.0.0.41"), netip.MustParseAddr("127.0.0.42")}
	socks, port, err := bindAll(addrs, 0)
	if err != nil {
		t.Fatal(err)
	}
	root := &AuthServer{Zones: []*Zone{mustZone(t, ".", worldRoot)}}
	go root.ServeUDP(socks[addrs[0]].pc)
	go root.ServeTCP(socks[addrs[0]].ln)
	t.Cleanup(func() { root.Close() })

	s := &spy{auth: &AuthServer{Zones: []*Zone{mustZone(t, "spy.", worldSpy), mustZone(t, "lame.", worldLame)}}}
	s.pc = socks[addrs[1]].pc.(*net.UDPConn)
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 41)})
	if err != nil {
		t.Fatal(err)
	}
	s.other = other
	if setup != nil {
		setup(s)
	}
	go s.serve()
	// TCP for the spy: the honest server, counting connections.
	tcpAuth := s.auth
	go tcpAuth.ServeTCP(countingListener{socks[addrs[1]].ln, s})
	t.Cleanup(func() { s.pc.Close(); other.Close(); tcpAuth.Close() })

	// The silent server reads and never answers.
	silent := socks[addrs[2]].pc
	socks[addrs[2]].ln.Close()
	t.Cleanup(func() { silent.Close() })

	w := &world{port: port, spy: s, silent: silent}
	w.res = &Resolver{
		RootHints:  []netip.AddrPort{netip.AddrPortFrom(addrs[0], port)},
		ServerPort: port,
		Timeout:    150 * time.Millisecond,
	}
	t.Cleanup(func() { w.res.Close() })
	return w
}

type countingListener struct {
	net.Listener
	s *spy
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.tcp++
		l.s.mu.Unlock()
	}
	return c, err
}

func mustZone(t *testing.T, origin, text string) *Zone {
	z, err := LoadZone(origin, strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func resolveA(t *testing.T, r *Resolver, name string) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.Resolve(ctx, name, mdns.TypeA)
}

func firstA(m *mdns.Msg) string {
	for _, rr := range m.Answer {
		if a, ok := rr.(*mdns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

func TestResolverRandomizesIDPortAndCase(t *testing.T) {
	w := newWorld(t, nil)
	const n = 16
	for range n {
		w.res.FlushCache()
		m, err := resolveA(t, w.res, "a-rather-long-name-for-case.spy.")
		if err != nil || firstA(m) != "192.0.2.3" {
			t.Fatalf("resolve: %v %v", m, err)
		}
	}
	qs := w.spy.queries()
	if len(qs) != n {
		t.Fatalf("%d queries at the spy, want %d", len(qs), n)
	}
	ids, ports, spell := map[uint16]bool{}, map[uint16]bool{}, map[string]bool{}
	for _, q := range qs {
		ids[q.id] = true
		ports[q.from.Port()] = true
		spell[q.qname] = true
		if q.rd {
			t.Fatal("upstream query with RD=1")
		}
		if !strings.EqualFold(q.qname, "a-rather-long-name-for-case.spy.") {
			t.Fatalf("qname %q", q.qname)
		}
	}
	// 16 draws from 65536 IDs, from ~28000 ports and from 2^27 spellings:
	// more than 2 collisions is practically impossible for random values.
	if len(ids) < n-2 || len(ports) < n-2 || len(spell) < n-2 {
		t.Fatalf("not random: %d ids, %d ports, %d spellings of %d", len(ids), len(ports), len(spell), n)
	}
}

func TestResolverRejectsCaseMismatch(t *testing.T) {
	w := newWorld(t, func(s *spy) { s.lowerCase = true })
	_, err := resolveA(t, w.res, "www.spy.")
	if !errors.Is(err, ErrAllServersFailed) {
		t.Fatalf("answer with lowered case accepted: %v", err)
	}
}

func TestResolverIgnoresOtherPortAndWrongID(t *testing.T) {
	w := newWorld(t, func(s *spy) {
		s.spoof = func(m *mdns.Msg) { m.Answer = []mdns.RR{mustRR("www.spy. 3600 IN A 6.6.6.6")} }
		s.wrongID = true
	})
	m, err := resolveA(t, w.res, "www.spy.")
	if err != nil || firstA(m) != "192.0.2.1" {
		t.Fatalf("spoofed answer used: %v %v", m, err)
	}
}

func TestResolverBailiwick(t *testing.T) {
	w := newWorld(t, func(s *spy) {
		s.inject = func(m *mdns.Msg) {
			m.Answer = append(m.Answer, mustRR("www.victim. 3600 IN A 6.6.6.6"))
			m.Ns = append(m.Ns, mustRR("victim. 3600 IN NS ns.evil."))
			m.Extra = append(m.Extra, mustRR("ns.evil. 3600 IN A 6.6.6.7"), mustRR("a.root. 3600 IN A 6.6.6.8"))
		}
	})
	m, err := resolveA(t, w.res, "www.spy.")
	if err != nil || firstA(m) != "192.0.2.1" || len(m.Answer) != 1 {
		t.Fatalf("resolve: %v %v", m, err)
	}
	for _, n := range w.res.CachedNames() {
		if !mdns.IsSubDomain("spy.", n) {
			t.Fatalf("out-of-bailiwick name cached: %s (all: %v)", n, w.res.CachedNames())
		}
	}
	// The injected data is not used either: the root says victim. does not exist.
	m, err = resolveA(t, w.res, "www.victim.")
	if err != nil || m.Rcode != mdns.RcodeNameError || len(m.Answer) != 0 {
		t.Fatalf("poisoned answer: %v %v", m, err)
	}
}

func TestResolverTCPFallback(t *testing.T) {
	w := newWorld(t, func(s *spy) { s.tc = true })
	m, err := resolveA(t, w.res, "www.spy.")
	if err != nil || firstA(m) != "192.0.2.1" {
		t.Fatalf("resolve: %v %v", m, err)
	}
	w.spy.mu.Lock()
	defer w.spy.mu.Unlock()
	if w.spy.tcp == 0 {
		t.Fatal("TC answer not retried over TCP")
	}
}

func TestResolverLameAndDead(t *testing.T) {
	w := newWorld(t, nil)
	m, err := resolveA(t, w.res, "www.lame.")
	if err != nil || firstA(m) != "192.0.2.2" {
		t.Fatalf("lame server not skipped: %v %v", m, err)
	}
	_, err = resolveA(t, w.res, "www.dead.")
	if !errors.Is(err, ErrAllServersFailed) {
		t.Fatalf("dead zone: %v", err)
	}
	// Through the server: SERVFAIL with RA.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	go w.res.ServeUDP(pc)
	q := new(mdns.Msg)
	q.SetQuestion("www.dead.", mdns.TypeA)
	r, err := Exchange(q, netip.MustParseAddrPort(pc.LocalAddr().String()), 3*time.Second)
	if err != nil || r.Rcode != mdns.RcodeServerFailure || !r.RecursionAvailable {
		t.Fatalf("dead zone via server: %v %v", r, err)
	}
}

func TestResolverRateLimitAndACL(t *testing.T) {
	w := newWorld(t, nil)
	w.res.AllowClients = []netip.Prefix{netip.MustParsePrefix("127.0.0.99/32")}
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	go w.res.ServeUDP(pc)
	addr := netip.MustParseAddrPort(pc.LocalAddr().String())
	q := new(mdns.Msg)
	q.SetQuestion("www.spy.", mdns.TypeA)
	r, err := Exchange(q, addr, 2*time.Second)
	if err != nil || r.Rcode != mdns.RcodeRefused || len(w.spy.queries()) != 0 {
		t.Fatalf("client outside AllowClients: %v %v", r, err)
	}
}

func startHierarchy(t *testing.T) *Hierarchy {
	t.Helper()
	h, err := StartHierarchy(context.Background(), HierarchyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestHierarchyWalkAndCache(t *testing.T) {
	h := startHierarchy(t)
	q := new(mdns.Msg)
	q.SetQuestion("gaia.cs.umass.edu.", mdns.TypeA)
	r, err := Exchange(q, h.Resolver, 5*time.Second)
	if err != nil || r.Rcode != 0 || firstA(r) != GaiaAddr || !r.RecursionAvailable || r.Authoritative {
		t.Fatalf("walk: %v %v", r, err)
	}
	if ttl := r.Answer[0].Header().Ttl; ttl != HierarchyTTL {
		t.Fatalf("fresh TTL %d", ttl)
	}
	// The root refers to edu. (no recursion there).
	nr := new(mdns.Msg)
	nr.SetQuestion("gaia.cs.umass.edu.", mdns.TypeA)
	nr.RecursionDesired = false
	rr, err := Exchange(nr, h.Root, 2*time.Second)
	if err != nil || rr.Authoritative || len(rr.Answer) != 0 || len(rr.Ns) == 0 || rr.Ns[0].Header().Name != "edu." {
		t.Fatalf("root referral: %v %v", rr, err)
	}
	time.Sleep(1100 * time.Millisecond)
	r2, err := Exchange(q, h.Resolver, 5*time.Second)
	if err != nil || firstA(r2) != GaiaAddr {
		t.Fatalf("second: %v %v", r2, err)
	}
	if ttl := r2.Answer[0].Header().Ttl; ttl >= HierarchyTTL {
		t.Fatalf("cached TTL not decremented: %d", ttl)
	}
	// RD=0 to the resolver: cached data is served, unknown data REFUSED.
	cq := q.Copy()
	cq.RecursionDesired = false
	r3, err := Exchange(cq, h.Resolver, 2*time.Second)
	if err != nil || firstA(r3) != GaiaAddr {
		t.Fatalf("RD=0 cached: %v %v", r3, err)
	}
	uq := new(mdns.Msg)
	uq.SetQuestion("www.umass.edu.", mdns.TypeA)
	uq.RecursionDesired = false
	r4, err := Exchange(uq, h.Resolver, 2*time.Second)
	if err != nil || r4.Rcode != mdns.RcodeRefused {
		t.Fatalf("RD=0 uncached: %v %v", r4, err)
	}
}

func TestHierarchyNegativeGluelessCNAME(t *testing.T) {
	h := startHierarchy(t)
	res := h.RecursiveResolver
	m, err := resolveA(t, res, "www.glueless.edu.")
	if err != nil || firstA(m) != "192.0.2.20" {
		t.Fatalf("glueless: %v %v", m, err)
	}
	m, err = resolveA(t, res, "gaia-alias.example.com.")
	if err != nil || firstA(m) != GaiaAddr || m.Answer[0].Header().Rrtype != mdns.TypeCNAME {
		t.Fatalf("cross-zone CNAME: %v %v", m, err)
	}
	m, err = resolveA(t, res, "nope.cs.umass.edu.")
	if err != nil || m.Rcode != mdns.RcodeNameError || len(m.Ns) != 1 || m.Ns[0].Header().Ttl != 300 {
		t.Fatalf("NXDOMAIN: %v %v", m, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err = res.Resolve(ctx, GaiaName, mdns.TypeMX)
	if err != nil || m.Rcode != 0 || len(m.Answer) != 0 || len(m.Ns) != 1 {
		t.Fatalf("NODATA: %v %v", m, err)
	}
	time.Sleep(1100 * time.Millisecond)
	// Negative answers come from the cache, TTL decremented.
	m, err = resolveA(t, res, "nope.cs.umass.edu.")
	if err != nil || m.Rcode != mdns.RcodeNameError || m.Ns[0].Header().Ttl >= 300 {
		t.Fatalf("cached NXDOMAIN: %v %v", m, err)
	}
	m, err = res.Resolve(ctx, GaiaName, mdns.TypeMX)
	if err != nil || len(m.Ns) != 1 || m.Ns[0].Header().Ttl >= 300 {
		t.Fatalf("cached NODATA: %v %v", m, err)
	}
}

func TestHierarchyDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig not installed (apt-get install bind9-dnsutils)")
	}
	h := startHierarchy(t)
	port := h.Port
	out, err := exec.Command(dig, "@"+h.Resolver.Addr().String(), "-p", itoa(port), "+time=3", "+tries=1", "gaia.cs.umass.edu").CombinedOutput()
	if err != nil || !strings.Contains(string(out), GaiaAddr) || !strings.Contains(string(out), "status: NOERROR") {
		t.Fatalf("dig via resolver: %v\n%s", err, out)
	}
	out, err = exec.Command(dig, "+norec", "@"+h.Root.Addr().String(), "-p", itoa(port), "+time=3", "+tries=1", "gaia.cs.umass.edu").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "AUTHORITY SECTION:\nedu.") {
		t.Fatalf("dig +norec at root: %v\n%s", err, out)
	}
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}

// Regression (found by suites/dns rfc2181/8 and rfc2181/5.2): upstream TTLs
// with the top bit set were handed to clients unchanged, and an RRset with
// differing TTLs kept them.
func TestResolverNormalizesTTLs(t *testing.T) {
	w := newWorld(t, func(s *spy) {
		s.inject = func(m *mdns.Msg) {
			if len(m.Question) == 1 && strings.EqualFold(m.Question[0].Name, "www.spy.") {
				for _, rr := range m.Answer {
					rr.Header().Ttl = 0x80000010
				}
			}
			if len(m.Question) == 1 && strings.EqualFold(m.Question[0].Name, "a-rather-long-name-for-case.spy.") {
				m.Answer = append(m.Answer, mustRR("a-rather-long-name-for-case.spy. 100 IN A 192.0.2.4"))
				m.Answer[0].Header().Ttl = 200
			}
		}
	})
	m, err := resolveA(t, w.res, "www.spy.")
	if err != nil || len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 0 {
		t.Fatalf("TTL with the top bit set: want 0, got %v %v", m, err)
	}
	m, err = resolveA(t, w.res, "a-rather-long-name-for-case.spy.")
	if err != nil || len(m.Answer) != 2 {
		t.Fatalf("resolve: %v %v", m, err)
	}
	for _, rr := range m.Answer {
		if rr.Header().Ttl != 100 {
			t.Fatalf("RRset TTLs: want all 100, got %v", m.Answer)
		}
	}
}
