package dns

import (
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func TestCacheKeepsStaleAnswers(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(10)
	c.now = func() time.Time { return now }
	c.staleFor = time.Minute
	k := cacheKey{"www.example.", mdns.TypeA, kindAnswer}
	neg := cacheKey{"gone.example.", typeNXDOMAIN, kindNegative}
	a, _ := mdns.NewRR("www.example. 2 IN A 192.0.2.1")
	soa, _ := mdns.NewRR("example. 2 IN SOA ns. h. 1 1 1 1 2")
	c.put(k, []mdns.RR{a}, 2, 0)
	c.put(neg, []mdns.RR{soa}, 2, 0)
	if rrs, stale, ok := c.getStale(k); !ok || stale || rrs[0].Header().Ttl != 2 {
		t.Fatalf("live entry: ok %v stale %v %v", ok, stale, rrs)
	}
	now = now.Add(3 * time.Second)
	if _, _, ok := c.get(k); ok {
		t.Fatal("get returned an expired entry")
	}
	rrs, stale, ok := c.getStale(k)
	if !ok || !stale || rrs[0].Header().Ttl != StaleTTL {
		t.Fatalf("stale entry: ok %v stale %v %v", ok, stale, rrs)
	}
	if _, _, ok := c.getStale(neg); ok {
		t.Fatal("a negative entry was kept stale")
	}
	now = now.Add(time.Minute)
	if _, _, ok := c.getStale(k); ok {
		t.Fatal("an entry past the stale window was served")
	}
	if c.len() != 0 {
		t.Fatalf("%d entries left", c.len())
	}
}

func TestCacheWithoutStaleDropsExpired(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newCache(10)
	c.now = func() time.Time { return now }
	k := cacheKey{"www.example.", mdns.TypeA, kindAnswer}
	a, _ := mdns.NewRR("www.example. 2 IN A 192.0.2.1")
	c.put(k, []mdns.RR{a}, 2, 0)
	now = now.Add(3 * time.Second)
	if _, _, ok := c.get(k); ok || c.len() != 0 {
		t.Fatal("an expired entry was kept without serve-stale")
	}
}

// TestResolverServesStale: with every authority silent, a client query for
// an expired name gets the stale record with TTL 30, and nothing without
// ServeStale.
func TestResolverServesStale(t *testing.T) {
	dead := netip.MustParseAddrPort("127.0.0.42:9") // nothing answers there
	for _, on := range []bool{true, false} {
		r := &Resolver{RootHints: []netip.AddrPort{dead}, Timeout: 100 * time.Millisecond, ServeStale: on}
		c := r.cache()
		now := time.Now()
		c.now = func() time.Time { return now }
		a, _ := mdns.NewRR("www.example. 2 IN A 192.0.2.1")
		c.put(cacheKey{"www.example.", mdns.TypeA, kindAnswer}, []mdns.RR{a}, 2, 0)
		now = now.Add(3 * time.Second)
		res, err := r.resolveForClient("www.example.", mdns.TypeA)
		if !on {
			if err == nil {
				t.Fatalf("serve-stale off: answered %v", res.answer)
			}
			continue
		}
		if err != nil || len(res.answer) != 1 || res.answer[0].Header().Ttl != StaleTTL {
			t.Fatalf("serve-stale on: %v %v", res.answer, err)
		}
	}
}
