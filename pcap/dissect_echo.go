package pcap

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// maxEchoLine is where the echo dissector cuts a line without LF into a
// message of its own.
const maxEchoLine = 64 << 10

// echoDissector makes each line (TCP) or datagram (UDP) a message, and
// matches the server's n-th message to the client's n-th.
type echoDissector struct {
	e       *emitter
	udp     bool
	raw     [2]rawBuf
	start   [2]time.Time
	partial [2]bool // bytes of an unfinished line are in raw
	holes   [2]bool
	waiting []*Message // client messages not yet answered
}

func newEchoDissector(e *emitter, o *Options, udp bool) *echoDissector {
	d := &echoDissector{e: e, udp: udp}
	for i := range d.raw {
		d.raw[i] = rawBuf{keep: true, limit: min(o.MaxMessage, maxEchoLine)}
	}
	return d
}

func excerpt(b []byte, n int) string {
	s := strconv.Quote(string(b[:min(len(b), n)]))
	if len(b) > n {
		s += "…"
	}
	return s
}

func (d *echoDissector) emit(side Side, t time.Time, raw []byte, n int64, cut, incomplete bool) {
	m := d.e.newMessage(side, t)
	m.Raw, m.Len, m.Truncated, m.Incomplete = raw, n, cut, incomplete
	kind := "line"
	if d.udp {
		kind = "datagram"
	}
	m.Summary = fmt.Sprintf("%s %s (%d bytes)", kind, excerpt(raw, 60), n)
	if side == Client {
		if len(d.waiting) < 1024 {
			d.waiting = append(d.waiting, m)
		}
	} else if len(d.waiting) > 0 {
		m.peer = d.waiting[0]
		d.waiting = d.waiting[1:]
	}
	d.e.emit(m)
}

func (d *echoDissector) data(side Side, t time.Time, b []byte) {
	if d.udp {
		cut := d.holes[side]
		d.holes[side] = false
		d.emit(side, t, append([]byte(nil), b...), int64(len(b)), cut, cut)
		return
	}
	r := &d.raw[side]
	for len(b) > 0 {
		if !d.partial[side] {
			d.start[side] = t
			d.partial[side] = true
		}
		i := bytes.IndexByte(b, '\n')
		chunk := b
		if i >= 0 {
			chunk = b[:i+1]
		}
		// Lost bytes count in r.n too and may take it past the limit.
		room := max(maxEchoLine-int(r.n), 0)
		if len(chunk) > room {
			chunk = chunk[:room]
			i = -2 // cut: emit without a LF
		}
		r.write(chunk)
		b = b[len(chunk):]
		if i != -1 {
			d.flushLine(side, false)
		}
	}
}

func (d *echoDissector) flushLine(side Side, incomplete bool) {
	r := &d.raw[side]
	if !d.partial[side] {
		return
	}
	var m Message
	r.take(&m)
	d.emit(side, d.start[side], m.Raw, m.Len, m.Truncated || d.holes[side], incomplete)
	d.partial[side], d.holes[side] = false, false
}

func (d *echoDissector) lost(side Side, n int) {
	if d.udp {
		d.holes[side] = true
		return
	}
	if !d.partial[side] {
		d.partial[side] = true
	}
	d.raw[side].hole(n)
	d.holes[side] = true
}

func (d *echoDissector) end(side Side, t time.Time, reset bool) {
	if !d.udp {
		d.flushLine(side, false)
	}
}
