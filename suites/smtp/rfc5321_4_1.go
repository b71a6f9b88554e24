package smtp

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc5321_4_1_1    = spec.Section(proto, "rfc5321", "4.1.1", "Command Semantics and Syntax")
	rfc5321_4_1_1_1  = spec.Section(proto, "rfc5321", "4.1.1.1", "Extended HELLO (EHLO) or HELLO (HELO)")
	rfc5321_4_1_1_2  = spec.Section(proto, "rfc5321", "4.1.1.2", "MAIL (MAIL)")
	rfc5321_4_1_1_3  = spec.Section(proto, "rfc5321", "4.1.1.3", "RECIPIENT (RCPT)")
	rfc5321_4_1_1_4  = spec.Section(proto, "rfc5321", "4.1.1.4", "DATA (DATA)")
	rfc5321_4_1_1_5  = spec.Section(proto, "rfc5321", "4.1.1.5", "RESET (RSET)")
	rfc5321_4_1_1_6  = spec.Section(proto, "rfc5321", "4.1.1.6", "VERIFY (VRFY)")
	rfc5321_4_1_1_7  = spec.Section(proto, "rfc5321", "4.1.1.7", "EXPAND (EXPN)")
	rfc5321_4_1_1_8  = spec.Section(proto, "rfc5321", "4.1.1.8", "HELP (HELP)")
	rfc5321_4_1_1_9  = spec.Section(proto, "rfc5321", "4.1.1.9", "NOOP (NOOP)")
	rfc5321_4_1_1_10 = spec.Section(proto, "rfc5321", "4.1.1.10", "QUIT (QUIT)")
	rfc5321_4_1_1_11 = spec.Section(proto, "rfc5321", "4.1.1.11", "Mail-Parameter and Rcpt-Parameter Error Responses")
	rfc5321_4_1_2    = spec.Section(proto, "rfc5321", "4.1.2", "Command Argument Syntax")
	rfc5321_4_1_4    = spec.Section(proto, "rfc5321", "4.1.4", "Order of Commands")
	rfc5321_4_1_5    = spec.Section(proto, "rfc5321", "4.1.5", "Private-Use Commands")
)

// noEffect is 4.1.1.7-9's sentence, which VRFY (4.1.1.6, without "and
// it may be issued at any time"), EXPN, HELP and NOOP share.
const noEffect = `This command has no effect on the reverse-path buffer, the forward-path buffer, or the mail data buffer, and it may be issued at any time.`

// keepsTransaction opens a transaction to bob, sends line in the middle
// of it (any reply), then completes it: bob gets the message, and only
// the one recipient given.
func keepsTransaction(t *spec.T, line string, codes ...int) {
	dir := maildir(t)
	s := hello(t)
	s.mail()
	s.rcpt(rcptBob)
	r := s.cmd(line)
	expectCode(t, r, "the reply to "+line+" inside a transaction", codes...)
	l := newLetter("transaction kept across " + strings.Fields(line)[0] + "\r\n")
	expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
	expectDelivered(t, dir, boxBob, l)
	expectNotDelivered(t, dir, boxAlice, l, "alice was no recipient")
}

var _ = Describe("RFC 5321 4.1 SMTP commands", func() {
	rfc5321_4_1_1.It("trailing-space-tolerated", spec.SHOULD, "takes RSET followed by a space before CR LF",
		spec.Quote(`(In the interest of improved interoperability, SMTP receivers SHOULD tolerate trailing white space before the terminating <CRLF>.)`), func(t *spec.T) {
			s := hello(t)
			s.must("RSET ", 250)
		})

	rfc5321_4_1_1.It("rset-parameter-refused", spec.SHOULD, "refuses RSET with a parameter as a syntax error",
		spec.Quote(`In the absence of specific extensions offered by the server and accepted by the client, clients MUST NOT send such parameters and servers SHOULD reject commands containing them as having invalid syntax.`), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("RSET now")
			expectCode(t, r, "the reply to RSET with a parameter", 500, 501, 504)
			s.alive("after the refusal")
		})

	rfc5321_4_1_1_1.It("ehlo-clears-transaction", spec.MUST, "has no transaction after a 250 to a second EHLO (DATA gets 503)",
		spec.Inferred(`These commands, and a "250 OK" reply to one of them, confirm that both the SMTP client and the SMTP server are in the initial state, that is, there is no transaction in progress and all state tables and buffers are cleared.`, "a statement of the state after the 250"), func(t *spec.T) {
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.ehlo()
			expectCode(t, s.cmd("DATA"), "the reply to DATA after EHLO cleared the transaction", 503)
		})

	rfc5321_4_1_1_1.It("ehlo-multiline-form", spec.MUST, "answers EHLO with 250- lines ended by one 250 line, each an EHLO keyword",
		spec.Inferred(`Following the normal syntax for multiline replies, these keywords follow the code (250) and a hyphen for all but the last line, and the code and a space for the last line.`, "the ehlo-ok-rsp grammar"), func(t *spec.T) {
			s := dial(t)
			r := s.ehlo()
			for i, l := range r.lines {
				last := i == len(r.lines)-1
				if len(l) < 3 || (!last && (len(l) < 4 || l[3] != '-')) || (last && len(l) > 3 && l[3] != ' ') {
					t.Mismatch("250- on every line but the last, 250 SP on the last", "line %d %q in %s", i+1, l, r)
				}
				if i > 0 {
					kw, _, _ := strings.Cut(l[min(4, len(l)):], " ")
					if !ehloKeywordRE.MatchString(kw) {
						t.Mismatch("an ehlo-keyword (letters, digits, hyphens) on each line after the first", "%q", l)
					}
				}
			}
			s.quiet("after the EHLO reply")
			s.alive("after EHLO")
		})

	rfc5321_4_1_1_1.It("ehlo-address-literal", spec.MUST, "takes EHLO with an IPv4 address literal",
		spec.Inferred(`ehlo           = "EHLO" SP ( Domain / address-literal ) CRLF`, "the command's grammar"), func(t *spec.T) {
			s := dial(t)
			s.must("EHLO [127.0.0.1]", 250)
			s.mail()
		})

	rfc5321_4_1_1_1.It("helo-reply-properly", spec.MUST, "answers HELO with a single 250 reply",
		spec.Quote(`Older client SMTP systems MAY, as discussed above, use HELO (as specified in RFC 821) instead of EHLO, and servers MUST support the HELO command and reply properly to it.`), func(t *spec.T) {
			s := dial(t)
			s.must("HELO "+clientName, 250)
			s.quiet("after the HELO reply")
			s.mail()
		})

	rfc5321_4_1_1_2.It("mail-clears-forward-paths", spec.MUST, "starts each transaction with no recipients: a second message goes to its own recipients only",
		spec.Inferred(`This command clears the reverse-path buffer, the forward-path buffer, and the mail data buffer, and it inserts the reverse-path information from its argument clause into the reverse-path buffer.`, "a statement of what MAIL does"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			first := newLetter("first, to alice\r\n")
			s.deliver(first, rcptAlice)
			second := newLetter("second, to bob\r\n")
			s.deliver(second, rcptBob)
			expectDelivered(t, dir, boxAlice, first)
			expectDelivered(t, dir, boxBob, second)
			expectNotDelivered(t, dir, boxAlice, second, "alice was a recipient of the first transaction only")
		})

	rfc5321_4_1_1_2.It("mail-null-reverse-path", spec.MUST, "takes MAIL FROM:<> and delivers the message",
		spec.Inferred(`In some types of reporting messages for which a reply is likely to cause a mail loop (for example, mail delivery and non-delivery notifications), the reverse-path may be null (see Section 3.6).`, "notifications must get through: the server's side is to accept the null reverse-path"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.must("MAIL FROM:<>", 250)
			s.rcpt(rcptBob)
			l := newLetter("a notification\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_1_3.It("rcpt-appends", spec.MUST, "delivers to every recipient of the transaction",
		spec.Inferred(`This command appends its forward-path argument to the forward-path buffer; it does not change the reverse-path buffer nor the mail data buffer.`, "a statement of what RCPT does"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("to two recipients\r\n")
			s.deliver(l, rcptBob, rcptAlice)
			expectDelivered(t, dir, boxBob, l)
			expectDelivered(t, dir, boxAlice, l)
		})

	rfc5321_4_1_1_3.It("source-route-recognized", spec.MUST, "recognises a source route in RCPT: delivers to the final mailbox or refuses it as policy, never as a syntax error",
		spec.Quote(`Receiving systems MUST recognize source route syntax but SHOULD strip off the source route specification and utilize the domain name associated with the mailbox as if the source route had not been provided.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			r := s.cmd("RCPT TO:<@" + clientName + ":" + rcptBob + ">")
			if r.code == 500 || r.code == 501 {
				t.Mismatch("the source route recognised (250, or a policy refusal), not a syntax error", "%s", r)
			}
			if r.class() != 2 {
				expectCode(t, r, "the reply to RCPT with a source route", 550, 551, 553, 554, 4)
				return
			}
			l := newLetter("through a source route\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_1_3.It("postmaster-case-insensitive", spec.MUST, "delivers RCPT TO:<PoStMaStEr@bob.test> to postmaster",
		spec.Inferred(`Note that, in a departure from the usual rules for local-parts, the "Postmaster" string shown above is treated as case-insensitive.`, "a statement; 4.5.1 makes postmaster a MUST"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("to postmaster in mixed case\r\n")
			s.deliver(l, "PoStMaStEr@"+strings.TrimPrefix(postmasterBob, "postmaster@"))
			expectDelivered(t, dir, boxPostmaster, l)
		})

	rfc5321_4_1_1_4.It("data-354", spec.MUST, "answers DATA in a transaction with 354, then takes the text",
		spec.Inferred(`The receiver normally sends a 354 response to DATA, and then treats the lines (strings ending in <CRLF> sequences, as described in Section 2.3.7) following the command as mail data from the sender.`, "a statement of the reply; 4.3.2 lists 354 as DATA's intermediate reply"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("after 354\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_1_4.It("end-of-data-only-dot-line", spec.MUST, "ends the text only at a line holding a single period: \" .\", \". \" and \"x.\" lines are text",
		spec.Inferred(`The mail data are terminated by a line containing only a period, that is, the character sequence "<CRLF>.<CRLF>", where the first <CRLF> is actually the terminator of the previous line (see Section 4.5.2).`, "a statement of the end of data"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter(" .\r\n. \r\nx.\r\n.x.\r\nend\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_1_4.It("no-extra-crlf", spec.MUST, "stores the text without an empty line added at its end",
		spec.Quote(`An extra <CRLF> MUST NOT be added, as that would cause an empty line to be added to the message.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("the last line\r\n")
			s.deliver(l, rcptBob)
			got := expectDelivered(t, dir, boxBob, l)
			_ = got
		})

	rfc5321_4_1_1_4.It("bare-lf-dot-not-end", spec.MUST, "does not end the text at <LF>.<LF>",
		spec.Quote(`In particular, the sequence "<LF>.<LF>" (bare line feeds, without carriage returns) MUST NOT be treated as equivalent to <CRLF>.<CRLF> as the end of mail data indication.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.must("DATA", 354)
			l := newLetter("before\n.\nafter\r\n")
			// The text as is: stuff() would not see the bare-LF line.
			s.c.Send(append(append([]byte{}, l.raw...), ".\r\n"...))
			r := s.read()
			expectCode(t, r, "the one reply to the end of data (the text refused for its bare LFs, or taken)", 250, 451, 500, 550, 554)
			// Had <LF>.<LF> ended the text, "after" was a command and
			// ".<CRLF>" another: their replies would come now.
			s.quiet("after the reply to the end of data")
			s.alive("after the message")
			if r.code == 250 {
				got := waitDelivered(t, dir, boxBob, l, deliveryWait)
				if got == nil || !strings.Contains(string(got), "after") {
					t.Mismatch("the whole text delivered, \"after\" included", "%s", spec.Excerpt(got, 300))
				}
			}
		})

	rfc5321_4_1_1_4.It("bare-lf-lines-not-taken", spec.MUST, "does not turn a bare LF in the text into a line end",
		spec.Quote(`The custom of accepting lines ending only in <LF>, as a concession to non-conforming behavior on the part of some UNIX systems, has proven to cause more interoperability problems than it solves, and SMTP server systems MUST NOT do this, even in the name of improved robustness.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.must("DATA", 354)
			l := newLetter("one\ntwo\r\n")
			s.c.Send(append(append([]byte{}, l.raw...), ".\r\n"...))
			r := s.read()
			expectCode(t, r, "the reply to the end of data", 250, 451, 500, 550, 554)
			s.alive("after the message")
			if r.code == 250 {
				if got := waitDelivered(t, dir, boxBob, l, deliveryWait); got != nil && strings.Contains(string(got), "one\r\ntwo") {
					t.Mismatch("the bare LF kept as it came (or the message refused)", "stored as a CR LF line end: %s", spec.Excerpt(got, 300))
				}
			}
		})

	rfc5321_4_1_1_4.It("ok-reply-and-delivered", spec.MUST, "answers the end of data with 250 and has the message in the mailbox then",
		spec.Quote(`If the processing is successful, the receiver MUST send an OK reply.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("processed\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_1_4.It("trace-record-at-top", spec.MUST, "puts a Received field at the top of a delivered message",
		spec.Inferred(`When the SMTP server accepts a message either for relaying or for final delivery, it inserts a trace record (also referred to interchangeably as a "time stamp line" or "Received" line) at the top of the mail data.`, "a statement; 4.4 makes it a MUST"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("traced\r\n")
			s.deliver(l, rcptBob)
			if front := expectDelivered(t, dir, boxBob, l); len(received(front)) == 0 {
				t.Mismatch("a Received field in front of the message", "%q", front)
			}
		})

	rfc5321_4_1_1_5.It("rset-250", spec.MUST, "answers RSET with 250 and has no transaction after it (RCPT gets 503)",
		spec.Quote(`The receiver MUST send a "250 OK" reply to a RSET command with no arguments.`), func(t *spec.T) {
			s := hello(t)
			s.mail()
			s.must("RSET", 250)
			expectCode(t, s.cmd("RCPT TO:<"+rcptBob+">"), "the reply to RCPT after RSET", 503)
		})

	rfc5321_4_1_1_5.It("rset-discards", spec.MUST, "discards the recipients given before RSET",
		spec.Quote(`Any stored sender, recipients, and mail data MUST be discarded, and all buffers and state tables cleared.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptAlice)
			s.must("RSET", 250)
			l := newLetter("after RSET, to bob only\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
			expectNotDelivered(t, dir, boxAlice, l, "alice's RCPT came before RSET")
		})

	rfc5321_4_1_1_5.It("rset-any-time", spec.MUST, "answers RSET before EHLO with 250",
		spec.Inferred(`A reset command may be issued by the client at any time.`, "a statement of the client's freedom; the server answers 250"), func(t *spec.T) {
			s := dial(t)
			s.must("RSET", 250)
			s.ehlo()
		})

	rfc5321_4_1_1_5.It("rset-no-close", spec.MUST, "keeps the session after RSET",
		spec.Quote(`An SMTP server MUST NOT close the connection as the result of receiving a RSET; that action is reserved for QUIT (see Section 4.1.1.10).`), func(t *spec.T) {
			s := hello(t)
			s.must("RSET", 250)
			s.must("RSET", 250)
			s.alive("after two RSETs")
		})

	rfc5321_4_1_1_6.It("vrfy-no-effect", spec.MUST, "keeps the transaction across VRFY",
		spec.Inferred(`This command has no effect on the reverse-path buffer, the forward-path buffer, or the mail data buffer.`, "a statement of what VRFY does not do"), func(t *spec.T) {
			keepsTransaction(t, "VRFY "+rcptAlice, 250, 251, 252, 550, 551, 553, 502, 504)
		})

	rfc5321_4_1_1_7.It("expn-no-effect", spec.MUST, "keeps the transaction across EXPN",
		spec.Inferred(noEffect, "a statement of what EXPN does not do"), func(t *spec.T) {
			keepsTransaction(t, "EXPN postmaster", 250, 252, 550, 500, 502, 504)
		})

	rfc5321_4_1_1_8.It("help-no-effect", spec.MUST, "keeps the transaction across HELP",
		spec.Inferred(noEffect, "a statement of what HELP does not do").SharedBecause("4.1.1.7, 4.1.1.8 and 4.1.1.9 say it of EXPN, HELP and NOOP"), func(t *spec.T) {
			keepsTransaction(t, "HELP", 211, 214, 502, 504)
		})

	rfc5321_4_1_1_8.It("help-without-argument", spec.SHOULD, "answers HELP with 211 or 214",
		spec.Quote(`SMTP servers SHOULD support HELP without arguments and MAY support it with arguments.`), func(t *spec.T) {
			s := hello(t)
			s.must("HELP", 211, 214)
		})

	rfc5321_4_1_1_8.It("help-with-argument", spec.MAY, "answers HELP with a command name with 211 or 214",
		spec.Quote(`SMTP servers SHOULD support HELP without arguments and MAY support it with arguments.`).SharedBecause("the MAY half: HELP with an argument"), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("HELP MAIL")
			if r.code != 211 && r.code != 214 {
				expectCode(t, r, "the reply to HELP MAIL", 502, 504, 500, 501)
				t.Skipf("not supported: HELP MAIL answered %s", r)
			}
		})

	rfc5321_4_1_1_9.It("noop-250", spec.MUST, "answers NOOP with 250",
		spec.Inferred(`It specifies no action other than that the receiver send a "250 OK" reply.`, "a statement of the reply"), func(t *spec.T) {
			s := hello(t)
			s.must("NOOP", 250)
			s.quiet("after the NOOP reply")
		})

	rfc5321_4_1_1_9.It("noop-parameter-ignored", spec.SHOULD, "answers NOOP with a parameter with 250",
		spec.Quote(`If a parameter string is specified, servers SHOULD ignore it.`), func(t *spec.T) {
			s := hello(t)
			s.must("NOOP ignore this", 250)
		})

	rfc5321_4_1_1_9.It("noop-no-effect", spec.MUST, "keeps the transaction across NOOP",
		spec.Inferred(noEffect, "a statement of what NOOP does not do").SharedBecause("4.1.1.7, 4.1.1.8 and 4.1.1.9 say it of EXPN, HELP and NOOP"), func(t *spec.T) {
			keepsTransaction(t, "NOOP", 250)
		})

	rfc5321_4_1_1_10.It("quit-221-close", spec.MUST, "answers QUIT with 221 and closes the connection",
		spec.Quote(`This command specifies that the receiver MUST send a "221 OK" reply, and then close the transmission channel.`), func(t *spec.T) {
			s := hello(t)
			s.quit()
		})

	rfc5321_4_1_1_10.It("no-close-before-quit", spec.MUST, "keeps the session open after refused commands",
		spec.Quote(`The receiver MUST NOT intentionally close the transmission channel until it receives and replies to a QUIT command (even if there was an error).`), func(t *spec.T) {
			s := hello(t)
			expectCode(t, s.cmd("RCPT TO:<"+rcptBob+">"), "RCPT without MAIL", 503)
			expectCode(t, s.cmd("MAIL FROM:"), "MAIL without a path", 501)
			expectCode(t, s.cmd("XPROTOSPEC"), "an unknown command", 500, 502)
			s.alive("after three errors")
			s.quit()
		})

	rfc5321_4_1_1_10.It("close-cancels-transaction", spec.MUST, "delivers nothing of a transaction whose connection closed in the text",
		spec.Quote(`If the connection is closed prematurely due to violations of the above or system or network failure, the server MUST cancel any pending transaction, but not undo any previously completed transaction, and generally MUST act as if the command or transaction in progress had received a temporary error (i.e., a 4yz response).`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.must("DATA", 354)
			l := newLetter("cut off\r\n")
			s.c.Send(l.raw)
			s.c.Close()
			expectNotDelivered(t, dir, boxBob, l, "the connection closed before the end of data")
			servesAnother(t)
		})

	rfc5321_4_1_1_10.It("close-keeps-completed", spec.MUST, "keeps a completed transaction when the connection closes without QUIT",
		spec.Quote(`If the connection is closed prematurely due to violations of the above or system or network failure, the server MUST cancel any pending transaction, but not undo any previously completed transaction, and generally MUST act as if the command or transaction in progress had received a temporary error (i.e., a 4yz response).`).SharedBecause("the other half: a completed transaction stays"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("completed, then the connection closed\r\n")
			s.deliver(l, rcptBob)
			s.mail()
			s.c.Close()
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_1_10.It("quit-aborts-transaction", spec.MUST, "answers QUIT inside a transaction with 221 and delivers nothing of it",
		spec.Inferred(`Any current uncompleted mail transaction will be aborted.`, "a statement of what QUIT does"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.quit()
			_ = dir
			servesAnother(t)
		})

	rfc5321_4_1_1_11.It("mail-parameter-unknown-555", spec.MUST, "refuses an unknown MAIL parameter with 555 (or 501, 504)",
		spec.Inferred(`If the server SMTP does not recognize or cannot implement one or more of the parameters associated with a particular MAIL FROM or RCPT TO command, it will return code 555.`, "a statement of the reply; 4.3.2 lists 555 for MAIL and RCPT"), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("MAIL FROM:<" + sender + "> XPROTOSPEC=1")
			expectCode(t, r, "the reply to MAIL with an unknown parameter", 555, 501, 504)
			s.mail()
		})

	rfc5321_4_1_1_11.It("rcpt-parameter-unknown-555", spec.MUST, "refuses an unknown RCPT parameter with 555 (or 501, 504)",
		spec.Inferred(`If the server SMTP does not recognize or cannot implement one or more of the parameters associated with a particular MAIL FROM or RCPT TO command, it will return code 555.`, "a statement of the reply").SharedBecause("the RCPT half"), func(t *spec.T) {
			s := hello(t)
			s.mail()
			r := s.cmd("RCPT TO:<" + rcptBob + "> XPROTOSPEC=1")
			expectCode(t, r, "the reply to RCPT with an unknown parameter", 555, 501, 504)
			s.rcpt(rcptBob)
		})

	rfc5321_4_1_2.It("source-route-accepted-mail", spec.MUST, "takes a source route in MAIL's reverse-path",
		spec.Inferred(`; Note that this form, the so-called "source route", MUST BE accepted, SHOULD NOT be generated, and SHOULD be ignored.`, "a grammar comment"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.must("MAIL FROM:<@"+clientName+":"+sender+">", 250)
			s.rcpt(rcptBob)
			l := newLetter("from a source route\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_2.It("address-literal-mailbox", spec.MUST, "takes a reverse-path whose domain is an address literal",
		spec.Inferred(`Mailbox        = Local-part "@" ( Domain / address-literal )`, "the grammar of a mailbox"), func(t *spec.T) {
			s := hello(t)
			s.must("MAIL FROM:<sender@[127.0.0.1]>", 250)
			s.rcpt(rcptBob)
		})

	rfc5321_4_1_2.It("invalid-characters-501", spec.MUST, "refuses a domain with an underscore with 501",
		spec.Quote(`SMTP servers that receive a command in which invalid character codes have been employed, and for which there are no other reasons for rejection, MUST reject that command with a 501 response (this rule, like others, could be overridden by appropriate SMTP extensions).`), func(t *spec.T) {
			s := hello(t)
			expectCode(t, s.cmd("MAIL FROM:<sender@bad_domain.protospec.test>"), "the reply to MAIL with an underscore in the domain", 501)
			s.mail()
		})

	rfc5321_4_1_2.It("control-characters-refused", spec.MUST, "refuses a mailbox with a control character",
		spec.Quote(`These characters MUST NOT be used in MAIL or RCPT commands or other commands that require mailbox names.`), func(t *spec.T) {
			s := hello(t)
			s.mail()
			expectCode(t, s.cmd("RCPT TO:<bo\x01b@bob.test>"), "the reply to RCPT with a control character", 500, 501, 553)
			s.rcpt(rcptBob)
		})

	rfc5321_4_1_4.It("mail-needs-ehlo", spec.MUST, "refuses MAIL before EHLO or HELO with 503",
		spec.Quote(`A session that will contain mail transactions MUST first be initialized by the use of the EHLO command.`), func(t *spec.T) {
			s := dial(t)
			expectCode(t, s.cmd("MAIL FROM:<"+sender+">"), "the reply to MAIL before EHLO", 503)
			s.ehlo()
			s.mail()
		})

	rfc5321_4_1_4.It("vrfy-before-ehlo", spec.SHOULD, "answers VRFY before EHLO without 503",
		spec.Quote(`An SMTP server SHOULD accept commands for non-mail transactions (e.g., VRFY or EXPN) without this initialization.`), func(t *spec.T) {
			s := dial(t)
			r := s.cmd("VRFY " + rcptBob)
			if r.code == 503 {
				t.Mismatch("VRFY processed before EHLO", "%s", r)
			}
			expectCode(t, r, "the reply to VRFY", 250, 251, 252, 550, 551, 553, 502, 504)
		})

	rfc5321_4_1_4.It("ehlo-again-resets", spec.MUST, "clears the transaction on a second EHLO: MAIL then gets 250, and only later recipients get the message",
		spec.Quote(`If it is issued after the session begins and the EHLO command is acceptable to the SMTP server, the SMTP server MUST clear all buffers and reset the state exactly as if a RSET command had been issued.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptAlice)
			s.ehlo()
			l := newLetter("after a second EHLO\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
			expectNotDelivered(t, dir, boxAlice, l, "alice's RCPT came before the second EHLO")
		})

	rfc5321_4_1_4.It("ehlo-unacceptable-codes", spec.MUST, "refuses EHLO without a domain with 501, 500, 502 or 550",
		spec.Quote(`If the EHLO command is not acceptable to the SMTP server, 501, 500, 502, or 550 failure replies MUST be returned as appropriate.`), func(t *spec.T) {
			s := dial(t)
			expectCode(t, s.cmd("EHLO"), "the reply to EHLO without a domain", 501, 500, 502, 550)
			s.ehlo()
		})

	rfc5321_4_1_4.It("ehlo-unacceptable-same-state", spec.MUST, "keeps the transaction across a refused EHLO",
		spec.Quote(`The SMTP server MUST stay in the same state after transmitting these replies that it was in before the EHLO was received.`), func(t *spec.T) {
			keepsTransaction(t, "EHLO", 501, 500, 502, 550)
		})

	rfc5321_4_1_4.It("ehlo-mismatch-not-refused", spec.MUST, "delivers the message of a client whose EHLO name is not its address's",
		spec.Quote(`However, if the verification fails, the server MUST NOT refuse to accept a message on that basis.`), func(t *spec.T) {
			dir := maildir(t)
			s := dial(t)
			s.must("EHLO mismatch.example.com", 250)
			l := newLetter("from a misnamed client\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_1_4.It("session-commands-before-ehlo", spec.SHOULD, "answers NOOP, HELP and RSET before EHLO without 503",
		spec.Quote(`SMTP servers SHOULD process these normally (that is, not return a 503 code) even if no EHLO command has yet been received; clients SHOULD open a session with EHLO before sending these commands.`), func(t *spec.T) {
			s := dial(t)
			s.must("NOOP", 250)
			s.must("HELP", 211, 214, 502, 504)
			s.must("RSET", 250)
		})

	rfc5321_4_1_4.It("nested-mail-refused", spec.MUST, "refuses MAIL inside an open transaction with 503",
		spec.Inferred(`MAIL (or SEND, SOML, or SAML) MUST NOT be sent if a mail transaction is already open, i.e., it should be sent only if no mail transaction had been started in the session, or if the previous one successfully concluded with a successful DATA command, or if the previous one was aborted, e.g., with a RSET or new EHLO.`, "the MUST NOT is the client's; the server's side is 503 (4.3.2)"), func(t *spec.T) {
			s := hello(t)
			s.mail()
			expectCode(t, s.cmd("MAIL FROM:<"+sender+">"), "the reply to a second MAIL", 503)
			s.rcpt(rcptBob)
		})

	rfc5321_4_1_4.It("bad-mail-argument-501", spec.MUST, "refuses MAIL with an unparsable argument with 501 and opens no transaction",
		spec.Quote(`If the transaction beginning command argument is not acceptable, a 501 failure reply MUST be returned and the SMTP server MUST stay in the same state.`), func(t *spec.T) {
			s := hello(t)
			expectCode(t, s.cmd("MAIL FROM:<"+sender), "the reply to MAIL with an unterminated path", 501)
			expectCode(t, s.cmd("RCPT TO:<"+rcptBob+">"), "the reply to RCPT (no transaction opened)", 503)
			s.mail()
		})

	rfc5321_4_1_4.It("rcpt-before-mail-503", spec.MUST, "refuses RCPT without MAIL with 503",
		spec.Quote(`If the commands in a transaction are out of order to the degree that they cannot be processed by the server, a 503 failure reply MUST be returned and the SMTP server MUST stay in the same state.`), func(t *spec.T) {
			s := hello(t)
			expectCode(t, s.cmd("RCPT TO:<"+rcptBob+">"), "the reply to RCPT without MAIL", 503)
			s.mail()
			s.rcpt(rcptBob)
		})

	rfc5321_4_1_4.It("data-before-rcpt-503", spec.MUST, "refuses DATA without a recipient with 503 (or 554) and stays in the transaction",
		spec.Quote(`If the commands in a transaction are out of order to the degree that they cannot be processed by the server, a 503 failure reply MUST be returned and the SMTP server MUST stay in the same state.`).SharedBecause("DATA's case"), func(t *spec.T) {
			s := hello(t)
			s.mail()
			expectCode(t, s.cmd("DATA"), "the reply to DATA without RCPT", 503, 554)
			s.rcpt(rcptBob)
		})

	rfc5321_4_1_4.It("data-before-mail-503", spec.MUST, "refuses DATA without a transaction with 503 (or 554)",
		spec.Quote(`If the commands in a transaction are out of order to the degree that they cannot be processed by the server, a 503 failure reply MUST be returned and the SMTP server MUST stay in the same state.`).SharedBecause("DATA without MAIL"), func(t *spec.T) {
			s := hello(t)
			expectCode(t, s.cmd("DATA"), "the reply to DATA without MAIL", 503, 554)
			s.alive("after the refused DATA")
		})

	rfc5321_4_1_4.It("two-transactions", spec.MUST, "takes a second transaction after a completed one",
		spec.Inferred(`There may be zero or more transactions in a session.`, "a statement of the session"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			a, b := newLetter("first\r\n"), newLetter("second\r\n")
			s.deliver(a, rcptBob)
			s.deliver(b, rcptBob)
			expectDelivered(t, dir, boxBob, a)
			expectDelivered(t, dir, boxBob, b)
		})

	rfc5321_4_1_5.It("private-command-500", spec.MUST, "answers an X command it does not know with 500 (or 502)",
		spec.Inferred(`An SMTP server that does not recognize such a command is expected to reply with "500 Command not recognized".`, "a statement of the reply"), func(t *spec.T) {
			s := hello(t)
			expectCode(t, s.cmd("XPROTOSPEC"), "the reply to XPROTOSPEC", 500, 502)
			s.alive("after the X command")
		})
})
