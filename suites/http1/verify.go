package http1

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/suites/spec"
)

// codesText renders accepted status codes: "200", "301 or 302".
func codesText(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func hasCode(codes []int, c int) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// expectStatus checks that the response has one of the codes.
func expectStatus(resp *Response, codes ...int) error {
	if resp == nil {
		return spec.Errorf("a response with status "+codesText(codes), "no response")
	}
	if !hasCode(codes, resp.Code) {
		return spec.Errorf("status "+codesText(codes), "status %d (status-line %s)", resp.Code, resp)
	}
	return nil
}

// expectClass checks the status class (2 for 2xx ...).
func expectClass(resp *Response, class int) error {
	if resp.Code/100 != class {
		return spec.Errorf(fmt.Sprintf("a %dxx status", class), "status %d (status-line %s)", resp.Code, resp)
	}
	return nil
}

// expectRejected accepts the reactions an RFC allows for a request it
// says to reject: a response with one of codes, or the connection closed
// without a response. resp and err come from ReadResponse.
func expectRejected(resp *Response, err error, codes ...int) error {
	if err != nil {
		if noResponse(err) {
			return nil
		}
		return spec.Errorf("a response with status "+codesText(codes)+", or the connection closed without a response", "%v", err)
	}
	if !hasCode(codes, resp.Code) {
		return spec.Errorf("status "+codesText(codes)+", or the connection closed without a response", "status %d (status-line %s)", resp.Code, resp)
	}
	return nil
}

// expectRejectedThenClosed is expectRejected followed by the target
// closing the connection, without answering anything sent after the
// rejected request.
func expectRejectedThenClosed(c *spec.Conn, resp *Response, err error, codes ...int) error {
	if e := expectRejected(resp, err, codes...); e != nil {
		return e
	}
	if err != nil {
		return nil // already closed
	}
	if e := c.ExpectClosed(c.Scaled(closeWait)); e != nil {
		return fmt.Errorf("after answering %d the target must close the connection: %w", resp.Code, e)
	}
	return nil
}

// expectStatusThenClosed requires a response with one of codes and then
// the connection closed (a MUST "respond with 400 and then close").
func expectStatusThenClosed(c *spec.Conn, resp *Response, err error, codes ...int) error {
	if err != nil {
		return spec.Errorf("a response with status "+codesText(codes)+" and then the connection closed", "%v", err)
	}
	if e := expectStatus(resp, codes...); e != nil {
		return e
	}
	if e := c.ExpectClosed(c.Scaled(closeWait)); e != nil {
		return fmt.Errorf("after answering %d the target must close the connection: %w", resp.Code, e)
	}
	return nil
}

// expectServedOrRejected accepts normal processing (200 with the content
// of f) or a rejection (one of codes, or closing without a response): what
// an RFC allows when it says "reject or replace/ignore".
func expectServedOrRejected(resp *Response, err error, f fixture.File, codes ...int) error {
	if err == nil && resp.Code == 200 {
		if !bytes.Equal(resp.Body, f.Content) {
			return spec.Errorf(fmt.Sprintf("status %s, or 200 with the content of %s", codesText(codes), f.Path), "200 with %s (%d bytes)", spec.Excerpt(resp.Body, 80), len(resp.Body))
		}
		return nil
	}
	if e := expectRejected(resp, err, codes...); e != nil {
		return fmt.Errorf("%w\n  (200 with the content of %s would also be accepted)", e, f.Path)
	}
	return nil
}

// expectFile checks a 200 response carrying exactly the content of f.
func expectFile(resp *Response, f fixture.File) error {
	if err := expectStatus(resp, 200); err != nil {
		return err
	}
	return spec.Equal("the content of "+f.Path, f.Content, resp.Body)
}

// expectBody checks the content.
func expectBody(resp *Response, want []byte) error {
	return spec.Equal("the response content", want, resp.Body)
}

// expectHeader checks that field name is present.
func expectHeader(resp *Response, name string) error {
	if !resp.Header.Has(name) {
		return spec.Errorf("a "+name+" header field", "none in the header section:\n%s", headText(resp))
	}
	return nil
}

// expectNoHeader checks that field name is absent.
func expectNoHeader(resp *Response, name string) error {
	if v := resp.Header.Values(name); len(v) > 0 {
		return spec.Errorf("no "+name+" header field", "%s: %s", name, strings.Join(v, " | "))
	}
	return nil
}

// expectNoContent checks that a response carries no content and the next
// bytes on the connection start a new response (checked by the caller).
func expectNoContent(resp *Response) error {
	if len(resp.Body) > 0 {
		return spec.Errorf("no content", "%d bytes: %s", len(resp.Body), spec.Excerpt(resp.Body, 80))
	}
	return nil
}

// headText is the header section for messages.
func headText(resp *Response) string {
	return spec.Excerpt(resp.Head, 600)
}

// expectNextIsResponse reads the response to a request pipelined after one
// that must not have content, checking that no stray bytes came first.
func expectNextIsResponse(t *spec.T, c *spec.Conn, method string) *Response {
	line, err := c.ReadLine(maxStatusLine)
	t.Check(err)
	if !bytes.HasPrefix(line, []byte("HTTP/")) {
		t.Mismatch("the next response's status-line right after the previous header section",
			"%s: content was sent where none is allowed", spec.Excerpt(line, 120))
	}
	w := &prefixed{first: line, w: c}
	resp, err := ReadResponse(w, method)
	t.Check(err)
	return resp
}

// prefixed is a Wire whose first line was already read.
type prefixed struct {
	first []byte
	w     Wire
}

func (p *prefixed) ReadLine(max int) ([]byte, error) {
	if p.first != nil {
		l := p.first
		p.first = nil
		return l, nil
	}
	return p.w.ReadLine(max)
}
func (p *prefixed) ReadN(n int) ([]byte, error)            { return p.w.ReadN(n) }
func (p *prefixed) ReadUntilClose(max int) ([]byte, error) { return p.w.ReadUntilClose(max) }

// Grammar checks of what a server sends.

var (
	statusLineRE = regexp.MustCompile(`^HTTP/[0-9]\.[0-9] [0-9]{3} [\t -~\x80-\xff]*$`)
	imfRE        = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$`)
	etagRE       = regexp.MustCompile(`^(W/)?"[\x21\x23-\x7e\x80-\xff]*"$`)
)

// checkStatusLine checks status-line = HTTP-version SP status-code SP
// [ reason-phrase ] (RFC 9112 4), CRLF-terminated.
func checkStatusLine(resp *Response) error {
	if !statusLineRE.MatchString(resp.StatusLine) {
		return spec.Errorf(`a status-line "HTTP/<d>.<d> <3 digits> <reason-phrase>" (SP after the code even without a reason)`, "%s", resp)
	}
	if bytes.IndexByte(resp.Head[:bytes.IndexByte(resp.Head, '\n')+1], '\r') != len(resp.StatusLine) {
		return spec.Errorf("the status-line ended by CRLF", "%s", spec.Excerpt(resp.Head[:bytes.IndexByte(resp.Head, '\n')+1], 200))
	}
	return nil
}

// checkFieldLines checks that every header field line is
// field-name ":" OWS field-value OWS with a token name and a value of
// VCHAR, SP, HTAB and obs-text only (RFC 9112 5, RFC 9110 5.5).
func checkFieldLines(h Header) error {
	for _, f := range h {
		if !wire.IsToken(f.Name) {
			return spec.Errorf("field-name = token, right before the colon", "field line %s", spec.Excerpt([]byte(f.Line), 120))
		}
		for i := 0; i < len(f.Value); i++ {
			c := f.Value[i]
			if c < 0x20 && c != '\t' || c == 0x7f {
				return spec.Errorf("a field value of VCHAR, SP, HTAB and obs-text", "byte 0x%02x in field line %s", c, spec.Excerpt([]byte(f.Line), 120))
			}
		}
	}
	return nil
}

// checkCRLF checks that every line of the head ends in CRLF and that it
// has no bare CR.
func checkCRLF(resp *Response) error {
	if resp.BareLF {
		return spec.Errorf("every line of the head ended by CRLF", "a line ended by a bare LF:\n%s", headText(resp))
	}
	h := resp.Head
	for i := 0; i < len(h); i++ {
		if h[i] == '\r' && (i+1 >= len(h) || h[i+1] != '\n') {
			return spec.Errorf("no CR except before LF", "a bare CR at byte %d of the head:\n%s", i, headText(resp))
		}
	}
	return nil
}

// checkIMFDate checks an IMF-fixdate (RFC 9110 5.6.7), including that
// the day name is right for the date.
func checkIMFDate(what, v string) error {
	if !imfRE.MatchString(v) {
		return spec.Errorf(what+` as an IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"`, "%q", v)
	}
	tm, err := time.Parse(time.RFC1123, v)
	if err != nil {
		return spec.Errorf(what+" as a valid IMF-fixdate", "%q: %v", v, err)
	}
	if tm.Format("Mon") != v[:3] {
		return spec.Errorf(what+" with the right day name", "%q: that date is a %s", v, tm.Format("Monday"))
	}
	return nil
}

// parseHTTPDate parses any of the three HTTP-date formats.
func parseHTTPDate(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not an HTTP-date: %q", v)
}

// expectClosedOrAnnounced accepts either a closed connection or... used
// where the server may close at any time: it checks the next request on c
// is answered unless resp announced the close.
func expectPersistent(t *spec.T, c *spec.Conn, resp *Response, next string) *Response {
	if resp.Closes() {
		t.Mismatch("a persistent connection (no \"close\" option)", "the response says the connection closes: %s", headText(resp))
	}
	if err := c.TrySend(next); err != nil {
		t.Failf("the connection is not persistent: %v", err)
	}
	r, err := ReadResponse(c, methodOf(next))
	if err != nil {
		t.Mismatch("an answer to a second request on the same connection", "%v", err)
	}
	return r
}

// isClosedErr reports whether err means the connection went away.
func isClosedErr(err error) bool {
	var re *spec.ReadError
	return errors.As(err, &re) && spec.IsClosed(err)
}
