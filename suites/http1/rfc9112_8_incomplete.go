package http1

import (
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9112_8 = spec.Section("http1", "rfc9112", "8", "Handling Incomplete Messages")

// RFC 9112 8 Handling Incomplete Messages.
var _ = Describe("RFC 9112 8 Handling Incomplete Messages", func() {
	rfc9112_8.It("incomplete-chunked", spec.SHOULD, "does not process chunked content without its last-chunk as complete", spec.Inferred(`RFC 9112 8: "A message body that uses the chunked transfer coding is incomplete if the zero-sized chunk that terminates the encoding has not been received."`, "RFC 9112 8 defines an incomplete message without a key word; processing one as complete acts on content that never came"), func(t *spec.T) {
		t.Require(featEcho)
		c := t.Dial(service)
		c.Send(chunkedPost(t, fixture.EchoPath, "5\r\nhello\r\n"))
		t.Check(c.CloseWrite())
		resp, err := ReadResponse(c, "POST")
		if err == nil && resp.Code/100 == 2 {
			t.Mismatch("an error response or the connection closed", "%s: incomplete content processed", resp)
		}
	})

	rfc9112_8.It("incomplete-content-length", spec.SHOULD, "does not process content shorter than its Content-Length as complete", spec.Inferred(`RFC 9112 8: "A message body that uses the chunked transfer coding is incomplete if the zero-sized chunk that terminates the encoding has not been received."`, "RFC 9112 8 defines an incomplete message without a key word; processing one as complete acts on content that never came").SharedBecause("the Content-Length case of the same rule"), func(t *spec.T) {
		t.Require(featEcho)
		c := t.Dial(service)
		c.Send(request(t, "POST", fixture.EchoPath, "Content-Length: 10") + "hello")
		t.Check(c.CloseWrite())
		resp, err := ReadResponse(c, "POST")
		if err == nil && resp.Code/100 == 2 {
			t.Mismatch("an error response or the connection closed", "%s: incomplete content processed", resp)
		}
	})
})
