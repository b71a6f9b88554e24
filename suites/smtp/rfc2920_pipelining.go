package smtp

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc2920_1   = spec.Section(proto, "rfc2920", "1", "Introduction")
	rfc2920_3_2 = spec.Section(proto, "rfc2920", "3.2", "Server support of pipelining")
)

// pipelined is a session whose EHLO announced PIPELINING.
func pipelined(t *spec.T) *session {
	t.Require(featurePipelining)
	s := hello(t)
	s.need("PIPELINING")
	return s
}

var _ = Describe("RFC 2920 PIPELINING", func() {
	rfc2920_3_2.It("replies-in-order", spec.MUST, "answers a pipelined MAIL, RCPTs and DATA in order, the refused RCPT in its place",
		spec.Quote(`MUST respond to commands in the order they are received from the client.`), func(t *spec.T) {
			dir := maildir(t)
			s := pipelined(t)
			s.c.Send("MAIL FROM:<" + sender + ">\r\nRCPT TO:<" + rcptBob + ">\r\nRCPT TO:<" + unknownUser + ">\r\nRCPT TO:<" + rcptAlice + ">\r\nDATA\r\n")
			rs := s.readN(5)
			expectCode(t, rs[0], "reply 1, to MAIL", 250)
			expectCode(t, rs[1], "reply 2, to RCPT bob", 250, 251)
			expectCode(t, rs[2], "reply 3, to RCPT of an unknown user", 4, 5)
			expectCode(t, rs[3], "reply 4, to RCPT alice", 250, 251)
			expectCode(t, rs[4], "reply 5, to DATA", 354)
			l := newLetter("pipelined\r\n")
			s.c.Send(stuff(l.raw))
			expectCode(t, s.read(), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
			expectDelivered(t, dir, boxAlice, l)
		})

	rfc2920_3_2.It("input-not-lost", spec.MUST, "answers every command of a pipelined group sent in one segment, with the commands after the end of data",
		spec.Quote(`MUST NOT flush or otherwise lose the contents of the TCP input buffer under any circumstances whatsoever.`), func(t *spec.T) {
			dir := maildir(t)
			s := pipelined(t)
			a, b := newLetter("group one\r\n"), newLetter("group two\r\n")
			s.c.Send("MAIL FROM:<" + sender + ">\r\nRCPT TO:<" + rcptBob + ">\r\nDATA\r\n")
			rs := s.readN(3)
			expectCode(t, rs[2], "the reply to DATA", 354)
			// The text, its end, and a whole second transaction up to
			// DATA in the same segment.
			s.c.Send(append(stuff(a.raw), []byte("MAIL FROM:<"+sender+">\r\nRCPT TO:<"+rcptBob+">\r\nDATA\r\n")...))
			rs = s.readN(4)
			expectCode(t, rs[0], "the reply to the first end of data", 250)
			expectCode(t, rs[1], "the reply to the second MAIL", 250)
			expectCode(t, rs[2], "the reply to the second RCPT", 250, 251)
			expectCode(t, rs[3], "the reply to the second DATA", 354)
			s.c.Send(stuff(b.raw))
			expectCode(t, s.read(), "the reply to the second end of data", 250)
			expectDelivered(t, dir, boxBob, a)
			expectDelivered(t, dir, boxBob, b)
		})

	rfc2920_3_2.It("pending-replies-sent", spec.MUST, "sends the replies of a group once its input is used up, without waiting for more",
		spec.Quote(`MUST send all pending responses immediately whenever the local TCP input buffer is emptied.`), func(t *spec.T) {
			s := pipelined(t)
			s.c.Send("RSET\r\nMAIL FROM:<" + sender + ">\r\nRCPT TO:<" + rcptBob + ">\r\n")
			rs := s.readN(3)
			expectCode(t, rs[0], "the reply to RSET", 250)
			expectCode(t, rs[1], "the reply to MAIL", 250)
			expectCode(t, rs[2], "the reply to RCPT", 250, 251)
			s.quiet("after the group's replies")
		})

	rfc2920_1.It("no-data-without-recipients", spec.SHOULD, "refuses DATA of a group whose RCPTs were all refused",
		spec.Inferred(`Other servers will accept a DATA command even when all previous RCPT TO commands have failed.`, "one of the server failures the introduction names as what breaks pipelining clients"), func(t *spec.T) {
			s := pipelined(t)
			s.c.Send("MAIL FROM:<" + sender + ">\r\nRCPT TO:<" + unknownUser + ">\r\nDATA\r\n")
			rs := s.readN(3)
			expectCode(t, rs[1], "the reply to RCPT of an unknown user", 4, 5)
			expectCode(t, rs[2], "the reply to DATA without a valid recipient", 503, 554, 4, 5)
			s.alive("after the refused DATA")
		})
})
