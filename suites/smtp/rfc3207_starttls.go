package smtp

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc3207_4   = spec.Section(proto, "rfc3207", "4", "The STARTTLS Command")
	rfc3207_4_2 = spec.Section(proto, "rfc3207", "4.2", "Result of the STARTTLS Command")
	rfc3207_6   = spec.Section(proto, "rfc3207", "6", "Security Considerations")
)

// tlsSession is a session upgraded with STARTTLS, EHLO sent again.
func tlsSession(t *spec.T) *session {
	s := hello(t)
	s.starttls()
	return s
}

var _ = Describe("RFC 3207 STARTTLS", func() {
	rfc3207_4.It("starttls-announced", spec.FIXTURE, "announces STARTTLS in EHLO before TLS",
		spec.Fixture(`A target with the feature smtp/starttls announces STARTTLS in its EHLO reply on smtp/tcp and completes the handshake with the run's fixture certificate.`), func(t *spec.T) {
			t.Require(featureSTARTTLS)
			s := hello(t)
			if !s.has("STARTTLS") {
				t.Mismatch("STARTTLS among the EHLO keywords", "%s", s.ehloReply)
			}
		})

	rfc3207_4.It("starttls-220-handshake", spec.MUST, "answers STARTTLS with 220 and completes the TLS handshake",
		spec.Inferred(`The STARTTLS keyword is used to tell the SMTP client that the SMTP server is currently able to negotiate the use of TLS.`, "the announcement promises the negotiation: 220, then the handshake"), func(t *spec.T) {
			s := tlsSession(t)
			if _, ok := s.c.TLS(); !ok {
				t.Mismatch("a TLS session after STARTTLS", "plain")
			}
			s.alive("inside TLS")
		})

	rfc3207_4.It("starttls-parameter-501", spec.MUST, "refuses STARTTLS with a parameter with 501 and stays in plaintext",
		spec.Inferred(`501 Syntax error (no parameters allowed)`, "the reply the section lists for STARTTLS with parameters"), func(t *spec.T) {
			t.Require(featureSTARTTLS)
			s := hello(t)
			s.need("STARTTLS")
			expectCode(t, s.cmd("STARTTLS now"), "the reply to STARTTLS with a parameter", 501)
			s.alive("after the refused STARTTLS")
		})

	rfc3207_4.It("plaintext-delivery", spec.MUST, "delivers mail for its users without STARTTLS",
		spec.Quote(`A publicly-referenced SMTP server MUST NOT require use of the STARTTLS extension in order to deliver mail locally.`), func(t *spec.T) {
			t.Require(featureSTARTTLS)
			dir := maildir(t)
			s := hello(t)
			l := newLetter("in plaintext\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc3207_4.It("delivery-inside-tls", spec.MUST, "delivers mail sent inside TLS",
		spec.Inferred(`Upon completion of the TLS handshake, the SMTP protocol is reset to the initial state (the state in SMTP after a server issues a 220 service ready greeting).`, "a statement of the state after the handshake, from which a whole transaction goes").In("4.2").SharedBecause("the session goes on inside TLS: a whole transaction"), func(t *spec.T) {
			dir := maildir(t)
			s := tlsSession(t)
			l := newLetter("inside TLS\r\n")
			s.deliver(l, rcptBob)
			expectDelivered(t, dir, boxBob, l)
		})

	rfc3207_4_2.It("state-reset-ehlo-needed", spec.MUST, "forgets the EHLO of before TLS: MAIL right after the handshake gets 503",
		spec.Quote(`The server MUST discard any knowledge obtained from the client, such as the argument to the EHLO command, which was not obtained from the TLS negotiation itself.`), func(t *spec.T) {
			t.Require(featureSTARTTLS)
			s := hello(t)
			s.need("STARTTLS")
			s.must("STARTTLS", 220)
			t.Check(s.c.StartTLS(t.TLSConfig(service)))
			expectCode(t, s.cmd("MAIL FROM:<"+sender+">"), "the reply to MAIL before EHLO inside TLS", 503)
			s.ehlo()
			s.mail()
		})

	rfc3207_4_2.It("transaction-discarded", spec.MUST, "forgets a transaction opened before STARTTLS",
		spec.Inferred(`Upon completion of the TLS handshake, the SMTP protocol is reset to the initial state (the state in SMTP after a server issues a 220 service ready greeting).`, "a statement of the state after the handshake: no transaction").SharedBecause("the transaction of before the handshake is gone"), func(t *spec.T) {
			t.Require(featureSTARTTLS)
			s := hello(t)
			s.need("STARTTLS")
			s.mail()
			r := s.cmd("STARTTLS")
			if r.code == 503 {
				t.Skipf("not applicable: the server refuses STARTTLS inside a transaction (%s)", r)
			}
			expectCode(t, r, "the reply to STARTTLS", 220)
			t.Check(s.c.StartTLS(t.TLSConfig(service)))
			s.tls = true
			s.ehlo()
			expectCode(t, s.cmd("RCPT TO:<"+rcptBob+">"), "the reply to RCPT: the MAIL of before TLS is gone", 503)
		})

	rfc3207_4_2.It("starttls-not-announced-after", spec.MUST, "does not announce STARTTLS in EHLO inside TLS",
		spec.Quote(`A server MUST NOT return the STARTTLS extension in response to an EHLO command received after a TLS handshake has completed.`), func(t *spec.T) {
			s := tlsSession(t)
			if s.has("STARTTLS") {
				t.Mismatch("no STARTTLS among the EHLO keywords inside TLS", "%s", s.ehloReply)
			}
		})

	rfc3207_4_2.It("starttls-twice-refused", spec.MUST, "refuses a second STARTTLS inside TLS",
		spec.Quote(`A server MUST NOT return the STARTTLS extension in response to an EHLO command received after a TLS handshake has completed.`).SharedBecause("a STARTTLS the server no longer offers is refused"), func(t *spec.T) {
			s := tlsSession(t)
			expectCode(t, s.cmd("STARTTLS"), "the reply to STARTTLS inside TLS", 503, 502, 500, 454, 554)
			s.alive("after the refused STARTTLS")
		})

	rfc3207_4_2.It("extensions-after-tls", spec.MAY, "announces other extensions inside TLS than before",
		spec.Quote(`The list of SMTP service extensions returned in response to an EHLO command received after the TLS handshake MAY be different than the list returned before the TLS handshake.`), func(t *spec.T) {
			s := hello(t)
			before := s.ext
			s.starttls()
			for kw := range s.ext {
				if _, ok := before[kw]; !ok {
					t.Note("announced inside TLS only: %s", kw)
					return
				}
			}
			t.Skipf("not supported: inside TLS the server announces no extension it did not announce before")
		})

	rfc3207_6.It("no-command-injection", spec.MUST, "does not act inside TLS on a command sent with STARTTLS before the handshake (CVE-2011-0411)",
		spec.Quote(`For this reason, clients and servers MUST discard any knowledge obtained prior to the start of the TLS handshake upon completion of the TLS handshake.`), func(t *spec.T) {
			t.Require(featureSTARTTLS)
			s := hello(t)
			s.need("STARTTLS")
			// One segment: STARTTLS and, in plaintext behind it, a
			// command an attacker slipped in.
			s.c.Send("STARTTLS\r\nRSET\r\n")
			r := s.read()
			if r.code != 220 {
				expectCode(t, r, "the reply to STARTTLS with a command behind it (220, or a refusal)", 220, 4, 5)
				t.Refused(service)
				return
			}
			if err := s.c.StartTLS(t.TLSConfig(service)); err != nil {
				// Answering the injected command before the handshake
				// is a plaintext reply the spine reports here.
				t.Check(err)
			}
			s.quiet("inside TLS before any command (a reply now is the injected RSET's)")
			s.ehlo()
			s.alive("inside TLS")
		})
})
