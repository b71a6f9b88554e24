package dns

import (
	"context"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Serve-stale (RFC 8767): with Resolver.ServeStale, answer RRsets are kept
// MaxStale past their TTL; a client query whose resolution fails, or has
// not finished when the client response timer fires, is answered from that
// stale data with the TTL StaleTTL. Stale data is used only when
// refreshing has failed (RFC 8767 7): an authority that answers, even with
// NXDOMAIN or another address, wins. Negative answers are never served
// stale.
const (
	// StaleTTL is the TTL of stale records handed to clients (RFC 8767 4
	// recommends 30 seconds).
	StaleTTL = 30
	// DefaultMaxStale is how long records are kept past their TTL (RFC
	// 8767 5 suggests one to three days).
	DefaultMaxStale = 24 * time.Hour
	// DefaultClientResponseTimeout is the client response timer (RFC 8767
	// 5 suggests 1.8 seconds).
	DefaultClientResponseTimeout = 1800 * time.Millisecond
)

func (r *Resolver) maxStale() time.Duration {
	if r.MaxStale <= 0 {
		return DefaultMaxStale
	}
	return r.MaxStale
}

func (r *Resolver) clientResponseTimeout() time.Duration {
	if r.ClientResponseTimeout <= 0 {
		return DefaultClientResponseTimeout
	}
	return r.ClientResponseTimeout
}

// resolveForClient resolves a client's query; with ServeStale, stale data
// answers it when the resolution fails or outlasts the client response
// timer (the resolution then goes on, and refreshes the cache if it can).
func (r *Resolver) resolveForClient(qname string, qtype uint16) (result, error) {
	run := func() (result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultResolveTimeout)
		defer cancel()
		st := &state{max: r.MaxQueries}
		if st.max <= 0 {
			st.max = DefaultMaxQueries
		}
		return r.resolve(ctx, st, qname, qtype, 0)
	}
	if !r.ServeStale {
		return run()
	}
	type outcome struct {
		res result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := run()
		done <- outcome{res, err}
	}()
	timer := time.NewTimer(r.clientResponseTimeout())
	defer timer.Stop()
	var o outcome
	select {
	case o = <-done:
	case <-timer.C:
		if res, ok := r.staleFromCache(qname, qtype); ok {
			return res, nil
		}
		o = <-done
	}
	if o.err != nil {
		if res, ok := r.staleFromCache(qname, qtype); ok {
			return res, nil
		}
	}
	return o.res, o.err
}

// staleFromCache answers qname/qtype from positive cache data, live or
// stale, following CNAMEs; ok is false unless some of it is stale and the
// chain ends in data (a wholly live answer would have come from fromCache).
func (r *Resolver) staleFromCache(qname string, qtype uint16) (result, bool) {
	var res result
	c := r.cache()
	anyStale := false
	for range maxChain {
		if rrs, stale, ok := c.getStale(cacheKey{qname, qtype, kindAnswer}); ok {
			res.answer = append(res.answer, rrs...)
			return res, anyStale || stale
		}
		if qtype == mdns.TypeCNAME {
			break
		}
		rrs, stale, ok := c.getStale(cacheKey{qname, mdns.TypeCNAME, kindAnswer})
		if !ok || len(rrs) == 0 {
			break
		}
		anyStale = anyStale || stale
		res.answer = append(res.answer, rrs...)
		qname = strings.ToLower(rrs[0].(*mdns.CNAME).Target)
	}
	return result{}, false
}

// keepStale reports whether an expired entry is kept for serve-stale: an
// answer RRset within staleFor past its TTL. The caller holds c.mu.
func (c *cache) keepStale(e *cacheEntry) bool {
	if c.staleFor <= 0 || e.key.kind != kindAnswer {
		return false
	}
	return c.now().Sub(e.stored) < time.Duration(e.ttl)*time.Second+c.staleFor
}

// getStale returns copies of an answer entry's records, live (TTL
// decremented) or stale (TTL StaleTTL), and whether they are stale.
func (c *cache) getStale(k cacheKey) ([]mdns.RR, bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false, false
	}
	left := e.remaining(c.now())
	stale := left == 0
	if stale {
		if !c.keepStale(e) {
			c.remove(e)
			return nil, false, false
		}
		left = StaleTTL
	}
	out := make([]mdns.RR, len(e.rrs))
	for i, rr := range e.rrs {
		cp := mdns.Copy(rr)
		cp.Header().Ttl = min(cp.Header().Ttl, left)
		if stale {
			cp.Header().Ttl = StaleTTL
		}
		out[i] = cp
	}
	return out, stale, true
}
