package http1

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/protospec/protospec/suites/spec"
)

// Layouts of a desync probe: where the request hidden in the content sits
// for the two readings of the framing a smuggling attack plays on.
type layout int

const (
	// clte: Content-Length covers "0\r\n\r\n" and the hidden request, so
	// a reader that takes the content as chunked ends it at the
	// last-chunk and reads the hidden request as the next one.
	clte layout = iota
	// tecl: one chunk carries the hidden request and Content-Length
	// covers only the chunk-size line, so a reader that frames by
	// Content-Length reads the hidden request as the next one.
	tecl
)

// desyncRequest builds a POST (or method) with the given framing fields
// and content laid out as l, hiding smuggled(t) in it. Content-Length is
// computed and placed where the layout puts it: before the fields for
// CL.TE, after them for TE.CL. clField names the Content-Length line
// ("Content-Length: %d" is the default).
func desyncRequest(t *spec.T, method string, l layout, clPrefix string, fields ...string) string {
	if clPrefix == "" {
		clPrefix = "Content-Length: "
	}
	s := smuggled(t)
	switch l {
	case clte:
		body := "0\r\n\r\n" + s
		fs := append([]string{clPrefix + strconv.Itoa(len(body))}, fields...)
		return request(t, method, bodyTarget(t), fs...) + body
	default:
		size := strconv.FormatInt(int64(len(s)), 16) + "\r\n"
		body := size + s + "\r\n0\r\n\r\n"
		fs := append(append([]string{}, fields...), clPrefix+strconv.Itoa(len(size)))
		return request(t, method, bodyTarget(t), fs...) + body
	}
}

// expectNotSmuggled sends raw, whose framing hides a second request in
// one reading of it, and fails when the target answers more than one
// request: the evidence that it read the hidden request as a request.
// Every other reaction passes: a 400 or 501, any single response, a
// close, or silence while it waits for more content (a dead target is
// caught by the liveness probe that follows a refusal).
func expectNotSmuggled(t *spec.T, raw string) {
	c := t.Dial(service)
	wait := sendReading(c, raw)
	defer wait()
	first, err := ReadResponse(c, methodOf(raw))
	if err != nil {
		var re *spec.ReadError
		if noResponse(err) || (errors.As(err, &re) && re.Timeout > 0 && len(re.Got) == 0) {
			t.Note("no response: the target closed the connection or waited for more content")
			return
		}
		t.Failf("%v", spec.Errorf("one response (or none) to the request whose content hides another", "%v", err))
	}
	got, closed, err := c.ReadFor(c.Scaled(quiet), 64<<10)
	t.Check(err)
	if len(got) == 0 {
		if closed {
			t.Note("the target closed the connection after %s", first)
		}
		return
	}
	w := &bytesWire{b: got}
	second, err := ReadResponse(w, "GET")
	if err != nil {
		t.Failf("%v", spec.Errorf("nothing after "+first.String()+" (the hidden request is content, or the connection closes)",
			"after %s the target sent %s", first, spec.Excerpt(got, 200)))
	}
	t.Failf("%v", spec.Errorf("no answer to the request hidden in the content of the first ("+firstLine(smuggled(t))+")",
		"after %s the target answered the hidden request with %s (%s): it framed the content differently from a reader of the other framing, the desync request smuggling exploits", first, second, spec.Excerpt(second.Body, 80)))
}

// expectFramedOrRejected is expectFramed that also accepts a close
// without a response: what the RFC allows for a request it lets the
// server reject.
func expectFramedOrRejected(t *spec.T, raw string) {
	c := t.Dial(service)
	wait := sendReading(c, raw+get(t, hello.Path))
	defer wait()
	first, err := ReadResponse(c, methodOf(raw))
	if err != nil {
		if noResponse(err) {
			t.Note("the target closed the connection without a response")
			return
		}
		if serr := wait(); serr != nil {
			err = fmt.Errorf("%v; reading the response: %v", serr, err)
		}
		t.Failf("%v", spec.Errorf("a response to the request with content, or the connection closed", "%v", err))
	}
	if first.Closes() {
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
		return
	}
	second, err := ReadResponse(c, "GET")
	if err != nil {
		if noResponse(err) {
			t.Note("the target closed the connection after %s", first)
			return
		}
		t.Failf("%v", spec.Errorf("the answer to GET /hello.txt sent after the content, or the connection closed", "%v", err))
	}
	if second.Code != 200 || string(second.Body) != string(hello.Content) {
		t.Failf("%v", spec.Errorf("the answer to GET /hello.txt sent after the content: 200 with its content (the content was misframed otherwise)",
			"after %s: %s with %s", first, second, spec.Excerpt(second.Body, 80)))
	}
}

// firstLine is the request-line of a raw request.
func firstLine(raw string) string {
	for i := 0; i+1 < len(raw); i++ {
		if raw[i] == '\r' && raw[i+1] == '\n' {
			return raw[:i]
		}
	}
	return raw
}
