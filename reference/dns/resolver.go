package dns

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Resolver defaults.
const (
	// DefaultResolverTimeout bounds each upstream query attempt.
	DefaultResolverTimeout = time.Second
	// DefaultMaxQueries bounds the upstream queries of one resolution,
	// glueless NS lookups and CNAME restarts included.
	DefaultMaxQueries = 64
	// DefaultResolveTimeout bounds one client query end to end.
	DefaultResolveTimeout = 10 * time.Second
	// maxDepth bounds nested resolutions (glueless NS names, CNAME restarts).
	maxDepth = 8
)

// Resolver is an iterative, caching, recursive resolver (RFC 1034 5.3.3)
// with the usual anti-spoofing defences: random ID and source port per
// upstream query, 0x20 case randomization with an exact-case check,
// bailiwick checks, answers accepted only from the address queried and only
// for the question asked (RFC 5452). It only ever talks to loopback
// servers.
//
// Example:
//
//	r := &dns.Resolver{RootHints: []netip.AddrPort{root}, ServerPort: port}
//	m, err := r.Resolve(ctx, "gaia.cs.umass.edu.", mdns.TypeA)
type Resolver struct {
	// RootHints are the root servers' addresses.
	RootHints []netip.AddrPort
	// ServerPort is the port of name servers learned from referrals
	// (default 53; the loopback hierarchy uses one port for all).
	ServerPort uint16
	// AllowClients may ask for recursion; default 127.0.0.0/8 and ::1.
	AllowClients []netip.Prefix
	// Timeout bounds each upstream query attempt (DefaultResolverTimeout).
	Timeout time.Duration
	// Retries is the number of extra rounds over a zone's servers after
	// each has been tried once (0: each server once).
	Retries int
	// MaxCacheEntries bounds the cache (DefaultMaxCacheEntries).
	MaxCacheEntries int
	// MaxQueries bounds upstream queries per resolution (DefaultMaxQueries).
	MaxQueries int
	// RateLimit is UDP responses per second per client address; 0 = off.
	RateLimit int
	// EDNSSize is the UDP payload size advertised (DefaultEDNSSize).
	EDNSSize uint16
	// MaxInflightPerClient bounds the UDP queries of one client address
	// being resolved at once (DefaultMaxInflightPerClient); more are
	// dropped. Cache hits do not count.
	MaxInflightPerClient int
	// MaxTCPConns bounds concurrent client TCP connections.
	MaxTCPConns int
	// TCPIdleTimeout closes idle client TCP connections.
	TCPIdleTimeout time.Duration
	// MaxTCPConnsPerClient bounds the concurrent TCP connections of one
	// client address (DefaultMaxTCPConnsPerClient).
	MaxTCPConnsPerClient int
	// TCPMaxLifetime bounds how long one TCP connection is served, however
	// busy (DefaultTCPMaxLifetime).
	TCPMaxLifetime time.Duration
	// AccessLog, if set, gets one line per client query: client,
	// transport, qname, qtype and rcode.
	AccessLog *log.Logger
	// ServeStale answers from expired cache data when the authorities
	// cannot refresh it (RFC 8767; stale.go); MaxStale and
	// ClientResponseTimeout tune it.
	ServeStale            bool
	MaxStale              time.Duration
	ClientResponseTimeout time.Duration
	// SourcePort, if set, is the one UDP source port of every upstream
	// query, which are then sent one at a time. It defeats RFC 5452 9.2
	// and exists for the fixed-source-port mutant only.
	SourcePort uint16
	fixedPort  sync.Mutex
	// QNameMin sends the servers of each zone only one label more than
	// the zone's name, with QTYPE A, until the full name (RFC 9156;
	// qmin.go).
	QNameMin bool
	// QNameMinLeakQType sends the original QTYPE in minimised queries,
	// against RFC 9156: for the qname-min-leak-qtype mutant only.
	QNameMinLeakQType bool

	core      serveCore
	cookies   clientCookies // RFC 7873 client cookies (clientcookie.go)
	rl        rateLimiter
	cacheOnce sync.Once
	c         *cache
}

// ServeUDP answers client queries arriving on pc until Close. Queries the
// cache answers are answered at once; the others take one of the in-flight
// slots, of which one client address gets MaxInflightPerClient.
func (r *Resolver) ServeUDP(pc net.PacketConn) error {
	return r.core.serveUDPWith(pc, logged(r.AccessLog, r.handle), udpOptions{fast: loggedFast(r.AccessLog, r.handleCached), perClient: r.MaxInflightPerClient})
}

// ServeTCP answers client queries on connections from ln until Close.
func (r *Resolver) ServeTCP(ln net.Listener) error {
	return r.core.serveTCP(ln, logged(r.AccessLog, r.handle), tcpLimits{r.MaxTCPConns, r.MaxTCPConnsPerClient, r.TCPIdleTimeout, r.TCPMaxLifetime})
}

// Close stops all loops and waits for running resolutions' handlers.
func (r *Resolver) Close() error { return r.core.close() }

// CachedNames returns the owner names of every cached record, lower case,
// sorted: for tests and debugging (e.g. checking bailiwick).
func (r *Resolver) CachedNames() []string { return r.cache().names() }

// CacheEntries returns a snapshot of the cache, for tests and debugging.
func (r *Resolver) CacheEntries() []CacheEntry { return r.cache().entries() }

// FlushCache empties the cache.
func (r *Resolver) FlushCache() { r.cache().flush() }

func (r *Resolver) cache() *cache {
	r.cacheOnce.Do(func() {
		r.c = newCache(r.MaxCacheEntries)
		if r.ServeStale {
			r.c.staleFor = r.maxStale()
		}
	})
	return r.c
}

func (r *Resolver) timeout() time.Duration {
	if r.Timeout <= 0 {
		return DefaultResolverTimeout
	}
	return r.Timeout
}

func (r *Resolver) ednsSize() uint16 {
	if r.EDNSSize < minUDPSize {
		return DefaultEDNSSize
	}
	return r.EDNSSize
}

func (r *Resolver) serverPort() uint16 {
	if r.ServerPort == 0 {
		return 53
	}
	return r.ServerPort
}

func (r *Resolver) allowed(client netip.Addr) bool {
	client = client.Unmap()
	if len(r.AllowClients) == 0 {
		return client.IsLoopback()
	}
	for _, p := range r.AllowClients {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

// result is the outcome of a resolution: the answer records (CNAME chain
// first), the negative SOA if any, and the rcode.
type result struct {
	answer []mdns.RR
	ns     []mdns.RR
	rcode  int
}

// state is shared by the nested resolutions of one client query.
type state struct {
	queries int
	max     int
}

// Resolve resolves name/qtype iteratively from the root hints (or the
// cache) and returns a response message with RA set. Failures (every server
// lame, silent or refusing; limits hit) return an error; handle turns those
// into SERVFAIL.
func (r *Resolver) Resolve(ctx context.Context, name string, qtype uint16) (*mdns.Msg, error) {
	if _, ok := mdns.IsDomainName(name); !ok || name == "" {
		return nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	if len(r.RootHints) == 0 {
		return nil, ErrNoRootHints
	}
	st := &state{max: r.MaxQueries}
	if st.max <= 0 {
		st.max = DefaultMaxQueries
	}
	res, err := r.resolve(ctx, st, strings.ToLower(mdns.Fqdn(name)), qtype, 0)
	if err != nil {
		return nil, err
	}
	m := new(mdns.Msg)
	m.Id = randomID()
	m.Response = true
	m.RecursionDesired = true
	m.RecursionAvailable = true
	m.Question = []mdns.Question{{Name: mdns.Fqdn(name), Qtype: qtype, Qclass: mdns.ClassINET}}
	m.Answer, m.Ns, m.Rcode = res.answer, res.ns, res.rcode
	return m, nil
}

// fromCache answers qname/qtype from the cache alone, following cached
// CNAMEs; ok is false when the cache cannot answer.
func (r *Resolver) fromCache(qname string, qtype uint16) (result, bool) {
	var res result
	c := r.cache()
	for range maxChain {
		if rrs, _, ok := c.get(cacheKey{qname, typeNXDOMAIN, kindNegative}); ok {
			res.ns, res.rcode = rrs, mdns.RcodeNameError
			return res, true
		}
		if rrs, _, ok := c.get(cacheKey{qname, qtype, kindNegative}); ok {
			res.ns = rrs
			return res, true
		}
		if rrs, _, ok := c.get(cacheKey{qname, qtype, kindAnswer}); ok {
			res.answer = append(res.answer, rrs...)
			return res, true
		}
		if qtype == mdns.TypeCNAME {
			break
		}
		rrs, _, ok := c.get(cacheKey{qname, mdns.TypeCNAME, kindAnswer})
		if !ok || len(rrs) == 0 {
			break
		}
		res.answer = append(res.answer, rrs...)
		qname = strings.ToLower(rrs[0].(*mdns.CNAME).Target)
	}
	return res, false
}

// resolve answers qname/qtype, from the cache where it can, following
// CNAMEs across zones (RFC 1034 5.3.3 step 3).
func (r *Resolver) resolve(ctx context.Context, st *state, qname string, qtype uint16, depth int) (result, error) {
	if depth > maxDepth {
		return result{}, ErrTooDeep
	}
	var chain []mdns.RR
	seen := map[string]bool{}
	for range maxChain {
		if err := ctx.Err(); err != nil {
			return result{}, err
		}
		if seen[qname] {
			return result{answer: chain}, nil // CNAME loop: return what we have
		}
		seen[qname] = true
		if res, ok := r.fromCache(qname, qtype); ok {
			res.answer = append(chain, res.answer...)
			return res, nil
		}
		if qtype != mdns.TypeCNAME {
			if rrs, _, ok := r.cache().get(cacheKey{qname, mdns.TypeCNAME, kindAnswer}); ok && len(rrs) > 0 {
				chain = append(chain, rrs...)
				qname = strings.ToLower(rrs[0].(*mdns.CNAME).Target)
				continue
			}
		}
		cl, err := r.iterate(ctx, st, qname, qtype, depth)
		if err != nil {
			return result{}, err
		}
		chain = append(chain, cl.chain...)
		switch cl.kind {
		case kAnswer:
			return result{answer: append(chain, cl.final...)}, nil
		case kNXDomain:
			return result{answer: chain, ns: soaList(cl.soa), rcode: mdns.RcodeNameError}, nil
		case kNoData:
			return result{answer: chain, ns: soaList(cl.soa)}, nil
		case kCNAME:
			qname = cl.last
			continue
		}
		return result{}, ErrLame
	}
	return result{}, ErrTooDeep
}

func soaList(soa *mdns.SOA) []mdns.RR {
	if soa == nil {
		return nil
	}
	s := mdns.Copy(soa)
	s.Header().Ttl = min(soa.Hdr.Ttl, soa.Minttl) // RFC 2308 3
	return []mdns.RR{s}
}

// servers is a zone's name servers as known to the resolver.
type servers struct {
	zone   string
	addrs  []netip.AddrPort
	noGlue []string // NS names without addresses
}

// closest returns the deepest zone enclosing qname whose delegation is
// cached, or the root hints.
func (r *Resolver) closest(qname string) servers {
	c := r.cache()
	for n := qname; n != "."; n = parent(n) {
		rrs, _, ok := c.get(cacheKey{n, mdns.TypeNS, kindDelegation})
		if !ok {
			continue
		}
		if s := r.serversFrom(n, rrs); len(s.addrs)+len(s.noGlue) > 0 {
			return s
		}
	}
	return servers{zone: ".", addrs: r.RootHints}
}

// serversFrom splits a delegation's NS records and glue into addresses and
// names still to resolve.
func (r *Resolver) serversFrom(zone string, rrs []mdns.RR) servers {
	s := servers{zone: zone}
	addrs := map[string][]netip.Addr{}
	var names []string
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *mdns.NS:
			names = append(names, strings.ToLower(v.Ns))
		case *mdns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				addrs[v.Hdr.Name] = append(addrs[v.Hdr.Name], a)
			}
		case *mdns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
				addrs[v.Hdr.Name] = append(addrs[v.Hdr.Name], a)
			}
		}
	}
	for _, n := range names {
		if len(addrs[n]) == 0 {
			s.noGlue = append(s.noGlue, n)
		}
		for _, a := range addrs[n] {
			s.addrs = append(s.addrs, netip.AddrPortFrom(a, r.serverPort()))
		}
	}
	return s
}

// iterate walks referrals from the closest known zone down to a server
// that answers qname/qtype (RFC 1034 5.3.3 steps 2-4).
func (r *Resolver) iterate(ctx context.Context, st *state, qname string, qtype uint16, depth int) (classified, error) {
	srv := r.closest(qname)
	qm := r.newQmin(srv.zone, qname, qtype)
	for range 2*maxChain + mdns.CountLabel(qname) {
		qn, qt := qm.next()
		cl, err := r.queryZone(ctx, st, srv, qn, qt, depth)
		if err != nil {
			return cl, err
		}
		if qn != qname {
			r.store(cl, qn, qt)
			if done, res := qm.step(&cl); done {
				return res, nil
			}
			if cl.kind == kReferral {
				srv = r.serversFrom(cl.child, append(append([]mdns.RR(nil), cl.ns...), cl.glue...))
				qm.zone(cl.child)
			}
			continue
		}
		r.store(cl, qname, qtype)
		if cl.kind != kReferral {
			return cl, nil
		}
		srv = r.serversFrom(cl.child, append(append([]mdns.RR(nil), cl.ns...), cl.glue...))
	}
	return classified{}, ErrTooDeep
}

// store caches what a classified answer holds; every record in it was
// checked to be in the bailiwick of the server that sent it.
func (r *Resolver) store(cl classified, qname string, qtype uint16) {
	c := r.cache()
	for _, set := range rrsets(cl.chain) {
		c.put(cacheKey{set[0].Header().Name, mdns.TypeCNAME, kindAnswer}, set, minTTL(set), 0)
	}
	switch cl.kind {
	case kAnswer:
		if qtype != mdns.TypeANY && len(cl.final) > 0 {
			c.put(cacheKey{cl.last, qtype, kindAnswer}, cl.final, minTTL(cl.final), 0)
		}
	case kNXDomain, kNoData:
		// RFC 2308 5: negative answers without an SOA are not cached;
		// the TTL is min(SOA TTL, SOA MINIMUM) (RFC 2308 3).
		if cl.soa == nil {
			return
		}
		t := qtype
		if cl.kind == kNXDomain {
			t = typeNXDOMAIN
		}
		c.put(cacheKey{cl.last, t, kindNegative}, soaList(cl.soa), min(cl.soa.Hdr.Ttl, cl.soa.Minttl), 0)
	case kReferral:
		set := append(append([]mdns.RR(nil), cl.ns...), cl.glue...)
		c.put(cacheKey{cl.child, mdns.TypeNS, kindDelegation}, set, minTTL(cl.ns), 0)
	}
}

// queryZone asks the zone's servers in turn until one gives a usable
// answer; lame, silent and failing servers lead to the next (RFC 1034
// 5.3.3 step 4). NS names without glue are resolved when the glued
// servers are exhausted.
func (r *Resolver) queryZone(ctx context.Context, st *state, srv servers, qname string, qtype uint16, depth int) (classified, error) {
	lastErr := ErrAllServersFailed
	try := func(addrs []netip.AddrPort) (classified, bool, error) {
		for round := 0; round <= max(r.Retries, 0); round++ {
			for _, a := range addrs {
				if err := ctx.Err(); err != nil {
					return classified{}, false, err
				}
				if st.queries >= st.max {
					return classified{}, false, ErrTooManyQueries
				}
				st.queries++
				resp, err := r.exchange(ctx, a, qname, qtype)
				if err != nil {
					lastErr = err
					continue
				}
				cl := classify(resp, srv.zone, qname, qtype)
				if cl.kind == kLame {
					lastErr = ErrLame
					continue
				}
				return cl, true, nil
			}
		}
		return classified{}, false, nil
	}
	if cl, ok, err := try(srv.addrs); ok || err != nil {
		return cl, err
	}
	for _, ns := range srv.noGlue {
		// An NS inside the zone without glue cannot be reached through it.
		if mdns.IsSubDomain(srv.zone, ns) && srv.zone != "." {
			continue
		}
		var addrs []netip.AddrPort
		for _, t := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
			res, err := r.resolve(ctx, st, ns, t, depth+1)
			if err != nil {
				if errors.Is(err, ErrTooManyQueries) || ctx.Err() != nil {
					return classified{}, err
				}
				continue
			}
			for _, rr := range res.answer {
				switch v := rr.(type) {
				case *mdns.A:
					if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
						addrs = append(addrs, netip.AddrPortFrom(a, r.serverPort()))
					}
				case *mdns.AAAA:
					if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
						addrs = append(addrs, netip.AddrPortFrom(a, r.serverPort()))
					}
				}
			}
		}
		if cl, ok, err := try(addrs); ok || err != nil {
			return cl, err
		}
	}
	return classified{}, fmt.Errorf("%w: zone %s: %w", ErrAllServersFailed, srv.zone, lastErr)
}

// handleCached answers a UDP query the cache can answer (or one refused or
// malformed, which needs no resolution); ok is false for the others.
func (r *Resolver) handleCached(buf []byte, client netip.AddrPort) ([][]byte, bool) {
	q, early := checkQuery(buf, r.ednsSize())
	if early != nil || q == nil {
		return r.handle(buf, client, false), true
	}
	qq := q.msg.Question[0]
	if r.allowed(client.Addr()) && qq.Qclass == mdns.ClassINET && qq.Qtype != mdns.TypeAXFR && qq.Qtype != mdns.TypeIXFR {
		if _, ok := mdns.IsDomainName(qq.Name); ok {
			if _, ok := r.fromCache(strings.ToLower(qq.Name), qq.Qtype); !ok && q.msg.RecursionDesired {
				return nil, false
			}
		}
	}
	return r.handle(buf, client, false), true
}

// handle answers one client query.
func (r *Resolver) handle(buf []byte, client netip.AddrPort, tcp bool) [][]byte {
	if !tcp && !r.rl.allow(client.Addr(), r.RateLimit) {
		return nil
	}
	limit := maxDNSMessage
	q, early := checkQuery(buf, r.ednsSize())
	if early != nil {
		early.RecursionAvailable = true
		if !tcp {
			limit = minUDPSize
		}
		if out, err := pack(early, limit, false); err == nil {
			return [][]byte{out}
		}
		return nil
	}
	if q == nil {
		return nil
	}
	if !tcp {
		limit = q.udpLimit
	}
	resp := replyTo(q.msg)
	resp.RecursionAvailable = true
	r.answer(q, resp, client.Addr())
	if q.opt != nil {
		addOPT(resp, q.opt, r.ednsSize())
	}
	out, err := pack(resp, limit, false)
	if err != nil {
		return nil
	}
	return [][]byte{out}
}

func (r *Resolver) answer(q *query, resp *mdns.Msg, client netip.Addr) {
	qq := q.msg.Question[0]
	// RFC 5358 4: recursion is offered only to the clients it is meant for.
	if !r.allowed(client) || qq.Qclass != mdns.ClassINET ||
		qq.Qtype == mdns.TypeAXFR || qq.Qtype == mdns.TypeIXFR {
		resp.Rcode = mdns.RcodeRefused
		return
	}
	if _, ok := mdns.IsDomainName(qq.Name); !ok {
		resp.Rcode = mdns.RcodeFormatError
		return
	}
	qname := strings.ToLower(qq.Name)
	var res result
	if !q.msg.RecursionDesired {
		// RFC 1034 4.3.1: without RD the server answers from what it
		// has; we answer from the cache, else REFUSED.
		cached, ok := r.fromCache(qname, qq.Qtype)
		if !ok {
			resp.Rcode = mdns.RcodeRefused
			return
		}
		res = cached
	} else {
		var err error
		res, err = r.resolveForClient(qname, qq.Qtype)
		if err != nil {
			resp.Rcode = mdns.RcodeServerFailure
			return
		}
	}
	resp.Rcode = res.rcode
	resp.Answer = withOwnerFold(res.answer, qq.Name)
	resp.Ns = res.ns
}

// withOwnerFold spells owners equal (ignoring case) to name as name, so the
// answer matches the question's case.
func withOwnerFold(rrs []mdns.RR, name string) []mdns.RR {
	out := make([]mdns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = rr
		if rr.Header().Name != name && strings.EqualFold(rr.Header().Name, name) {
			out[i] = mdns.Copy(rr)
			out[i].Header().Name = name
		}
	}
	return out
}
