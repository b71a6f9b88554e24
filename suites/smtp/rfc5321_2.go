package smtp

import (
	"bytes"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc5321_2_2_1 = spec.Section(proto, "rfc5321", "2.2.1", "Background")
	rfc5321_2_2_2 = spec.Section(proto, "rfc5321", "2.2.2", "Definition and Registration of Extensions")
	rfc5321_2_3_5 = spec.Section(proto, "rfc5321", "2.3.5", "Domain Names")
	rfc5321_2_3_8 = spec.Section(proto, "rfc5321", "2.3.8", "Lines")
	rfc5321_2_4   = spec.Section(proto, "rfc5321", "2.4", "General Syntax Principles and Transaction Model")
)

// registered are the EHLO keywords of the IANA registry of SMTP service
// extensions (and of the registered AUTH= predecessor some servers list).
var registered = map[string]bool{
	"SEND": true, "SOML": true, "SAML": true, "VRFY": true, "EXPN": true, "HELP": true, "TURN": true,
	"8BITMIME": true, "SIZE": true, "VERB": true, "ONEX": true, "CHUNKING": true, "BINARYMIME": true,
	"CHECKPOINT": true, "DELIVERBY": true, "PIPELINING": true, "DSN": true, "ETRN": true,
	"ENHANCEDSTATUSCODES": true, "STARTTLS": true, "NO-SOLICITING": true, "MTRK": true, "ATRN": true,
	"AUTH": true, "BURL": true, "FUTURERELEASE": true, "CONPERM": true, "CONNEG": true, "SMTPUTF8": true,
	"MT-PRIORITY": true, "RRVS": true, "REQUIRETLS": true, "LIMITS": true, "UTF8SMTP": true,
	"SUBMITTER": true,
}

var ehloKeywordRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)

var _ = Describe("RFC 5321 2 the extension model, lines and syntax", func() {
	rfc5321_2_2_1.It("ehlo-supported", spec.MUST, "answers EHLO with 250",
		spec.Quote("For instance, servers MUST support the EHLO command even if they do not implement any specific extensions and clients SHOULD preferentially utilize EHLO rather than HELO."), func(t *spec.T) {
			s := dial(t)
			s.ehlo()
			s.alive("after EHLO")
		})

	rfc5321_2_2_1.It("helo-supported", spec.MUST, "answers HELO with 250 and takes a mail transaction after it",
		spec.Quote("(However, for compatibility with older conforming implementations, SMTP clients and servers MUST support the original HELO mechanisms as a fallback.)"), func(t *spec.T) {
			dir := maildir(t)
			s := dial(t)
			s.must("HELO "+clientName, 250)
			l := newLetter("sent after HELO\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_2_2_2.It("ehlo-keywords-registered", spec.MUST, "announces in EHLO only registered keywords or X- private ones",
		spec.Quote(`A conforming server MUST NOT offer non-"X"-prefixed keyword values that are not described in a registered extension.`), func(t *spec.T) {
			s := hello(t)
			for kw := range s.ext {
				if !registered[kw] && !strings.HasPrefix(kw, "X") {
					t.Mismatch("EHLO keywords of the IANA registry, or starting with X", "%q in %s", kw, s.ehloReply)
				}
			}
		})

	rfc5321_2_3_5.It("postmaster-unqualified", spec.MUST, "accepts RCPT TO:<Postmaster> without a domain and delivers to postmaster",
		spec.Quote(`The reserved mailbox name "postmaster" may be used in a RCPT command without domain qualification (see Section 4.1.1.3) and MUST be accepted if so used.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("to the bare postmaster\r\n")
			s.mail()
			s.rcpt("Postmaster")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxPostmaster, l)
		})

	rfc5321_2_3_8.It("bare-lf-command", spec.MUST, "does not take a command ended by a bare LF as a command line",
		spec.Quote(`Conforming implementations MUST NOT recognize or generate any other character or character sequence as a line terminator.`), func(t *spec.T) {
			s := hello(t)
			s.c.Send("RSET\n")
			got, closed, err := s.c.ReadFor(s.c.Scaled(quietTime), 0)
			t.Check(err)
			if closed {
				t.Mismatch("the session kept open after a bare LF (RFC 5321 4.1.1.10)", "closed")
			}
			reps, err := parseReplies(got)
			t.Check(err)
			for _, r := range reps {
				if r.class() == 2 {
					t.Mismatch("no 2yz to \"RSET\" ended by a bare LF (a refusal, or waiting for CR LF)", "%s", r)
				}
			}
			// Whatever the server made of the bare LF, a CR LF now ends a
			// line; then the session goes on.
			r := s.cmd("")
			if len(reps) == 0 && r.class() == 2 {
				t.Mismatch("no 2yz to the line \"RSET<LF>\" ended at last by CR LF", "%s", r)
			}
			s.alive("after the bare LF")
		})

	rfc5321_2_3_8.It("replies-end-crlf", spec.MUST, "ends every reply line with CR LF",
		spec.Quote(`Conforming implementations MUST NOT recognize or generate any other character or character sequence as a line terminator.`).SharedBecause("the server's side: what it generates"), func(t *spec.T) {
			s := dial(t)
			rs := []reply{s.greet, s.ehlo(), s.cmd("NOOP"), s.cmd("HELP"), s.cmd("XPROTOSPEC"), s.cmd("RSET")}
			for _, r := range rs {
				if r.bareLF {
					t.Mismatch("reply lines ended by CR LF", "%s", r)
				}
			}
		})

	rfc5321_2_4.It("verbs-case-insensitive", spec.MUST, "takes commands in lower case and delivers the message",
		spec.Inferred(`Verbs and argument values (e.g., "TO:" or "to:" in the RCPT command and extension name keywords) are not case sensitive, with the sole exception in this specification of a mailbox local-part (SMTP Extensions may explicitly specify case-sensitive elements).`, "a statement of the syntax; the server's side is to take either case"), func(t *spec.T) {
			dir := maildir(t)
			s := dial(t)
			s.must("ehlo "+clientName, 250)
			s.must("mail from:<"+sender+">", 250)
			s.must("rcpt to:<"+rcptBob+">", 250, 251)
			l := newLetter("lower case commands\r\n")
			s.must("data", 354)
			s.c.Send(stuff(l.raw))
			expectCode(t, s.read(), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_2_4.It("verbs-mixed-case", spec.MUST, "takes commands in mixed case and delivers the message",
		spec.Inferred(`That is, a command verb, an argument value other than a mailbox local-part, and free form text MAY be encoded in upper case, lower case, or any mixture of upper and lower case with no impact on its meaning.`, "the MAY is the client's; the server's side is to take any mixture"), func(t *spec.T) {
			dir := maildir(t)
			s := dial(t)
			s.must("EhLo "+clientName, 250)
			s.must("MaIl FrOm:<"+sender+">", 250)
			s.must("RcPt To:<"+rcptBob+">", 250, 251)
			l := newLetter("mixed case commands\r\n")
			s.must("DaTa", 354)
			s.c.Send(stuff(l.raw))
			expectCode(t, s.read(), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_2_4.It("domain-case-insensitive", spec.MUST, "delivers to bob@BOB.TEST as to bob@bob.test",
		spec.Inferred(`Mailbox domains follow normal DNS rules and are hence not case sensitive.`, "a statement; the server's side is to treat the domain without regard to case"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("upper case domain\r\n")
			s.deliver(l, "bob@BOB.TEST")
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_2_4.It("no-action-before-crlf", spec.MUST, "takes no action on a command until its CR LF arrives",
		spec.Inferred(`The receiver will take no action until this sequence is received.`, "a statement of what the receiver does"), func(t *spec.T) {
			s := hello(t)
			s.c.Send("NOOP")
			got, closed, err := s.c.ReadFor(s.c.Scaled(quietTime), 0)
			t.Check(err)
			if len(got) > 0 || closed {
				t.Mismatch("no reply before the CR LF of \"NOOP\"", "%s (closed %v)", spec.Excerpt(got, 100), closed)
			}
			s.c.Send("\r\n")
			expectCode(t, s.read(), "the reply to NOOP once its CR LF came", 250)
		})

	rfc5321_2_4.It("non-ascii-command-refused", spec.SHOULD, "refuses a command with octets above 127 (no SMTPUTF8 in play) with 500",
		spec.Quote(`Receiving systems SHOULD reject such commands, normally using "500 syntax error - invalid character" replies.`), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("VRFY b\xc3\xb6b@bob.test")
			expectCode(t, r, "the reply to VRFY with UTF-8 octets", 500, 501, 553)
			s.alive("after the refusal")
		})

	rfc5321_2_4.It("8bitmime-announced", spec.SHOULD, "announces 8BITMIME in EHLO",
		spec.Quote(`8BITMIME SHOULD be supported by SMTP servers.`), func(t *spec.T) {
			s := hello(t)
			if !s.has("8BITMIME") {
				t.Mismatch("8BITMIME among the EHLO keywords", "%s", s.ehloReply)
			}
		})
})

// hasLine reports whether b holds line (LF-normalised) as a whole line.
func hasLine(b []byte, line string) bool {
	return bytes.Contains(append([]byte("\n"), lf(b)...), []byte("\n"+line+"\n"))
}
