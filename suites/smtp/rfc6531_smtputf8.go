package smtp

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc6531_3_2 = spec.Section(proto, "rfc6531", "3.2", "The SMTPUTF8 Extension")

var _ = Describe("RFC 6531 SMTPUTF8", func() {
	rfc6531_3_2.It("smtputf8-announced", spec.MAY, "announces SMTPUTF8 in EHLO",
		spec.Fixture(`A target MAY announce SMTPUTF8 in EHLO (the extension of RFC 6531 3.2 is optional); one that does takes the SMTPUTF8 parameter of MAIL.`), func(t *spec.T) {
			s := hello(t)
			if !s.has("SMTPUTF8") {
				t.Skipf("not supported: EHLO does not announce SMTPUTF8")
			}
		})

	rfc6531_3_2.It("utf8-sender-delivered", spec.FIXTURE, "takes a UTF-8 reverse-path with MAIL ... SMTPUTF8 and delivers the message",
		spec.Fixture(`A target with the feature smtp/smtputf8 takes MAIL FROM:<UTF-8 address> SMTPUTF8 and delivers the message to an ASCII recipient.`), func(t *spec.T) {
			t.Require(featureSMTPUTF8)
			dir := maildir(t)
			s := hello(t)
			s.need("SMTPUTF8")
			s.must("MAIL FROM:<j\xc3\xb6rg@b\xc3\xbccher.protospec.test> SMTPUTF8", 250)
			s.rcpt(rcptBob)
			l := newLetter("from a UTF-8 address\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc6531_3_2.It("utf8-needs-parameter", spec.FIXTURE, "refuses a UTF-8 reverse-path without the SMTPUTF8 parameter",
		spec.Fixture(`A target with the feature smtp/smtputf8 refuses a UTF-8 reverse-path given without the SMTPUTF8 parameter of MAIL (553, or 501, 550, 555), as RFC 5321 4.1.2 forbids non-ASCII in mailboxes.`), func(t *spec.T) {
			t.Require(featureSMTPUTF8)
			s := hello(t)
			s.need("SMTPUTF8")
			expectCode(t, s.cmd("MAIL FROM:<j\xc3\xb6rg@protospec.test>"), "the reply to MAIL with a UTF-8 address and no SMTPUTF8", 553, 501, 550, 555, 500)
			s.mail()
		})

	rfc6531_3_2.It("smtputf8-no-value", spec.FIXTURE, "refuses SMTPUTF8 with a value",
		spec.Fixture(`A target with the feature smtp/smtputf8 refuses the parameter SMTPUTF8=yes, since SMTPUTF8 takes no value (501 or 555).`), func(t *spec.T) {
			t.Require(featureSMTPUTF8)
			s := hello(t)
			s.need("SMTPUTF8")
			expectCode(t, s.cmd("MAIL FROM:<"+sender+"> SMTPUTF8=yes"), "the reply to MAIL with SMTPUTF8=yes", 501, 555, 504)
			s.mail()
		})
})
