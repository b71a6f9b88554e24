package smtp

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc3461_4 = spec.Section(proto, "rfc3461", "4", "Additional parameters for RCPT and MAIL commands")

// dsnSession is a session whose EHLO announced DSN.
func dsnSession(t *spec.T) *session {
	t.Require(featureDSN)
	s := hello(t)
	s.need("DSN")
	return s
}

var _ = Describe("RFC 3461 DSN", func() {
	rfc3461_4.It("dsn-params-delivered", spec.FIXTURE, "takes RET, ENVID, NOTIFY and ORCPT and delivers the message",
		spec.Fixture(`A target with the feature smtp/dsn announces DSN and takes MAIL with RET=HDRS and ENVID, and RCPT with NOTIFY=SUCCESS,FAILURE and ORCPT=rfc822;bob@bob.test, delivering the message.`), func(t *spec.T) {
			dir := maildir(t)
			s := dsnSession(t)
			s.mail("RET=HDRS", "ENVID=protospec+2Denvid")
			s.must("RCPT TO:<"+rcptBob+"> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;"+rcptBob, 250, 251)
			l := newLetter("with DSN parameters\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc3461_4.It("notify-never-exclusive", spec.FIXTURE, "refuses NOTIFY=NEVER combined with another value",
		spec.Fixture(`A target with the feature smtp/dsn refuses NOTIFY=NEVER,SUCCESS (501 or 555): NEVER excludes the other values (RFC 3461 4.1).`), func(t *spec.T) {
			s := dsnSession(t)
			s.mail()
			expectCode(t, s.cmd("RCPT TO:<"+rcptBob+"> NOTIFY=NEVER,SUCCESS"), "the reply to NOTIFY=NEVER,SUCCESS", 501, 555)
			s.rcpt(rcptBob)
		})

	rfc3461_4.It("ret-bad-value", spec.FIXTURE, "refuses RET with a value other than FULL and HDRS",
		spec.Fixture(`A target with the feature smtp/dsn refuses RET=XPROTOSPEC on MAIL (501 or 555) and opens no transaction.`), func(t *spec.T) {
			s := dsnSession(t)
			expectCode(t, s.cmd("MAIL FROM:<"+sender+"> RET=XPROTOSPEC"), "the reply to RET=XPROTOSPEC", 501, 555)
			s.mail()
		})
})
