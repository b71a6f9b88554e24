package pcap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Application protocols the dissectors know.
const (
	ProtoHTTP1 = "http1"
	ProtoDNS   = "dns"
	ProtoEcho  = "echo"
)

// Protocols lists the protocols --decode-as accepts.
var Protocols = []string{ProtoHTTP1, ProtoDNS, ProtoEcho}

// DefaultPorts maps well-known server ports to protocols.
var DefaultPorts = map[uint16]string{
	7: ProtoEcho, 53: ProtoDNS,
	80: ProtoHTTP1, 591: ProtoHTTP1, 3128: ProtoHTTP1, 8000: ProtoHTTP1, 8008: ProtoHTTP1, 8080: ProtoHTTP1, 8888: ProtoHTTP1,
}

// Side is the end of a flow a message came from.
type Side uint8

// Sides of a flow.
const (
	Client Side = iota
	Server
)

// MarshalText writes "client" or "server".
func (s Side) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s Side) String() string {
	if s == Client {
		return "client"
	}
	return "server"
}

// Message is one protocol message a dissector found in a flow: an HTTP
// request or response, a DNS message, an echo line or datagram.
type Message struct {
	Flow  int    `json:"flow"`
	Proto string `json:"proto"`
	Side  Side   `json:"side"`
	// N numbers the messages of one side of a flow, from 0.
	N    int       `json:"n"`
	Time time.Time `json:"time"`
	// Packet is the number of the packet that completed the message.
	Packet int `json:"packet,omitempty"`
	// Summary is a one-line description ("GET /index.html HTTP/1.1").
	Summary string `json:"summary"`
	// Raw is the message as it was on the wire, cut after
	// Options.MaxMessage bytes; nil unless Options.KeepRaw.
	Raw []byte `json:"-"`
	// Len is the message's length on the wire.
	Len int64 `json:"len"`
	// Truncated is set when Raw lacks bytes: cut at MaxMessage, or lost
	// in the capture.
	Truncated bool `json:"truncated,omitempty"`
	// Incomplete is set when the flow ended (or lost bytes) before the
	// message was complete.
	Incomplete bool `json:"incomplete,omitempty"`
	// Answers is, for a server message, the N of the client message it
	// answers; -1 when none.
	Answers int `json:"answers"`
	// Problems are violations the dissector saw while framing the
	// message, by rule (see Rules).
	Problems []Problem `json:"problems,omitempty"`

	HTTP *HTTPInfo `json:"http,omitempty"`
	DNS  *DNSInfo  `json:"dns,omitempty"`

	// peer is the client message a server message answers.
	peer *Message
}

// Problem is one rule a message broke.
type Problem struct {
	Rule string `json:"rule"`
	Text string `json:"text"`
}

func (m *Message) String() string {
	dir := "->"
	if m.Side == Server {
		dir = "<-"
	}
	s := fmt.Sprintf("flow %d %s %s#%d %s", m.Flow, dir, m.Side, m.N, m.Summary)
	if m.Answers >= 0 {
		s += fmt.Sprintf(" (answers #%d)", m.Answers)
	}
	var flags []string
	if m.Incomplete {
		flags = append(flags, "incomplete")
	}
	if m.Truncated {
		flags = append(flags, "truncated")
	}
	for _, p := range m.Problems {
		flags = append(flags, p.Rule+": "+p.Text)
	}
	if len(flags) > 0 {
		s += " [" + strings.Join(flags, "; ") + "]"
	}
	return s
}

func (m *Message) problem(rule, format string, args ...any) {
	if len(m.Problems) < 8 {
		m.Problems = append(m.Problems, Problem{Rule: rule, Text: fmt.Sprintf(format, args...)})
	}
}

// rawBuf accumulates a message's wire bytes up to a limit.
type rawBuf struct {
	keep  bool
	limit int
	b     []byte
	n     int64
	cut   bool
}

func (r *rawBuf) write(p []byte) {
	r.n += int64(len(p))
	if !r.keep {
		return
	}
	room := r.limit - len(r.b)
	if len(p) > room {
		p = p[:max(room, 0)]
		r.cut = true
	}
	r.b = append(r.b, p...)
}

func (r *rawBuf) hole(n int) {
	r.n += int64(n)
	r.cut = true
}

// take fills m's Raw, Len and Truncated and resets r.
func (r *rawBuf) take(m *Message) {
	m.Raw, m.Len, m.Truncated = r.b, r.n, r.cut
	*r = rawBuf{keep: r.keep, limit: r.limit}
}

// dissector turns the byte streams (or datagrams) of one flow into
// messages.
type dissector interface {
	// data is the next bytes of one side (TCP) or one datagram (UDP).
	data(side Side, t time.Time, b []byte)
	// lost says n bytes of one side are missing from the capture.
	lost(side Side, n int)
	// end says one side closed (or the capture ended).
	end(side Side, t time.Time, reset bool)
}

// emitter is what a dissector hands its messages to.
type emitter struct {
	flow   *Flow
	n      [2]int
	packet *int
	out    func(*Message)
}

func (e *emitter) newMessage(side Side, t time.Time) *Message {
	m := new(Message)
	e.initMessage(m, side, t)
	return m
}

// initMessage sets the fields a new message starts with in m, which is
// zero.
func (e *emitter) initMessage(m *Message, side Side, t time.Time) {
	m.Flow, m.Proto, m.Side, m.Time, m.Answers, m.N = e.flow.ID, e.flow.Proto, side, t, -1, -1
}

// emit numbers m and passes it on.
func (e *emitter) emit(m *Message) {
	m.N = e.n[m.Side]
	e.n[m.Side]++
	if m.peer != nil {
		m.Answers = m.peer.N
	}
	if e.packet != nil {
		m.Packet = *e.packet
	}
	e.flow.Messages++
	if e.out != nil {
		e.out(m)
	}
}

func newDissector(proto string, udp bool, e *emitter, o *Options) dissector {
	switch proto {
	case ProtoHTTP1:
		if udp {
			return nil
		}
		return newHTTPDissector(e, o)
	case ProtoDNS:
		return newDNSDissector(e, o, udp)
	case ProtoEcho:
		return newEchoDissector(e, o, udp)
	}
	return nil
}

var httpMethods = []string{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH "}

// sniff guesses the protocol of a flow from the first payload of one side.
func sniff(side Side, udp bool, b []byte) string {
	if udp {
		if looksLikeDNS(b) {
			return ProtoDNS
		}
		return ""
	}
	if side == Server && bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return ProtoHTTP1
	}
	if side == Client {
		for _, m := range httpMethods {
			if bytes.HasPrefix(b, []byte(m)) {
				return ProtoHTTP1
			}
		}
	}
	if len(b) >= 2 && int(binary.BigEndian.Uint16(b)) == len(b)-2 && looksLikeDNS(b[2:]) {
		return ProtoDNS
	}
	return ""
}

// looksLikeDNS reports whether b has a plausible DNS header: one question
// (or none, for some responses), few records, a known opcode.
func looksLikeDNS(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	qd, an, ns, ar := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:]), binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])
	opcode := (b[2] >> 3) & 0xf
	if qd > 1 || opcode > 6 || int(an)+int(ns)+int(ar) > 200 {
		return false
	}
	return qd == 1 || b[2]&0x80 != 0
}
