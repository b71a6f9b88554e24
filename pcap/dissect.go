package pcap

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

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
	// Gap, when set, says why the capture cannot show whether the message
	// broke a rule (bytes lost, the connection's start or end not
	// captured, one direction only): a violation it seems to commit is
	// not judgeable, not a failure.
	Gap string `json:"gap,omitempty"`
	// Problems are violations the dissector saw while framing the
	// message, by rule (see Rules).
	Problems []Problem `json:"problems,omitempty"`

	// Info is what the protocol's dissector read from the message (its
	// room's type: *http1.Info, *dns.Info...), shown under "info" in JSON.
	Info any `json:"info,omitempty"`

	// Peer is the client message a server message answers (nil: none).
	Peer *Message `json:"-"`
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

// AddProblem records that the message broke rule; a message keeps the
// first few problems only.
func (m *Message) AddProblem(rule, format string, args ...any) {
	if len(m.Problems) < 8 {
		m.Problems = append(m.Problems, Problem{Rule: rule, Text: fmt.Sprintf(format, args...)})
	}
}

// RawBuf accumulates a message's wire bytes up to a limit, for a
// dissector to hand to Message.Raw.
type RawBuf struct {
	keep  bool
	limit int
	b     []byte
	n     int64
	cut   bool
}

// NewRawBuf returns a RawBuf that keeps up to limit bytes, or only counts
// them unless keep.
func NewRawBuf(keep bool, limit int) RawBuf { return RawBuf{keep: keep, limit: limit} }

// Len is the number of bytes written and lost so far.
func (r *RawBuf) Len() int64 { return r.n }

// Write adds the next bytes of the message.
func (r *RawBuf) Write(p []byte) {
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

// Hole says n bytes of the message are missing from the capture.
func (r *RawBuf) Hole(n int) {
	r.n += int64(n)
	r.cut = true
}

// Take fills m's Raw, Len and Truncated and resets r.
func (r *RawBuf) Take(m *Message) {
	m.Raw, m.Len, m.Truncated = r.b, r.n, r.cut
	*r = RawBuf{keep: r.keep, limit: r.limit}
}

// Excerpt quotes the first n bytes of b, with an ellipsis when there are
// more: how summaries and problems show wire bytes.
func Excerpt(b []byte, n int) string {
	s := strconv.Quote(string(b[:min(len(b), n)]))
	if len(b) > n {
		s += "…"
	}
	return s
}

// Dissector turns the byte streams (or datagrams) of one flow into
// messages, which it hands to its Emitter.
type Dissector interface {
	// Data is the next bytes of one side (TCP) or one datagram (UDP).
	Data(side Side, t time.Time, b []byte)
	// Lost says n bytes of one side are missing from the capture.
	Lost(side Side, n int)
	// End says one side closed (or the capture ended).
	End(side Side, t time.Time, reset bool)
}

// Reusable is a Dissector that can serve another flow once its own has
// ended, keeping the storage it grew: the engine keeps a few of each
// protocol and hands them to new flows instead of allocating.
type Reusable interface {
	Dissector
	// Reset readies the dissector for a new flow emitting to e; with a
	// nil e, it only lets go of the ended flow's messages.
	Reset(e *Emitter)
}

// Emitter is what a dissector hands its messages to: it numbers them,
// links answers to what they answer and passes them on.
type Emitter struct {
	flow       *Flow
	n          [2]int
	packet     *int
	out        func(*Message)
	keepRaw    bool
	maxMessage int
	// expect records an expectation (Expect); nil outside Analyze.
	expect func(netip.AddrPort, expectation)
}

// NewEmitter returns an emitter for a flow dissected outside Analyze (a
// replayed connection, a message parsed again): out receives each
// message; keepRaw and maxMessage are as in Options.
func NewEmitter(f *Flow, keepRaw bool, maxMessage int, out func(*Message)) *Emitter {
	return &Emitter{flow: f, out: out, keepRaw: keepRaw, maxMessage: maxMessage}
}

// Flow is the flow being dissected.
func (e *Emitter) Flow() *Flow { return e.flow }

// KeepRaw reports whether messages keep their wire bytes (Options.KeepRaw).
func (e *Emitter) KeepRaw() bool { return e.keepRaw }

// MaxMessage bounds the bytes kept of one message (Options.MaxMessage).
func (e *Emitter) MaxMessage() int { return e.maxMessage }

// NewMessage returns a new message of side begun at t.
func (e *Emitter) NewMessage(side Side, t time.Time) *Message {
	m := new(Message)
	e.Init(m, side, t)
	return m
}

// Init sets the fields a new message starts with in m, which is zero (for
// a dissector that allocates its messages with its own info at once).
func (e *Emitter) Init(m *Message, side Side, t time.Time) {
	m.Flow, m.Proto, m.Side, m.Time, m.Answers, m.N = e.flow.ID, e.flow.Proto, side, t, -1, -1
}

// Emit numbers m and passes it on.
func (e *Emitter) Emit(m *Message) {
	m.N = e.n[m.Side]
	e.n[m.Side]++
	if m.Peer != nil {
		m.Answers = m.Peer.N
	}
	if e.packet != nil {
		m.Packet = *e.packet
	}
	if m.Gap == "" {
		m.Gap = e.flow.gap(m)
	}
	e.flow.Messages++
	if e.out != nil {
		e.out(m)
	}
}
