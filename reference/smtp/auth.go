package smtp

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
)

// AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms, offered
// only under TLS: RFC 4954 4: "A server implementation MUST implement a
// configuration in which it does NOT permit any plaintext password
// mechanisms, unless either the STARTTLS [SMTP-TLS] command has been
// negotiated or some other mechanism that protects the session from
// password snooping has been provided." That is the only configuration
// here.

const (
	// DefaultAuthFailDelay is how long the server waits before answering
	// 535 to wrong credentials, which slows a client guessing passwords.
	DefaultAuthFailDelay = time.Second
	// DefaultMaxAuthFailures is the number of failed AUTH commands after
	// which the session is closed; RFC 4954 9: "they SHOULD NOT drop the
	// connection until at least 3 attempts to authenticate have failed."
	DefaultMaxAuthFailures = 3
	// maxAuthLine bounds a client response in the exchange: its base64
	// (RFC 4954 4 calls 12288 octets sufficient for every deployed
	// mechanism; PLAIN and LOGIN need far less) fits the read buffer.
	maxAuthLine = readBuf
)

var errAuthFailures = errors.New("too many failed authentications")

// authOffered: AUTH is in EHLO and may be used (TLS is on).
func (c *session) authOffered() bool { return c.s.TLSConfig != nil && c.tls }

// checkAuth reports whether user and pass log in: Server.Auth when set,
// otherwise the fixture users of internal/mailstore.
func (s *Server) checkAuth(user, pass string) bool {
	if s.Auth != nil {
		return s.Auth(user, pass)
	}
	ok := 0
	for _, u := range mailstore.FixtureUsers {
		ok |= subtle.ConstantTimeCompare([]byte(u.Name), []byte(user)) & subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass))
	}
	return ok == 1
}

// auth runs one AUTH command.
func (c *session) auth(arg string) error {
	switch {
	case c.s.TLSConfig == nil:
		c.fail(502, "5.5.1 Command not implemented")
		return nil
	case !c.esmtp:
		c.fail(503, "5.5.1 Bad sequence of commands: send EHLO first")
		return nil
	case !c.tls:
		// RFC 4954 6: "538 5.7.11 Encryption required for requested
		// authentication mechanism ... This response to the AUTH command
		// indicates that the selected authentication mechanism may only be
		// used when the underlying SMTP connection is encrypted." (It
		// calls the code historical, as modern servers do not announce
		// such mechanisms in the clear, and this one does not; a client
		// that sends AUTH anyway learns why. RFC 3207 4's "530 Must issue
		// a STARTTLS command first" would say it too.)
		c.fail(538, "5.7.11 Encryption required for requested authentication mechanism: STARTTLS first")
		return nil
	case c.authUser != "":
		// RFC 4954 4: "After a successful AUTH command completes, a
		// server MUST reject any further AUTH commands with a 503 reply."
		c.fail(503, "5.5.1 Bad sequence of commands: already authenticated")
		return nil
	case c.inTx:
		// RFC 4954 4: "An AUTH command issued during a mail transaction
		// MUST be rejected with a 503 reply."
		c.fail(503, "5.5.1 Bad sequence of commands: AUTH is not permitted during a mail transaction")
		return nil
	}
	mech, initial, hasInitial := strings.Cut(arg, " ")
	if mech == "" || (hasInitial && (initial == "" || strings.Contains(initial, " "))) {
		c.fail(501, "5.5.4 Syntax: AUTH mechanism [initial-response]")
		return nil
	}
	var user, pass string
	switch strings.ToUpper(mech) {
	case "PLAIN":
		resp, ok, err := c.authResponse(initial, hasInitial, "")
		if !ok {
			return err
		}
		// RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL
		// passwd, with authcid and passwd 1*SAFE. A malformed message
		// authenticates no one; RFC 4954 4: "If the server is unable to
		// authenticate the client, it SHOULD reject the AUTH command with
		// a 535 reply unless a more specific error code is appropriate."
		parts := bytes.Split(resp, []byte{0})
		if len(parts) != 3 || len(parts[1]) == 0 || len(parts[2]) == 0 {
			return c.authFailed()
		}
		// An authorization identity other than the authentication
		// identity would be acting as another user: no one may.
		if len(parts[0]) > 0 && !bytes.Equal(parts[0], parts[1]) {
			return c.authFailed()
		}
		user, pass = string(parts[1]), string(parts[2])
	case "LOGIN":
		// LOGIN (draft-murchison-sasl-login): the server asks
		// "Username:" then "Password:"; a client may send the user name
		// as an initial response.
		u, ok, err := c.authResponse(initial, hasInitial, "VXNlcm5hbWU6")
		if !ok {
			return err
		}
		p, ok, err := c.authResponse("", false, "UGFzc3dvcmQ6")
		if !ok {
			return err
		}
		user, pass = string(u), string(p)
	default:
		// RFC 4954 4: "If the requested authentication mechanism is
		// invalid ... the server rejects the AUTH command with a 504
		// reply. If the server supports the [ESMTP-CODES] extension, it
		// SHOULD return a 5.5.4 enhanced response code."
		c.fail(504, "5.5.4 Unrecognized authentication type: PLAIN or LOGIN")
		return nil
	}
	if !c.s.checkAuth(user, pass) {
		return c.authFailed()
	}
	c.authUser = user
	c.s.logf("smtp: %s: authenticated as %s", c.ip, user)
	c.reply(235, "2.7.0 Authentication successful")
	return nil
}

// authFailed answers 535 after a delay, and closes the session at the
// limit of failures.
func (c *session) authFailed() error {
	c.authFails++
	c.s.logf("smtp: %s: authentication failed", c.ip)
	if err := c.flush(); err != nil {
		return err
	}
	time.Sleep(orDur(c.s.AuthFailDelay, DefaultAuthFailDelay))
	// RFC 4954 6: "535 5.7.8 Authentication credentials invalid".
	c.fail(535, "5.7.8 Authentication credentials invalid")
	if c.authFails >= orInt(c.s.MaxAuthFailures, DefaultMaxAuthFailures) {
		return errAuthFailures
	}
	return nil
}

// authResponse returns the decoded initial response, or (with challenge
// given as the base64 text of a 334) the client's answer to it. ok false
// means the command was answered (a refusal) or err ends the session.
func (c *session) authResponse(initial string, hasInitial bool, challenge string) (resp []byte, ok bool, err error) {
	var text string
	if hasInitial {
		// RFC 4954 4: "If the client is transmitting an initial
		// response of zero length, it MUST instead transmit the response
		// as a single equals sign ("=")."
		if initial == "=" {
			return []byte{}, true, nil
		}
		text = initial
	} else {
		// RFC 4954 4: "A server challenge is sent as a 334 reply with
		// the text part containing the [BASE64] encoded string ... In
		// SMTP, a server challenge that contains no data is defined as a
		// 334 reply with no text part. Note that there is still a space
		// following the reply code".
		c.reply(334, challenge)
		deadline := min(time.Now().Add(orDur(c.s.CommandTimeout, DefaultCommandTimeout)).UnixNano(),
			c.start.Add(orDur(c.s.SessionTimeout, DefaultSessionTimeout)).UnixNano())
		raw, err := c.readLine(maxAuthLine, time.Unix(0, deadline))
		if errors.Is(err, errTooLong) {
			// RFC 4954 4: "the server fails the AUTH command with the
			// 500 reply. Servers using the enhanced status codes
			// extension [ESMTP-CODES] SHOULD return an enhanced status
			// code of 5.5.6 in this case."
			c.fail(500, "5.5.6 Authentication Exchange line is too long")
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if !bytes.HasSuffix(raw, []byte("\r\n")) {
			c.fail(501, "5.5.2 Lines end with CRLF, not a bare LF (RFC 5321 2.3.8)")
			return nil, false, nil
		}
		text = string(raw[:len(raw)-2])
		if text == "*" {
			// RFC 4954 4: "If the client wishes to cancel the
			// authentication exchange, it issues a line with a single
			// "*". If the server receives such a response, it MUST
			// reject the AUTH command by sending a 501 reply."
			c.fail(501, "5.0.0 Authentication cancelled")
			return nil, false, nil
		}
	}
	b, err := decodeBase64(text)
	if err != nil {
		// RFC 4954 4: "If the server cannot [BASE64] decode any client
		// response, it MUST reject the AUTH command with a 501 reply (and
		// an enhanced status code of 5.5.2)."
		c.fail(501, "5.5.2 Cannot decode the response as base64")
		return nil, false, nil
	}
	return b, true, nil
}

// decodeBase64 decodes strictly: RFC 4954 4: "servers and clients MUST
// reject (and not ignore) any character not explicitly allowed by the
// BASE64 alphabet, and MUST reject any sequence of BASE64 characters that
// contains the pad character ('=') anywhere other than the end of the
// string". encoding/base64 skips CR and LF, so they are refused first.
func decodeBase64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnumByte(c) && c != '+' && c != '/' && c != '=' {
			return nil, errors.New("not base64")
		}
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}
