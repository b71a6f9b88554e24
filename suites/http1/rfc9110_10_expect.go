package http1

import (
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_10_1_1 = spec.Section("http1", "rfc9110", "10.1.1", "Expect")

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
	rfc9110_10_1_1.It("100-continue", spec.MUST, "answers a 100-continue expectation at once with 100 or a final status", spec.Quote(`Upon receiving an HTTP/1.1 (or later) request that has a method, target URI, and complete header section that contains a 100-continue expectation and an indication that request content will follow, an origin server MUST send either: an immediate response with a final status code, if that status can be determined by examining just the method, target URI, and header fields, or an immediate 100 (Continue) response to encourage the client to send the request content.`), func(t *spec.T) {
		m, p := expectTarget(t)
		c := t.Dial(service)
		c.Send(request(t, m, p, "Expect: 100-continue", "Content-Length: 5"))
		first, err := ReadOne(c, m)
		if err != nil {
			t.Mismatch("an immediate 100 (Continue) or final response before the content is sent", "%v", err)
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
			t.Mismatch("a final response after the content", "%s", final)
		}
	})

	rfc9110_10_1_1.It("100-continue-echo", spec.MUST, "reads the content sent after 100 (Continue)", spec.Quote(`Upon receiving an HTTP/1.1 (or later) request that has a method, target URI, and complete header section that contains a 100-continue expectation and an indication that request content will follow, an origin server MUST send either: an immediate response with a final status code, if that status can be determined by examining just the method, target URI, and header fields, or an immediate 100 (Continue) response to encourage the client to send the request content.`).SharedBecause("the content half of the same sentence: what follows 100 is read"), func(t *spec.T) {
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

	rfc9110_10_1_1.It("content-sent-at-once", spec.MUST, "answers a 100-continue request whose content came at once", spec.Inferred(`A server MAY omit sending a 100 (Continue) response if it has already received some or all of the content for the corresponding request`, "a MAY of RFC 9110 10.1.1: the server may skip 100, and still answers the request"), func(t *spec.T) {
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

	rfc9110_10_1_1.It("ignore-in-http10", spec.MUST, "sends no 100 (Continue) to an HTTP/1.0 request", spec.Quote(`A server that receives a 100-continue expectation in an HTTP/1.0 request MUST ignore that expectation.`), func(t *spec.T) {
		m, p := expectTarget(t)
		c := t.Dial(service)
		c.Send(request10(m, p, "Expect: 100-continue", "Content-Length: 5"))
		got, _, err := c.ReadFor(c.Scaled(quiet), 4096)
		t.Check(err)
		if len(got) > 0 {
			r, rerr := ReadOne(&bytesWire{b: got}, m)
			if rerr == nil && r.Code == 100 {
				t.Mismatch("no 100 (Continue) for HTTP/1.0", "%s", r)
			}
			return // a final status at once is fine
		}
		c.Send("hello")
		resp := read(t, c, m)
		if len(resp.Interim) > 0 {
			t.Mismatch("no 100 (Continue) for HTTP/1.0", "%d interim responses", len(resp.Interim))
		}
	})

	rfc9110_10_1_1.It("unknown-expectation-417", spec.MAY, "answers an unknown expectation with 417", spec.Quote(`A server that receives an Expect field value containing a member other than 100-continue MAY respond with a 417 (Expectation Failed) status code to indicate that the unexpected expectation cannot be met.`), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "Expect: x-teapot")), 417))
	})

	rfc9110_10_1_1.It("unknown-expectation", spec.MUST, "answers an unknown expectation with 417 or processes the request", spec.Inferred(`A server that receives an Expect field value containing a member other than 100-continue MAY respond with a 417 (Expectation Failed) status code to indicate that the unexpected expectation cannot be met.`, "a MAY of RFC 9110 10.1.1: 417 is the option, processing the request the other reaction allowed").SharedBecause("the either-or case; unknown-expectation-417 checks the 417 option"), func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path, "Expect: x-teapot"))
		if resp.Code != 417 {
			t.Check(expectFile(resp, hello))
		}
	})

})
