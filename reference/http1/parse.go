package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// Limits bounds what the parser accepts. Zero fields take the defaults.
type Limits struct {
	// MaxRequestLine is the longest request-line, without CRLF (default 8192).
	MaxRequestLine int
	// MaxHeaderBytes bounds the header section, and separately the
	// trailer section, including line endings (default 16384).
	MaxHeaderBytes int
	// MaxHeaderCount bounds the number of field lines (default 100).
	MaxHeaderCount int
	// MaxBodyBytes bounds the decoded content (default 10 MiB).
	MaxBodyBytes int64
}

// Default limits.
const (
	DefaultMaxRequestLine = 8192
	DefaultMaxHeaderBytes = 16384
	DefaultMaxHeaderCount = 100
	DefaultMaxBodyBytes   = 10 << 20
	// maxChunkLine bounds a chunk-size line including its extensions.
	maxChunkLine = 4096
	// maxEmptyLines is how many empty lines before a request-line are skipped.
	maxEmptyLines = 8
)

func (l Limits) withDefaults() Limits {
	if l.MaxRequestLine <= 0 {
		l.MaxRequestLine = DefaultMaxRequestLine
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxHeaderCount <= 0 {
		l.MaxHeaderCount = DefaultMaxHeaderCount
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return l
}

// TargetForm is the form of a request-target (RFC 9112 3.2).
type TargetForm int

// The four request-target forms.
const (
	OriginForm TargetForm = iota
	AbsoluteForm
	AuthorityForm
	AsteriskForm
)

// Request is a parsed HTTP/1.x request.
type Request struct {
	// Method is the method token, case-sensitive.
	Method string
	// Target is the request-target exactly as received.
	Target string
	// Proto is the HTTP-version as received, e.g. "HTTP/1.1".
	Proto      string
	ProtoMajor int
	ProtoMinor int
	// Header holds the header section in order.
	Header Header
	// Trailer holds the allowed trailer fields of a chunked body.
	Trailer Header
	// Body is the decoded content, filled by ReadBody.
	Body []byte

	// Form is the request-target form.
	Form TargetForm
	// Path is the raw (still percent-encoded) path of an origin-form or
	// absolute-form target; "" for the other forms.
	Path string
	// RawQuery is the query without "?".
	RawQuery string
	// Host is the authority the request is for: the URI's authority for
	// absolute-form and authority-form, else the Host field value.
	Host string
	// ContentLength is the Content-Length value, or -1 if absent or chunked.
	ContentLength int64
	// Chunked reports Transfer-Encoding: chunked.
	Chunked bool
	// Close reports that the connection is not persistent after this
	// request (RFC 9112 9.3).
	Close bool

	done []func() // run by finish
}

// HasBody reports whether the request has content framing (RFC 9112 6.3).
func (r *Request) HasBody() bool { return r.Chunked || r.ContentLength > 0 }

// onDone registers f to run when the server is done with the request
// (its response written or abandoned): files opened for it are closed so.
func (r *Request) onDone(f func()) { r.done = append(r.done, f) }

// finish runs the functions registered by onDone, once.
func (r *Request) finish() {
	for _, f := range r.done {
		f()
	}
	r.done = nil
}

// readLine reads one line of at most max bytes (without its terminator).
// The result may alias br's buffer until the next read. crlf reports that
// the line ended in CRLF rather than a bare LF. n counts the bytes consumed.
// On ErrLineTooLong, line holds the start of the line.
func readLine(br *bufio.Reader, max int) (line []byte, crlf bool, n int, err error) {
	var acc []byte
	for {
		frag, err := br.ReadSlice('\n')
		n += len(frag)
		switch err {
		case nil:
			if acc != nil {
				frag = append(acc, frag...)
			}
			frag = frag[:len(frag)-1]
			if len(frag) > 0 && frag[len(frag)-1] == '\r' {
				frag, crlf = frag[:len(frag)-1], true
			}
			if len(frag) > max {
				return frag, crlf, n, ErrLineTooLong
			}
			return frag, crlf, n, nil
		case bufio.ErrBufferFull:
			acc = append(acc, frag...)
			if len(acc) > max+1 {
				return acc, false, n, ErrLineTooLong
			}
		default:
			if n == 0 && err == io.EOF {
				return nil, false, 0, io.EOF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, n, err
		}
	}
}

// ReadRequest reads and validates one request head (request-line and header
// section) from br and works out the body framing; the body itself is read
// by ReadBody. io.EOF means the peer closed cleanly before a request started.
// Any other error is a *StatusError when the peer deserves an answer; after
// any error the connection is out of sync and must be closed.
func ReadRequest(br *bufio.Reader, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	var line []byte
	var err error
	// RFC 9112 2.2: "In the interest of robustness, a server that is
	// expecting to receive and parse a request-line SHOULD ignore at least
	// one empty line (CRLF) received prior to the request-line."
	for i := 0; ; i++ {
		line, _, _, err = readLine(br, lim.MaxRequestLine)
		if err != nil {
			if err == ErrLineTooLong {
				return nil, longLineError(line)
			}
			return nil, err
		}
		if len(line) > 0 {
			break
		}
		if i == maxEmptyLines {
			return nil, statusErr(400, ErrBadRequestLine, "too many empty lines before the request-line")
		}
	}
	req := &Request{ContentLength: -1}
	if err := req.parseRequestLine(line); err != nil {
		return nil, err
	}
	if err := readFields(br, &req.Header, lim, false); err != nil {
		return nil, withMethod(err, req.Method)
	}
	if err := req.validate(lim); err != nil {
		return nil, withMethod(err, req.Method)
	}
	return req, nil
}

// withMethod records the method of the request a StatusError answers.
func withMethod(err error, method string) error {
	var se *StatusError
	if errors.As(err, &se) {
		se.Method = method
	}
	return err
}

// longLineError decides between 414 and 400 for an over-long request-line:
// 414 when what was read is a valid method, SP and the start of a target.
func longLineError(prefix []byte) error {
	i := bytes.IndexByte(prefix, ' ')
	if i > 0 && isToken(string(prefix[:i])) {
		target := prefix[i+1:]
		if j := bytes.IndexByte(target, ' '); j >= 0 {
			target = target[:j]
		}
		if len(target) > 0 && validTargetChars(target) {
			// RFC 9112 3: "A server that receives a request-target longer
			// than any URI it wishes to parse MUST respond with a 414 (URI
			// Too Long) status code".
			return statusErr(414, ErrLineTooLong, "request-target too long")
		}
	}
	return statusErr(400, ErrLineTooLong, "request-line too long")
}

func validTargetChars(b []byte) bool {
	for _, c := range b {
		if !uriChar[c] {
			return false
		}
	}
	return true
}

// parseRequestLine parses method SP request-target SP HTTP-version.
func (r *Request) parseRequestLine(line []byte) error {
	if bytes.IndexByte(line, '\r') >= 0 {
		// RFC 9112 2.2: "A sender MUST NOT generate a bare CR ... a
		// recipient of such a bare CR MUST consider that element to be
		// invalid or replace each bare CR with SP".
		return statusErr(400, ErrBareCR, "bare CR in request-line")
	}
	// RFC 9112 3: request-line = method SP request-target SP HTTP-version.
	// Lenient whitespace parsing "can result in request smuggling
	// security vulnerabilities", so exactly one SP is required.
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return statusErr(400, ErrBadRequestLine, "no SP after method")
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 < 0 {
		return statusErr(400, ErrBadRequestLine, "no HTTP-version")
	}
	method, target, version := line[:sp1], rest[:sp2], rest[sp2+1:]
	if !isToken(string(method)) {
		return statusErr(400, ErrBadRequestLine, "method is not a token")
	}
	if len(target) == 0 {
		return statusErr(400, ErrBadRequestLine, "empty request-target")
	}
	if err := r.parseVersion(version); err != nil {
		return err
	}
	r.Method = string(method)
	r.Target = string(target)
	return r.parseTarget()
}

// parseVersion checks HTTP-version = "HTTP" "/" DIGIT "." DIGIT
// (RFC 9112 2.3; HTTP-name is case-sensitive).
func (r *Request) parseVersion(v []byte) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]) {
		return statusErr(400, ErrBadVersion, "malformed HTTP-version")
	}
	r.Proto = string(v)
	r.ProtoMajor, r.ProtoMinor = int(v[5]-'0'), int(v[7]-'0')
	// RFC 9110 15.6.6: "The 505 (HTTP Version Not Supported) status code
	// indicates that the server does not support, or refuses to support,
	// the major version of HTTP that was used in the request message."
	if r.ProtoMajor != 1 {
		return statusErr(505, ErrUnsupportedVersion, "only HTTP/1.x is served here")
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// readFields reads field lines up to the empty line that ends the section
// into h. trailer selects the trailer rules (disallowed fields dropped).
func readFields(br *bufio.Reader, h *Header, lim Limits, trailer bool) error {
	total, count := 0, 0
	for {
		room := lim.MaxHeaderBytes - total
		if room < 0 {
			room = 0
		}
		line, crlf, n, err := readLine(br, room)
		total += n
		if err == ErrLineTooLong || total > lim.MaxHeaderBytes {
			// RFC 6585 5: "The 431 status code indicates that the server
			// is unwilling to process the request because its header
			// fields are too large."
			return statusErr(431, ErrHeaderTooLarge, "header section too large")
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if trailer && !crlf && len(line) == 0 {
			return statusErr(400, ErrBadChunk, "trailer section not ended by CRLF")
		}
		if len(line) == 0 {
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if count == 0 {
				// RFC 9112 2.2: "A recipient that receives whitespace
				// between the start-line and the first header field MUST
				// either reject the message as invalid or consume each
				// whitespace-preceded line without further processing".
				return statusErr(400, ErrBadField, "whitespace before the first field line")
			}
			// RFC 9112 5.2: "A server that receives an obs-fold in a
			// request message that is not within a "message/http"
			// container MUST either reject the message by sending a 400
			// (Bad Request) ... or replace each received obs-fold with
			// one or more SP octets".
			return statusErr(400, ErrBadField, "obs-fold in field line")
		}
		count++
		if count > lim.MaxHeaderCount {
			return statusErr(431, ErrHeaderTooLarge, "too many field lines")
		}
		name, value, err := parseFieldLine(line)
		if err != nil {
			return err
		}
		if trailer && !allowedTrailer(name) {
			continue
		}
		h.Add(name, value)
	}
}

// parseFieldLine splits field-name ":" OWS field-value OWS and validates both.
func parseFieldLine(line []byte) (string, string, error) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return "", "", statusErr(400, ErrBadField, "field line without colon")
	}
	name := line[:colon]
	if len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
		// RFC 9112 5.1: "No whitespace is allowed between the field name
		// and colon. ... A server MUST reject, with a response status code
		// of 400 (Bad Request), any received request message that contains
		// whitespace between a header field name and colon."
		return "", "", statusErr(400, ErrBadField, "whitespace between field name and colon")
	}
	if !isToken(string(name)) {
		return "", "", statusErr(400, ErrBadField, "field name is not a token")
	}
	value := line[colon+1:]
	for _, c := range value {
		switch {
		case c == '\r':
			return "", "", statusErr(400, ErrBareCR, "bare CR in field value")
		case c == 0:
			// RFC 9110 5.5: "Field values containing CR, LF, or NUL
			// characters are invalid and dangerous ... a recipient of CR,
			// LF, or NUL within a field value MUST either reject the
			// message or replace each of those characters with SP".
			return "", "", statusErr(400, ErrBadField, "NUL in field value")
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", "", statusErr(400, ErrBadField, "control character in field value")
		}
	}
	return string(name), trimOWS(string(value)), nil
}

// disallowedTrailers are fields a sender must not put in a trailer section
// (RFC 9110 6.5.1: framing, routing, request modifiers, authentication,
// response control data, content processing).
var disallowedTrailers = map[string]bool{
	"transfer-encoding": true, "content-length": true, "host": true, "trailer": true,
	"cache-control": true, "expect": true, "max-forwards": true, "pragma": true,
	"range": true, "te": true, "if-match": true, "if-none-match": true,
	"if-modified-since": true, "if-unmodified-since": true, "if-range": true,
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"www-authenticate": true, "proxy-authenticate": true, "content-encoding": true,
	"content-type": true, "content-range": true, "connection": true, "keep-alive": true,
	"upgrade": true, "proxy-connection": true, "age": true, "expires": true, "date": true,
	"location": true, "retry-after": true, "vary": true, "warning": true,
}

// allowedTrailer reports whether a trailer field may be kept. RFC 9110 6.5.1:
// "a recipient MUST NOT merge a trailer field into a header section unless
// the recipient understands the corresponding header field definition and
// that definition explicitly permits and defines how trailer field values
// can be safely merged"; fields that control framing or routing are dropped.
func allowedTrailer(name string) bool {
	return !disallowedTrailers[strings.ToLower(name)]
}

// validate checks the target form, Host and body framing.
func (r *Request) validate(lim Limits) error {
	h := r.Header
	hosts := h.Values("Host")
	if len(hosts) > 1 {
		// RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request)
		// status code to any HTTP/1.1 request message that lacks a Host
		// header field and to any request message that contains more than
		// one Host header field line or a Host header field with an
		// invalid field value."
		return statusErr(400, ErrBadHost, "more than one Host field")
	}
	if len(hosts) == 0 && r.ProtoMinor >= 1 {
		return statusErr(400, ErrBadHost, "HTTP/1.1 request without Host")
	}
	if len(hosts) == 1 {
		if !validHostPort(hosts[0]) {
			return statusErr(400, ErrBadHost, "invalid Host value")
		}
		// RFC 9112 3.2.2: "When an origin server receives a request with
		// an absolute-form of request-target, the origin server MUST
		// ignore the received Host header field (if any) and instead use
		// the host information of the request-target."
		if r.Form == OriginForm || r.Form == AsteriskForm {
			r.Host = hosts[0]
		}
	}

	if err := r.parseFraming(lim); err != nil {
		return err
	}

	// RFC 9112 9.3: "If the received protocol is HTTP/1.1 (or later)" the
	// connection persists unless the "close" option is present; "if the
	// received protocol is HTTP/1.0, the "keep-alive" connection option is
	// present ... the connection will persist"; otherwise it closes.
	if h.hasToken("Connection", "close") {
		r.Close = true
	} else if r.ProtoMinor == 0 {
		r.Close = !h.hasToken("Connection", "keep-alive")
	}
	return nil
}

// parseFraming applies RFC 9112 6.1 to 6.3 to Transfer-Encoding and Content-Length.
func (r *Request) parseFraming(lim Limits) error {
	te := r.Header.Values("Transfer-Encoding")
	cl := r.Header.Values("Content-Length")
	if len(te) > 0 {
		if r.ProtoMinor == 0 {
			// RFC 9112 6.1: "A server or client that receives an HTTP/1.0
			// message containing a Transfer-Encoding header field MUST
			// treat the message as if the framing is faulty, even if a
			// Content-Length is present, and close the connection after
			// processing the message."
			return statusErr(400, ErrBadFraming, "Transfer-Encoding in HTTP/1.0")
		}
		if len(cl) > 0 {
			// RFC 9112 6.1: "A server MAY reject a request that contains
			// both Content-Length and Transfer-Encoding or process such a
			// request in accordance with the Transfer-Encoding alone.
			// Regardless, the server MUST close the connection after
			// responding to such a request". Rejecting is safest.
			return statusErr(400, ErrBadFraming, "both Transfer-Encoding and Content-Length")
		}
		codings := r.Header.List("Transfer-Encoding")
		if len(codings) == 0 {
			return statusErr(400, ErrBadFraming, "empty Transfer-Encoding")
		}
		// RFC 9112 6.3: "If a Transfer-Encoding header field is present in
		// a request and the chunked transfer coding is not the final
		// encoding, the message body length cannot be determined reliably;
		// the server MUST respond with the 400 (Bad Request) status code
		// and then close the connection."
		if !strings.EqualFold(codings[len(codings)-1], "chunked") {
			return statusErr(400, ErrBadFraming, "chunked is not the final transfer coding")
		}
		// Every coding is checked before any is refused as unknown: a
		// framing error (chunked twice, a malformed coding) anywhere in
		// the list is a 400, whatever unknown coding comes before it.
		unknown := ""
		for _, c := range codings[:len(codings)-1] {
			if strings.EqualFold(c, "chunked") {
				// RFC 9112 6.1: "A sender MUST NOT apply the chunked
				// transfer coding more than once to a message body".
				return statusErr(400, ErrBadFraming, "chunked applied more than once")
			}
			if !isToken(c) && !strings.Contains(c, ";") {
				return statusErr(400, ErrBadFraming, "invalid transfer coding")
			}
			if unknown == "" {
				unknown = c
			}
		}
		if unknown != "" {
			// RFC 9112 6.1: "A server that receives a request message with
			// a transfer coding it does not understand SHOULD respond with
			// 501 (Not Implemented)."
			return statusErr(501, ErrUnknownCoding, "transfer coding "+unknown+" not implemented")
		}
		r.Chunked = true
		return nil
	}
	if len(cl) == 0 {
		return nil
	}
	n := int64(-1)
	for _, v := range cl {
		for _, m := range strings.Split(v, ",") {
			x, ok := parseContentLength(trimOWS(m))
			// RFC 9112 6.3: "If a message is received without
			// Transfer-Encoding and with an invalid Content-Length header
			// field, then the message framing is invalid and the recipient
			// MUST treat it as an unrecoverable error ... the server MUST
			// respond with a 400 (Bad Request) status code and then close
			// the connection." RFC 9110 8.6 lets "42, 42" be taken as 42.
			if !ok || (n >= 0 && x != n) {
				return statusErr(400, ErrBadFraming, "invalid Content-Length")
			}
			n = x
		}
	}
	r.ContentLength = n
	if n > lim.MaxBodyBytes {
		// RFC 9110 15.5.14: "The 413 (Content Too Large) status code
		// indicates that the server is refusing to process a request
		// because the request content is larger than the server is
		// willing or able to process."
		return statusErr(413, ErrBodyTooLarge, "Content-Length over the limit")
	}
	return nil
}

// parseContentLength parses Content-Length = 1*DIGIT without overflow.
func parseContentLength(s string) (int64, bool) {
	// Leading zeros are digits of a valid length (RFC 9110 8.6:
	// Content-Length = 1*DIGIT); only the significant ones can overflow.
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// ReadBody reads the request content framed as r says (Content-Length or
// chunked) into r.Body, and the trailer section into r.Trailer. Framing
// errors are *StatusError values; after any error close the connection.
func ReadBody(br *bufio.Reader, r *Request, lim Limits) error {
	lim = lim.withDefaults()
	switch {
	case r.Chunked:
		cr := NewChunkedReader(br, lim)
		body, err := readAllLimited(cr, lim.MaxBodyBytes)
		if err != nil {
			return err
		}
		r.Body, r.Trailer = body, cr.Trailer
	case r.ContentLength > 0:
		if r.ContentLength > lim.MaxBodyBytes {
			return statusErr(413, ErrBodyTooLarge, "Content-Length over the limit")
		}
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(br, body); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		r.Body = body
	default:
		// RFC 9112 6.3: "If this is a request message and none of the
		// above are true, then the message body length is zero".
		r.Body = nil
	}
	return nil
}

// readAllLimited reads r to EOF, failing with 413 beyond max bytes.
func readAllLimited(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, statusErr(413, ErrBodyTooLarge, "chunked body over the limit")
	}
	return buf.Bytes(), nil
}

// ParseRequest parses one complete request (head and body) from data with
// default limits. It is a convenience for tests and fuzzers.
func ParseRequest(data []byte) (*Request, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	req, err := ReadRequest(br, Limits{})
	if err != nil {
		return nil, err
	}
	if err := ReadBody(br, req, Limits{}); err != nil {
		return nil, err
	}
	return req, nil
}
