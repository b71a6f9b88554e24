package smtp

import (
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc5321_3_1   = spec.Section(proto, "rfc5321", "3.1", "Session Initiation")
	rfc5321_3_2   = spec.Section(proto, "rfc5321", "3.2", "Client Initiation")
	rfc5321_3_3   = spec.Section(proto, "rfc5321", "3.3", "Mail Transactions")
	rfc5321_3_5_2 = spec.Section(proto, "rfc5321", "3.5.2", "VRFY Normal Response")
	rfc5321_3_5_3 = spec.Section(proto, "rfc5321", "3.5.3", "Meaning of VRFY or EXPN Success Response")
	rfc5321_3_6_2 = spec.Section(proto, "rfc5321", "3.6.2", "Mail eXchange Records and Relaying")
	rfc5321_3_8   = spec.Section(proto, "rfc5321", "3.8", "Terminating Sessions and Connections")
)

// mailboxRE is a <local-part@domain> construction in a reply's text.
var mailboxRE = regexp.MustCompile(`<[^<>@\s]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+>`)

var _ = Describe("RFC 5321 3 the SMTP procedures", func() {
	rfc5321_3_1.It("greeting", spec.MUST, "greets a new connection with 220 (or refuses the session with 554)",
		spec.Inferred(`An SMTP session is initiated when a client opens a connection to a server and the server responds with an opening message.`, "a statement of what the server does; 4.3.2 lists 220 and 554"), func(t *spec.T) {
			s := dial(t)
			s.ehlo()
		})

	rfc5321_3_1.It("greeting-software", spec.MAY, "names its software in the greeting",
		spec.Quote(`SMTP server implementations MAY include identification of their software and version information in the connection greeting reply after the 220 code, a practice that permits more efficient isolation and repair of any problems.`), func(t *spec.T) {
			s := dial(t)
			if len(strings.Fields(s.greet.text())) < 2 {
				t.Skipf("not supported: the greeting names no software after the host name: %s", s.greet)
			}
			t.Note("greeting: %s", s.greet)
		})

	rfc5321_3_2.It("helo-not-extended", spec.MUST, "does not list EHLO keywords in the reply to HELO",
		spec.Quote(`Servers MUST NOT return the extended EHLO-style response to a HELO command.`), func(t *spec.T) {
			e := hello(t)
			s := dial(t)
			r := s.must("HELO "+clientName, 250)
			for _, l := range r.texts()[1:] {
				kw, _, _ := strings.Cut(l, " ")
				if e.has(strings.ToUpper(kw)) {
					t.Mismatch("a HELO reply without the extension keywords of EHLO", "%s", r)
				}
			}
		})

	rfc5321_3_3.It("mail-accepted", spec.MUST, "answers MAIL FROM with 250 and then takes RCPT",
		spec.Inferred(`If accepted, the SMTP server returns a "250 OK" reply.`, "a statement of the reply; the transaction then goes on"), func(t *spec.T) {
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			s.must("RSET", 250)
		})

	rfc5321_3_3.It("mail-bad-address-4yz-5yz", spec.MUST, "answers an unacceptable reverse-path with a 4yz or 5yz reply",
		spec.Quote(`If the mailbox specification is not acceptable for some reason, the server MUST return a reply indicating whether the failure is permanent (i.e., will occur again if the client tries to send the same address again) or temporary (i.e., the address might be accepted if the client tries again later).`), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("MAIL FROM:<no spaces allowed@protospec.test>")
			expectCode(t, r, "the reply to a reverse-path with a space in its local part", 4, 5)
			s.mail()
		})

	rfc5321_3_3.It("rcpt-unknown-refused", spec.SHOULD, "refuses RCPT for a user the domain does not have, and goes on with the transaction",
		spec.Inferred(`If the recipient is known not to be a deliverable address, the SMTP server returns a 550 reply, typically with a string such as "no such user - " and the mailbox name (other circumstances and reply codes are possible).`, "a statement; other codes are possible, so any 4yz or 5yz refusal passes"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			r := s.cmd("RCPT TO:<" + unknownUser + ">")
			expectCode(t, r, "the reply to RCPT for an unknown user", 4, 5)
			s.rcpt(rcptBob)
			l := newLetter("after an unknown recipient\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_3_5_2.It("vrfy-mailbox-form", spec.MUST, "names the mailbox as <local-part@domain> in a 250, 251 or 551 to VRFY",
		spec.Quote(`When normal (2yz or 551) responses are returned from a VRFY or EXPN request, the reply MUST include the <Mailbox> name using a "<local-part@domain>" construction, where "domain" is a fully-qualified domain name.`), func(t *spec.T) {
			t.Require(featureVRFY)
			s := hello(t)
			r := s.must("VRFY "+rcptBob, 250, 251, 551)
			if !mailboxRE.MatchString(strings.Join(r.texts(), "\n")) {
				t.Mismatch("a <local-part@domain> in the reply", "%s", r)
			}
		})

	rfc5321_3_5_2.It("expn-listed-if-supported", spec.MUST, "lists EXPN in EHLO if it answers EXPN with 250",
		spec.Quote(`Since they were both optional in RFC 821, but VRFY was made mandatory in RFC 1123 [3], if EXPN is supported, it MUST be listed as a service extension in an EHLO response.`), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("EXPN postmaster")
			if r.code == 250 && !s.has("EXPN") {
				t.Mismatch("EXPN among the EHLO keywords of a server that expands", "%s, EHLO %s", r, s.ehloReply)
			}
			expectCode(t, r, "the reply to EXPN (RFC 5321 4.3.2)", 250, 252, 550, 500, 502, 504)
		})

	rfc5321_3_5_3.It("vrfy-unknown-not-250", spec.MUST, "does not answer VRFY of a user the domain does not have with 250",
		spec.Quote(`A server MUST NOT return a 250 code in response to a VRFY or EXPN command unless it has actually verified the address.`), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("VRFY " + unknownUser)
			if r.code == 250 {
				t.Mismatch("no 250 for an address that does not exist", "%s", r)
			}
			expectCode(t, r, "the reply to VRFY (RFC 5321 4.3.2)", 251, 252, 550, 551, 553, 502, 504, 500, 501)
		})

	rfc5321_3_5_3.It("vrfy-syntax-only-not-250", spec.MUST, "does not answer VRFY of an address of a domain it does not serve with 250",
		spec.Quote(`In particular, a server MUST NOT return 250 if all it has done is to verify that the syntax given is valid.`), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("VRFY " + foreignRcpt)
			if r.code == 250 {
				t.Mismatch("no 250 for an address in a domain that cannot be verified (.invalid)", "%s", r)
			}
			expectCode(t, r, "the reply to VRFY (RFC 5321 4.3.2)", 251, 252, 550, 551, 553, 502, 504, 500, 501)
		})

	rfc5321_3_6_2.It("relay-refused-550", spec.SHOULD, "refuses RCPT for a domain it does not serve with 550",
		spec.Quote(`If it declines to relay mail to a particular address for policy reasons, a 550 response SHOULD be returned.`), func(t *spec.T) {
			s := hello(t)
			s.mail()
			r := s.cmd("RCPT TO:<" + foreignRcpt + ">")
			expectCode(t, r, "the reply to RCPT for a domain the server does not serve", 550)
			s.rcpt(rcptBob)
		})

	rfc5321_3_8.It("unknown-command-no-close", spec.MUST, "answers an unknown command and keeps the session",
		spec.Inferred(`In particular, a server that closes connections in response to commands that are not understood is in violation of this specification.`, "a statement of what violates the specification"), func(t *spec.T) {
			s := hello(t)
			r := s.cmd("XYZZY plugh")
			expectCode(t, r, "the reply to an unknown command", 500, 502)
			s.alive("after the unknown command")
		})
})
