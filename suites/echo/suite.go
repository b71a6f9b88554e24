// Package echo is the conformance suite of the socket echo services: RFC 862
// echo, the uppercase protocol that reference/echo defines (the line service
// of every networking course), RFC 863 discard, RFC 864 chargen and RFC 867
// daytime, each over TCP and UDP.
//
//	protospec run echo                      # against the embedded reference
//	protospec run echo --target xinetd      # RFC 862/863/864/867 against xinetd
//	protospec run echo --target 127.0.0.1:7000 --label-filter 'uppercase && must'
package echo

import (
	"bytes"
	"fmt"
	"time"

	"github.com/protospec/protospec/suites/spec"
)

var _ = spec.RegisterProtocol(spec.Protocol{
	Name:  "echo",
	Title: "socket echo services: RFC 862 echo, uppercase, RFC 863 discard, RFC 864 chargen, RFC 867 daytime",
	Docs:  []string{"rfc862", "uppercase", "rfc863", "rfc864", "rfc867"},
	Examples: []string{
		"echo",
		"echo --target xinetd --baseline builtin",
		"echo --target 127.0.0.1:7000 --label-filter 'uppercase && must'",
		"echo --target 'uppercase=127.0.0.1:7001,echo/udp=127.0.0.1:7'",
	},
})

// quiet is how long a spec listens to conclude that nothing more is coming,
// at the default step timeout: every use scales it by the run's --timeout
// (spec.T.Scaled).
const quiet = 300 * time.Millisecond

// allBytes is every byte value once, in order.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// upper is the uppercase protocol's byte rule, written out again here so
// the suite does not lean on the reference it judges.
func upper(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// exchangeLine sends line on c and checks that the reply line is want.
func exchangeLine(t *spec.T, c *spec.Conn, line, want string) {
	c.Send(line)
	got, err := c.ReadLine(len(want) + 1024)
	t.Check(err)
	t.Check(spec.Equal("the reply line", []byte(want), got))
}

// readStream reads exactly n bytes, failing the spec with what arrived.
func readStream(t *spec.T, c *spec.Conn, n int) []byte {
	got, err := c.ReadN(n)
	t.Check(err)
	return got
}

// exchangeDatagram sends one datagram (again, if it goes unanswered) and
// returns the reply from the service's own address.
func exchangeDatagram(t *spec.T, p *spec.PacketConn, data []byte) []byte {
	got, err := p.Exchange(data, 0)
	t.Check(err)
	return got
}

// checkPrintable fails unless every byte is printable ASCII or one of the
// extra bytes allowed.
func checkPrintable(what string, b []byte, extra string) error {
	for i, c := range b {
		if (c < 0x20 || c > 0x7e) && !bytes.ContainsRune([]byte(extra), rune(c)) {
			return fmt.Errorf("%s: byte %d is 0x%02x, not a printable ASCII character; data %s", what, i, c, spec.Excerpt(b, 200))
		}
	}
	return nil
}

// checkASCII fails unless every byte is 7-bit ASCII.
func checkASCII(what string, b []byte) error {
	for i, c := range b {
		if c >= 0x80 {
			return fmt.Errorf("%s: byte %d is 0x%02x, not ASCII; data %s", what, i, c, spec.Excerpt(b, 200))
		}
	}
	return nil
}
