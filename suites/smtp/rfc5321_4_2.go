package smtp

import (
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc5321_4_2   = spec.Section(proto, "rfc5321", "4.2", "SMTP Replies")
	rfc5321_4_2_1 = spec.Section(proto, "rfc5321", "4.2.1", "Reply Code Severities and Theory")
	rfc5321_4_2_4 = spec.Section(proto, "rfc5321", "4.2.4", "Reply Code 502")
	rfc5321_4_2_5 = spec.Section(proto, "rfc5321", "4.2.5", "Reply Codes after DATA and the Subsequent <CRLF>.<CRLF>")
	rfc5321_4_3_1 = spec.Section(proto, "rfc5321", "4.3.1", "Sequencing Overview")
	rfc5321_4_3_2 = spec.Section(proto, "rfc5321", "4.3.2", "Command-Reply Sequences")
)

// replyLineRE is a reply line: a Reply-code (RFC 5321 4.2) then a space,
// a hyphen or the end of the line.
var replyLineRE = regexp.MustCompile(`^[2-5][0-5][0-9]([ -]|$)`)

// battery is a session's replies to the commands every server knows, in
// both good and bad forms.
func battery(t *spec.T) []reply {
	s := dial(t)
	out := []reply{s.greet, s.ehlo()}
	for _, c := range []string{"NOOP", "HELP", "VRFY " + rcptBob, "XPROTOSPEC", "MAIL FROM:<" + sender + ">", "RCPT TO:<" + unknownUser + ">",
		"RCPT TO:<" + rcptBob + ">", "MAIL FROM:<" + sender + ">", "RSET", "DATA", "RSET now", "QUIT"} {
		out = append(out, s.cmd(c))
	}
	return out
}

// tableSeq is 4.3.1's sentence on the table of 4.3.2, which each command's
// spec checks.
const tableSeq = `A receiver MAY substitute text in the replies, but the meanings and actions implied by the code numbers and by the specific command reply sequence MUST be preserved.`

// anyCommand are the codes 4.3.2 allows any command.
var anyCommand = []int{500, 501, 421}

var _ = Describe("RFC 5321 4.2 and 4.3 replies", func() {
	rfc5321_4_2.It("one-reply-per-command", spec.MUST, "answers each command with exactly one reply",
		spec.Quote(`Every command MUST generate exactly one reply.`), func(t *spec.T) {
			s := dial(t)
			s.ehlo()
			s.quiet("after EHLO")
			for _, c := range []string{"NOOP", "HELP", "RSET", "VRFY " + rcptBob, "XPROTOSPEC"} {
				s.cmd(c)
				s.quiet("after the reply to " + c)
			}
		})

	rfc5321_4_2.It("codes-first-digit", spec.MUST, "sends only reply codes whose first digit is 2, 3, 4 or 5",
		spec.Quote(`In the absence of extensions negotiated with the client, SMTP servers MUST NOT send reply codes whose first digits are other than 2, 3, 4, or 5.`), func(t *spec.T) {
			for _, r := range battery(t) {
				if r.code < 200 || r.code > 599 {
					t.Mismatch("a 2yz, 3yz, 4yz or 5yz reply", "%s", r)
				}
			}
		})

	rfc5321_4_2.It("space-after-code", spec.SHOULD, "sends the space after the code of a reply's last line",
		spec.Quote(`As noted above, servers SHOULD send the <SP> if subsequent text is not sent, but clients MUST be prepared for it to be omitted.`).In("4.2.1"), func(t *spec.T) {
			for _, r := range battery(t) {
				if last := r.lines[len(r.lines)-1]; len(last) < 4 || last[3] != ' ' {
					t.Mismatch("\"ddd \" at the start of the last line", "%q in %s", last, r)
				}
			}
		})

	rfc5321_4_2.It("reply-line-512", spec.SHOULD, "keeps every reply line within 512 octets with its CR LF",
		spec.Inferred(`The maximum total length of a reply line including the reply code and the <CRLF> is 512 octets.`, "the limit of 4.5.3.1.5, which a client need not receive beyond").In("4.5.3.1.5"), func(t *spec.T) {
			for _, r := range battery(t) {
				for _, l := range r.lines {
					if len(l)+2 > 512 {
						t.Mismatch("reply lines of at most 512 octets", "%d octets: %s", len(l)+2, spec.Excerpt([]byte(l), 100))
					}
				}
			}
		})

	rfc5321_4_2_1.It("multiline-same-code", spec.MUST, "uses one code on every line of a multi-line reply",
		spec.Quote(`In a multiline reply, the reply code on each of the lines MUST be the same.`), func(t *spec.T) {
			for _, r := range battery(t) {
				for _, l := range r.lines {
					if len(l) < 3 || l[:3] != r.lines[0][:3] {
						t.Mismatch("the code "+r.lines[0][:3]+" on every line", "%q in %s", l, r)
					}
				}
			}
		})

	rfc5321_4_2_1.It("multiline-hyphens", spec.MUST, "puts a hyphen after the code on every line of a multi-line reply but the last",
		spec.Inferred(`The format for multiline replies requires that every line, except the last, begin with the reply code, followed immediately by a hyphen, "-" (also known as minus), followed by text.`, "the reply format"), func(t *spec.T) {
			for _, r := range battery(t) {
				for i, l := range r.lines[:len(r.lines)-1] {
					if len(l) < 4 || l[3] != '-' {
						t.Mismatch("\"ddd-\" on line "+itoa(i+1)+" of a multi-line reply", "%q in %s", l, r)
					}
				}
			}
		})

	rfc5321_4_2_4.It("unknown-command-500", spec.SHOULD, "answers a command it does not recognise with 500",
		spec.Quote(`If the command is not recognized, code 500 SHOULD be returned.`), func(t *spec.T) {
			s := hello(t)
			s.must("FROBNICATE", 500)
		})

	rfc5321_4_2_4.It("no-listed-502", spec.MUST, "does not answer a command it lists in EHLO with 502 or 500",
		spec.Quote(`Extended SMTP systems MUST NOT list capabilities in response to EHLO for which they will return 502 (or 500) replies.`), func(t *spec.T) {
			s := hello(t)
			tries := map[string]string{"VRFY": "VRFY " + rcptBob, "EXPN": "EXPN postmaster", "HELP": "HELP", "ETRN": "ETRN " + clientName}
			for kw, line := range tries {
				if !s.has(kw) {
					continue
				}
				if r := s.cmd(line); r.code == 500 || r.code == 502 {
					t.Mismatch(kw+" implemented, since EHLO lists it", "%s", r)
				}
			}
		})

	rfc5321_4_2_5.It("refused-not-delivered", spec.MUST, "does not deliver a message refused with 5yz at the end of data",
		spec.Quote(`When an SMTP server returns a permanent error status (5yz) code after the DATA command is completed with <CRLF>.<CRLF>, it MUST NOT make any subsequent attempt to deliver the message.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			l := newLetter("looping\r\n").withHeader(strings.Repeat("Received: from loop.protospec.test by loop.protospec.test; Thu, 1 Jan 2026 00:00:00 +0000\r\n", 300))
			r := s.data(l.raw)
			if r.class() != 5 {
				t.Skipf("not applicable: the server took the message with 300 Received fields (%s)", r)
			}
			expectNotDelivered(t, dir, boxBob, l, "refused with "+r.String())
		})

	rfc5321_4_3_1.It("greeting-names-host", spec.MUST, "names a domain or an address literal first in the greeting",
		spec.Inferred(`Note: all the greeting-type replies have the official name (the fully-qualified primary domain name) of the server host as the first word following the reply code.`, "a statement of the greeting's form (the Greeting grammar of 4.2)"), func(t *spec.T) {
			s := dial(t)
			first := strings.Fields(s.greet.text())
			if len(first) == 0 || !(domainRE.MatchString(first[0]) || strings.HasPrefix(first[0], "[") && strings.HasSuffix(first[0], "]")) {
				t.Mismatch("a domain or address literal after 220", "%s", s.greet)
			}
		})

	rfc5321_4_3_2.It("three-digit-codes", spec.MUST, "sends codes of three digits starting with 2 to 5",
		spec.Quote(`Unless extended using the mechanisms described in Section 2.2, SMTP servers MUST NOT transmit reply codes to an SMTP client that are other than three digits or that do not start in a digit between 2 and 5 inclusive.`), func(t *spec.T) {
			for _, r := range battery(t) {
				for _, l := range r.lines {
					if !replyLineRE.MatchString(l) {
						t.Mismatch("a Reply-code (three digits, 2-5 first, 0-5 second) on every line", "%q in %s", l, r)
					}
				}
			}
		})

	rfc5321_4_3_2.It("data-arg-501", spec.SHOULD, "answers DATA with an argument with 501",
		spec.Quote(`In order to provide for future extensions, commands that are specified in this document as not accepting arguments (DATA, RSET, QUIT) SHOULD return a 501 message if arguments are supplied in the absence of EHLO-advertised extensions.`), func(t *spec.T) {
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.must("DATA now", 501)
			s.must("RSET", 250)
		})

	rfc5321_4_3_2.It("rset-arg-501", spec.SHOULD, "answers RSET with an argument with 501",
		spec.Quote(`In order to provide for future extensions, commands that are specified in this document as not accepting arguments (DATA, RSET, QUIT) SHOULD return a 501 message if arguments are supplied in the absence of EHLO-advertised extensions.`).SharedBecause("RSET's case"), func(t *spec.T) {
			s := hello(t)
			s.must("RSET everything", 501)
			s.alive("after the refused RSET")
		})

	rfc5321_4_3_2.It("quit-arg-501", spec.SHOULD, "answers QUIT with an argument with 501 and keeps the session",
		spec.Quote(`In order to provide for future extensions, commands that are specified in this document as not accepting arguments (DATA, RSET, QUIT) SHOULD return a 501 message if arguments are supplied in the absence of EHLO-advertised extensions.`).SharedBecause("QUIT's case"), func(t *spec.T) {
			s := hello(t)
			s.must("QUIT now", 501)
			s.alive("after the refused QUIT")
		})

	seq := func(slug, title string, body func(t *spec.T)) {
		rfc5321_4_3_2.It(slug, spec.MUST, title, spec.Quote(tableSeq).In("4.3.1").SharedBecause("one spec per command of the table of 4.3.2"), body)
	}
	seq("ehlo-codes", "answers EHLO with a code of the table (250; 504, 550, 502)", func(t *spec.T) {
		s := dial(t)
		expectCode(t, s.cmd("EHLO "+clientName), "the reply to EHLO", append([]int{250, 504, 550, 502}, anyCommand...)...)
	})
	seq("mail-codes", "answers MAIL with a code of the table (250; 552, 451, 452, 550, 553, 503, 455, 555)", func(t *spec.T) {
		s := hello(t)
		for _, c := range []string{"MAIL FROM:<" + sender + ">", "MAIL FROM:<" + sender + ">", "RSET", "MAIL FROM:<" + sender + "> XPROTOSPEC"} {
			r := s.cmd(c)
			if c == "RSET" {
				continue
			}
			expectCode(t, r, "the reply to "+c, append([]int{250, 552, 451, 452, 550, 553, 503, 455, 555}, anyCommand...)...)
		}
	})
	seq("rcpt-codes", "answers RCPT with a code of the table (250, 251; 550, 551, 552, 553, 450, 451, 452, 503, 455, 555)", func(t *spec.T) {
		s := hello(t)
		codes := append([]int{250, 251, 550, 551, 552, 553, 450, 451, 452, 503, 455, 555}, anyCommand...)
		expectCode(t, s.cmd("RCPT TO:<"+rcptBob+">"), "the reply to RCPT without MAIL", codes...)
		s.mail()
		for _, to := range []string{rcptBob, unknownUser, foreignRcpt} {
			expectCode(t, s.cmd("RCPT TO:<"+to+">"), "the reply to RCPT TO:<"+to+">", codes...)
		}
	})
	seq("data-codes", "answers DATA with a code of the table (354, then 250; 503, 554)", func(t *spec.T) {
		s := hello(t)
		expectCode(t, s.cmd("DATA"), "the reply to DATA without a transaction", append([]int{503, 554}, anyCommand...)...)
		s.mail()
		s.rcpt(rcptBob)
		expectCode(t, s.cmd("DATA"), "the reply to DATA", 354)
		s.c.Send(stuff(newLetter("table\r\n").raw))
		expectCode(t, s.read(), "the reply to the end of data", append([]int{250, 552, 554, 451, 452, 450, 550}, anyCommand...)...)
	})
	seq("rset-codes", "answers RSET with 250", func(t *spec.T) {
		s := hello(t)
		s.mail()
		expectCode(t, s.cmd("RSET"), "the reply to RSET", 250)
	})
	seq("vrfy-codes", "answers VRFY with a code of the table (250, 251, 252; 550, 551, 553, 502, 504)", func(t *spec.T) {
		s := hello(t)
		for _, a := range []string{rcptBob, unknownUser, "bob"} {
			expectCode(t, s.cmd("VRFY "+a), "the reply to VRFY "+a, append([]int{250, 251, 252, 550, 551, 553, 502, 504}, anyCommand...)...)
		}
	})
	seq("expn-codes", "answers EXPN with a code of the table (250, 252; 550, 500, 502, 504)", func(t *spec.T) {
		s := hello(t)
		expectCode(t, s.cmd("EXPN postmaster"), "the reply to EXPN", append([]int{250, 252, 550, 500, 502, 504}, anyCommand...)...)
	})
	seq("help-codes", "answers HELP with a code of the table (211, 214; 502, 504)", func(t *spec.T) {
		s := hello(t)
		expectCode(t, s.cmd("HELP"), "the reply to HELP", append([]int{211, 214, 502, 504}, anyCommand...)...)
	})
	seq("noop-codes", "answers NOOP with 250", func(t *spec.T) {
		s := dial(t)
		expectCode(t, s.cmd("NOOP"), "the reply to NOOP", 250)
	})
	seq("quit-codes", "answers QUIT with 221", func(t *spec.T) {
		s := hello(t)
		s.quit()
	})
})

// domainRE is a Domain of RFC 5321 4.1.2 (letters, digits, hyphens).
var domainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

func itoa(n int) string { return strconv.Itoa(n) }
