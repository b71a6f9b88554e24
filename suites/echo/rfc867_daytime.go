package echo

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc867_tcp = spec.Section("echo", "rfc867", "tcp", "TCP Based Daytime Service")
var rfc867_udp = spec.Section("echo", "rfc867", "udp", "UDP Based Daytime Service")

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

	rfc867_tcp.It("current-date", spec.SHOULD, "sends a string that holds the current year, where it can be read", spec.Inferred(`"the current date and time is sent": at least the current year.`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("daytime/tcp")
		got, err := c.ReadUntilClose(1024)
		t.Check(err)
		checkCurrentYear(t, got)
	})

	rfc867_udp.It("answers-datagram", spec.MUST, "answers any datagram with one ASCII date datagram", spec.Inferred(`When a datagram is received, an answering datagram is sent containing the current date and time as a ASCII character string (the data in the received datagram is ignored).`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("daytime/udp")
		got := exchangeDatagram(t, p, []byte{0xde, 0xad, 0xbe, 0xef})
		if len(bytes.TrimSpace(got)) == 0 {
			t.Mismatch("a date and time", "%s", spec.Excerpt(got, 100))
		}
		t.Check(checkASCII("the daytime datagram", got))
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})

	rfc867_udp.It("current-date", spec.SHOULD, "answers with a string that holds the current year, where it can be read", spec.Inferred(`the current date and time`, "RFC 867 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("daytime/udp")
		checkCurrentYear(t, exchangeDatagram(t, p, []byte("when?")))
	})
})

// checkCurrentYear judges whether a daytime string holds the current
// date. RFC 867 fixes no syntax ("There is no specific syntax for the
// daytime"), so the spec reads only what it can: the current year in UTC or
// any time zone (a day either side), with four digits or as a two-digit
// token. A string with a four-digit year that is not the current one
// fails; a string with no year the spec can read is skipped, not judged.
func checkCurrentYear(t *spec.T, b []byte) {
	switch err := yearOf(b, time.Now().UTC()); {
	case err == nil:
	case errors.Is(err, errNoYear):
		t.Skipf("not judged: RFC 867 fixes no syntax, and %s holds no year this spec can read", spec.Excerpt(b, 200))
	default:
		t.Check(err)
	}
}

// errNoYear is yearOf's answer for a string without a readable year.
var errNoYear = errors.New("no year")

// yearOf returns nil when b holds the year of now (a day either side), an
// error naming the year it holds otherwise, or errNoYear.
func yearOf(b []byte, now time.Time) error {
	var years []int
	for _, d := range []time.Duration{0, -14 * time.Hour, 14 * time.Hour} {
		years = append(years, now.Add(d).Year())
	}
	tokens := strings.FieldsFunc(string(b), func(r rune) bool { return r < '0' || r > '9' })
	var other string
	for _, tok := range tokens {
		n, err := strconv.Atoi(tok)
		if err != nil {
			continue
		}
		for _, y := range years {
			if len(tok) == 4 && n == y || len(tok) == 2 && n == y%100 {
				return nil
			}
		}
		if len(tok) == 4 && n >= 1900 && n <= 2999 && other == "" {
			other = tok
		}
	}
	if other != "" {
		return spec.Errorf(fmt.Sprintf("the current year %d in the daytime string", now.Year()), "%s holds the year %s", spec.Excerpt(b, 200), other)
	}
	return errNoYear
}
