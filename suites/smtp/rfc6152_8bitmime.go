package smtp

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc6152_3 = spec.Section(proto, "rfc6152", "3", "The 8bit-MIMEtransport Service Extension")

var _ = Describe("RFC 6152 8BITMIME", func() {
	rfc6152_3.It("body-8bitmime-delivered", spec.FIXTURE, "takes MAIL with BODY=8BITMIME and delivers 8-bit text as sent",
		spec.Fixture(`A target with the feature smtp/8bitmime announces 8BITMIME, takes BODY=8BITMIME on MAIL and delivers the octets of the text unchanged.`), func(t *spec.T) {
			t.Require(feature8BitMIME)
			dir := maildir(t)
			s := hello(t)
			s.need("8BITMIME")
			l := newLetter("Gr\xc3\xbc\xc3\x9fe, \xe2\x82\xac and \xff\xfe octets\r\n").withHeader("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
			s.mail("BODY=8BITMIME")
			s.rcpt(rcptBob)
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc6152_3.It("body-7bit-accepted", spec.FIXTURE, "takes MAIL with BODY=7BIT",
		spec.Fixture(`A target with the feature smtp/8bitmime takes BODY=7BIT on MAIL as well (RFC 6152 3: the BODY values are 7BIT and 8BITMIME).`), func(t *spec.T) {
			t.Require(feature8BitMIME)
			s := hello(t)
			s.need("8BITMIME")
			s.mail("BODY=7BIT")
			s.rcpt(rcptBob)
		})

	rfc6152_3.It("body-unknown-refused", spec.FIXTURE, "refuses BODY with a value other than 7BIT and 8BITMIME",
		spec.Fixture(`A target with the feature smtp/8bitmime refuses BODY=XPROTOSPEC on MAIL (501, 504 or 555) and opens no transaction.`), func(t *spec.T) {
			t.Require(feature8BitMIME)
			s := hello(t)
			s.need("8BITMIME")
			expectCode(t, s.cmd("MAIL FROM:<"+sender+"> BODY=XPROTOSPEC"), "the reply to MAIL with BODY=XPROTOSPEC", 501, 504, 555)
			s.mail()
		})
})
