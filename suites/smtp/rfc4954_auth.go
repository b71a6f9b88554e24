package smtp

import (
	"encoding/base64"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc4954_4 = spec.Section(proto, "rfc4954", "4", "The AUTH Command")
	rfc4954_6 = spec.Section(proto, "rfc4954", "6", "Status Codes")
)

// plain is the AUTH PLAIN initial response of user and password (RFC 4616).
func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// authSession is a session inside TLS whose EHLO announced AUTH.
func authSession(t *spec.T) *session {
	t.Require(featureAuth)
	s := tlsSession(t)
	s.need("AUTH")
	return s
}

// mechanisms are the SASL mechanisms of the session's AUTH keyword.
func (s *session) mechanisms() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s.ext["AUTH"]) {
		m[strings.ToUpper(f)] = true
	}
	return m
}

var _ = Describe("RFC 4954 AUTH", func() {
	rfc4954_4.It("auth-not-before-tls", spec.FIXTURE, "does not announce AUTH before STARTTLS",
		spec.Fixture(`A target with the feature smtp/auth announces AUTH with PLAIN and LOGIN only inside TLS; before STARTTLS it does not offer AUTH, or refuses it.`), func(t *spec.T) {
			t.Require(featureAuth)
			s := hello(t)
			if s.has("AUTH") {
				t.Mismatch("no AUTH among the EHLO keywords before TLS", "%s", s.ehloReply)
			}
			r := s.cmd("AUTH PLAIN " + plain(authUser, authPassword))
			if r.class() == 2 {
				t.Mismatch("AUTH refused before TLS", "%s", r)
			}
			s.alive("after the refused AUTH")
		})

	rfc4954_4.It("auth-plain", spec.FIXTURE, "logs the fixture user in with AUTH PLAIN inside TLS (235)",
		spec.Fixture(`A target with the feature smtp/auth logs bob (password bob) in with AUTH PLAIN and an initial response inside TLS, answering 235.`), func(t *spec.T) {
			s := authSession(t)
			if !s.mechanisms()["PLAIN"] {
				t.Mismatch("PLAIN among the AUTH mechanisms", "%s", s.ext["AUTH"])
			}
			s.must("AUTH PLAIN "+plain(authUser, authPassword), 235)
			s.mail()
		})

	rfc4954_4.It("auth-login", spec.FIXTURE, "logs the fixture user in with AUTH LOGIN inside TLS (334, 334, 235)",
		spec.Fixture(`A target with the feature smtp/auth logs bob (password bob) in with AUTH LOGIN inside TLS: 334 for the user name, 334 for the password, then 235.`), func(t *spec.T) {
			s := authSession(t)
			if !s.mechanisms()["LOGIN"] {
				t.Mismatch("LOGIN among the AUTH mechanisms", "%s", s.ext["AUTH"])
			}
			s.must("AUTH LOGIN", 334)
			s.must(base64.StdEncoding.EncodeToString([]byte(authUser)), 334)
			s.must(base64.StdEncoding.EncodeToString([]byte(authPassword)), 235)
		})

	rfc4954_6.It("bad-password-535", spec.MUST, "refuses a wrong password with 535 and keeps the session",
		spec.Inferred(`535 5.7.8  Authentication credentials invalid`, "the reply the section gives credentials that do not check"), func(t *spec.T) {
			s := authSession(t)
			s.must("AUTH PLAIN "+plain(authUser, badPassword), 535)
			s.alive("after the failed AUTH")
		})

	rfc4954_4.It("auth-twice-503", spec.MUST, "refuses a second AUTH after a successful one with 503",
		spec.Quote(`After a successful AUTH command completes, a server MUST reject any further AUTH commands with a 503 reply.`), func(t *spec.T) {
			s := authSession(t)
			s.must("AUTH PLAIN "+plain(authUser, authPassword), 235)
			s.must("AUTH PLAIN "+plain(authUser, authPassword), 503)
		})

	rfc4954_4.It("auth-in-transaction-503", spec.MUST, "refuses AUTH inside a mail transaction with 503",
		spec.Quote(`An AUTH command issued during a mail transaction MUST be rejected with a 503 reply.`), func(t *spec.T) {
			s := authSession(t)
			s.mail()
			s.must("AUTH PLAIN "+plain(authUser, authPassword), 503)
		})

	rfc4954_4.It("authenticated-delivery", spec.FIXTURE, "delivers the mail of an authenticated user",
		spec.Fixture(`A target with the feature smtp/auth delivers the mail an authenticated fixture user sends to a fixture address.`), func(t *spec.T) {
			dir := maildir(t)
			s := authSession(t)
			s.must("AUTH PLAIN "+plain(authUser, authPassword), 235)
			l := newLetter("authenticated\r\n")
			s.deliver(l, rcptAlice)
			expectDelivered(t, dir, boxAlice, l)
		})
})
