package echo

import (
	"bytes"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc864_tcp = spec.Section("echo", "rfc864", "tcp", "TCP Based Character Generator Service")
var rfc864_udp = spec.Section("echo", "rfc864", "udp", "UDP Based Character Generator Service")

// RFC 864, Character Generator Protocol.
var _ = Describe("RFC 864 chargen", func() {
	rfc864_tcp.It("sends-stream", spec.MUST, "sends a stream of data as soon as the connection is open", spec.Inferred(`Once a connection is established a stream of data is sent out the connection ... This continues until the calling user terminates the connection.`, "RFC 864 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		readStream(t, c, 16<<10)
	})

	rfc864_tcp.It("ignores-input", spec.MUST, "keeps streaming while the client sends data", spec.Inferred(`(and any data received is thrown away)`, "RFC 864 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		readStream(t, c, 1024)
		c.Send("please stop\r\n")
		readStream(t, c, 8<<10)
	})

	rfc864_tcp.It("printable-ascii", spec.SHOULD, "sends only printable ASCII and line ends", spec.Inferred(`"The data may be anything. It is recommended that a recognizable pattern be used in tha data." (sic) "One popular pattern is 72 chraracter lines of the ASCII printing characters."`, "RFC 864 predates RFC 2119's key words; it recommends only a recognizable pattern, and the pattern it names is made of the 95 printing characters and line ends, which the suite reads as the recommendation"), func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		t.Check(checkPrintable("the character stream", readStream(t, c, 4096), "\r\n"))
	})

	rfc864_tcp.It("72-char-lines", spec.MAY, "sends 72-character lines in the rotating pattern", spec.Inferred(`"One popular pattern is 72 chraracter lines of the ASCII printing characters" (sic), each line starting one character further on.`, "RFC 864 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("chargen/tcp")
		data := readStream(t, c, 74*20)
		lines := bytes.Split(data, []byte("\r\n"))
		if len(lines) < 20 {
			// 20 lines of 72 characters and CRLF fit in what was read:
			// fewer CRLFs means lines of another length or end.
			t.Mismatch("lines of 72 characters ended by CRLF", "%d CRLF line ends in %d bytes: %s", len(lines)-1, len(data), spec.Excerpt(data, 100))
		}
		for i, l := range lines[:19] {
			if len(l) != 72 {
				t.Mismatch("72 characters on each line", "line %d has %d: %s", i, len(l), spec.Excerpt(l, 100))
			}
			if i > 0 && l[0] != next(lines[i-1][0]) {
				t.Mismatch(fmt.Sprintf("line %d to start with %q, one after the previous line's first character", i, next(lines[i-1][0])), "%q", l[0])
			}
			for j := 1; j < len(l); j++ {
				if l[j] != next(l[j-1]) {
					t.Mismatch(fmt.Sprintf("line %d, character %d to be %q in the rotating pattern", i, j, next(l[j-1])), "%q", l[j])
				}
			}
		}
	})

	rfc864_udp.It("answers-datagram", spec.MUST, "answers a datagram with one datagram of characters", spec.Inferred(`When a datagram is received, an answering datagram is sent containing a random number (between 0 and 512) of characters.`, "RFC 864 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("chargen/udp")
		exchangeDatagram(t, p, []byte("chargen?"))
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})

	rfc864_udp.It("at-most-512", spec.MUST, "answers with at most 512 characters", spec.Inferred(`(between 0 and 512) of characters`, "RFC 864 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("chargen/udp")
		got := exchangeDatagram(t, p, []byte("how many?"))
		if len(got) > 512 {
			t.Mismatch("at most 512 characters", "%d: %s", len(got), spec.Excerpt(got, 100))
		}
	})

	rfc864_udp.It("printable-ascii", spec.SHOULD, "answers with printable ASCII and line ends only", spec.Inferred(`"the data in the received datagram is ignored"; "It is recommended that a recognizable pattern be used in tha data." (sic) "One popular pattern is 72 chraracter lines of the ASCII printing characters."`, "RFC 864 predates RFC 2119's key words"), func(t *spec.T) {
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
