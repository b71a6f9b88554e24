package echo

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// RFC 864, Character Generator Protocol.
var _ = Describe("RFC 864 chargen", func() {
	// "Once a connection is established a stream of data is sent out the
	// connection ... This continues until the calling user terminates the
	// connection."
	spec.It("echo/rfc864/tcp/sends-stream", spec.MUST, "sends a stream of data as soon as the connection is open", func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		readStream(t, c, 16<<10)
	})

	// "(and any data received is thrown away)"
	spec.It("echo/rfc864/tcp/ignores-input", spec.MUST, "keeps streaming while the client sends data", func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		readStream(t, c, 1024)
		c.Send("please stop\r\n")
		readStream(t, c, 8<<10)
	})

	// "It is recommended that the data be limited to the 95 printable ASCII
	// characters."
	spec.It("echo/rfc864/tcp/printable-ascii", spec.SHOULD, "sends only printable ASCII and line ends", func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		t.Check(checkPrintable("the character stream", readStream(t, c, 4096), "\r\n"))
	})

	// "One popular pattern is 72 chraracter lines of the ASCII printing
	// characters" (sic), each line starting one character further on.
	spec.It("echo/rfc864/tcp/72-char-lines", spec.MAY, "sends 72-character lines in the rotating pattern", func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		data := readStream(t, c, 74*20)
		lines := bytes.Split(data, []byte("\r\n"))
		for i, l := range lines[:19] {
			if len(l) != 72 {
				t.Failf("line %d has %d characters, not 72: %s", i, len(l), spec.Excerpt(l, 100))
			}
			if i > 0 && l[0] != next(lines[i-1][0]) {
				t.Failf("line %d starts with %q, expected %q (one after the previous line's first character)", i, l[0], next(lines[i-1][0]))
			}
			for j := 1; j < len(l); j++ {
				if l[j] != next(l[j-1]) {
					t.Failf("line %d, character %d is %q, expected %q in the rotating pattern", i, j, l[j], next(l[j-1]))
				}
			}
		}
	})

	// "When a datagram is received, an answering datagram is sent containing
	// a random number (between 0 and 512) of characters."
	spec.It("echo/rfc864/udp/answers-datagram", spec.MUST, "answers a datagram with one datagram of characters", func(t *spec.T) {
		p := t.DialPacket("chargen/udp")
		exchangeDatagram(t, p, []byte("chargen?"))
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})

	// "(between 0 and 512) of characters"
	spec.It("echo/rfc864/udp/at-most-512", spec.MUST, "answers with at most 512 characters", func(t *spec.T) {
		p := t.DialPacket("chargen/udp")
		got := exchangeDatagram(t, p, []byte("how many?"))
		if len(got) > 512 {
			t.Failf("expected at most 512 characters, received %d: %s", len(got), spec.Excerpt(got, 100))
		}
	})

	// "the data in the received datagram is ignored"; "It is recommended that
	// the data be limited to the 95 printable ASCII characters."
	spec.It("echo/rfc864/udp/printable-ascii", spec.SHOULD, "answers with printable ASCII and line ends only", func(t *spec.T) {
		p := t.DialPacket("chargen/udp")
		t.Check(checkPrintable("the answering datagram", exchangeDatagram(t, p, []byte{0xff, 0, 0xfe}), "\r\n"))
	})
})

// next is the character after c in the 95-character printable cycle.
func next(c byte) byte {
	if c >= 0x7e {
		return 0x20
	}
	return c + 1
}
