package dns

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// TestCacheLRUKeepsInfrastructure floods a small cache with random names
// while one name stays in use: the hot name and the delegation survive.
func TestCacheLRUKeepsInfrastructure(t *testing.T) {
	c := newCache(100)
	deleg := cacheKey{"zone.test.", mdns.TypeNS, kindDelegation}
	hot := cacheKey{"hot.test.", mdns.TypeA, kindAnswer}
	c.put(deleg, []mdns.RR{mustRR("zone.test. 3600 IN NS ns.zone.test."), mustRR("ns.zone.test. 3600 IN A 127.0.0.53")}, 3600, 0)
	c.put(hot, []mdns.RR{mustRR("hot.test. 3600 IN A 127.0.0.1")}, 3600, 0)
	for i := range 2000 {
		n := fmt.Sprintf("r%d.test.", i)
		c.put(cacheKey{n, mdns.TypeA, kindAnswer}, []mdns.RR{mustRR(n + " 60 IN A 127.0.0.2")}, 60, 0)
		if i%50 == 0 {
			if _, _, ok := c.get(hot); !ok {
				t.Fatalf("hot name evicted after %d random names", i)
			}
		}
	}
	if _, _, ok := c.get(deleg); !ok {
		t.Fatal("delegation evicted by a flood of random names")
	}
	if c.len() > 100 {
		t.Fatalf("cache holds %d entries, max 100", c.len())
	}
}

// TestCacheInsertFullIsCheap checks inserting into a full cache costs
// about what it costs with room: no scan of the cache per insert.
func TestCacheInsertFullIsCheap(t *testing.T) {
	const n = 2000
	c := newCache(DefaultMaxCacheEntries)
	rr := []mdns.RR{mustRR("x.test. 60 IN A 127.0.0.2")}
	insert := func(from int) time.Duration {
		start := time.Now()
		for i := from; i < from+n; i++ {
			c.put(cacheKey{fmt.Sprintf("r%d.test.", i), mdns.TypeA, kindAnswer}, rr, 60, 0)
		}
		return time.Since(start)
	}
	insert(0)
	for i := n; i < DefaultMaxCacheEntries-n; i += n {
		insert(i)
	}
	room := insert(DefaultMaxCacheEntries - n)
	full := insert(DefaultMaxCacheEntries)
	if full > 10*room+20*time.Millisecond {
		t.Fatalf("%d inserts took %v into a full cache, %v with room", n, full, room)
	}
}

// silentUpstream is a UDP server that notes the names it is asked and
// never answers: a slow upstream.
type silentUpstream struct {
	pc    net.PacketConn
	mu    sync.Mutex
	names map[string]bool
	seen  chan string
}

func newSilentUpstream(t *testing.T) *silentUpstream {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &silentUpstream{pc: pc, names: map[string]bool{}, seen: make(chan string, 1<<16)}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m mdns.Msg
			if m.Unpack(buf[:n]) == nil && len(m.Question) == 1 {
				select {
				case u.seen <- strings.ToLower(m.Question[0].Name):
				default:
				}
			}
		}
	}()
	return u
}

// startFloodResolver runs a resolver rooted at a silent upstream, with
// hot.test. A cached.
func startFloodResolver(t *testing.T) (*Resolver, string, *silentUpstream) {
	up := newSilentUpstream(t)
	r := &Resolver{RootHints: []netip.AddrPort{netip.MustParseAddrPort(up.pc.LocalAddr().String())}, Timeout: 8 * time.Second}
	r.cache().put(cacheKey{"hot.test.", mdns.TypeA, kindAnswer}, []mdns.RR{mustRR("hot.test. 3600 IN A 127.0.0.1")}, 3600, 0)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go r.ServeUDP(pc)
	t.Cleanup(func() { r.Close() })
	return r, pc.LocalAddr().String(), up
}

// flood sends n queries for distinct uncached names from each source
// address, one socket per source, in batches paced by what reaches the
// upstream so that the resolver's socket buffer does not drop them.
func flood(t *testing.T, addr string, u *silentUpstream, srcs []string, n int) {
	to, _ := net.ResolveUDPAddr("udp", addr)
	for _, src := range srcs {
		c, err := net.ListenPacket("udp", src+":0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		for i := range n {
			q := new(mdns.Msg)
			q.SetQuestion(fmt.Sprintf("f%d-%s.test.", i, strings.ReplaceAll(src, ".", "-")), mdns.TypeA)
			b, _ := q.Pack()
			c.WriteTo(b, to)
			if i%32 == 31 {
				waitUpstream(t, u, 32, "", 100*time.Millisecond)
			}
		}
	}
}

// waitUpstream waits until the upstream has seen at least n queries.
func waitUpstream(t *testing.T, u *silentUpstream, n int, want string, wait time.Duration) bool {
	deadline := time.After(wait)
	for seen := 0; ; {
		select {
		case name := <-u.seen:
			seen++
			if want != "" && name == want {
				return true
			}
			if want == "" && seen >= n {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// TestCachedAnswerUnderSlowUpstreamFlood fills every in-flight slot with
// queries stuck on a silent upstream, from many client addresses: a query
// for a cached name is still answered.
func TestCachedAnswerUnderSlowUpstreamFlood(t *testing.T) {
	_, addr, up := startFloodResolver(t)
	var srcs []string
	for i := 1; i <= 40; i++ {
		srcs = append(srcs, fmt.Sprintf("127.0.1.%d", i))
	}
	flood(t, addr, up, srcs, 40) // 1,600 queries: more than the 1,024 slots
	q := new(mdns.Msg)
	q.SetQuestion("hot.test.", mdns.TypeA)
	// The flood may fill the socket's buffer: the client retries, as
	// real ones do.
	for try := 0; ; try++ {
		m, err := Exchange(q, netip.MustParseAddrPort(addr), time.Second)
		if err == nil && len(m.Answer) == 1 {
			return
		}
		if try == 4 {
			t.Fatalf("cached name during the flood: %v %v", m, err)
		}
	}
}

// TestInflightPerClient floods from one client address: another client's
// uncached query still reaches the upstream.
func TestInflightPerClient(t *testing.T) {
	_, addr, up := startFloodResolver(t)
	flood(t, addr, up, []string{"127.0.0.1"}, 1200)
	c, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to, _ := net.ResolveUDPAddr("udp", addr)
	q := new(mdns.Msg)
	q.SetQuestion("other.test.", mdns.TypeA)
	b, _ := q.Pack()
	// The flood may fill the socket's buffer: the client retries, as
	// real ones do.
	for try := 0; ; try++ {
		c.WriteTo(b, to)
		if waitUpstream(t, up, 0, "other.test.", time.Second) {
			return
		}
		if try == 4 {
			t.Fatal("another client's query never reached the upstream while one client flooded")
		}
	}
}
