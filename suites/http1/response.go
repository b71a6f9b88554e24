package http1

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	wire "github.com/protospec/protospec/internal/wire/http1"
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

// Field is one header or trailer field line as received (Line is the
// whole line without its line end).
type Field = wire.Field

// Header is an ordered list of field lines; names compare
// case-insensitively.
type Header = wire.Header

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
	// Problems are the grammar problems the codec found in the response.
	Problems []wire.Problem
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

// readerLimits are the response reader's bounds.
var readerLimits = wire.Limits{
	MaxStartLine: maxStatusLine,
	MaxHead:      maxHeadBytes,
	MaxFields:    maxFields,
	MaxChunkLine: maxChunkLine,
	MaxBody:      maxBody,
}

// ReadOne reads exactly one response, 1xx included, with the observers'
// codec (internal/wire/http1): it reads from w only what the codec wants,
// so a response pipelined after this one stays unread. After a body error
// the response read so far is returned with the error.
func ReadOne(w Wire, method string) (*Response, error) {
	d := wire.NewResponseDecoder(readerLimits)
	d.Expect(method)
	for {
		if m, ok := d.Next(); ok {
			r := fromWire(m, method)
			if err := unreadable(m); err != nil {
				return partial(r), err
			}
			return r, nil
		}
		cur := d.Current()
		if cur != nil {
			if err := unreadable(cur); err != nil {
				return partial(fromWire(cur, method)), err
			}
		}
		var b []byte
		var err error
		switch want := d.Want(); want.Kind {
		case wire.WantLine:
			b, err = w.ReadLine(int(want.N))
		case wire.WantBytes:
			b, err = w.ReadN(int(want.N))
		case wire.WantClose:
			b, err = w.ReadUntilClose(maxBody)
			d.Feed(b)
			if err != nil {
				return partial(fromWire(cur, method)), err
			}
			d.Close()
			continue
		default:
			return nil, fmt.Errorf("%w: the reader cannot go on", ErrMalformed)
		}
		if err != nil {
			return partial(fromWire(cur, method)), notAResponse(d, cur, err)
		}
		d.Feed(b)
	}
}

// notAResponse is the error of a read that failed after the target sent
// bytes but no complete response head (an HTTP/0.9 body, a head cut
// short at a line's end): it must not read as a refusal that sent
// nothing (noResponse), since the target did answer, with something that
// is not an HTTP/1 response.
func notAResponse(d *wire.Decoder, cur *wire.Message, err error) error {
	if (cur != nil && cur.Head != "") || d.Fed() == 0 {
		return err
	}
	return fmt.Errorf("%w: the target sent %d bytes but no complete HTTP/1 response head, then: %v", ErrMalformed, d.Fed(), err)
}

// partial is the response read so far once its head parsed, else nil.
func partial(r *Response) *Response {
	if r == nil || r.Head == nil {
		return nil
	}
	return r
}

// unreadable returns an error for the problems the reader does not read
// past: a lost framing, and what RFC 9112 lets a client refuse and the
// specs rely on being refused (obs-fold, a field line without a name and
// colon, chunk lines not ended by CRLF, junk after a chunk-size, content
// over the reader's bounds).
func unreadable(m *wire.Message) error {
	for _, p := range m.Problems {
		switch {
		case p.Fatal,
			p.Kind == wire.KindEmptyLineBeforeStart,
			p.Kind == wire.KindObsFold,
			p.Kind == wire.KindWhitespaceAfterStartLine,
			p.Kind == wire.KindFieldNoColon,
			p.Kind == wire.KindChunkLineEnd,
			p.Kind == wire.KindChunkSizeJunk,
			p.Kind == wire.KindChunkDataEnd,
			p.Kind == wire.KindTooManyFields,
			p.Kind == wire.KindBodyTooLarge:
			return fmt.Errorf("%w: %s", ErrMalformed, p.Detail)
		}
	}
	for _, h := range []wire.Header{m.Header, m.Trailer} {
		for _, f := range h {
			if f.Name == "" {
				return fmt.Errorf("%w: field line without field-name: %s", ErrMalformed, spec.Excerpt([]byte(f.Line), 120))
			}
		}
	}
	return nil
}

// fromWire is the suite's view of a codec message.
func fromWire(m *wire.Message, method string) *Response {
	if m == nil {
		return nil
	}
	r := &Response{
		StatusLine: m.StartLine, Proto: m.Version, Major: m.Major, Minor: m.Minor,
		Code: m.Status, Reason: m.Reason, Header: m.Header, Trailer: m.Trailer,
		Body: m.Body, BareLF: m.BareLF, Method: method, Problems: m.Problems,
	}
	if m.Head != "" {
		r.Head = []byte(m.Head)
	}
	switch m.Framing {
	case wire.FramingNone:
		r.Framing = FramingNone
	case wire.FramingLength:
		r.Framing = FramingLength
	case wire.FramingChunked:
		r.Framing = FramingChunked
	case wire.FramingClose:
		r.Framing = FramingClose
	}
	if r.Body == nil && (r.Framing == FramingLength || r.Framing == FramingChunked) {
		r.Body = []byte{}
	}
	return r
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
