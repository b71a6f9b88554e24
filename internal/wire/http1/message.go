package http1

import (
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Framing says how a message's content was delimited (RFC 9112 6.3).
type Framing uint8

// The framings.
const (
	// FramingNone: no content, by rule (HEAD, 1xx, 204, 304, CONNECT 2xx)
	// or because a request has neither Content-Length nor Transfer-Encoding.
	FramingNone Framing = iota
	// FramingLength: Content-Length.
	FramingLength
	// FramingChunked: Transfer-Encoding ending in chunked.
	FramingChunked
	// FramingClose: a response read until the connection closed.
	FramingClose
	// FramingInvalid: the framing cannot be determined (an invalid
	// Content-Length, a request whose Transfer-Encoding does not end in
	// chunked); the decoder stops after such a message.
	FramingInvalid
)

// String is "none", "content-length", "chunked", "close" or "invalid".
func (f Framing) String() string {
	switch f {
	case FramingNone:
		return "none"
	case FramingLength:
		return "content-length"
	case FramingChunked:
		return "chunked"
	case FramingClose:
		return "close"
	case FramingInvalid:
		return "invalid"
	}
	return "Framing(" + strconv.Itoa(int(f)) + ")"
}

// Field is one header or trailer field line.
type Field struct {
	// Name is the bytes before the colon as received: whitespace before
	// the colon (reported) stays part of it, so lookups do not match it.
	Name string
	// Value is the field value without leading and trailing whitespace;
	// obs-fold continuations are joined with one SP.
	Value string
	// Line is the whole field line without its line end.
	Line string
}

// Header is an ordered list of field lines; names compare
// case-insensitively.
type Header []Field

// Get returns the first value of name, or "".
func (h Header) Get(name string) string {
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return ""
}

// Has reports whether a field line named name is present.
func (h Header) Has(name string) bool {
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			return true
		}
	}
	return false
}

// Count is how many field lines are named name.
func (h Header) Count(name string) int {
	n := 0
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			n++
		}
	}
	return n
}

// Values returns the values of every field line named name, in order.
func (h Header) Values(name string) []string {
	var out []string
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			out = append(out, h[i].Value)
		}
	}
	return out
}

// List returns the members of the comma-separated list field name over
// all its lines (RFC 9110 5.6.1): trimmed, empty members dropped, quoted
// strings kept whole.
func (h Header) List(name string) []string {
	var out []string
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			out = AppendList(out, h[i].Value)
		}
	}
	return out
}

// HasToken reports whether the list field name has the member token,
// ignoring case (httpguts.HeaderValuesContainsToken over its lines).
func (h Header) HasToken(name, token string) bool {
	for i := range h {
		if strings.EqualFold(h[i].Name, name) && httpguts.HeaderValuesContainsToken([]string{h[i].Value}, token) {
			return true
		}
	}
	return false
}

// AppendList appends the members of the list value v to out
// (RFC 9110 5.6.1: #element, with empty elements dropped; a comma inside
// a quoted-string does not split).
func AppendList(out []string, v string) []string {
	start, inq := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			inq = !inq
		case c == '\\' && inq:
			i++
		case c == ',' && !inq:
			if m := trimOWS(v[start:i]); m != "" {
				out = append(out, m)
			}
			start = i + 1
		}
	}
	if start < len(v) {
		if m := trimOWS(v[start:]); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// IsToken reports whether s is a token (RFC 9110 5.6.2).
func IsToken(s string) bool { return httpguts.ValidHeaderFieldName(s) }

// Message is one HTTP/1 request or response as observed on the wire.
// Its strings share one copy of the head.
type Message struct {
	// Request is true for a request, false for a response.
	Request bool
	// StartLine is the request-line or status-line without its line end.
	StartLine string
	// Method and Target are a request's; Target exactly as received.
	Method, Target string
	// Version is the HTTP-version as received; Major and Minor its
	// numbers, -1 when unreadable.
	Version      string
	Major, Minor int
	// Status and Reason are a response's.
	Status int
	Reason string
	// Header holds the first Limits.MaxFields field lines in order.
	Header Header
	// Trailer holds the trailer fields of a chunked body.
	Trailer Header
	// Head is the start line and header section as received, line ends
	// included (leading empty lines not included).
	Head string
	// Framing says how the content was delimited.
	Framing Framing
	// ContentLength is the valid Content-Length, or -1; it delimits the
	// content only when Framing is FramingLength (not for a response to
	// HEAD, a 304, or beside Transfer-Encoding).
	ContentLength int64
	// Body is the decoded content, at most Limits.MaxBody bytes of it.
	Body []byte
	// BodyLen counts the decoded content, kept or not.
	BodyLen int64
	// BodyTruncated reports that content beyond Limits.MaxBody (or all of
	// it, with Limits.DiscardBody) was counted but not kept.
	BodyTruncated bool
	// BareLF reports that a line of the head ended in LF without CR.
	BareLF bool
	// Tunnel reports a response after which the stream is no longer
	// HTTP/1 (101, or 2xx to CONNECT).
	Tunnel bool
	// Incomplete reports that the stream ended inside the message.
	Incomplete bool
	// RequestMethod is, for a response, the method of the request it
	// answers as told by Decoder.Expect ("" when not told).
	RequestMethod string
	// Offset is where the message starts in the stream (Fed counts).
	Offset int64
	// Len is the number of stream bytes the message used: leading empty
	// lines, head, content with its chunk framing, trailer section.
	Len int64
	// Prefix is the length of the empty lines before the start line.
	Prefix int64
	// Lost counts the bytes of the message that were missing (Lost).
	Lost int64
	// Problems lists what the message breaks, in stream order (at most 32).
	Problems []Problem

	inline Header // room for the first field lines
}

// Has reports whether the message has a problem of kind k.
func (m *Message) Has(k Kind) bool {
	for i := range m.Problems {
		if m.Problems[i].Kind == k {
			return true
		}
	}
	return false
}

// Worst is the strongest level among the problems (LevelMust first),
// 0 without problems. Notes count only when there is nothing else.
func (m *Message) Worst() Level {
	var w Level
	for i := range m.Problems {
		if l := m.Problems[i].Level(); w == 0 || l < w {
			w = l
		}
	}
	return w
}

// Fatal returns the problem that lost the framing, if any.
func (m *Message) Fatal() *Problem {
	for i := range m.Problems {
		if m.Problems[i].Fatal {
			return &m.Problems[i]
		}
	}
	return nil
}

// Closes reports whether the connection does not persist after this
// message (RFC 9112 9.3): "Connection: close", or HTTP/1.0 without
// "keep-alive".
func (m *Message) Closes() bool {
	if m.Header.HasToken("Connection", "close") {
		return true
	}
	return m.Major == 1 && m.Minor == 0 && !m.Header.HasToken("Connection", "keep-alive")
}

// String is the start line, quoted.
func (m *Message) String() string {
	if m == nil {
		return "no message"
	}
	return strconv.Quote(m.StartLine)
}

func (m *Message) problem(k Kind, off int64, fatal bool, detail string) {
	if len(m.Problems) >= maxProblems && !fatal {
		return
	}
	m.Problems = append(m.Problems, Problem{Kind: k, Offset: off, Fatal: fatal, Detail: detail})
}

// trimOWS removes leading and trailing SP and HTAB.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// excerpt quotes at most n bytes of s for a problem's detail.
func excerpt(s string, n int) string {
	if len(s) > n {
		return strconv.Quote(s[:n]) + "..."
	}
	return strconv.Quote(s)
}
