package http1

import (
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

// expectTarget is where 100-continue specs send content: /echo, else a
// PUT under /upload/, else POST /hello.txt.
func expectTarget(t *spec.T) (method, target string) {
	switch {
	case t.Target().Feature(featEcho) == nil:
		return "POST", fixture.EchoPath
	case t.Target().Feature(featUpload) == nil:
		return "PUT", uploadPath(t, "expect")
	}
	return "POST", hello.Path
}

// RFC 9110 10.1.1: Expect.
var _ = Describe("RFC 9110 10.1.1 Expect", func() {
	// "An origin server MUST, upon receiving an HTTP/1.1 (or later)
	// request-line and a complete header section that contains a
	// 100-continue expectation and indicates a request message body will
	// follow, either send an immediate response with a final status code, if
	// that status can be determined by examining just the request-line and
	// header fields, or send an immediate 100 (Continue) response to
	// encourage the client to send the request content."
	spec.It("http1/rfc9110/10.1.1/100-continue", spec.MUST, "answers a 100-continue expectation at once with 100 or a final status", func(t *spec.T) {
		m, p := expectTarget(t)
		c := t.Dial(service)
		c.Send(request(t, m, p, "Expect: 100-continue", "Content-Length: 5"))
		first, err := ReadOne(c, m)
		if err != nil {
			t.Failf("%v", spec.Errorf("an immediate 100 (Continue) or final response before the content is sent", "%v", err))
		}
		if first.Code != 100 {
			return
		}
		// RFC 9110 15.2: "A client MUST be able to parse one or more 1xx
		// responses"; a 1xx has no content (RFC 9112 6.3).
		t.Check(expectNoHeader(first, "Content-Length"))
		t.Check(expectNoHeader(first, "Transfer-Encoding"))
		c.Send("hello")
		final := read(t, c, m)
		if final.Code/100 == 1 {
			t.Failf("%v", spec.Errorf("a final response after the content", "%s", final))
		}
	})

	spec.It("http1/rfc9110/10.1.1/100-continue-echo", spec.MUST, "reads the content sent after 100 (Continue)", func(t *spec.T) {
		t.Require(featEcho)
		c := t.Dial(service)
		c.Send(request(t, "POST", fixture.EchoPath, "Expect: 100-continue", "Content-Length: 5"))
		first, err := ReadOne(c, "POST")
		t.Check(err)
		t.Check(expectStatus(first, 100, 200))
		if first.Code == 100 {
			c.Send("hello")
			resp := read(t, c, "POST")
			t.Check(expectStatus(resp, 200))
			t.Check(expectBody(resp, []byte("hello")))
		}
	})

	// "A server MAY omit sending a 100 (Continue) response if it has already
	// received some or all of the content for the corresponding request".
	spec.It("http1/rfc9110/10.1.1/content-sent-at-once", spec.MUST, "answers a 100-continue request whose content came at once", func(t *spec.T) {
		m, p := expectTarget(t)
		c := t.Dial(service)
		c.Send(request(t, m, p, "Expect: 100-continue", "Content-Length: 5") + "hello" + get(t, hello.Path))
		resp := read(t, c, m)
		t.Note("final response %s after %d interim", resp, len(resp.Interim))
		if !resp.Closes() {
			r2, err := ReadResponse(c, "GET")
			if err != nil && noResponse(err) {
				return
			}
			t.Check(err)
			t.Check(expectFile(r2, hello))
		}
	})

	// "A server that receives a 100-continue expectation in an HTTP/1.0
	// request MUST ignore that expectation."
	spec.It("http1/rfc9110/10.1.1/ignore-in-http10", spec.MUST, "sends no 100 (Continue) to an HTTP/1.0 request", func(t *spec.T) {
		m, p := expectTarget(t)
		c := t.Dial(service)
		c.Send(request10(m, p, "Expect: 100-continue", "Content-Length: 5"))
		got, _, err := c.ReadFor(c.Scaled(quiet), 4096)
		t.Check(err)
		if len(got) > 0 {
			r, rerr := ReadOne(&bytesWire{b: got}, m)
			if rerr == nil && r.Code == 100 {
				t.Failf("%v", spec.Errorf("no 100 (Continue) for HTTP/1.0", "%s", r))
			}
			return // a final status at once is fine
		}
		c.Send("hello")
		resp := read(t, c, m)
		if len(resp.Interim) > 0 {
			t.Failf("%v", spec.Errorf("no 100 (Continue) for HTTP/1.0", "%d interim responses", len(resp.Interim)))
		}
	})

	// "A server that receives an Expect field value containing a member other
	// than 100-continue MAY respond with a 417 (Expectation Failed) status
	// code to indicate that the unexpected expectation cannot be met."
	spec.It("http1/rfc9110/10.1.1/unknown-expectation-417", spec.MAY, "answers an unknown expectation with 417", func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "Expect: x-teapot")), 417))
	})

	spec.It("http1/rfc9110/10.1.1/unknown-expectation", spec.MUST, "answers an unknown expectation with 417 or processes the request", func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path, "Expect: x-teapot"))
		if resp.Code != 417 {
			t.Check(expectFile(resp, hello))
		}
	})

	// 15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0 client."
	spec.It("http1/rfc9110/15.2/no-1xx-to-http10", spec.MUST, "sends no 1xx to an HTTP/1.0 request with content", func(t *spec.T) {
		m, p := expectTarget(t)
		resp := fetch(t, request10(m, p, "Content-Length: 5")+"hello")
		if len(resp.Interim) > 0 {
			t.Failf("%v", spec.Errorf("no 1xx for HTTP/1.0", "%s", resp.Interim[0]))
		}
	})
})
