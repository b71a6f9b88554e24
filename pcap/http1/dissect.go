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
	"fmt"
	"strconv"
	"strings"
	"time"
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

const (
	maxHTTPHeader = 64 << 10
	maxChunkLine  = 4 << 10
	maxFields     = 100
)

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

type httpState int

const (
	stHeader httpState = iota
	stBody
	stChunkSize
	stChunkData
	stChunkEnd
	stTrailer
	stClose
	stTunnel
	stResync
)

type httpSide struct {
	state httpState
	// buf holds the bytes received and not yet framed. Within data it
	// may be the caller's bytes; between calls it is the start of own.
	buf []byte
	// own is the side's storage for buf, kept from message to message.
	own       []byte
	msg       *pcap.Message
	info      *Info // msg's
	raw       pcap.RawBuf
	remaining int64
	holes     bool
	// afterNoBody is set after a response that declared a length but must
	// not have a body: bytes that do not start a response mean it had one.
	afterNoBody *pcap.Message
}

// httpDissector frames HTTP/1.x requests and responses (RFC 9112 6.3):
// Content-Length, chunked, close-delimited, the HEAD, 1xx, 204 and 304
// rules, pipelining; and matches each response to its request in order.
type httpDissector struct {
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
	var own [2][]byte
	for i := range d.sides {
		if b := d.sides[i].own; cap(b) <= maxKeptBuffer {
			own[i] = b[:0]
		}
	}
	queue := d.queue
	clear(queue[:cap(queue)])
	if cap(queue) > 64 {
		queue = nil
	}
	*d = httpDissector{e: e, queue: queue[:0]}
	if d.queue == nil {
		d.queue = d.queue0[:0]
	}
	for i := range d.sides {
		if e != nil {
			d.sides[i].raw = pcap.NewRawBuf(e.KeepRaw(), e.MaxMessage())
		}
		d.sides[i].own = own[i]
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
	switch s.state {
	case stTunnel:
		return
	case stClose:
		s.raw.Write(b)
		s.info.BodyLen += int64(len(b))
		return
	}
	// Body bytes go straight through when nothing is buffered.
	for len(s.buf) == 0 && len(b) > 0 && (s.state == stBody || s.state == stChunkData) {
		n := int(min(s.remaining, int64(len(b))))
		s.raw.Write(b[:n])
		s.info.BodyLen += int64(n)
		s.remaining -= int64(n)
		b = b[n:]
		if s.remaining > 0 {
			return
		}
		if s.state == stBody {
			d.complete(side)
		} else {
			s.state = stChunkEnd
		}
	}
	if len(b) == 0 {
		return
	}
	borrowed := len(s.buf) == 0
	if borrowed {
		// Nothing is held: frame b where it is, and copy only what is
		// left of it at the end.
		s.buf = b
	} else {
		// s.buf starts at the start of s.own (see keep).
		s.buf = append(s.buf, b...)
		s.own = s.buf[:0]
	}
	d.process(side, t)
	s.keep(borrowed)
}

// keep moves the bytes process left in s.buf to the start of s.own, where
// they stay until the next data: from the caller's bytes when they were
// borrowed, from further in s.own when bytes before them were framed.
func (s *httpSide) keep(borrowed bool) {
	if len(s.buf) == 0 {
		s.buf = nil
		return
	}
	// s.buf and s.own end at the same place when they share storage, so
	// they start at the same place when their capacities are equal.
	if borrowed || cap(s.buf) != cap(s.own) {
		s.own = append(s.own[:0], s.buf...)
		s.buf = s.own
	}
}

func (d *httpDissector) process(side pcap.Side, t time.Time) {
	s := &d.sides[side]
	for {
		switch s.state {
		case stHeader:
			// RFC 9112 2.2: empty lines before a request-line are ignored.
			i := 0
			for i < len(s.buf) && (s.buf[i] == '\r' || s.buf[i] == '\n') {
				i++
			}
			s.buf = s.buf[i:]
			if len(s.buf) == 0 {
				s.buf = nil
				return
			}
			if !d.plausibleStart(side, s.buf) {
				d.junk(side, t)
				continue
			}
			end := headerEnd(s.buf)
			if end < 0 {
				if len(s.buf) > maxHTTPHeader {
					m := d.e.NewMessage(side, t)
					m.Info = &Info{ContentLength: -1}
					m.Summary = "header section longer than 64 KiB"
					m.Incomplete = true
					m.Len = int64(len(s.buf))
					d.e.Emit(m)
					s.buf = nil
					s.state = stResync
				}
				return
			}
			head := s.buf[:end]
			s.buf = s.buf[end:]
			d.startMessage(side, t, head)
		case stBody, stChunkData:
			n := int(min(s.remaining, int64(len(s.buf))))
			s.raw.Write(s.buf[:n])
			s.info.BodyLen += int64(n)
			s.buf = s.buf[n:]
			s.remaining -= int64(n)
			if s.remaining > 0 {
				return
			}
			if s.state == stBody {
				d.complete(side)
			} else {
				s.state = stChunkEnd
			}
		case stChunkEnd:
			if len(s.buf) == 0 {
				return
			}
			n := 0
			switch {
			case s.buf[0] == '\n':
				n = 1
			case len(s.buf) < 2:
				return
			case s.buf[0] == '\r' && s.buf[1] == '\n':
				n = 2
			}
			if n == 0 {
				s.msg.AddProblem(ruleChunked, "chunk data not followed by CRLF (got %s)", pcap.Excerpt(s.buf, 20))
				d.abandon(side)
				continue
			}
			s.raw.Write(s.buf[:n])
			s.info.BodyLen += int64(n)
			s.buf = s.buf[n:]
			s.state = stChunkSize
		case stChunkSize, stTrailer:
			i := bytes.IndexByte(s.buf, '\n')
			if i < 0 {
				if len(s.buf) > maxChunkLine {
					s.msg.AddProblem(ruleChunked, "chunk-size or trailer line longer than %d bytes", maxChunkLine)
					d.abandon(side)
					continue
				}
				return
			}
			line := s.buf[:i+1]
			s.raw.Write(line)
			s.info.BodyLen += int64(len(line))
			s.buf = s.buf[i+1:]
			text := line
			for len(text) > 0 && (text[len(text)-1] == '\r' || text[len(text)-1] == '\n') {
				text = text[:len(text)-1]
			}
			if s.state == stTrailer {
				if len(text) == 0 {
					d.complete(side)
				}
				continue
			}
			size, err := parseChunkSizeLine(text)
			if err != nil {
				s.msg.AddProblem(ruleChunked, "%v", err)
				d.abandon(side)
				continue
			}
			if size == 0 {
				s.state = stTrailer
			} else {
				s.remaining, s.state = size, stChunkData
			}
		case stClose:
			s.raw.Write(s.buf)
			s.info.BodyLen += int64(len(s.buf))
			s.buf = nil
			return
		case stTunnel:
			s.buf = nil
			return
		case stResync:
			i := d.findStart(side, s.buf)
			if i < 0 {
				// Keep the last partial line: a start line may begin there.
				if j := bytes.LastIndexByte(s.buf, '\n'); j >= 0 {
					s.buf = s.buf[j+1:]
				}
				if len(s.buf) > maxChunkLine {
					s.buf = nil
				}
				return
			}
			s.buf = s.buf[i:]
			s.state = stHeader
		}
	}
}

// plausibleStart reports whether b can begin a start line of this side,
// judging only the bytes present.
func (d *httpDissector) plausibleStart(side pcap.Side, b []byte) bool {
	if side == pcap.Server {
		p := []byte("HTTP/")
		n := min(len(b), len(p))
		return bytes.Equal(b[:n], p[:n])
	}
	for i, c := range b {
		if c == ' ' {
			return i > 0
		}
		if !isTchar(c) {
			return false
		}
	}
	return true
}

// junk turns bytes that cannot start a message into a message of their
// own with a problem, and looks for the next start line.
func (d *httpDissector) junk(side pcap.Side, t time.Time) {
	s := &d.sides[side]
	m := d.e.NewMessage(side, t)
	m.Info = &Info{ContentLength: -1, Request: side == pcap.Client}
	end := bytes.IndexByte(s.buf, '\n')
	if end < 0 {
		end = len(s.buf)
	}
	m.Summary = "not an HTTP message: " + pcap.Excerpt(s.buf[:end], 60)
	m.Incomplete = true
	m.Len = int64(len(s.buf))
	switch {
	case side == pcap.Server && s.afterNoBody != nil:
		m.AddProblem(ruleNoBodyAfter, "bytes %s follow a response that has no body (%s)", pcap.Excerpt(s.buf, 40), s.afterNoBody.Summary)
	case side == pcap.Server:
		m.AddProblem(ruleStatusLine, "expected a status-line, got %s", pcap.Excerpt(s.buf, 40))
	default:
		m.AddProblem(ruleRequestLine, "expected a request-line, got %s", pcap.Excerpt(s.buf, 40))
	}
	if d.e.KeepRaw() {
		m.Raw = append([]byte(nil), s.buf[:min(len(s.buf), d.e.MaxMessage())]...)
	}
	s.afterNoBody = nil
	d.e.Emit(m)
	// Skip the first byte so the search moves on.
	s.buf = s.buf[1:]
	s.state = stResync
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

// headerEnd returns the length of the header section at the start of b
// (through the empty line), or -1.
func headerEnd(b []byte) int {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

func isTchar(c byte) bool { return httpguts.IsTokenRune(rune(c)) }

func validVersion(v string) bool {
	return len(v) == 8 && strings.HasPrefix(v, "HTTP/") && v[5] >= '0' && v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9'
}

// parseChunkSizeLine reads a chunk-size line without its line end: the
// size, then whitespace and extensions, which it does not judge.
func parseChunkSizeLine(line []byte) (int64, error) {
	n, rest, ok := wire.ParseChunkSize(line)
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if !ok || len(rest) > 0 && rest[0] != ';' {
		return 0, fmt.Errorf("bad chunk-size line %s", pcap.Excerpt(line, 40))
	}
	return n, nil
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

// Field names the dissector acts on.
const (
	fieldOther = iota
	fieldContentLength
	fieldTransferEncoding
)

// fieldKind tells the field names the dissector acts on, as
// strings.ToLower(name) compared with them would.
func fieldKind(name string) int {
	// Only C and T lower to c and t: other first bytes name other
	// fields.
	if name == "" || (name[0]|0x20 != 'c' && name[0]|0x20 != 't') {
		return fieldOther
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			// Some non-ASCII letters lower to ASCII ones.
			switch strings.ToLower(name) {
			case "content-length":
				return fieldContentLength
			case "transfer-encoding":
				return fieldTransferEncoding
			}
			return fieldOther
		}
	}
	switch {
	case asciiLowerIs(name, "content-length"):
		return fieldContentLength
	case asciiLowerIs(name, "transfer-encoding"):
		return fieldTransferEncoding
	}
	return fieldOther
}

// asciiLowerIs reports whether the ASCII string s in lower case is lower.
func asciiLowerIs(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS is strings.Trim(s, " \t").
func trimOWS(s string) string {
	return trimRightOWS(trimLeftOWS(s))
}

// trimLeftOWS is strings.TrimLeft(s, " \t").
func trimLeftOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// trimRightOWS is strings.TrimRight(s, " \t").
func trimRightOWS(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// startMessage parses a start line and header section and decides how the
// body is framed.
func (d *httpDissector) startMessage(side pcap.Side, t time.Time, head []byte) {
	s := &d.sides[side]
	x := new(httpMessage)
	m, h := &x.m, &x.h
	d.e.Init(m, side, t)
	h.Request, h.ContentLength, h.HeaderLen = side == pcap.Client, -1, len(head)
	m.Info = h
	s.msg, s.info = m, h
	s.raw.Write(head)
	s.holes = false
	s.afterNoBody = nil
	// The lines of the header section, without CR before LF; every
	// string of the message points into this one.
	text := string(head)
	for len(text) > 0 && (text[len(text)-1] == '\r' || text[len(text)-1] == '\n') {
		text = text[:len(text)-1]
	}
	start, rest, more := strings.Cut(text, "\n")
	start = strings.TrimSuffix(start, "\r")
	if side == pcap.Client {
		// The parts of the request-line between spaces: method, target,
		// version when there are three.
		method, after, ok := strings.Cut(start, " ")
		parts := 1
		target, version := "", method
		if ok {
			parts = 2
			target, version = after, after
			if tgt, last, found := strings.Cut(after, " "); found {
				parts = 3
				target, version = tgt, last
				if i := strings.LastIndexByte(last, ' '); i >= 0 {
					parts = 4 // or more
					version = last[i+1:]
				}
			}
		}
		if parts != 3 || !wire.IsToken(method) || target == "" || !validVersion(version) {
			m.AddProblem(ruleRequestLine, "request-line %s is not method SP request-target SP HTTP-version", pcap.Excerpt([]byte(start), 80))
		}
		h.Method, h.Target, h.Version = method, target, version
		m.Summary = start
	} else {
		ver, after, _ := strings.Cut(start, " ")
		code, reason, _ := strings.Cut(after, " ")
		h.Version, h.Reason = ver, reason
		n, err := strconv.Atoi(code)
		if err != nil || len(code) != 3 || !validVersion(ver) {
			m.AddProblem(ruleStatusLine, "status-line %s is not HTTP-version SP 3DIGIT SP reason-phrase", pcap.Excerpt([]byte(start), 80))
		}
		h.Status = n
		m.Summary = start
	}
	var clsBuf, teBuf [2]string
	cls, te := clsBuf[:0], teBuf[:0]
	for more {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			m.AddProblem(ruleNoObsFold, "obsolete line folding: %s", pcap.Excerpt([]byte(l), 60))
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			m.AddProblem(ruleFieldLine, "header line without a colon: %s", pcap.Excerpt([]byte(l), 60))
			continue
		}
		if trimmed := trimRightOWS(name); trimmed != name {
			m.AddProblem(ruleNoSpaceColon, "whitespace between field name %q and colon", strings.TrimSpace(name))
			name = trimmed
		}
		if !wire.IsToken(name) {
			m.AddProblem(ruleFieldLine, "field name %s is not a token", pcap.Excerpt([]byte(name), 40))
		}
		value = trimOWS(value)
		if len(h.Header) < maxFields {
			switch {
			case h.Header == nil:
				h.Header = x.fields[:0]
			case len(h.Header) == cap(h.Header):
				// Out of room: enough for the lines left.
				n := len(h.Header) + strings.Count(rest, "\n") + 1
				h.Header = append(make([]Field, 0, min(n, maxFields)), h.Header...)
			}
			h.Header = append(h.Header, Field{name, value})
		}
		switch fieldKind(name) {
		case fieldContentLength:
			cls = append(cls, value)
		case fieldTransferEncoding:
			for v := value; ; {
				c, next, more := strings.Cut(v, ",")
				if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
					te = append(te, c)
				}
				if !more {
					break
				}
				v = next
			}
		}
	}
	// Content-Length: one valid value (a list of equal values is
	// tolerated, RFC 9110 8.6).
	if len(cls) > 0 {
		var first string
		same, i := true, 0
		for _, v := range cls {
			for {
				p, next, more := strings.Cut(v, ",")
				if p = strings.TrimSpace(p); i == 0 {
					first = p
				} else if p != first {
					same = false
				}
				i++
				if !more {
					break
				}
				v = next
			}
		}
		n, err := strconv.ParseInt(first, 10, 64)
		if same && err == nil && n >= 0 && first != "" && first[0] != '+' {
			h.ContentLength = n
		} else {
			m.AddProblem(ruleValidCL, "invalid Content-Length %s", pcap.Excerpt([]byte(strings.Join(cls, ", ")), 60))
		}
	}
	if len(te) > 0 && len(cls) > 0 {
		m.AddProblem(ruleCLWithTE, "both Transfer-Encoding (%s) and Content-Length (%s)", strings.Join(te, ", "), strings.Join(cls, ", "))
	}
	chunked := len(te) > 0 && te[len(te)-1] == "chunked"
	if side == pcap.Client {
		if h.Version == "HTTP/1.1" && h.Get("Host") == "" && !hasField(h, "Host") {
			m.AddProblem(ruleHost, "HTTP/1.1 request without a Host header field")
		}
		if d.queued() < 1024 {
			d.enqueue(m)
		}
		switch {
		case len(te) > 0 && !chunked:
			m.AddProblem(ruleRequestChunked, "request Transfer-Encoding %s does not end in chunked: its length cannot be determined", strings.Join(te, ", "))
			d.abandon(side)
		case chunked:
			h.Chunked = true
			s.state = stChunkSize
		case len(cls) > 0 && h.ContentLength < 0:
			d.abandon(side)
		case h.ContentLength > 0:
			s.remaining, s.state = h.ContentLength, stBody
		default:
			d.complete(side)
		}
		return
	}
	// Responses (RFC 9112 6.3).
	var req *pcap.Message
	interim := h.Status >= 100 && h.Status < 200
	if d.queued() > 0 {
		req = d.queue[d.qhead]
		if !interim || h.Status == 101 {
			d.dequeue()
		}
	} else if !d.e.Flow().MidStream && !d.clientLost {
		m.AddProblem(ruleResponseRequest, "response %s without a request", pcap.Excerpt([]byte(start), 60))
	}
	m.Peer = req
	if (interim || h.Status == 204) && len(cls) > 0 {
		m.AddProblem(ruleCL1xx204, "%d response with Content-Length %s", h.Status, strings.Join(cls, ", "))
	}
	headReq := req != nil && InfoOf(req) != nil && InfoOf(req).Method == "HEAD"
	switch {
	case h.Status == 101 || (req != nil && InfoOf(req) != nil && InfoOf(req).Method == "CONNECT" && h.Status/100 == 2):
		h.NoBody = true
		d.complete(side)
		d.sides[pcap.Server].state, d.sides[pcap.Client].state = stTunnel, stTunnel
	case headReq || interim || h.Status == 204 || h.Status == 304:
		h.NoBody = true
		if (h.ContentLength > 0 || chunked) && !interim {
			s.afterNoBody = m
		}
		d.complete(side)
	case chunked:
		h.Chunked = true
		s.state = stChunkSize
	case len(te) > 0:
		h.CloseDelimited = true
		s.state = stClose
	case len(cls) > 0 && h.ContentLength < 0:
		d.abandon(side)
	case h.ContentLength >= 0:
		s.remaining, s.state = h.ContentLength, stBody
		if s.remaining == 0 {
			d.complete(side)
		}
	default:
		h.CloseDelimited = true
		s.state = stClose
	}
}

func hasField(h *Info, name string) bool {
	for _, f := range h.Header {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// complete emits the side's message and waits for the next.
func (d *httpDissector) complete(side pcap.Side) {
	s := &d.sides[side]
	m := s.msg
	if m == nil {
		return
	}
	s.raw.Take(m)
	if s.holes {
		m.Truncated = true
	}
	s.msg, s.info = nil, nil
	if s.state != stTunnel {
		s.state = stHeader
	}
	d.e.Emit(m)
}

// abandon emits the side's message as incomplete and resynchronizes.
func (d *httpDissector) abandon(side pcap.Side) {
	s := &d.sides[side]
	if s.msg != nil {
		s.msg.Incomplete = true
		d.complete(side)
	}
	s.state = stResync
}

func (d *httpDissector) Lost(side pcap.Side, n int) {
	s := &d.sides[side]
	if side == pcap.Client {
		d.clientLost = true
	}
	switch {
	case s.state == stTunnel:
	case s.state == stClose:
		s.raw.Hole(n)
		s.info.BodyLen += int64(n)
		s.holes = true
	case (s.state == stBody || s.state == stChunkData) && int64(n) <= s.remaining-int64(len(s.buf)):
		// A hole inside a body of known length: framing survives.
		s.raw.Write(s.buf)
		s.info.BodyLen += int64(len(s.buf)) + int64(n)
		s.remaining -= int64(len(s.buf)) + int64(n)
		s.buf = nil
		s.raw.Hole(n)
		s.holes = true
		if s.remaining == 0 {
			if s.state == stBody {
				d.complete(side)
			} else {
				s.state = stChunkEnd
			}
		}
	default:
		s.buf = nil
		if s.msg != nil {
			s.holes = true
		}
		d.abandon(side)
	}
}

func (d *httpDissector) End(side pcap.Side, t time.Time, reset bool) {
	s := &d.sides[side]
	switch s.state {
	case stClose:
		d.complete(side)
	case stBody, stChunkSize, stChunkData, stChunkEnd, stTrailer:
		if !reset && !s.holes {
			rule := ruleBodyComplete
			what := fmt.Sprintf("connection closed %d bytes before the end of the Content-Length body", s.remaining)
			if s.info.Chunked {
				rule, what = ruleChunked, "connection closed inside the chunked body"
			}
			s.msg.AddProblem(rule, "%s", what)
		}
		d.abandon(side)
	case stHeader:
		if b := bytes.TrimSpace(s.buf); len(b) > 0 {
			m := d.e.NewMessage(side, t)
			m.Info = &Info{ContentLength: -1, Request: side == pcap.Client}
			m.Summary = "header section cut short: " + pcap.Excerpt(b, 60)
			m.Incomplete = true
			m.Len = int64(len(s.buf))
			if d.e.KeepRaw() {
				m.Raw = append([]byte(nil), s.buf...)
			}
			d.e.Emit(m)
		}
	}
	s.buf = nil
	s.state = stTunnel
}
