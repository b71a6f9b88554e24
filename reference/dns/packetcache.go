package dns

import (
	"encoding/binary"
	"sync"

	mdns "github.com/miekg/dns"
)

// Packet cache limits: queries longer than maxCachedQuery are not cached,
// and the cache is emptied when it holds maxCachedAnswers.
const (
	maxCachedQuery   = 512
	maxCachedAnswers = 8192
)

// packetCache maps a UDP query's bytes after its ID to the answer the
// authoritative server gave it, as PowerDNS's packet cache does. An answer
// depends on the query's bytes alone (the zones do not change while
// serving, and the only client-dependent answers, to zone transfers, are
// not cached), so the cached answer with the new query's ID is the answer.
// The whole query is the key: names differing in case only (RFC 4343, the
// 0x20 bits resolvers set) are different entries, and each answer echoes
// its own spelling.
type packetCache struct {
	mu sync.RWMutex
	m  map[string][]byte
}

// get returns a copy of the answer cached for query with query's ID, or
// nil.
func (c *packetCache) get(query []byte) []byte {
	if len(query) < 12 || len(query) > maxCachedQuery {
		return nil
	}
	c.mu.RLock()
	a := c.m[string(query[2:])]
	c.mu.RUnlock()
	if a == nil {
		return nil
	}
	out := make([]byte, len(a))
	copy(out, a)
	copy(out, query[:2])
	return out
}

// put caches answer for query when it is an answer to it: same ID, and a
// query that is not a zone transfer.
func (c *packetCache) put(query, answer []byte) {
	if len(query) < 12 || len(query) > maxCachedQuery || len(answer) < 12 ||
		answer[0] != query[0] || answer[1] != query[1] || isTransfer(query) {
		return
	}
	a := make([]byte, len(answer))
	copy(a, answer)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedAnswers {
		c.m = make(map[string][]byte)
	}
	c.m[string(query[2:])] = a
}

// isTransfer reports whether query's first question asks for AXFR or IXFR;
// unparsable questions count as transfers, so they are not cached.
func isTransfer(query []byte) bool {
	if binary.BigEndian.Uint16(query[4:]) == 0 {
		return false
	}
	off := 12
	for off < len(query) {
		l := int(query[off])
		if l == 0 {
			break
		}
		if l&0xC0 != 0 {
			return true // a pointer in a query's first name: do not cache
		}
		off += 1 + l
	}
	if off+3 > len(query) {
		return true
	}
	t := binary.BigEndian.Uint16(query[off+1:])
	return t == mdns.TypeAXFR || t == mdns.TypeIXFR
}
