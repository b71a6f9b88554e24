package echo

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc867_tcp = spec.Section("echo", "rfc867", "tcp", "")
var rfc867_udp = spec.Section("echo", "rfc867", "udp", "")

// RFC 867, Daytime Protocol.
var _ = Describe("RFC 867 daytime", func() {
	rfc867_tcp.It("sends-date-and-closes", spec.MUST, "sends a date string and closes the connection", spec.Inferred(`Once a connection is established the current date and time is sent out the connection as a ascii character string ... The service closes the connection after sending the quote.`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		if len(bytes.TrimSpace(got)) == 0 {
			t.Mismatch("a date and time before the close", "%s", spec.Excerpt(got, 100))
		}
	})

	rfc867_tcp.It("ascii", spec.MUST, "sends the date as ASCII", spec.Inferred(`the current date and time is sent out the connection as a ascii character string`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		t.Check(checkASCII("the daytime string", got))
	})

	rfc867_tcp.It("printable", spec.SHOULD, "sends only printing characters, space, CR and LF", spec.Inferred(`It is recommended that it be limited to the ASCII printing characters, space, carriage return, and line feed.`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		t.Check(checkPrintable("the daytime string", got, "\r\n"))
	})

	rfc867_tcp.It("one-line", spec.SHOULD, "sends just one line", spec.Inferred(`The daytime should be just one line.`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		if body := bytes.TrimRight(got, "\r\n"); bytes.ContainsAny(body, "\r\n") {
			t.Mismatch("one line", "%s", spec.Excerpt(got, 200))
		}
	})

	rfc867_tcp.It("current-date", spec.SHOULD, "sends a string that holds the current year", spec.Inferred(`"the current date and time is sent": at least the current year.`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		t.Check(holdsCurrentYear(got))
	})

	rfc867_udp.It("answers-datagram", spec.MUST, "answers any datagram with one ASCII date datagram", spec.Inferred(`When a datagram is received, an answering datagram is sent containing the current date and time as a ASCII character string (the data in the received datagram is ignored).`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("daytime/udp")
		got := exchangeDatagram(t, p, []byte{0xde, 0xad, 0xbe, 0xef})
		if len(bytes.TrimSpace(got)) == 0 {
			t.Mismatch("a date and time", "%s", spec.Excerpt(got, 100))
		}
		t.Check(checkASCII("the daytime datagram", got))
		t.Check(p.ExpectSilence(quiet))
	})

	rfc867_udp.It("current-date", spec.SHOULD, "answers with a string that holds the current year", spec.Inferred(`the current date and time`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
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
