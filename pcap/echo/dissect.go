// Package echo is the pcap dissector of the echo family (RFC 862 echo and
// its uppercase variant): each line (TCP) or datagram (UDP) is a message,
// and the server's n-th answers the client's n-th. Importing it registers
// it with the pcap engine:
//
//	import _ "github.com/protospec/protospec/pcap/echo"
package echo

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/pcap"
)

func init() {
	pcap.Register(pcap.Protocol{
		Name:  echo.Name,
		Title: "lines (TCP) or datagrams (UDP), each server message answering the client's in turn",
		Ports: pcap.ContractPorts(echo.Contract, "echo"),
		// Last: a server repeating the client is a weak sign.
		SniffOrder: 100,
		Sniff: func(side pcap.Side, udp bool, b, client []byte) bool {
			return side == pcap.Server && looksLikeEcho(client, b)
		},
		New: func(e *pcap.Emitter, udp bool) pcap.Dissector { return newDissector(e, udp) },
		Replay: &pcap.Replayer{
			Service: func(p *pcap.ReplayParams) string { return p.Get(paramService) },
			Params:  []protocol.Param{{Name: paramService, Doc: "the service echo flows are replayed to (echo, uppercase, ...)", Default: "echo"}},
		},
		CapturePort: capturePort,
	})
}

// paramService names the replay param of the target service.
const paramService = "service"

// docServices maps the documents of the suite's spec IDs to the services
// they test, whose well-known port a spec's capture shows.
var docServices = map[string]string{"rfc862": "echo", "rfc863": "discard", "rfc867": "daytime", "rfc864": "chargen"}

// capturePort is the well-known port of the service a spec tests
// (echo/rfc864/... is chargen's 19), 0 when it has none.
func capturePort(specID string) uint16 {
	parts := strings.SplitN(specID, "/", 3)
	if len(parts) < 2 {
		return 0
	}
	service, ok := docServices[parts[1]]
	if !ok {
		return 0
	}
	if ports := pcap.ContractPorts(echo.Contract, service); len(ports) > 0 {
		return ports[0]
	}
	return 0
}

// looksLikeEcho reports whether the server's first bytes repeat the
// client's (as echo does, or uppercase does in upper case).
func looksLikeEcho(client, server []byte) bool {
	n := min(len(client), len(server))
	if n == 0 {
		return false
	}
	return bytes.Equal(client[:n], server[:n]) || bytes.Equal(bytes.ToUpper(client[:n]), server[:n])
}

// maxLine is where the dissector cuts a line without LF into a message of
// its own.
const maxLine = 64 << 10

// dissector makes each line (TCP) or datagram (UDP) a message, and
// matches the server's n-th message to the client's n-th.
type dissector struct {
	e       *pcap.Emitter
	udp     bool
	raw     [2]pcap.RawBuf
	start   [2]time.Time
	partial [2]bool // bytes of an unfinished line are in raw
	holes   [2]bool
	waiting []*pcap.Message // client messages not yet answered
}

func newDissector(e *pcap.Emitter, udp bool) *dissector {
	d := &dissector{e: e, udp: udp}
	for i := range d.raw {
		d.raw[i] = pcap.NewRawBuf(true, min(e.MaxMessage(), maxLine))
	}
	return d
}

func (d *dissector) emit(side pcap.Side, t time.Time, raw []byte, n int64, cut, incomplete bool) {
	m := d.e.NewMessage(side, t)
	m.Raw, m.Len, m.Truncated, m.Incomplete = raw, n, cut, incomplete
	kind := "line"
	if d.udp {
		kind = "datagram"
	}
	m.Summary = fmt.Sprintf("%s %s (%d bytes)", kind, pcap.Excerpt(raw, 60), n)
	if side == pcap.Client {
		if len(d.waiting) < 1024 {
			d.waiting = append(d.waiting, m)
		}
	} else if len(d.waiting) > 0 {
		m.Peer = d.waiting[0]
		d.waiting = d.waiting[1:]
	}
	d.e.Emit(m)
}

func (d *dissector) Data(side pcap.Side, t time.Time, b []byte) {
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
		// Lost bytes count in r.Len too and may take it past the limit.
		room := max(maxLine-int(r.Len()), 0)
		if len(chunk) > room {
			chunk = chunk[:room]
			i = -2 // cut: emit without a LF
		}
		r.Write(chunk)
		b = b[len(chunk):]
		if i != -1 {
			d.flushLine(side, false)
		}
	}
}

func (d *dissector) flushLine(side pcap.Side, incomplete bool) {
	r := &d.raw[side]
	if !d.partial[side] {
		return
	}
	var m pcap.Message
	r.Take(&m)
	d.emit(side, d.start[side], m.Raw, m.Len, m.Truncated || d.holes[side], incomplete)
	d.partial[side], d.holes[side] = false, false
}

func (d *dissector) Lost(side pcap.Side, n int) {
	if d.udp {
		d.holes[side] = true
		return
	}
	if !d.partial[side] {
		d.partial[side] = true
	}
	d.raw[side].Hole(n)
	d.holes[side] = true
}

func (d *dissector) End(side pcap.Side, t time.Time, reset bool) {
	if !d.udp {
		d.flushLine(side, false)
	}
}
