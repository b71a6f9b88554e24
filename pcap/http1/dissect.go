// Package http1 is the pcap dissector of HTTP/1.x: requests and responses
// framed as RFC 9112 6.3 says (Content-Length, chunked, close-delimited,
// the HEAD, 1xx, 204 and 304 rules, pipelining), each response matched to
// its request, with the offline rules of RFC 9110 and 9112 and the replay
// comparison of responses. Importing it registers it with the pcap engine:
//
//	import _ "github.com/protospec/protospec/pcap/http1"
package http1

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/pcap"
	"golang.org/x/net/http/httpguts"
)

// Info is what the HTTP/1 dissector read from a message (Message.Info).
type Info struct {
	Request bool   `json:"request"`
	Method  string `json:"method,omitempty"`
	Target  string `json:"target,omitempty"`
	Version string `json:"version"`
	Status  int    `json:"status,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Header holds the header fields in order (the first maxFields).
	Header []Field `json:"header,omitempty"`
	// ContentLength is the Content-Length (-1 when absent or invalid).
	ContentLength int64 `json:"content_length"`
	Chunked       bool  `json:"chunked,omitempty"`
	// CloseDelimited is a response whose body ran until the connection
	// closed.
	CloseDelimited bool `json:"close_delimited,omitempty"`
	// NoBody is a response that has no body whatever its header says
	// (to HEAD; 1xx, 204, 304).
	NoBody bool `json:"no_body,omitempty"`
	// BodyLen is the length of the body's wire bytes (with chunk framing).
	BodyLen int64 `json:"body_len"`
	// HeaderLen is the length of the start line and header section.
	HeaderLen int `json:"header_len"`
}

// Field is one header field.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// InfoOf returns the HTTP info of a message, nil for another protocol's.
func InfoOf(m *pcap.Message) *Info {
	i, _ := m.Info.(*Info)
	return i
}

// Get returns the first value of a header field (case-insensitive).
func (h *Info) Get(name string) string {
	for _, f := range h.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Bounds of the framing (Limits of the codec).
const (
	maxHTTPHeader = 64 << 10
	maxChunkLine  = 4 << 10
	maxFields     = 100
)

// limits are the codec's bounds for the dissector: content is not kept
// (the message's Raw holds the wire bytes).
var limits = wire.Limits{MaxStartLine: maxHTTPHeader, MaxHead: maxHTTPHeader, MaxFields: maxFields, MaxChunkLine: maxChunkLine, DiscardBody: true}

// Rules the HTTP/1 dissector checks while framing.
const (
	ruleRequestLine     = "http1/rfc9112/3/request-line-syntax"
	ruleHost            = "http1/rfc9112/3.2/host-required"
	ruleStatusLine      = "http1/rfc9112/4/status-line-syntax"
	ruleFieldLine       = "http1/rfc9112/5/field-line-syntax"
	ruleNoSpaceColon    = "http1/rfc9112/5.1/no-space-before-colon"
	ruleNoObsFold       = "http1/rfc9112/5.2/no-obs-fold"
	ruleCLWithTE        = "http1/rfc9112/6.1/no-content-length-with-transfer-encoding"
	ruleRequestChunked  = "http1/rfc9112/6.1/request-chunked-final"
	ruleValidCL         = "http1/rfc9112/6.3/valid-content-length"
	ruleBodyComplete    = "http1/rfc9112/6.3/body-complete"
	ruleNoBodyAfter     = "http1/rfc9112/6.3/no-body-in-head-204-304"
	ruleChunked         = "http1/rfc9112/7.1/chunked-syntax"
	ruleResponseRequest = "http1/rfc9112/9.3/response-has-request"
	ruleCL1xx204        = "http1/rfc9110/8.6/no-content-length-in-1xx-204"
)

// known are the rules above: the codec's other findings (line ends, field
// value bytes, its own bounds) are not rules of pcap check.
var known = map[string]bool{
	ruleRequestLine: true, ruleHost: true, ruleStatusLine: true, ruleFieldLine: true, ruleNoSpaceColon: true,
	ruleNoObsFold: true, ruleCLWithTE: true, ruleRequestChunked: true, ruleValidCL: true, ruleBodyComplete: true,
	ruleNoBodyAfter: true, ruleChunked: true, ruleCL1xx204: true,
}

// httpSide is one direction of a flow: the codec frames it, the side
// keeps the wire bytes of the message being read and looks for a start
// line again after bytes that are not HTTP.
type httpSide struct {
	// dec is the side's decoder, taken from decoders when the side's
	// first bytes come and given back when it ends (nil before and after).
	dec *wire.Decoder
	// msg is the dissected message whose head was read and whose content
	// is still coming (nil between messages).
	msg *pcap.Message
	raw pcap.RawBuf
	// resync is set while looking for a start line; pending holds the
	// bytes kept for the search (the last partial line).
	resync  bool
	pending []byte
	// start holds the first bytes of a head being read (maxStart at
	// most); unsure is set while they may still turn out not to be HTTP.
	start  [maxStart]byte
	startN int
	unsure bool
	ended  bool
	// afterNoBody is set after a response that declared a length but must
	// not have a body: bytes that do not start a response mean it had one.
	afterNoBody *pcap.Message
}

// httpDissector frames HTTP/1.x requests and responses with the
// observers' codec (internal/wire/http1) and matches each response to its
// request in order.
type httpDissector struct {
	flowState
}

// decoders holds the request (Client) and response (Server) decoders of
// sides that ended, reset, for the sides of later flows: a capture holds
// many more flows than it has open at once, and a decoder with its first
// message's storage is larger than the rest of a dissector.
var decoders = [2]sync.Pool{
	pcap.Client: {New: func() any { return wire.NewRequestDecoder(limits) }},
	pcap.Server: {New: func() any { return wire.NewResponseDecoder(limits) }},
}

// decoder returns the decoder of side, taking one when it has none yet.
func (d *httpDissector) decoder(side pcap.Side) *wire.Decoder {
	s := &d.sides[side]
	if s.dec == nil {
		s.dec = decoders[side].Get().(*wire.Decoder)
	}
	return s.dec
}

// putDecoder gives the decoder of side back, reset, once the side ended.
func (d *httpDissector) putDecoder(side pcap.Side) {
	s := &d.sides[side]
	if s.dec == nil {
		return
	}
	s.dec.Reset()
	decoders[side].Put(s.dec)
	s.dec = nil
}

// flowState is what a dissector knows of its flow.
type flowState struct {
	e     *pcap.Emitter
	sides [2]httpSide
	// requests whose response has not begun, oldest first: queue[qhead:]
	queue []*pcap.Message
	qhead int
	// queue0 is the queue's first storage.
	queue0 [2]*pcap.Message
	// clientLost is set once the client side lost bytes: the queue may
	// no longer line up with the responses.
	clientLost bool
	// begun is set once the client's first bytes came.
	begun bool
}

func newDissector(e *pcap.Emitter) *httpDissector {
	d := &httpDissector{}
	d.Reset(e)
	return d
}

// maxKeptBuffer bounds the storage of one side a dissector keeps for the
// next flow when it is reused.
const maxKeptBuffer = 16 << 10

// Reset readies d for a new flow, keeping the storage it can reuse; with
// a nil e, it only lets go of the last flow's messages (pcap.Reusable).
func (d *httpDissector) Reset(e *pcap.Emitter) {
	var pending [2][]byte
	for i := range d.sides {
		d.putDecoder(pcap.Side(i))
		if b := d.sides[i].pending; cap(b) <= maxKeptBuffer {
			pending[i] = b[:0]
		}
	}
	queue := d.queue
	clear(queue[:cap(queue)])
	if cap(queue) > 64 {
		queue = nil
	}
	d.flowState = flowState{e: e, queue: queue[:0]}
	if d.queue == nil {
		d.queue = d.queue0[:0]
	}
	for i := range d.sides {
		if e != nil {
			d.sides[i].raw = pcap.NewRawBuf(e.KeepRaw(), e.MaxMessage())
		}
		d.sides[i].pending = pending[i]
	}
}

// queued is the number of requests waiting for their response.
func (d *httpDissector) queued() int { return len(d.queue) - d.qhead }

// enqueue adds a request at the end of the queue.
func (d *httpDissector) enqueue(m *pcap.Message) {
	if d.qhead > 0 && (d.qhead == len(d.queue) || len(d.queue) == cap(d.queue)) {
		n := copy(d.queue, d.queue[d.qhead:])
		clear(d.queue[n:])
		d.queue, d.qhead = d.queue[:n], 0
	}
	d.queue = append(d.queue, m)
}

// dequeue removes the oldest request from the queue.
func (d *httpDissector) dequeue() {
	d.queue[d.qhead] = nil
	d.qhead++
	if d.qhead == len(d.queue) {
		d.queue, d.qhead = d.queue[:0], 0
	}
}

func (d *httpDissector) Data(side pcap.Side, t time.Time, b []byte) {
	s := &d.sides[side]
	if s.ended || len(b) == 0 {
		return
	}
	if side == pcap.Client && !d.begun {
		d.begun = true
		if isH2Preface(b) && d.sides[pcap.Server].dec == nil {
			// HTTP/2 with prior knowledge (RFC 9113 3.3): not HTTP/1, so
			// the flow is left undissected.
			if f := d.e.Flow(); f != nil {
				f.Proto = ""
			}
			d.sides[pcap.Client].ended, d.sides[pcap.Server].ended = true, true
			return
		}
	}
	dec := d.decoder(side)
	if s.msg != nil && !s.resync {
		// Content that does not reach the end of the message (nor of a
		// chunk, whose CRLF the codec judges) needs no more than the
		// codec's count and the message's bytes.
		if w := dec.Want(); w.Kind == wire.WantClose || w.Kind == wire.WantBytes && int64(len(b))+2 < w.N {
			s.raw.Write(b[:dec.FeedOne(b)])
			return
		}
	}
	for len(b) > 0 && !s.ended {
		if s.resync {
			if b = d.resync(side, b); len(b) == 0 {
				return
			}
		}
		if dec.Tunnel() {
			return
		}
		if s.msg == nil && dec.Current() == nil {
			// Between messages. RFC 9112 2.2: empty lines before a
			// request-line are ignored.
			i := 0
			for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
				i++
			}
			if b = b[i:]; len(b) == 0 {
				return
			}
			ok, sure := d.plausibleStart(side, b)
			if !ok {
				d.junk(side, t, b, int64(len(b)))
				b = b[1:]
				continue
			}
			s.unsure, s.startN = !sure, 0
		} else if s.unsure {
			// The start line's first bytes came alone: judge them again
			// with what follows.
			buf := append(s.start[:s.startN:s.startN], b...)
			ok, sure := d.plausibleStart(side, buf)
			if !ok {
				n := s.raw.Len() + int64(len(b))
				d.restart(side)
				d.junk(side, t, buf, n)
				b = buf[1:]
				continue
			}
			s.unsure = !sure && s.startN < maxStart
		}
		// The codec stops at the end of a message: the next one's first
		// bytes are judged first.
		used := dec.FeedOne(b)
		s.raw.Write(b[:used])
		if s.msg == nil && s.startN < maxStart {
			s.startN += copy(s.start[s.startN:], b[:used])
		}
		b = b[used:]
		d.took(side, t)
		switch {
		case s.broken():
			s.resync = true
		case used == 0:
			return // a tunnel: the codec takes nothing more
		}
	}
}

// maxStart bounds the first bytes of a head a side keeps: to judge a
// start line that came in pieces, and to show a head cut short.
const maxStart = 64

// restart readies the codec to frame from the next byte: after a start
// line was found again (the codec's methods may be out of line with the
// requests waiting, after a response it could not read), or when the
// message it has begun turned out not to be HTTP. A response decoder is
// told again the methods of the requests still waiting.
func (d *httpDissector) restart(side pcap.Side) {
	s := &d.sides[side]
	s.dec.Reset()
	if side == pcap.Server {
		for _, q := range d.queue[d.qhead:] {
			s.dec.Expect(InfoOf(q).Method)
		}
	}
	var drop pcap.Message
	s.raw.Take(&drop)
	s.unsure = false
}

// took turns what the codec read into dissected messages: the one whose
// head it just read, and those it completed.
func (d *httpDissector) took(side pcap.Side, t time.Time) {
	s := &d.sides[side]
	if cur := s.dec.Current(); s.msg == nil && cur != nil && cur.Head != "" {
		d.begin(side, t, cur)
	}
	for {
		m, ok := s.dec.Next()
		if !ok {
			return
		}
		if s.msg == nil {
			d.begin(side, t, m)
		}
		d.finish(side, m)
		s.dec.Recycle(m)
	}
}

// httpInlineFields is how many header fields fit in a message's own
// allocation; a longer header gets a slice of its own.
const httpInlineFields = 4

// httpMessage holds a message, its Info and room for a few header
// fields, allocated at once.
type httpMessage struct {
	m      pcap.Message
	h      Info
	fields [httpInlineFields]Field
}

// begin makes the dissected message of a message whose head the codec
// read, and matches a response to its request.
func (d *httpDissector) begin(side pcap.Side, t time.Time, w *wire.Message) {
	s := &d.sides[side]
	x := new(httpMessage)
	m, h := &x.m, &x.h
	d.e.Init(m, side, t)
	m.Info = h
	s.msg = m
	m.Summary = w.StartLine
	h.Request, h.Method, h.Target, h.Version, h.Status, h.Reason = w.Request, w.Method, w.Target, w.Version, w.Status, w.Reason
	h.ContentLength, h.HeaderLen = w.ContentLength, len(w.Head)
	h.Chunked = w.Framing == wire.FramingChunked
	h.CloseDelimited = w.Framing == wire.FramingClose
	h.NoBody = !w.Request && w.Framing == wire.FramingNone
	if len(w.Header) > httpInlineFields {
		h.Header = make([]Field, 0, len(w.Header))
	} else if len(w.Header) > 0 {
		h.Header = x.fields[:0]
	}
	for _, f := range w.Header {
		// A proxy removes whitespace before the colon (RFC 9112 5.1): the
		// name is shown without it.
		h.Header = append(h.Header, Field{Name: trimRightOWS(f.Name), Value: f.Value})
	}
	s.afterNoBody, s.unsure = nil, false
	if w.Head == "" {
		return // no head: finish tells why
	}
	if side == pcap.Client {
		if d.queued() < 1024 {
			d.enqueue(m)
			if !d.sides[pcap.Server].ended {
				d.decoder(pcap.Server).Expect(h.Method)
			}
		}
		return
	}
	var req *pcap.Message
	interim := h.Status >= 100 && h.Status < 200
	if d.queued() > 0 {
		req = d.queue[d.qhead]
		if !interim || h.Status == 101 {
			d.dequeue()
		}
	} else if !d.e.Flow().MidStream && !d.clientLost {
		m.AddProblem(ruleResponseRequest, "response %s without a request", pcap.Excerpt([]byte(w.StartLine), 60))
	}
	m.Peer = req
	if h.NoBody && !interim && !w.Tunnel && (w.ContentLength > 0 || chunked(w.Header)) {
		s.afterNoBody = m
	}
	if w.Tunnel && !d.sides[pcap.Client].ended {
		d.decoder(pcap.Client).SetTunnel()
	}
}

// finish completes the dissected message of a message the codec completed
// and emits it.
func (d *httpDissector) finish(side pcap.Side, w *wire.Message) {
	s := &d.sides[side]
	m, h := s.msg, InfoOf(s.msg)
	s.msg = nil
	for _, p := range w.Problems {
		if rule := p.Rule(); known[rule] {
			m.AddProblem(rule, "%s", p.Detail)
		}
	}
	s.raw.Take(m)
	h.BodyLen = m.Len - int64(h.HeaderLen)
	if w.Lost > 0 {
		m.Truncated = true
	}
	m.Incomplete = w.Incomplete || w.Framing == wire.FramingInvalid
	if w.Head == "" {
		// No head: too long, or cut short by the end of the stream or by
		// lost bytes (a hole, the snap length): what was seen is shown.
		*h = Info{ContentLength: -1, Request: side == pcap.Client}
		m.Problems = nil
		switch {
		case w.Has(wire.KindHeadTooLarge):
			h.Request = false
			m.Summary = "header section longer than 64 KiB"
		case w.Lost > 0:
			m.Truncated, m.Incomplete = true, true
			line := seenStart(h, s.start[:s.startN])
			m.Summary = line + " (header section cut by a gap in the capture)"
			if side == pcap.Client && h.Method != "" && d.queued() < 1024 {
				// Still a request its response answers.
				d.enqueue(m)
				if !d.sides[pcap.Server].ended {
					d.decoder(pcap.Server).Expect(h.Method)
				}
			}
		default:
			m.Summary = "header section cut short: " + pcap.Excerpt(bytes.TrimSpace(s.start[:s.startN]), 60)
		}
	}
	d.e.Emit(m)
}

// h2Preface begins the HTTP/2 connection preface (RFC 9113 3.4).
const h2Preface = "PRI * HTTP/2.0\r\n"

func isH2Preface(b []byte) bool { return bytes.HasPrefix(b, []byte(h2Preface)) }

// seenStart fills h from the first bytes of a head the capture cut: the
// start line's words, as far as they were seen, and returns the line.
func seenStart(h *Info, b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	line := strings.TrimRight(string(b), "\r")
	defer func() {
		if !utf8.ValidString(line) || strings.ContainsFunc(line, unicode.IsControl) {
			line = pcap.Excerpt(b, 60)
		}
	}()
	words := strings.SplitN(line, " ", 3)
	if h.Request {
		h.Method = words[0]
		if len(words) > 1 {
			h.Target = words[1]
		}
		if len(words) > 2 {
			h.Version = words[2]
		}
		return line
	}
	h.Version = words[0]
	if len(words) > 1 {
		h.Status, _ = strconv.Atoi(words[1])
	}
	if len(words) > 2 {
		h.Reason = words[2]
	}
	return line
}

// plausibleStart reports whether b can begin a start line of this side,
// judging only the bytes present; sure is false when more bytes could
// still show it cannot.
func (d *httpDissector) plausibleStart(side pcap.Side, b []byte) (ok, sure bool) {
	if side == pcap.Server {
		p := []byte("HTTP/")
		n := min(len(b), len(p))
		return bytes.Equal(b[:n], p[:n]), n == len(p)
	}
	for i, c := range b {
		if c == ' ' {
			return i > 0, true
		}
		if !isTchar(c) {
			return false, true
		}
	}
	return true, false
}

// junk turns bytes that cannot start a message into a message of their
// own with a problem, and looks for the next start line.
func (d *httpDissector) junk(side pcap.Side, t time.Time, b []byte, n int64) {
	s := &d.sides[side]
	m := d.e.NewMessage(side, t)
	m.Info = &Info{ContentLength: -1, Request: side == pcap.Client}
	end := bytes.IndexByte(b, '\n')
	if end < 0 {
		end = len(b)
	}
	m.Summary = "not an HTTP message: " + pcap.Excerpt(b[:end], 60)
	m.Incomplete = true
	m.Len = n
	switch {
	case side == pcap.Server && s.afterNoBody != nil:
		m.AddProblem(ruleNoBodyAfter, "bytes %s follow a response that has no body (%s)", pcap.Excerpt(b, 40), s.afterNoBody.Summary)
	case side == pcap.Server:
		m.AddProblem(ruleStatusLine, "expected a status-line, got %s", pcap.Excerpt(b, 40))
	default:
		m.AddProblem(ruleRequestLine, "expected a request-line, got %s", pcap.Excerpt(b, 40))
	}
	if d.e.KeepRaw() {
		m.Raw = append([]byte(nil), b[:min(len(b), d.e.MaxMessage())]...)
	}
	s.afterNoBody = nil
	d.e.Emit(m)
	// The search for a start line moves on from the next byte.
	s.resync = true
}

// findStart returns the offset of the first plausible start line of this
// side in b, or -1: "HTTP/1." anywhere for a response (a body the framing
// missed may run into it), a method at a line start or right after the
// bytes resync skipped for a request, followed on its line by " HTTP/1.".
func (d *httpDissector) findStart(side pcap.Side, b []byte) int {
	if side == pcap.Server {
		return bytes.Index(b, []byte("HTTP/1."))
	}
	best := -1
	for _, m := range httpMethods {
		for off := 0; off < len(b); {
			i := bytes.Index(b[off:], []byte(m))
			if i < 0 {
				break
			}
			i += off
			line := b[i:]
			if nl := bytes.IndexByte(line, '\n'); nl >= 0 && bytes.Contains(line[:nl], []byte(" HTTP/1.")) {
				if best < 0 || i < best {
					best = i
				}
				break
			}
			off = i + 1
		}
	}
	return best
}

// chunked reports whether the last transfer coding is chunked.
func chunked(h wire.Header) bool {
	te := h.List("Transfer-Encoding")
	return len(te) > 0 && strings.EqualFold(te[len(te)-1], "chunked")
}

func isTchar(c byte) bool { return httpguts.IsTokenRune(rune(c)) }

// trimRightOWS is strings.TrimRight(s, " \t").
func trimRightOWS(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// resync looks for a start line in the bytes kept and b; it returns the
// bytes from there, with the codec ready to frame them, or nothing when
// b holds none (keeping its last partial line for the next data).
func (d *httpDissector) resync(side pcap.Side, b []byte) []byte {
	s := &d.sides[side]
	buf := b
	if len(s.pending) > 0 {
		s.pending = append(s.pending, b...)
		buf = s.pending
	}
	i := d.findStart(side, buf)
	if i < 0 {
		// Keep the last partial line: a start line may begin there.
		if j := bytes.LastIndexByte(buf, '\n'); j >= 0 {
			buf = buf[j+1:]
		}
		if len(buf) > maxChunkLine {
			buf = nil
		}
		s.pending = append(s.pending[:0], buf...)
		return nil
	}
	s.resync = false
	d.restart(side)
	if len(s.pending) > 0 {
		// The start line began in the kept bytes: frame them first.
		rest := append([]byte(nil), buf[i:]...)
		s.pending = s.pending[:0]
		return rest
	}
	return buf[i:]
}

func (d *httpDissector) Lost(side pcap.Side, n int) {
	s := &d.sides[side]
	if side == pcap.Client {
		d.clientLost = true
	}
	if s.ended || d.decoder(side).Tunnel() {
		return
	}
	if s.resync {
		s.pending = s.pending[:0]
		return
	}
	s.dec.Lost(int64(n))
	if s.broken() {
		// The framing did not survive: the message so far is emitted
		// incomplete, the search for a start line follows.
		s.resync = true
	} else {
		// A hole inside content of known length or read until the
		// close: framing survives.
		s.raw.Hole(n)
	}
	d.took(side, time.Time{})
}

// broken reports that the codec lost the framing: it frames nothing more
// until Resume.
func (s *httpSide) broken() bool {
	return !s.ended && s.dec.Want().Kind == wire.WantNothing && !s.dec.Tunnel()
}

func (d *httpDissector) End(side pcap.Side, t time.Time, reset bool) {
	s := &d.sides[side]
	if s.ended {
		return
	}
	if s.dec != nil {
		// A side that had no bytes has no decoder, and nothing to end.
		if reset {
			s.dec.Abort()
		} else {
			s.dec.Close()
		}
		d.took(side, t)
	}
	s.ended, s.pending = true, s.pending[:0]
	d.putDecoder(side)
}
