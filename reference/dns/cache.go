package dns

import (
	"container/list"
	"sort"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Cache defaults and bounds.
const (
	// DefaultMaxCacheEntries bounds the resolver cache by default.
	DefaultMaxCacheEntries = 10000
	// maxCacheTTL caps how long anything stays cached (one week, as
	// common resolvers do).
	maxCacheTTL = 7 * 24 * 3600
	// typeNXDOMAIN is the cache key type of a name-error entry, which
	// covers every type at the name. It is a reserved type value.
	typeNXDOMAIN = 0
)

// entry kinds: an answer RRset, a negative answer, or a delegation (the
// parent-side NS RRset and its glue, never handed to clients as answers).
const (
	kindAnswer = iota
	kindNegative
	kindDelegation
)

type cacheKey struct {
	name  string // lower case
	qtype uint16
	kind  int
}

type cacheEntry struct {
	key     cacheKey
	rrs     []mdns.RR // owner names lower case
	stored  time.Time
	ttl     uint32
	nxOrNeg int // rcode of a negative entry
	el      *list.Element
}

// cache is the resolver's TTL cache: entries expire, and what it returns
// carries TTLs decremented by the time spent in the cache (RFC 1035 7.4,
// RFC 2308 5). When full it evicts the least recently used entry in O(1).
// Infrastructure (delegations with their glue, NS answers) has its own
// LRU list, up to a quarter of the cache, and is evicted only when there
// is nothing else: a flood of random names cannot push out the
// delegations every other resolution starts from.
type cache struct {
	mu  sync.Mutex
	max int
	m   map[cacheKey]*cacheEntry
	// lru and infra hold the entries, most recently used at the front.
	lru, infra list.List
	now        func() time.Time
	// staleFor keeps answer RRsets this long past their TTL, for
	// serve-stale (RFC 8767); 0 drops them when they expire.
	staleFor time.Duration
}

func newCache(max int) *cache {
	if max <= 0 {
		max = DefaultMaxCacheEntries
	}
	return &cache{max: max, m: make(map[cacheKey]*cacheEntry), now: time.Now}
}

// isInfra reports whether k names infrastructure: a delegation or an NS
// RRset.
func isInfra(k cacheKey) bool { return k.kind == kindDelegation || k.qtype == mdns.TypeNS }

func (c *cache) listOf(k cacheKey) *list.List {
	if isInfra(k) {
		return &c.infra
	}
	return &c.lru
}

// put stores rrs for ttl seconds. RFC 2181 8: a TTL with the top bit set is
// treated as zero, and a zero TTL is not cached.
func (c *cache) put(k cacheKey, rrs []mdns.RR, ttl uint32, rcode int) {
	if ttl&0x80000000 != 0 || ttl == 0 {
		return
	}
	ttl = min(ttl, maxCacheTTL)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		c.remove(old)
	}
	if isInfra(k) && c.infra.Len() >= max(c.max/4, 1) {
		c.removeOldest(&c.infra)
	}
	for len(c.m) >= c.max {
		if c.lru.Len() > 0 {
			c.removeOldest(&c.lru)
		} else {
			c.removeOldest(&c.infra)
		}
	}
	e := &cacheEntry{key: k, rrs: rrs, stored: c.now(), ttl: ttl, nxOrNeg: rcode}
	e.el = c.listOf(k).PushFront(e)
	c.m[k] = e
}

func (c *cache) remove(e *cacheEntry) {
	c.listOf(e.key).Remove(e.el)
	delete(c.m, e.key)
}

func (c *cache) removeOldest(l *list.List) {
	if el := l.Back(); el != nil {
		c.remove(el.Value.(*cacheEntry))
	}
}

func (e *cacheEntry) remaining(now time.Time) uint32 {
	age := now.Sub(e.stored)
	if age < 0 {
		return e.ttl
	}
	secs := uint32(age / time.Second)
	if secs >= e.ttl {
		return 0
	}
	return e.ttl - secs
}

// get returns copies of the cached records with their TTL decremented by
// the entry's age, the entry's rcode, and whether there was a live entry.
func (c *cache) get(k cacheKey) ([]mdns.RR, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, 0, false
	}
	left := e.remaining(c.now())
	if left == 0 {
		if !c.keepStale(e) {
			c.remove(e)
		}
		return nil, 0, false
	}
	c.listOf(k).MoveToFront(e.el)
	out := make([]mdns.RR, len(e.rrs))
	for i, rr := range e.rrs {
		cp := mdns.Copy(rr)
		cp.Header().Ttl = min(cp.Header().Ttl, left)
		out[i] = cp
	}
	return out, e.nxOrNeg, true
}

// names returns the sorted, de-duplicated owner names of all cached records.
func (c *cache) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := map[string]bool{}
	for k, e := range c.m {
		set[k.name] = true
		for _, rr := range e.rrs {
			set[rr.Header().Name] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CacheEntry is one cached item, as CacheEntries reports it.
type CacheEntry struct {
	// Name and Type are the key (Type 0 for an NXDOMAIN entry).
	Name string
	Type uint16
	// Negative marks NXDOMAIN/NODATA entries (Records hold the SOA);
	// Delegation marks parent-side NS RRsets with their glue.
	Negative, Delegation bool
	Records              []mdns.RR
}

func (c *cache) entries() []CacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CacheEntry, 0, len(c.m))
	for k, e := range c.m {
		out = append(out, CacheEntry{Name: k.name, Type: k.qtype, Negative: k.kind == kindNegative,
			Delegation: k.kind == kindDelegation, Records: append([]mdns.RR(nil), e.rrs...)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (c *cache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = make(map[cacheKey]*cacheEntry)
	c.lru.Init()
	c.infra.Init()
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// minTTL returns the smallest TTL of rrs (RFC 2181 5.2: an RRset has one
// TTL; when they differ, the smallest is used).
func minTTL(rrs []mdns.RR) uint32 {
	if len(rrs) == 0 {
		return 0
	}
	t := rrs[0].Header().Ttl
	for _, rr := range rrs[1:] {
		t = min(t, rr.Header().Ttl)
	}
	return t
}
