package echo

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// RFC 867, Daytime Protocol.
var _ = Describe("RFC 867 daytime", func() {
	// "Once a connection is established the current date and time is sent
	// out the connection as a ascii character string ... The service closes
	// the connection after sending the quote."
	spec.It("echo/rfc867/tcp/sends-date-and-closes", spec.MUST, "sends a date string and closes the connection", func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		if len(bytes.TrimSpace(got)) == 0 {
			t.Failf("expected a date and time before the close, received %s", spec.Excerpt(got, 100))
		}
	})

	// "the current date and time is sent out the connection as a ascii
	// character string"
	spec.It("echo/rfc867/tcp/ascii", spec.MUST, "sends the date as ASCII", func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		t.Check(checkASCII("the daytime string", got))
	})

	// "It is recommended that it be limited to the ASCII printing
	// characters, space, carriage return, and line feed."
	spec.It("echo/rfc867/tcp/printable", spec.SHOULD, "sends only printing characters, space, CR and LF", func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		t.Check(checkPrintable("the daytime string", got, "\r\n"))
	})

	// "The daytime should be just one line."
	spec.It("echo/rfc867/tcp/one-line", spec.SHOULD, "sends just one line", func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		if body := bytes.TrimRight(got, "\r\n"); bytes.ContainsAny(body, "\r\n") {
			t.Failf("expected one line, received %s", spec.Excerpt(got, 200))
		}
	})

	// "the current date and time is sent": at least the current year.
	spec.It("echo/rfc867/tcp/current-date", spec.SHOULD, "sends a string that holds the current year", func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		t.Check(holdsCurrentYear(got))
	})

	// "When a datagram is received, an answering datagram is sent containing
	// the current date and time as a ASCII character string (the data in the
	// received datagram is ignored)."
	spec.It("echo/rfc867/udp/answers-datagram", spec.MUST, "answers any datagram with one ASCII date datagram", func(t *spec.T) {
		p := t.DialPacket("daytime/udp")
		got := exchangeDatagram(t, p, []byte{0xde, 0xad, 0xbe, 0xef})
		if len(bytes.TrimSpace(got)) == 0 {
			t.Failf("expected a date and time, received %s", spec.Excerpt(got, 100))
		}
		t.Check(checkASCII("the daytime datagram", got))
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})

	// "the current date and time"
	spec.It("echo/rfc867/udp/current-date", spec.SHOULD, "answers with a string that holds the current year", func(t *spec.T) {
		p := t.DialPacket("daytime/udp")
		t.Check(holdsCurrentYear(exchangeDatagram(t, p, []byte("when?"))))
	})
})

// holdsCurrentYear accepts the year of now in UTC or any time zone (a day
// either side), written with four digits.
func holdsCurrentYear(b []byte) error {
	now := time.Now().UTC()
	for _, d := range []time.Duration{0, -14 * time.Hour, 14 * time.Hour} {
		if bytes.Contains(b, []byte(strconv.Itoa(now.Add(d).Year()))) {
			return nil
		}
	}
	return fmt.Errorf("expected the current year %d in the daytime string, received %s", now.Year(), spec.Excerpt(b, 200))
}
