package http1

import (
	"fmt"
	"strconv"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

// bodyTarget is where specs send request content: /echo when the target
// has it, else /hello.txt (the answer may be 405; only the framing counts).
func bodyTarget(t *spec.T) string {
	if t.Target().Feature(featEcho) == nil {
		return fixture.EchoPath
	}
	return hello.Path
}

// expectFramed sends raw, a request with content, and right after it a GET
// for /hello.txt on the same connection. The second answer must be
// /hello.txt: the server read exactly the content that raw framed
// (RFC 9112 9.3: "A server MUST read the entire request message body or
// close the connection after sending its response"). A server that closes
// the connection after the first response (announced or not) passes; one
// that announced "close" must not answer the second request. It returns
// the first response.
func expectFramed(t *spec.T, raw string) *Response {
	c := t.Dial(service)
	wait := sendReading(c, raw+get(t, hello.Path))
	defer wait()
	first, err := ReadResponse(c, methodOf(raw))
	if err != nil {
		if serr := wait(); serr != nil {
			err = fmt.Errorf("%v; reading the response: %v", serr, err)
		}
		t.Failf("%v", spec.Errorf("a response to the request with content", "%v", err))
	}
	if first.Closes() {
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
		t.Note("the target closed the connection after the first response")
		return first
	}
	second, err := ReadResponse(c, "GET")
	if err != nil {
		if noResponse(err) {
			t.Note("the target closed the connection after the first response")
			return first
		}
		t.Failf("%v", spec.Errorf("the answer to GET /hello.txt sent after the content", "%v", err))
	}
	if second.Code != 200 || string(second.Body) != string(hello.Content) {
		t.Failf("%v", spec.Errorf("the answer to GET /hello.txt sent after the content: 200 with its content (the content was misframed otherwise)",
			"%s with %s", second, spec.Excerpt(second.Body, 80)))
	}
	return first
}

// expectClosedAfter accepts any single response (or none) to raw, which
// carries a smuggled second request after it, and then requires the
// connection to close without answering anything else: what RFC 9112 6.1
// demands of a request with both Transfer-Encoding and Content-Length.
func expectClosedAfter(t *spec.T, raw string) *Response {
	c := t.Dial(service)
	c.Send(raw)
	resp, err := ReadResponse(c, methodOf(raw))
	if err != nil {
		if noResponse(err) {
			return nil
		}
		t.Failf("%v", spec.Errorf("one response (or none) and then the connection closed", "%v", err))
	}
	if e := c.ExpectClosed(c.Scaled(closeWait)); e != nil {
		t.Failf("%v", spec.Errorf("the connection closed after the response "+resp.String(), "%v", e))
	}
	return resp
}

// smuggled is a complete request hidden in content, for smuggling probes.
func smuggled(t *spec.T) string {
	return get(t, "/smuggled-"+strconv.Itoa(int(t.StepTimeout().Milliseconds())))
}

// echoed sends raw to /echo and checks that the server decoded want as
// the request content.
func echoed(t *spec.T, raw string, want []byte) {
	t.Require(featEcho)
	resp := fetch(t, raw)
	t.Check(expectStatus(resp, 200))
	t.Check(spec.Equal("the content /echo received", want, resp.Body))
}

// expectNoSecondResponse judges what a target sends, within quiet, in
// answer to a request whose content is malformed or absurdly large,
// followed by a smuggled request. Allowed: nothing yet (still reading the
// content) or a close; 400 or 413; or a response decided from the head
// alone (405, 404 ...). Never allowed: an answer to the smuggled request,
// which shows that the server read past the content.
func expectNoSecondResponse(c *spec.Conn) error {
	got, _, err := c.ReadFor(c.Scaled(quiet), 64<<10)
	if err != nil {
		return err
	}
	if len(got) == 0 {
		return nil
	}
	w := &bytesWire{b: got}
	first, err := ReadResponse(w, "POST")
	if err != nil {
		return spec.Errorf("at most one well-formed response", "%v", err)
	}
	if len(w.b) > 0 {
		return spec.Errorf("no answer to the request after the malformed content",
			"after %s the target sent %s: it took the malformed content as valid, or read past it, and answered the request that follows", first, spec.Excerpt(w.b, 200))
	}
	return nil
}
