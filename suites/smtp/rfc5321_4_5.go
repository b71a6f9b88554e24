package smtp

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc5321_4_5_1      = spec.Section(proto, "rfc5321", "4.5.1", "Minimum Implementation")
	rfc5321_4_5_2      = spec.Section(proto, "rfc5321", "4.5.2", "Transparency")
	rfc5321_4_5_3_1    = spec.Section(proto, "rfc5321", "4.5.3.1", "Size Limits and Minimums")
	rfc5321_4_5_3_1_7  = spec.Section(proto, "rfc5321", "4.5.3.1.7", "Message Content")
	rfc5321_4_5_3_1_8  = spec.Section(proto, "rfc5321", "4.5.3.1.8", "Recipients Buffer")
	rfc5321_4_5_3_1_10 = spec.Section(proto, "rfc5321", "4.5.3.1.10", "Too Many Recipients Code")
	rfc5321_4_5_3_2_7  = spec.Section(proto, "rfc5321", "4.5.3.2.7", "Server Timeout: 5 Minutes")
	rfc5321_6_1        = spec.Section(proto, "rfc5321", "6.1", "Reliable Delivery and Replies by Email")
	rfc5321_6_3        = spec.Section(proto, "rfc5321", "6.3", "Loop Detection")
	rfc5321_7_1        = spec.Section(proto, "rfc5321", "7.1", "Mail Security and Spoofing")
	rfc5321_7_3        = spec.Section(proto, "rfc5321", "7.3", "VRFY, EXPN, and Security")
)

// minimum is 4.5.1's sentence, one spec per command it lists.
const minimum = `The following commands MUST be supported to conform to this specification:`

// atLeast is 4.5.3.1's sentence, one spec per size of its list.
const atLeast = `Every implementation MUST be able to receive objects of at least these sizes.`

// pad is n octets of letters.
func pad(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteByte("abcdefghijklmnopqrstuvwxyz"[i%26])
	}
	return b.String()
}

// longDomain is a domain of n octets, labels of at most 63.
func longDomain(n int) string {
	var labels []string
	left := n
	for left > 0 {
		l := min(left, 63)
		if left-l == 1 {
			l-- // no label of zero octets after the dot
		}
		labels = append(labels, pad(l))
		left -= l + 1
	}
	return strings.Join(labels, ".")
}

// received fields that make a loop.
func hops(n int) string {
	return strings.Repeat("Received: from hop.protospec.test by hop.protospec.test; Thu, 1 Jan 2026 00:00:00 +0000\r\n", n)
}

var _ = Describe("RFC 5321 4.5 implementation issues, 6 problems, 7 security", func() {
	supported := func(slug, line string) {
		rfc5321_4_5_1.It("minimum-"+slug, spec.MUST, fmt.Sprintf("implements %s (no 500 or 502 to it)", strings.ToUpper(slug)),
			spec.Quote(minimum).SharedBecause("one spec per command of the list"), func(t *spec.T) {
				s := dial(t)
				if slug != "ehlo" && slug != "helo" {
					s.ehlo()
				}
				if slug == "rcpt" || slug == "data" {
					s.mail()
				}
				if slug == "data" {
					s.rcpt(rcptBob)
				}
				r := s.cmd(line)
				if r.code == 500 || r.code == 502 {
					t.Mismatch(strings.ToUpper(slug)+" implemented", "%s", r)
				}
				if slug == "data" && r.code == 354 {
					s.c.Send(".\r\n")
					s.read()
				}
			})
	}
	supported("ehlo", "EHLO "+clientName)
	supported("helo", "HELO "+clientName)
	supported("mail", "MAIL FROM:<"+sender+">")
	supported("rcpt", "RCPT TO:<"+rcptBob+">")
	supported("data", "DATA")
	supported("rset", "RSET")
	supported("noop", "NOOP")
	supported("quit", "QUIT")
	supported("vrfy", "VRFY "+rcptBob)

	rfc5321_4_5_1.It("postmaster-each-domain", spec.MUST, "delivers mail for postmaster of each domain it serves",
		spec.Quote(`The requirement to accept mail for postmaster implies that RCPT commands that specify a mailbox for postmaster at any of the domains for which the SMTP server provides mail service, as well as the special case of "RCPT TO:<Postmaster>" (with no domain specification), MUST be supported.`), func(t *spec.T) {
			dir := maildir(t)
			for _, to := range []string{postmasterBob, "postmaster@" + strings.SplitN(rcptAlice, "@", 2)[1]} {
				s := hello(t)
				l := newLetter("to " + to + "\r\n")
				s.deliver(l, to)
				expectDelivered(t, dir, boxPostmaster, l)
			}
		})

	rfc5321_4_5_1.It("postmaster-case-insensitive-local", spec.MUST, "delivers mail for POSTMASTER@ in upper case",
		spec.Quote(`Any system that includes an SMTP server supporting mail relaying or delivery MUST support the reserved mailbox "postmaster" as a case-insensitive local name.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("to POSTMASTER\r\n")
			s.deliver(l, "POSTMASTER@"+strings.SplitN(rcptAlice, "@", 2)[1])
			expectDelivered(t, dir, boxPostmaster, l)
		})

	rfc5321_4_5_2.It("dot-stuffing-removed", spec.MUST, "removes the period it was sent in front of lines starting with one",
		spec.Inferred(`If the first character is a period and there are other characters on the line, the first character is deleted.`, "a statement of the server's procedure"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter(".x\r\n..\r\n...\r\n. \r\n.\t.\r\nend\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_5_2.It("all-characters-delivered", spec.MUST, "delivers tabs, vertical tabs, form feeds and trailing spaces as sent",
		spec.Inferred(`All characters are to be delivered to the recipient's mailbox, including spaces, vertical and horizontal tabs, and other control characters.`, "a statement of what the server delivers"), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("tab\there\r\nvtab\vhere\r\nff\fhere\r\ntrailing   \r\n\r\n\r\nafter empty lines\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	limit := func(slug, title string, body func(t *spec.T)) {
		rfc5321_4_5_3_1.It(slug, spec.MUST, title, spec.Quote(atLeast).SharedBecause("one spec per size of 4.5.3.1.1 to 4.5.3.1.6"), body)
	}
	limit("local-part-64", "takes a reverse-path with a local part of 64 octets (4.5.3.1.1)", func(t *spec.T) {
		s := hello(t)
		s.must("MAIL FROM:<"+pad(64)+"@protospec.test>", 250)
		s.rcpt(rcptBob)
	})
	limit("domain-255", "takes EHLO with a domain of 255 octets (4.5.3.1.2)", func(t *spec.T) {
		s := dial(t)
		s.must("EHLO "+longDomain(255), 250)
		s.mail()
	})
	limit("path-256", "takes a reverse-path of 256 octets with its brackets (4.5.3.1.3)", func(t *spec.T) {
		s := hello(t)
		path := "<" + pad(64) + "@" + longDomain(256-2-65) + ">"
		if len(path) != 256 {
			t.Failf("spec bug: path of %d octets", len(path))
		}
		s.must("MAIL FROM:"+path, 250)
		s.rcpt(rcptBob)
	})
	limit("command-line-512", "takes a command line of 512 octets with its CR LF (4.5.3.1.4)", func(t *spec.T) {
		s := hello(t)
		s.must("NOOP "+pad(512-7), 250)
		s.alive("after the long NOOP")
	})
	limit("text-line-1000", "delivers a text line of 1000 octets with its CR LF as sent (4.5.3.1.6)", func(t *spec.T) {
		dir := maildir(t)
		s := hello(t)
		l := newLetter(pad(998) + "\r\n." + pad(997) + "\r\n")
		s.deliver(l, rcptBob)
		expectDelivered(t, dir, boxBob, l)
	})

	rfc5321_4_5_3_1_7.It("message-64k", spec.MUST, "delivers a message of 64 KiB as sent",
		spec.Quote(`The maximum total length of a message content (including any message header section as well as the message body) MUST BE at least 64K octets.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			var body strings.Builder
			for body.Len() < 64<<10 {
				body.WriteString(pad(78) + "\r\n")
			}
			l := newLetter(body.String())
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_4_5_3_1_8.It("hundred-recipients", spec.MUST, "takes 100 RCPTs in one transaction and delivers the message",
		spec.Quote(`The minimum total number of recipients that MUST be buffered is 100 recipients.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			// 100 spellings of the fixture's addresses: the domains' case
			// varies, the mailboxes are bob, alice and postmaster.
			for i := 0; i < 100; i++ {
				to := []string{rcptBob, rcptAlice, postmasterBob}[i%3]
				local, domain, _ := strings.Cut(to, "@")
				s.rcpt(local + "@" + caseVariant(domain, i/3))
			}
			l := newLetter("to a hundred recipients\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			for _, box := range []string{boxBob, boxAlice, boxPostmaster} {
				if waitDelivered(t, dir, box, l, deliveryWait) == nil {
					t.Mismatch("the message in "+box, "not delivered")
				}
			}
		}, SpecTimeout(2*time.Minute))

	rfc5321_4_5_3_1_8.It("limit-orderly", spec.MUST, "keeps the recipients it accepted when it refuses more, and delivers to them",
		spec.Quote(`A server that imposes a limit on the number of recipients MUST behave in an orderly fashion, such as rejecting additional addresses over its limit rather than silently discarding addresses previously accepted.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			refused := 0
			for i := 0; i < 300 && refused == 0; i++ {
				if r := s.cmd("RCPT TO:<" + rcptAlice + ">"); r.class() != 2 {
					refused++
					expectCode(t, r, "the reply to a RCPT over the limit", 452, 552, 4, 5)
				}
			}
			l := newLetter("after many recipients\r\n")
			expectCode(t, s.data(l.raw), "the reply to the end of data", 250)
			expectDelivered(t, dir, boxBob, l)
			if refused == 0 {
				t.Note("the server took 301 recipients: no limit met")
			}
		}, SpecTimeout(2*time.Minute))

	rfc5321_4_5_3_1_10.It("too-many-452", spec.MUST, "refuses the RCPTs over its recipient limit with 452 (a site policy may say 5yz)",
		spec.Quote(`If an SMTP server has an implementation limit on the number of RCPT commands and this limit is exhausted, it MUST use a response code of 452 (but the client SHOULD also be prepared for a 552, as noted above).`).SharedBecause("the orderly case: one RCPT at a time"), func(t *spec.T) {
			s := hello(t)
			s.mail()
			for i := 0; i < 1000; i++ {
				r := s.cmd("RCPT TO:<" + rcptBob + ">")
				if r.class() == 2 {
					continue
				}
				if i < 100 {
					t.Mismatch("at least 100 recipients taken before a refusal (4.5.3.1.8)", "RCPT %d: %s", i+1, r)
				}
				expectCode(t, r, "the reply to the RCPT over the limit", 452, 552, 5)
				s.alive("after the refused RCPT")
				return
			}
			t.Skipf("not applicable: the server took 1000 recipients, no limit met")
		}, SpecTimeout(2*time.Minute))

	rfc5321_4_5_3_2_7.It("no-short-command-timeout", spec.SHOULD, "still answers after a few seconds of silence between commands",
		spec.Quote(`An SMTP server SHOULD have a timeout of at least 5 minutes while it is awaiting the next command from the sender.`).SharedBecause("the idle case: silence between commands"), func(t *spec.T) {
			s := hello(t)
			wait(t, 4*time.Second)
			s.alive("after 4 seconds of silence (5 minutes are the minimum; the suite waits less)")
		})

	rfc5321_6_1.It("stored-at-250", spec.MUST, "has the message in the mailbox once it answered 250",
		spec.Quote(`It MUST NOT lose the message for frivolous reasons, such as because the host later crashes or because of a predictable resource shortage.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("kept\r\n")
			s.deliver(l, rcptBob)
			s.quit()
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_6_1.It("prompt-250", spec.MUST, "answers the end of data within the step timeout",
		spec.Quote(`To avoid receiving duplicate messages as the result of timeouts, a receiver-SMTP MUST seek to minimize the time required to respond to the final <CRLF>.<CRLF> end of data indicator.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("prompt\r\n")
			start := time.Now()
			s.deliver(l, rcptBob)
			if d := time.Since(start); d > t.StepTimeout() {
				t.Mismatch("the transaction done within "+t.StepTimeout().String(), "%v", d)
			}
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_6_3.It("loop-stopped", spec.MUST, "refuses a message with 300 Received fields",
		spec.Quote(`Whatever mechanisms are used, servers MUST contain provisions for detecting and stopping trivial loops.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			s.mail()
			s.rcpt(rcptBob)
			l := newLetter("looping\r\n").withHeader(hops(300))
			r := s.data(l.raw)
			expectCode(t, r, "the reply to the end of data of a looping message", 554, 550, 5, 4)
			expectNotDelivered(t, dir, boxBob, l, "a loop")
			s.alive("after the refused message")
		})

	rfc5321_6_3.It("loop-threshold-large", spec.SHOULD, "delivers a message with 30 Received fields",
		spec.Quote(`SMTP servers using this technique SHOULD use a large rejection threshold, normally at least 100 Received entries.`), func(t *spec.T) {
			dir := maildir(t)
			s := hello(t)
			l := newLetter("thirty hops\r\n").withHeader(hops(30))
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc5321_7_1.It("no-open-relay", spec.FIXTURE, "refuses RCPT for a domain it does not serve to a client that has not authenticated",
		spec.Fixture(`A target relays no mail for domains it does not serve: RCPT TO a recipient at relay.invalid from a client that did not authenticate is refused with 550, 551, 553 or 554 (RFC 5321 3.6.2, 7.1).`), func(t *spec.T) {
			s := hello(t)
			s.mail()
			r := s.cmd("RCPT TO:<" + foreignRcpt + ">")
			expectCode(t, r, "the reply to RCPT for a foreign domain", 550, 551, 553, 554)
			s.rcpt(rcptBob)
		})

	rfc5321_7_1.It("no-relay-by-source-route", spec.FIXTURE, "refuses a source route ending in a domain it does not serve",
		spec.Fixture(`A target relays no mail for domains it does not serve, a source route through one of its own domains included (RFC 5321 3.6.1: "SMTP servers MAY decline to act as mail relays or to accept addresses that specify source routes").`), func(t *spec.T) {
			s := hello(t)
			s.mail()
			r := s.cmd("RCPT TO:<@" + strings.SplitN(rcptBob, "@", 2)[1] + ":" + foreignRcpt + ">")
			expectCode(t, r, "the reply to RCPT with a source route to a foreign domain", 5, 4)
			s.rcpt(rcptBob)
		})

	rfc5321_7_3.It("vrfy-confirm-or-252", spec.MUST, "answers VRFY of an existing address with 250/251 (verified) or 252, never a refusal",
		spec.Quote(`If a site disables these commands for security reasons, the SMTP server MUST return a 252 response, rather than a code that could be confused with successful or unsuccessful verification.`), func(t *spec.T) {
			s := hello(t)
			expectCode(t, s.cmd("VRFY "+rcptBob), "the reply to VRFY of "+rcptBob, 250, 251, 252)
		})
})

// caseVariant spells domain with the letters' case set by the bits of n.
func caseVariant(domain string, n int) string {
	b := []byte(domain)
	bit := 0
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			if n>>bit&1 == 1 {
				b[i] = c - 32
			}
			bit++
		}
	}
	return string(b)
}
