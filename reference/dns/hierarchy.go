package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
)

// Loopback addresses of the hierarchy; every 127/8 address works on Linux
// without set-up.
var (
	HierarchyResolverAddr = netip.MustParseAddr("127.0.0.10")
	HierarchyRootAddr     = netip.MustParseAddr("127.0.0.11")
	HierarchyCOMAddr      = netip.MustParseAddr("127.0.0.12")
	HierarchyEDUAddr      = netip.MustParseAddr("127.0.0.13")
	HierarchyTESTAddr     = netip.MustParseAddr("127.0.0.14")
	HierarchyUMassAddr    = netip.MustParseAddr("127.0.0.15")
	HierarchyCSAddr       = netip.MustParseAddr("127.0.0.16")
	HierarchyExampleAddr  = netip.MustParseAddr("127.0.0.17")
	HierarchyGluelessAddr = netip.MustParseAddr("127.0.0.18")
	HierarchySubTestAddr  = netip.MustParseAddr(fixture.AddrSubGlue)
)

// Well-known answers of the hierarchy.
const (
	// GaiaName and GaiaAddr are the classic textbook walk's target.
	GaiaName = "gaia.cs.umass.edu."
	GaiaAddr = "128.119.240.84"
	// HierarchyTTL is the TTL of leaf records (delegations use 86400).
	HierarchyTTL = 3600
)

// HierarchyConfig configures StartHierarchy.
type HierarchyConfig struct {
	// Port is the one port all servers use; 0 chooses a free one.
	Port uint16
	// Timeout is the resolver's per-query timeout (default 500ms).
	Timeout time.Duration
}

// Hierarchy is a miniature DNS tree on loopback: a root, TLDs com., edu.
// and test., second-level zones, and a recursive resolver whose root hints
// point at the fake root. Reproduce the textbook walk with
// `dig @127.0.0.10 -p PORT gaia.cs.umass.edu` (recursive) or
// `dig +norec @127.0.0.11 -p PORT gaia.cs.umass.edu` (referral to edu.).
type Hierarchy struct {
	// Port is the port every server listens on (UDP and TCP).
	Port uint16
	// Resolver is the recursive resolver's address; Root the fake root's.
	Resolver netip.AddrPort
	Root     netip.AddrPort
	// Servers maps each zone origin to its authoritative server's address.
	Servers map[string]netip.AddrPort
	// RecursiveResolver is the running resolver, for Go callers.
	RecursiveResolver *Resolver

	auths   []*AuthServer
	stop    func() bool
	closeMu sync.Once
	err     error
}

// hierarchyZones returns zone origin -> (address, master file text).
func hierarchyZones() map[string]struct {
	addr netip.Addr
	text string
} {
	soa := func(origin, ns string) string {
		return fmt.Sprintf("$TTL %d\n%s IN SOA %s hostmaster.%s 2024010101 3600 900 604800 300\n%s NS %s\n",
			HierarchyTTL, origin, ns, strings.TrimPrefix(origin, "."), origin, ns)
	}
	deleg := func(child, ns string, a netip.Addr) string {
		s := fmt.Sprintf("%s 86400 NS %s\n", child, ns)
		if a.IsValid() {
			s += fmt.Sprintf("%s 86400 A %s\n", ns, a)
		}
		return s
	}
	type zt = struct {
		addr netip.Addr
		text string
	}
	return map[string]zt{
		".": {HierarchyRootAddr, soa(".", "a.root-servers.net.") +
			"a.root-servers.net. 86400 A " + HierarchyRootAddr.String() + "\n" +
			deleg("com.", "a.gtld-servers.net.", HierarchyCOMAddr) +
			deleg("edu.", "a.edu-servers.net.", HierarchyEDUAddr) +
			deleg("test.", "ns1.test.", HierarchyTESTAddr)},
		"com.": {HierarchyCOMAddr, soa("com.", "a.gtld-servers.net.") +
			deleg("example.com.", "ns1.example.com.", HierarchyExampleAddr)},
		"edu.": {HierarchyEDUAddr, soa("edu.", "a.edu-servers.net.") +
			deleg("umass.edu.", "ns1.umass.edu.", HierarchyUMassAddr) +
			// glueless: the NS name is in com., so edu. holds no glue
			deleg("glueless.edu.", "ns-glueless.example.com.", netip.Addr{})},
		"umass.edu.": {HierarchyUMassAddr, soa("umass.edu.", "ns1.umass.edu.") +
			"ns1.umass.edu. A " + HierarchyUMassAddr.String() + "\n" +
			"www.umass.edu. A 128.119.8.148\n" +
			deleg("cs.umass.edu.", "ns1.cs.umass.edu.", HierarchyCSAddr)},
		"cs.umass.edu.": {HierarchyCSAddr, soa("cs.umass.edu.", "ns1.cs.umass.edu.") +
			"ns1.cs.umass.edu. A " + HierarchyCSAddr.String() + "\n" +
			GaiaName + " A " + GaiaAddr + "\n"},
		"example.com.": {HierarchyExampleAddr, soa("example.com.", "ns1.example.com.") +
			"ns1.example.com. A " + HierarchyExampleAddr.String() + "\n" +
			"ns-glueless.example.com. A " + HierarchyGluelessAddr.String() + "\n" +
			"www.example.com. A 192.0.2.10\n" +
			"gaia-alias.example.com. CNAME " + GaiaName + "\n"},
		"glueless.edu.": {HierarchyGluelessAddr, soa("glueless.edu.", "ns-glueless.example.com.") +
			"www.glueless.edu. A 192.0.2.20\n"},
		// test. serves the fixture zone (loaded from internal/dns).
		"test.": {HierarchyTESTAddr, ""},
		"sub.test.": {HierarchySubTestAddr, soa("sub.test.", "ns.sub.test.") +
			"ns.sub.test. A " + HierarchySubTestAddr.String() + "\n" +
			"host.sub.test. A 127.0.0.54\n"},
	}
}

// StartHierarchy starts the hierarchy's servers on loopback and returns
// once they all listen. Cancelling ctx or calling Close stops them.
func StartHierarchy(ctx context.Context, cfg HierarchyConfig) (*Hierarchy, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	zones := hierarchyZones()
	h := &Hierarchy{Servers: map[string]netip.AddrPort{}}
	var addrs []netip.Addr
	byAddr := map[netip.Addr]*AuthServer{}
	for origin, zt := range zones {
		var z *Zone
		var err error
		if origin == "test." {
			z, err = LoadZone(origin, strings.NewReader(fixture.Zones[0].Text()))
		} else {
			z, err = LoadZone(origin, strings.NewReader(zt.text))
		}
		if err != nil {
			return nil, fmt.Errorf("hierarchy zone %s: %w", origin, err)
		}
		s := &AuthServer{Zones: []*Zone{z}, AllowTransfer: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		byAddr[zt.addr] = s
		addrs = append(addrs, zt.addr)
		h.auths = append(h.auths, s)
	}
	// The reverse zone lives with test.
	rz, err := LoadZone(fixture.Zones[1].Origin, strings.NewReader(fixture.Zones[1].Text()))
	if err != nil {
		return nil, err
	}
	byAddr[HierarchyTESTAddr].Zones = append(byAddr[HierarchyTESTAddr].Zones, rz)
	addrs = append(addrs, HierarchyResolverAddr)

	socks, port, err := bindAll(addrs, cfg.Port)
	if err != nil {
		return nil, err
	}
	h.Port = port
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 500 * time.Millisecond
	}
	h.Root = netip.AddrPortFrom(HierarchyRootAddr, port)
	h.Resolver = netip.AddrPortFrom(HierarchyResolverAddr, port)
	h.RecursiveResolver = &Resolver{
		RootHints:  []netip.AddrPort{h.Root},
		ServerPort: port,
		Timeout:    timeout,
		Retries:    1,
	}
	for origin, zt := range zones {
		h.Servers[origin] = netip.AddrPortFrom(zt.addr, port)
	}
	for a, sk := range socks {
		if a == HierarchyResolverAddr {
			go h.RecursiveResolver.ServeUDP(sk.pc)
			go h.RecursiveResolver.ServeTCP(sk.ln)
			continue
		}
		go byAddr[a].ServeUDP(sk.pc)
		go byAddr[a].ServeTCP(sk.ln)
	}
	h.stop = context.AfterFunc(ctx, func() { h.Close() })
	return h, nil
}

type sockPair struct {
	pc net.PacketConn
	ln net.Listener
}

// bindAll binds UDP and TCP on every address with one port: the given one,
// or a free one found by trying the kernel's choice on the first address.
func bindAll(addrs []netip.Addr, port uint16) (map[netip.Addr]sockPair, uint16, error) {
	closeAll := func(m map[netip.Addr]sockPair) {
		for _, s := range m {
			if s.pc != nil {
				s.pc.Close()
			}
			if s.ln != nil {
				s.ln.Close()
			}
		}
	}
	tries := 1
	if port == 0 {
		tries = 50
	}
	var lastErr error
	for range tries {
		m := map[netip.Addr]sockPair{}
		p := port
		ok := true
		for _, a := range addrs {
			pc, err := net.ListenPacket("udp", netip.AddrPortFrom(a, p).String())
			if err != nil {
				lastErr, ok = err, false
				break
			}
			if p == 0 {
				p = uint16(pc.LocalAddr().(*net.UDPAddr).Port)
			}
			ln, err := net.Listen("tcp", netip.AddrPortFrom(a, p).String())
			if err != nil {
				pc.Close()
				lastErr, ok = err, false
				break
			}
			m[a] = sockPair{pc, ln}
		}
		if ok {
			return m, p, nil
		}
		closeAll(m)
	}
	return nil, 0, errors.Join(ErrNoFreePort, lastErr)
}

// Close stops every server of the hierarchy.
func (h *Hierarchy) Close() error {
	h.closeMu.Do(func() {
		if h.stop != nil {
			h.stop()
		}
		var errs []error
		for _, s := range h.auths {
			errs = append(errs, s.Close())
		}
		errs = append(errs, h.RecursiveResolver.Close())
		h.err = errors.Join(errs...)
	})
	return h.err
}

// Exchange sends m to addr over UDP through internal/dial: a convenience
// for Go tests of the hierarchy.
func Exchange(m *mdns.Msg, addr netip.AddrPort, timeout time.Duration) (*mdns.Msg, error) {
	c := &mdns.Client{Net: "udp", Timeout: timeout, UDPSize: 4096}
	return fixture.Exchange(context.Background(), c, m, addr.String())
}
