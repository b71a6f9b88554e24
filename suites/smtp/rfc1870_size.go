package smtp

import (
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc1870_4 = spec.Section(proto, "rfc1870", "4", "The SIZE service extension")
	rfc1870_6 = spec.Section(proto, "rfc1870", "6", "The extended MAIL command")
)

// sizeLimit is the SIZE the session's EHLO announced (0: none given), or
// a skip when SIZE is not announced.
func sizeLimit(t *spec.T, s *session) int64 {
	t.Require(featureSize)
	s.need("SIZE")
	v := strings.TrimSpace(s.ext["SIZE"])
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		t.Mismatch("SIZE with a decimal number of octets", "%q", v)
	}
	return n
}

var _ = Describe("RFC 1870 SIZE", func() {
	rfc1870_4.It("size-announced", spec.FIXTURE, "announces SIZE with its limit in EHLO",
		spec.Fixture(`A target with the feature smtp/size announces SIZE in EHLO with its fixed maximum message size, a decimal number of octets, and refuses a message over it with 552.`), func(t *spec.T) {
			s := hello(t)
			if n := sizeLimit(t, s); n == 0 {
				t.Mismatch("SIZE with a limit", "%s", s.ehloReply)
			}
		})

	rfc1870_6.It("size-param-accepted", spec.FIXTURE, "takes MAIL with SIZE under the limit and delivers the message",
		spec.Fixture(`A target with the feature smtp/size takes the SIZE parameter of MAIL (RFC 1870 6) for a message within its limit.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			sizeLimit(t, s)
			l := newLetter("declared\r\n")
			s.mail("SIZE=" + strconv.Itoa(len(l.raw)))
			s.rcpt(rcptBob)
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc1870_6.It("size-param-over-limit-552", spec.MUST, "refuses MAIL whose SIZE is over the limit with 552",
		spec.Inferred(`552 message size exceeds fixed maximium message size`, "RFC 1870 predates RFC 2119; the reply it gives a declared size over the limit"), func(t *spec.T) {
			s := hello(t)
			n := sizeLimit(t, s)
			if n == 0 {
				t.Skipf("not applicable: SIZE announced without a limit")
			}
			expectCode(t, s.cmd("MAIL FROM:<"+sender+"> SIZE="+strconv.FormatInt(n+1, 10)), "the reply to MAIL with SIZE over the limit", 552)
			s.mail()
		})

	rfc1870_6.It("size-param-syntax", spec.FIXTURE, "refuses SIZE without a number with 501",
		spec.Fixture(`A target with the feature smtp/size refuses a SIZE parameter whose value is not a decimal number as a syntax error (501, or 555).`), func(t *spec.T) {
			s := hello(t)
			sizeLimit(t, s)
			expectCode(t, s.cmd("MAIL FROM:<"+sender+"> SIZE=lots"), "the reply to MAIL with SIZE=lots", 501, 555)
			s.mail()
		})

	rfc1870_6.It("message-over-limit-552", spec.FIXTURE, "refuses a message larger than the limit with 552 and delivers nothing",
		spec.Fixture(`A target with the feature smtp/size refuses a message whose text is over its announced SIZE with 552 at the end of data, or closes the session, and delivers none of it.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			n := sizeLimit(t, s)
			if n == 0 || n > 16<<20 {
				t.Skipf("not applicable: the SIZE limit (%d) is none or over 16 MiB", n)
			}
			s.mail()
			s.rcpt(rcptBob)
			var body strings.Builder
			line := pad(998) + "\r\n"
			for int64(body.Len()) <= n {
				body.WriteString(line)
			}
			l := newLetter(body.String())
			s.must("DATA", 354)
			if err := s.c.TrySend(stuff(l.raw)); err != nil {
				t.Refused(service)
				expectNotDelivered(t, dir, boxBob, l, "over the SIZE limit")
				return
			}
			r, err := readReply(s.c)
			if err != nil {
				t.Refused(service)
			} else {
				expectCode(t, r, "the reply to the end of data of a message over SIZE", 552, 554, 451, 452)
			}
			expectNotDelivered(t, dir, boxBob, l, "over the SIZE limit")
		})
})
