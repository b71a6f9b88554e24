package smtp

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc3030_2 = spec.Section(proto, "rfc3030", "2", "Framework for the Large Message Extensions")

// chunked is a session whose EHLO announced CHUNKING.
func chunked(t *spec.T) *session {
	t.Require(featureChunking)
	s := hello(t)
	s.need("CHUNKING")
	return s
}

var _ = Describe("RFC 3030 CHUNKING", func() {
	rfc3030_2.It("bdat-delivered", spec.FIXTURE, "delivers a message sent in two BDAT chunks exactly, with no dot-stuffing undone",
		spec.Fixture(`A target with the feature smtp/chunking announces CHUNKING and delivers a message sent with BDAT chunks, the last one flagged LAST, octet for octet (no dot-stuffing applies).`), func(t *spec.T) {
			dir := maildir(t)
			s := chunked(t)
			l := newLetter(".a line starting with a period\r\nend\r\n")
			s.mail()
			s.rcpt(rcptBob)
			half := len(l.raw) / 2
			s.c.Send(fmt.Sprintf("BDAT %d\r\n", half))
			s.c.Send(l.raw[:half])
			expectCode(t, s.read(), "the reply to the first chunk", 250)
			s.c.Send(fmt.Sprintf("BDAT %d LAST\r\n", len(l.raw)-half))
			s.c.Send(l.raw[half:])
			expectCode(t, s.read(), "the reply to the LAST chunk", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc3030_2.It("bdat-without-transaction", spec.FIXTURE, "refuses BDAT without a transaction with 503 and stays in step",
		spec.Fixture(`A target with the feature smtp/chunking refuses BDAT outside a transaction with 503, reading (and discarding) the chunk it announced.`), func(t *spec.T) {
			s := chunked(t)
			s.c.Send("BDAT 4 LAST\r\nNOOP")
			expectCode(t, s.read(), "the reply to BDAT without MAIL", 503, 554)
			s.alive("after the refused chunk")
		})
})
