package smtp

import (
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc1870_3   = spec.Section(proto, "rfc1870", "3", "Framework for the Size Declaration Extension")
	rfc1870_4   = spec.Section(proto, "rfc1870", "4", "The Message Size Declaration service extension")
	rfc1870_6   = spec.Section(proto, "rfc1870", "6", "The extended MAIL command")
	rfc1870_6_1 = spec.Section(proto, "rfc1870", "6.1", "Server action on receipt of the extended MAIL command")
	rfc1870_6_3 = spec.Section(proto, "rfc1870", "6.3", "Messages larger than the declared size.")
	rfc1870_7   = spec.Section(proto, "rfc1870", "7", "Minimal usage")
)

// old says why an RFC 1870 sentence carries a level without an RFC 2119
// keyword.
const old1870 = "RFC 1870 predates RFC 2119"

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
	rfc1870_6.It("size-not-end-of-content", spec.MUST, "reads the text to <CRLF>.<CRLF> whatever SIZE declared",
		spec.Quote(`NOTE: Servers MUST NOT use the SIZE parameter to determine end of content in the DATA command.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			sizeLimit(t, s)
			l := newLetter("longer than declared\r\n")
			s.mail("SIZE=20")
			s.rcpt(rcptBob)
			r := s.data(l.raw)
			expectCode(t, r, "the one reply to the end of data (250, or 552 for the size)", 250, 552)
			s.quiet("after the reply to the end of data")
			s.alive("after the message")
			if r.code == 250 {
				expectDelivered(t, dir, boxBob, l)
			}
		})

	rfc1870_6_3.It("no-552-within-declared", spec.SHOULD, "does not refuse with 552 a message no larger than it declared and the limit",
		spec.Inferred(`Once a server has agreed (via the extended MAIL command) to accept a message of a particular size, it should not return a 552 reply code after the transfer phase of the DATA command, unless the actual size of the message transferred is greater than the declared message size.`, old1870), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			sizeLimit(t, s)
			l := newLetter("exactly as declared\r\n")
			s.mail("SIZE=" + strconv.Itoa(len(l.raw)))
			s.rcpt(rcptBob)
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc1870_3.It("size-announced", spec.FIXTURE, "announces SIZE with its limit in EHLO",
		spec.Fixture(`A target with the feature smtp/size announces SIZE in EHLO with its fixed maximum message size, a decimal number of octets, and refuses a message over it with 552.`), func(t *spec.T) {
			s := hello(t)
			if n := sizeLimit(t, s); n == 0 {
				t.Mismatch("SIZE with a limit", "%s", s.ehloReply)
			}
		})

	rfc1870_7.It("size-param-accepted", spec.MUST, "takes MAIL with SIZE under the limit and delivers the message",
		spec.Inferred(`Such a server must accept the extended MAIL command and return a 552 reply code if the client's declared size exceeds its fixed size limit (if any), but it need not detect "temporary" limitations on message size.`, old1870), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			sizeLimit(t, s)
			l := newLetter("declared\r\n")
			s.mail("SIZE=" + strconv.Itoa(len(l.raw)))
			s.rcpt(rcptBob)
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc1870_6_1.It("size-param-over-limit-552", spec.MUST, "refuses MAIL whose SIZE is over the limit with 552",
		spec.Inferred(`If the indicated size is larger than the server's fixed maximum message size, the server responds with code "552 message size exceeds fixed maximium message size".`, old1870), func(t *spec.T) {
			s := hello(t)
			n := sizeLimit(t, s)
			if n == 0 {
				t.Skipf("not applicable: SIZE announced without a limit")
			}
			expectCode(t, s.cmd("MAIL FROM:<"+sender+"> SIZE="+strconv.FormatInt(n+1, 10)), "the reply to MAIL with SIZE over the limit", 552)
			s.mail()
		})

	rfc1870_3.It("size-param-syntax", spec.MUST, "refuses SIZE without a number (501, or 555)",
		spec.Inferred(`size-value ::= 1*20DIGIT`, "the grammar of the parameter's value"), func(t *spec.T) {
			s := hello(t)
			sizeLimit(t, s)
			expectCode(t, s.cmd("MAIL FROM:<"+sender+"> SIZE=lots"), "the reply to MAIL with SIZE=lots", 501, 555)
			s.mail()
		})

	rfc1870_4.It("message-over-limit-552", spec.MUST, "refuses a message larger than the limit with 552 and delivers nothing",
		spec.Inferred(`Any attempt by a client to transfer a message which is larger than this limit will be rejected with a permanent failure (552) reply code.`, old1870), func(t *spec.T) {
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
