package pcap

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HTTPInfo is what the HTTP/1 dissector read from a message.
type HTTPInfo struct {
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

// Get returns the first value of a header field (case-insensitive).
func (h *HTTPInfo) Get(name string) string {
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
	state     httpState
	buf       []byte
	msg       *Message
	raw       rawBuf
	remaining int64
	holes     bool
	// afterNoBody is set after a response that declared a length but must
	// not have a body: bytes that do not start a response mean it had one.
	afterNoBody *Message
}

// httpDissector frames HTTP/1.x requests and responses (RFC 9112 6.3):
// Content-Length, chunked, close-delimited, the HEAD, 1xx, 204 and 304
// rules, pipelining; and matches each response to its request in order.
type httpDissector struct {
	e     *emitter
	o     *Options
	sides [2]httpSide
	// requests whose response has not begun, oldest first
	queue []*Message
	// clientLost is set once the client side lost bytes: the queue may
	// no longer line up with the responses.
	clientLost bool
}

func newHTTPDissector(e *emitter, o *Options) *httpDissector {
	d := &httpDissector{e: e, o: o}
	for i := range d.sides {
		d.sides[i].raw = rawBuf{keep: o.KeepRaw, limit: o.MaxMessage}
	}
	return d
}

func (d *httpDissector) data(side Side, t time.Time, b []byte) {
	s := &d.sides[side]
	switch s.state {
	case stTunnel:
		return
	case stClose:
		s.raw.write(b)
		s.msg.HTTP.BodyLen += int64(len(b))
		return
	}
	// Body bytes go straight through when nothing is buffered.
	for len(s.buf) == 0 && len(b) > 0 && (s.state == stBody || s.state == stChunkData) {
		n := int(min(s.remaining, int64(len(b))))
		s.raw.write(b[:n])
		s.msg.HTTP.BodyLen += int64(n)
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
	s.buf = append(s.buf, b...)
	d.process(side, t)
}

func (d *httpDissector) process(side Side, t time.Time) {
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
					m := d.e.newMessage(side, t)
					m.HTTP = &HTTPInfo{ContentLength: -1}
					m.Summary = "header section longer than 64 KiB"
					m.Incomplete = true
					m.Len = int64(len(s.buf))
					d.e.emit(m)
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
			s.raw.write(s.buf[:n])
			s.msg.HTTP.BodyLen += int64(n)
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
				s.msg.problem(ruleChunked, "chunk data not followed by CRLF (got %s)", excerpt(s.buf, 20))
				d.abandon(side)
				continue
			}
			s.raw.write(s.buf[:n])
			s.msg.HTTP.BodyLen += int64(n)
			s.buf = s.buf[n:]
			s.state = stChunkSize
		case stChunkSize, stTrailer:
			i := bytes.IndexByte(s.buf, '\n')
			if i < 0 {
				if len(s.buf) > maxChunkLine {
					s.msg.problem(ruleChunked, "chunk-size or trailer line longer than %d bytes", maxChunkLine)
					d.abandon(side)
					continue
				}
				return
			}
			line := s.buf[:i+1]
			s.raw.write(line)
			s.msg.HTTP.BodyLen += int64(len(line))
			s.buf = s.buf[i+1:]
			text := strings.TrimRight(string(line), "\r\n")
			if s.state == stTrailer {
				if text == "" {
					d.complete(side)
				}
				continue
			}
			size, err := parseChunkSize(text)
			if err != nil {
				s.msg.problem(ruleChunked, "%v", err)
				d.abandon(side)
				continue
			}
			if size == 0 {
				s.state = stTrailer
			} else {
				s.remaining, s.state = size, stChunkData
			}
		case stClose:
			s.raw.write(s.buf)
			s.msg.HTTP.BodyLen += int64(len(s.buf))
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
func (d *httpDissector) plausibleStart(side Side, b []byte) bool {
	if side == Server {
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
func (d *httpDissector) junk(side Side, t time.Time) {
	s := &d.sides[side]
	m := d.e.newMessage(side, t)
	m.HTTP = &HTTPInfo{ContentLength: -1, Request: side == Client}
	end := bytes.IndexByte(s.buf, '\n')
	if end < 0 {
		end = len(s.buf)
	}
	m.Summary = "not an HTTP message: " + excerpt(s.buf[:end], 60)
	m.Incomplete = true
	m.Len = int64(len(s.buf))
	switch {
	case side == Server && s.afterNoBody != nil:
		m.problem(ruleNoBodyAfter, "bytes %s follow a response that has no body (%s)", excerpt(s.buf, 40), s.afterNoBody.Summary)
	case side == Server:
		m.problem(ruleStatusLine, "expected a status-line, got %s", excerpt(s.buf, 40))
	default:
		m.problem(ruleRequestLine, "expected a request-line, got %s", excerpt(s.buf, 40))
	}
	if d.o.KeepRaw {
		m.Raw = append([]byte(nil), s.buf[:min(len(s.buf), d.o.MaxMessage)]...)
	}
	s.afterNoBody = nil
	d.e.emit(m)
	// Skip the first byte so the search moves on.
	s.buf = s.buf[1:]
	s.state = stResync
}

// findStart returns the offset of the first plausible start line of this
// side in b, or -1: "HTTP/1." anywhere for a response (a body the framing
// missed may run into it), a method at a line start or right after the
// bytes resync skipped for a request, followed on its line by " HTTP/1.".
func (d *httpDissector) findStart(side Side, b []byte) int {
	if side == Server {
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

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func validVersion(v string) bool {
	return len(v) == 8 && strings.HasPrefix(v, "HTTP/") && v[5] >= '0' && v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9'
}

func parseChunkSize(line string) (int64, error) {
	size, _, _ := strings.Cut(line, ";")
	size = strings.TrimRight(size, " \t")
	if size == "" || len(size) > 15 {
		return 0, fmt.Errorf("bad chunk-size line %s", excerpt([]byte(line), 40))
	}
	n, err := strconv.ParseInt(size, 16, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad chunk-size %s", excerpt([]byte(size), 40))
	}
	return n, nil
}

// startMessage parses a start line and header section and decides how the
// body is framed.
func (d *httpDissector) startMessage(side Side, t time.Time, head []byte) {
	s := &d.sides[side]
	m := d.e.newMessage(side, t)
	h := &HTTPInfo{Request: side == Client, ContentLength: -1, HeaderLen: len(head)}
	m.HTTP = h
	s.msg = m
	s.raw.write(head)
	s.holes = false
	s.afterNoBody = nil
	lines := strings.Split(strings.TrimRight(string(head), "\r\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	start := lines[0]
	if side == Client {
		parts := strings.Split(start, " ")
		if len(parts) != 3 || !isToken(parts[0]) || parts[1] == "" || !validVersion(parts[2]) {
			m.problem(ruleRequestLine, "request-line %s is not method SP request-target SP HTTP-version", excerpt([]byte(start), 80))
		}
		if len(parts) > 0 {
			h.Method = parts[0]
		}
		if len(parts) > 1 {
			h.Target = parts[1]
		}
		h.Version = parts[len(parts)-1]
		m.Summary = start
	} else {
		ver, rest, _ := strings.Cut(start, " ")
		code, reason, _ := strings.Cut(rest, " ")
		h.Version, h.Reason = ver, reason
		n, err := strconv.Atoi(code)
		if err != nil || len(code) != 3 || !validVersion(ver) {
			m.problem(ruleStatusLine, "status-line %s is not HTTP-version SP 3DIGIT SP reason-phrase", excerpt([]byte(start), 80))
		}
		h.Status = n
		m.Summary = start
	}
	var cls []string
	var te []string
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			m.problem(ruleNoObsFold, "obsolete line folding: %s", excerpt([]byte(l), 60))
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			m.problem(ruleFieldLine, "header line without a colon: %s", excerpt([]byte(l), 60))
			continue
		}
		if strings.TrimRight(name, " \t") != name {
			m.problem(ruleNoSpaceColon, "whitespace between field name %q and colon", strings.TrimSpace(name))
			name = strings.TrimRight(name, " \t")
		}
		if !isToken(name) {
			m.problem(ruleFieldLine, "field name %s is not a token", excerpt([]byte(name), 40))
		}
		value = strings.Trim(value, " \t")
		if len(h.Header) < maxFields {
			h.Header = append(h.Header, Field{name, value})
		}
		switch strings.ToLower(name) {
		case "content-length":
			cls = append(cls, value)
		case "transfer-encoding":
			for _, c := range strings.Split(value, ",") {
				if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
					te = append(te, c)
				}
			}
		}
	}
	// Content-Length: one valid value (a list of equal values is
	// tolerated, RFC 9110 8.6).
	if len(cls) > 0 {
		var vals []string
		for _, v := range cls {
			for _, p := range strings.Split(v, ",") {
				vals = append(vals, strings.TrimSpace(p))
			}
		}
		n, err := strconv.ParseInt(vals[0], 10, 64)
		valid := err == nil && n >= 0 && vals[0] != "" && vals[0][0] != '+'
		for _, v := range vals[1:] {
			if v != vals[0] {
				valid = false
			}
		}
		if valid {
			h.ContentLength = n
		} else {
			m.problem(ruleValidCL, "invalid Content-Length %s", excerpt([]byte(strings.Join(cls, ", ")), 60))
		}
	}
	if len(te) > 0 && len(cls) > 0 {
		m.problem(ruleCLWithTE, "both Transfer-Encoding (%s) and Content-Length (%s)", strings.Join(te, ", "), strings.Join(cls, ", "))
	}
	chunked := len(te) > 0 && te[len(te)-1] == "chunked"
	if side == Client {
		if h.Version == "HTTP/1.1" && h.Get("Host") == "" && !hasField(h, "Host") {
			m.problem(ruleHost, "HTTP/1.1 request without a Host header field")
		}
		if len(d.queue) < 1024 {
			d.queue = append(d.queue, m)
		}
		switch {
		case len(te) > 0 && !chunked:
			m.problem(ruleRequestChunked, "request Transfer-Encoding %s does not end in chunked: its length cannot be determined", strings.Join(te, ", "))
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
	var req *Message
	interim := h.Status >= 100 && h.Status < 200
	if len(d.queue) > 0 {
		req = d.queue[0]
		if !interim || h.Status == 101 {
			d.queue = d.queue[1:]
		}
	} else if !d.e.flow.MidStream && !d.clientLost {
		m.problem(ruleResponseRequest, "response %s without a request", excerpt([]byte(start), 60))
	}
	m.peer = req
	if (interim || h.Status == 204) && len(cls) > 0 {
		m.problem(ruleCL1xx204, "%d response with Content-Length %s", h.Status, strings.Join(cls, ", "))
	}
	headReq := req != nil && req.HTTP != nil && req.HTTP.Method == "HEAD"
	switch {
	case h.Status == 101 || (req != nil && req.HTTP != nil && req.HTTP.Method == "CONNECT" && h.Status/100 == 2):
		h.NoBody = true
		d.complete(side)
		d.sides[Server].state, d.sides[Client].state = stTunnel, stTunnel
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

func hasField(h *HTTPInfo, name string) bool {
	for _, f := range h.Header {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// complete emits the side's message and waits for the next.
func (d *httpDissector) complete(side Side) {
	s := &d.sides[side]
	m := s.msg
	if m == nil {
		return
	}
	s.raw.take(m)
	if s.holes {
		m.Truncated = true
	}
	s.msg = nil
	if s.state != stTunnel {
		s.state = stHeader
	}
	d.e.emit(m)
}

// abandon emits the side's message as incomplete and resynchronizes.
func (d *httpDissector) abandon(side Side) {
	s := &d.sides[side]
	if s.msg != nil {
		s.msg.Incomplete = true
		d.complete(side)
	}
	s.state = stResync
}

func (d *httpDissector) lost(side Side, n int) {
	s := &d.sides[side]
	if side == Client {
		d.clientLost = true
	}
	switch {
	case s.state == stTunnel:
	case s.state == stClose:
		s.raw.hole(n)
		s.msg.HTTP.BodyLen += int64(n)
		s.holes = true
	case (s.state == stBody || s.state == stChunkData) && int64(n) <= s.remaining-int64(len(s.buf)):
		// A hole inside a body of known length: framing survives.
		s.raw.write(s.buf)
		s.msg.HTTP.BodyLen += int64(len(s.buf)) + int64(n)
		s.remaining -= int64(len(s.buf)) + int64(n)
		s.buf = nil
		s.raw.hole(n)
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

func (d *httpDissector) end(side Side, t time.Time, reset bool) {
	s := &d.sides[side]
	switch s.state {
	case stClose:
		d.complete(side)
	case stBody, stChunkSize, stChunkData, stChunkEnd, stTrailer:
		if !reset && !s.holes {
			rule := ruleBodyComplete
			what := fmt.Sprintf("connection closed %d bytes before the end of the Content-Length body", s.remaining)
			if s.msg.HTTP.Chunked {
				rule, what = ruleChunked, "connection closed inside the chunked body"
			}
			s.msg.problem(rule, "%s", what)
		}
		d.abandon(side)
	case stHeader:
		if b := bytes.TrimSpace(s.buf); len(b) > 0 {
			m := d.e.newMessage(side, t)
			m.HTTP = &HTTPInfo{ContentLength: -1, Request: side == Client}
			m.Summary = "header section cut short: " + excerpt(b, 60)
			m.Incomplete = true
			m.Len = int64(len(s.buf))
			if d.o.KeepRaw {
				m.Raw = append([]byte(nil), s.buf...)
			}
			d.e.emit(m)
		}
	}
	s.buf = nil
	s.state = stTunnel
}
