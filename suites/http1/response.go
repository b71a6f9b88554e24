package http1

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/protospec/protospec/suites/spec"
)

// Bounds of the response reader.
const (
	maxStatusLine = 8 << 10
	maxHeadBytes  = 64 << 10
	maxFields     = 200
	maxBody       = 4 << 20
	maxChunkLine  = 4 << 10
	maxInterim    = 8
)

// Wire is what the response reader needs of a connection; *spec.Conn has
// it. Each call has its own deadline and size limit.
type Wire interface {
	ReadLine(max int) ([]byte, error)
	ReadN(n int) ([]byte, error)
	ReadUntilClose(max int) ([]byte, error)
}

// ErrMalformed is wrapped by every error about a response that does not
// follow the HTTP/1.1 message grammar closely enough to be read.
var ErrMalformed = errors.New("http1: malformed response")

// Field is one header or trailer field line as received.
type Field struct {
	Name  string
	Value string // without leading and trailing whitespace
	Raw   string // the whole line without its line end
}

// Header is an ordered list of field lines; names compare
// case-insensitively.
type Header []Field

// Get returns the first value of name, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether a field line named name is present.
func (h Header) Has(name string) bool { return len(h.Values(name)) > 0 }

// Values returns the values of every field line named name, in order.
func (h Header) Values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// List returns the members of a comma-separated list field over all its
// lines, trimmed, empty members dropped, quoted strings kept whole.
func (h Header) List(name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		out = append(out, splitList(v)...)
	}
	return out
}

// HasToken reports whether the list field name contains token, ignoring case.
func (h Header) HasToken(name, token string) bool {
	for _, m := range h.List(name) {
		if strings.EqualFold(m, token) {
			return true
		}
	}
	return false
}

func splitList(v string) []string {
	var out []string
	start, inq := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			inq = !inq
		case c == '\\' && inq:
			i++
		case c == ',' && !inq:
			if m := strings.TrimSpace(v[start:i]); m != "" {
				out = append(out, m)
			}
			start = i + 1
		}
	}
	if start < len(v) {
		if m := strings.TrimSpace(v[start:]); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// Framing says how the content of a response was delimited
// (RFC 9112 6.3).
type Framing string

// The framings of a response.
const (
	FramingNone    Framing = "none"           // HEAD, 1xx, 204, 304
	FramingLength  Framing = "content-length" // Content-Length
	FramingChunked Framing = "chunked"        // Transfer-Encoding: chunked
	FramingClose   Framing = "close"          // read until the connection closed
)

// Response is one HTTP/1 response as read from the wire.
type Response struct {
	// StatusLine is the status-line without its line end.
	StatusLine string
	// Proto is the HTTP-version ("HTTP/1.1"); Major and Minor its digits.
	Proto        string
	Major, Minor int
	Code         int
	Reason       string
	Header       Header
	// Trailer holds the trailer fields of a chunked response.
	Trailer Header
	Body    []byte
	Framing Framing
	// BareLF reports that a line of the head ended in LF without CR.
	BareLF bool
	// Head is the raw status-line and header section, line ends included.
	Head []byte
	// Interim holds the 1xx responses that came before this one.
	Interim []*Response
	// Method is the request method the response answers.
	Method string
}

// String is the status-line, for messages.
func (r *Response) String() string {
	if r == nil {
		return "no response"
	}
	return strconv.Quote(r.StatusLine)
}

// Closes reports whether the response announces that the connection
// closes after it: "Connection: close", or an HTTP/1.0 response without
// "keep-alive".
func (r *Response) Closes() bool {
	if r.Header.HasToken("Connection", "close") {
		return true
	}
	return r.Major == 1 && r.Minor == 0 && !r.Header.HasToken("Connection", "keep-alive")
}

// ReadResponse reads the final response to a request with the given
// method, collecting any 1xx (except 101) responses before it in Interim.
func ReadResponse(w Wire, method string) (*Response, error) {
	var interim []*Response
	for {
		r, err := ReadOne(w, method)
		if err != nil {
			return nil, err
		}
		if r.Code >= 200 || r.Code == 101 {
			r.Interim = interim
			return r, nil
		}
		interim = append(interim, r)
		if len(interim) > maxInterim {
			return nil, fmt.Errorf("%w: more than %d interim (1xx) responses", ErrMalformed, maxInterim)
		}
	}
}

// ReadOne reads exactly one response, 1xx included.
func ReadOne(w Wire, method string) (*Response, error) {
	r := &Response{Method: method}
	line, err := w.ReadLine(maxStatusLine)
	if err != nil {
		return nil, err
	}
	r.Head = append(r.Head, line...)
	sl, lf := trimEOL(line)
	r.BareLF = lf
	r.StatusLine = sl
	if err := r.parseStatusLine(); err != nil {
		return nil, err
	}
	if err := r.readHeader(w); err != nil {
		return nil, err
	}
	if err := r.readBody(w); err != nil {
		return r, err
	}
	return r, nil
}

// trimEOL removes the line end and reports whether it was a bare LF.
func trimEOL(line []byte) (string, bool) {
	s := string(line)
	s = strings.TrimSuffix(s, "\n")
	if strings.HasSuffix(s, "\r") {
		return s[:len(s)-1], false
	}
	return s, true
}

// parseStatusLine reads HTTP-version SP status-code [SP reason-phrase]
// leniently: strict grammar checks are the verifiers' job.
func (r *Response) parseStatusLine() error {
	s := r.StatusLine
	bad := func(why string) error {
		return fmt.Errorf("%w: status-line %s: %s", ErrMalformed, spec.Excerpt([]byte(s), 120), why)
	}
	if !strings.HasPrefix(s, "HTTP/") {
		return bad("does not start with HTTP/")
	}
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return bad("no SP after the HTTP-version")
	}
	r.Proto = s[:sp]
	v := r.Proto[len("HTTP/"):]
	maj, min, ok := strings.Cut(v, ".")
	var e1, e2 error
	r.Major, e1 = strconv.Atoi(maj)
	r.Minor, e2 = strconv.Atoi(min)
	if !ok || e1 != nil || e2 != nil || r.Major < 0 || r.Minor < 0 {
		return bad("HTTP-version is not HTTP/<digit>.<digit>")
	}
	rest := s[sp+1:]
	if len(rest) < 3 {
		return bad("no 3-digit status-code")
	}
	for i := 0; i < 3; i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return bad("status-code is not 3 digits")
		}
	}
	if len(rest) > 3 && rest[3] != ' ' {
		return bad("status-code is not 3 digits followed by SP")
	}
	r.Code, _ = strconv.Atoi(rest[:3])
	if len(rest) > 3 {
		r.Reason = rest[4:]
	}
	return nil
}

// readHeader reads field lines up to the empty line.
func (r *Response) readHeader(w Wire) error {
	for {
		room := maxHeadBytes - len(r.Head)
		if room <= 0 {
			return fmt.Errorf("%w: header section longer than %d bytes", ErrMalformed, maxHeadBytes)
		}
		line, err := w.ReadLine(room)
		if err != nil {
			return err
		}
		r.Head = append(r.Head, line...)
		s, lf := trimEOL(line)
		r.BareLF = r.BareLF || lf
		if s == "" {
			return nil
		}
		if len(r.Header) >= maxFields {
			return fmt.Errorf("%w: more than %d header fields", ErrMalformed, maxFields)
		}
		f, err := parseField(s)
		if err != nil {
			return err
		}
		r.Header = append(r.Header, f)
	}
}

// parseField splits a field line at its first colon. A line starting with
// whitespace (obs-fold) or without a colon is malformed.
func parseField(s string) (Field, error) {
	if s[0] == ' ' || s[0] == '\t' {
		return Field{}, fmt.Errorf("%w: obs-fold or whitespace-started field line %s", ErrMalformed, spec.Excerpt([]byte(s), 120))
	}
	name, value, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return Field{}, fmt.Errorf("%w: field line without field-name and colon: %s", ErrMalformed, spec.Excerpt([]byte(s), 120))
	}
	return Field{Name: name, Value: strings.Trim(value, " \t"), Raw: s}, nil
}

// bodyless reports whether a response to method with status code has no
// content whatever its fields say (RFC 9112 6.3 rules 1 and 2).
func bodyless(method string, code int) bool {
	return method == "HEAD" || code < 200 || code == 204 || code == 304 ||
		(method == "CONNECT" && code >= 200 && code < 300)
}

// readBody reads the content as RFC 9112 6.3 says a client must.
func (r *Response) readBody(w Wire) error {
	if bodyless(r.Method, r.Code) {
		r.Framing = FramingNone
		return nil
	}
	if te := r.Header.List("Transfer-Encoding"); len(te) > 0 {
		if strings.EqualFold(te[len(te)-1], "chunked") {
			r.Framing = FramingChunked
			return r.readChunked(w)
		}
		r.Framing = FramingClose
		return r.readUntilClose(w)
	}
	if cls := r.Header.Values("Content-Length"); len(cls) > 0 {
		n, err := contentLength(cls)
		if err != nil {
			return err
		}
		r.Framing = FramingLength
		if n > maxBody {
			return fmt.Errorf("%w: Content-Length %d is over the reader's limit of %d", ErrMalformed, n, maxBody)
		}
		if n == 0 {
			r.Body = []byte{}
			return nil
		}
		b, err := w.ReadN(int(n))
		if err != nil {
			return err
		}
		r.Body = b
		return nil
	}
	r.Framing = FramingClose
	return r.readUntilClose(w)
}

func (r *Response) readUntilClose(w Wire) error {
	b, err := w.ReadUntilClose(maxBody)
	r.Body = b
	return err
}

// contentLength parses the Content-Length lines: one decimal value, or the
// same value repeated (RFC 9110 8.6).
func contentLength(vals []string) (int64, error) {
	n := int64(-1)
	for _, v := range vals {
		for _, m := range strings.Split(v, ",") {
			m = strings.TrimSpace(m)
			x, err := strconv.ParseInt(m, 10, 64)
			if err != nil || x < 0 || m == "" || m[0] == '+' {
				return 0, fmt.Errorf("%w: invalid Content-Length %q", ErrMalformed, v)
			}
			if n >= 0 && x != n {
				return 0, fmt.Errorf("%w: conflicting Content-Length values %q", ErrMalformed, strings.Join(vals, ", "))
			}
			n = x
		}
	}
	return n, nil
}

// readChunked decodes chunked content (RFC 9112 7.1).
func (r *Response) readChunked(w Wire) error {
	var body bytes.Buffer
	for {
		line, err := w.ReadLine(maxChunkLine)
		if err != nil {
			return err
		}
		s, lf := trimEOL(line)
		if lf {
			return fmt.Errorf("%w: chunk-size line not ended by CRLF: %s", ErrMalformed, spec.Excerpt(line, 80))
		}
		size, err := parseChunkSize(s)
		if err != nil {
			return err
		}
		if size == 0 {
			break
		}
		if int64(body.Len())+size > maxBody {
			return fmt.Errorf("%w: chunked content over the reader's limit of %d", ErrMalformed, maxBody)
		}
		data, err := w.ReadN(int(size) + 2)
		if err != nil {
			return err
		}
		if !bytes.HasSuffix(data, []byte("\r\n")) {
			return fmt.Errorf("%w: chunk data of %d bytes not followed by CRLF", ErrMalformed, size)
		}
		body.Write(data[:size])
	}
	r.Body = body.Bytes()
	if r.Body == nil {
		r.Body = []byte{}
	}
	for n := 0; ; n++ {
		line, err := w.ReadLine(maxChunkLine)
		if err != nil {
			return err
		}
		s, _ := trimEOL(line)
		if s == "" {
			return nil
		}
		if n >= maxFields {
			return fmt.Errorf("%w: more than %d trailer fields", ErrMalformed, maxFields)
		}
		f, err := parseField(s)
		if err != nil {
			return err
		}
		r.Trailer = append(r.Trailer, f)
	}
}

// parseChunkSize parses chunk-size [ chunk-ext ].
func parseChunkSize(s string) (int64, error) {
	i := 0
	var n int64
	for ; i < len(s); i++ {
		d := strings.IndexByte("0123456789abcdef", lower(s[i]))
		if d < 0 {
			break
		}
		if n > (maxBody << 4) {
			return 0, fmt.Errorf("%w: chunk-size %s too large", ErrMalformed, spec.Excerpt([]byte(s), 40))
		}
		n = n<<4 | int64(d)
	}
	if i == 0 {
		return 0, fmt.Errorf("%w: chunk-size line %s does not start with hex digits", ErrMalformed, spec.Excerpt([]byte(s), 80))
	}
	rest := strings.TrimLeft(s[i:], " \t")
	if rest != "" && rest[0] != ';' {
		return 0, fmt.Errorf("%w: chunk-size line %s: junk after the size", ErrMalformed, spec.Excerpt([]byte(s), 80))
	}
	return n, nil
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// noResponse reports whether err is the target closing the connection (or
// resetting it) before sending a single byte of a response.
func noResponse(err error) bool {
	var re *spec.ReadError
	if !errors.As(err, &re) {
		return false
	}
	return spec.IsClosed(err) && len(re.Got) == 0
}

// bytesWire is a Wire over bytes already received; running out of data
// reads as the target having closed the connection.
type bytesWire struct{ b []byte }

func (m *bytesWire) closed(got []byte) error {
	return &spec.ReadError{Conn: "mem", Waiting: "data", Got: got, Closed: true}
}

func (m *bytesWire) ReadLine(max int) ([]byte, error) {
	i := bytes.IndexByte(m.b, '\n')
	if i >= max {
		got := m.b
		m.b = nil
		return got, &spec.ReadError{Conn: "mem", Waiting: "a line", Got: got, Err: spec.ErrTooLong}
	}
	if i < 0 {
		got := m.b
		m.b = nil
		return got, m.closed(got)
	}
	l := m.b[:i+1]
	m.b = m.b[i+1:]
	return l, nil
}

func (m *bytesWire) ReadN(n int) ([]byte, error) {
	if len(m.b) < n {
		got := m.b
		m.b = nil
		return got, m.closed(got)
	}
	l := m.b[:n]
	m.b = m.b[n:]
	return l, nil
}

func (m *bytesWire) ReadUntilClose(max int) ([]byte, error) {
	got := m.b
	m.b = nil
	if len(got) > max {
		return got, &spec.ReadError{Conn: "mem", Waiting: "close", Got: got, Err: spec.ErrTooLong}
	}
	return got, nil
}
