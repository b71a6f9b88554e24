package pcap

import (
	"encoding/binary"
	"net/netip"
	"sort"
	"time"
)

// Bounds of IP reassembly: datagrams being reassembled at once, the bytes
// they hold in all, and how long (in capture time) a datagram waits for
// its missing fragments.
const (
	maxFragDatagrams = 1024
	maxFragBytes     = 16 << 20
	fragTimeout      = 30 * time.Second
)

// fragKey identifies the fragments of one IP datagram (RFC 791, RFC 8200
// 4.5): source, destination, identification and protocol.
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type fragPart struct {
	off  int
	data []byte
}

type fragDatagram struct {
	parts []fragPart
	total int // the datagram's length once the last fragment came, else -1
	size  int
	first time.Time
}

// reassembler rebuilds IP datagrams from their fragments, within bounds:
// beyond them, or past fragTimeout, the oldest datagram is dropped (its
// fragments stay counted in DecodeStats.Fragments).
type reassembler struct {
	m     map[fragKey]*fragDatagram
	bytes int
}

// add takes one fragment: off is its offset in bytes, more whether more
// follow. It returns the whole datagram's payload (a new buffer) when
// this fragment completed it, and how many fragments it was made of.
func (r *reassembler) add(k fragKey, t time.Time, off int, more bool, data []byte) ([]byte, int) {
	if r.m == nil {
		r.m = map[fragKey]*fragDatagram{}
	}
	if off+len(data) > 0xffff+8 || (more && len(data) == 0) {
		return nil, 0
	}
	g := r.m[k]
	if g == nil {
		r.expire(t)
		for len(r.m) >= maxFragDatagrams || r.bytes+len(data) > maxFragBytes {
			if !r.dropOldest() {
				break
			}
		}
		g = &fragDatagram{total: -1, first: t}
		r.m[k] = g
	}
	g.parts = append(g.parts, fragPart{off: off, data: append([]byte(nil), data...)})
	g.size += len(data)
	r.bytes += len(data)
	if !more {
		g.total = off + len(data)
	}
	if g.total < 0 {
		return nil, 0
	}
	sort.SliceStable(g.parts, func(i, j int) bool { return g.parts[i].off < g.parts[j].off })
	end := 0
	for _, p := range g.parts {
		if p.off > end {
			return nil, 0 // a hole yet
		}
		end = max(end, p.off+len(p.data))
	}
	if end < g.total {
		return nil, 0
	}
	out := make([]byte, g.total)
	for _, p := range g.parts {
		// Overlaps: the earlier fragment's bytes are kept (RFC 8200
		// forbids overlaps; a capture shows what the receiver did not).
		if p.off < g.total {
			copy(out[p.off:], p.data[:min(len(p.data), g.total-p.off)])
		}
	}
	n := len(g.parts)
	r.bytes -= g.size
	delete(r.m, k)
	return out, n
}

// expire drops the datagrams that waited longer than fragTimeout.
func (r *reassembler) expire(now time.Time) {
	for k, g := range r.m {
		if now.Sub(g.first) > fragTimeout {
			r.bytes -= g.size
			delete(r.m, k)
		}
	}
}

func (r *reassembler) dropOldest() bool {
	var old fragKey
	var og *fragDatagram
	for k, g := range r.m {
		if og == nil || g.first.Before(og.first) {
			old, og = k, g
		}
	}
	if og == nil {
		return false
	}
	r.bytes -= og.size
	delete(r.m, old)
	return true
}

// ipv6Fragment walks the extension headers of an IPv6 packet whose next
// header is not TCP or UDP and reports the fragment header, if any: the
// protocol of what follows, the offset in bytes, whether more fragments
// follow, the identification and the fragment's data.
func ipv6Fragment(next uint8, b []byte) (proto uint8, off int, more bool, id uint32, data []byte, ok bool) {
	for range 8 {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < 8 {
				return
			}
			n := (int(b[1]) + 1) * 8
			if len(b) < n {
				return
			}
			next, b = b[0], b[n:]
		case 51: // authentication header
			if len(b) < 8 {
				return
			}
			n := (int(b[1]) + 2) * 4
			if len(b) < n {
				return
			}
			next, b = b[0], b[n:]
		case 44:
			if len(b) < 8 {
				return
			}
			fo := binary.BigEndian.Uint16(b[2:])
			return b[0], int(fo &^ 7), fo&1 != 0, binary.BigEndian.Uint32(b[4:]), b[8:], true
		default:
			return
		}
	}
	return
}
