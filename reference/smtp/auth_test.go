package smtp

import (
	"crypto/tls"
	"encoding/base64"
	"net/smtp"
	"regexp"
	"strings"
	"testing"
	"time"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// tlsConv is a conversation that said EHLO, started TLS and said EHLO
// again; it returns the second EHLO reply too.
func tlsConv(t *testing.T, addr string) (*conv, string) {
	t.Helper()
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("STARTTLS", "220 2.0.0")
	tc := tls.Client(v.c, clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	v.c, v.r = tc, newReader(tc)
	return v, v.do("EHLO client.test", "250 HELP")
}

func authServer(t *testing.T, srv *Server) (string, *Server) {
	t.Helper()
	if srv == nil {
		srv = &Server{}
	}
	srv.TLSConfig = fixtureTLS.ServerConfig()
	if srv.AuthFailDelay == 0 {
		srv.AuthFailDelay = time.Millisecond
	}
	return start(t, srv)
}

func TestAuthOnlyUnderTLS(t *testing.T) {
	addr, _ := authServer(t, nil)
	v := dialConv(t, addr)
	if ehlo := v.do("EHLO client.test", "250 HELP"); strings.Contains(ehlo, "AUTH") {
		t.Fatalf("AUTH announced before TLS: %q", ehlo)
	}
	v.do("AUTH PLAIN "+b64("\x00bob\x00bob"), "538 5.7.11")
	v.do("MAIL FROM:<a@alice.test> AUTH=<>", "555 5.5.4") // AUTH= only where AUTH is announced
	// Without a TLSConfig, AUTH does not exist at all.
	addr2, _ := start(t, nil)
	w := dialConv(t, addr2)
	w.do("EHLO client.test", "250 HELP")
	w.do("AUTH PLAIN "+b64("\x00bob\x00bob"), "502 5.5.1")

	v, ehlo := tlsConv(t, addr)
	if !strings.Contains(ehlo, "250-AUTH PLAIN LOGIN\r\n") {
		t.Fatalf("AUTH not announced under TLS: %q", ehlo)
	}
	v.do("AUTH PLAIN "+b64("\x00bob\x00bob"), "235 2.7.0")
	v.do("AUTH PLAIN "+b64("\x00bob\x00bob"), "503 5.5.1")
}

func TestAuthExchanges(t *testing.T) {
	addr, srv := authServer(t, &Server{MaxErrors: 100, MaxAuthFailures: 100})
	v, _ := tlsConv(t, addr)
	for _, c := range []struct{ cmd, want string }{
		{"AUTH", "501 5.5.4"},
		{"AUTH CRAM-MD5", "504 5.5.4"},
		{"AUTH PLAIN !!!", "501 5.5.2"},
		{"AUTH PLAIN =AAA", "501 5.5.2"},
		{"AUTH PLAIN AAA=BBB", "501 5.5.2"},
		{"AUTH PLAIN " + b64("bob\x00bob"), "535 5.7.8"},          // one NUL
		{"AUTH PLAIN " + b64("\x00bob\x00wrong"), "535 5.7.8"},    // bad password
		{"AUTH PLAIN " + b64("alice\x00bob\x00bob"), "535 5.7.8"}, // acting as another user
		{"AUTH PLAIN =", "535 5.7.8"},                             // an empty response
		{"AUTH PLAIN  x", "501 5.5.4"},
	} {
		v.do(c.cmd, c.want)
	}
	// The challenge form: "334 " then the response; "*" cancels.
	v.do("AUTH PLAIN", "334 ")
	v.do("*", "501 ")
	v.do("AUTH PLAIN", "334 ")
	v.do("not base64!", "501 5.5.2")
	v.do("AUTH PLAIN", "334 ")
	v.do(strings.Repeat("A", maxAuthLine+100), "500 5.5.6")
	v.do("AUTH LOGIN", "334 VXNlcm5hbWU6")
	v.do(b64("alice"), "334 UGFzc3dvcmQ6")
	v.do(b64("bob"), "535 5.7.8")
	// No AUTH inside a transaction.
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("AUTH PLAIN "+b64("\x00bob\x00bob"), "503 5.5.1")
	v.do("RSET", "250 ")
	// LOGIN with the user name as an initial response.
	v.do("AUTH LOGIN "+b64("alice"), "334 UGFzc3dvcmQ6")
	v.do(b64("alice"), "235 2.7.0")
	v.do("MAIL FROM:<alice@alice.test> AUTH=alice+40alice.test", "250 ")
	// Relaying by an authenticated client is not built: 550 all the same.
	v.do("RCPT TO:<x@example.com>", "550 5.7.1")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	v.send("Subject: a\r\n\r\nx\r\n.\r\n")
	v.expect("250 2.0.0")
	m := messages(t, srv.Store, "bob")
	if len(m) != 1 || !strings.Contains(m[0], " with ESMTPSA id ") {
		t.Fatalf("bob: %q", m)
	}
	v.do("MAIL FROM:<a@alice.test> AUTH=nobody", "501 5.5.4")
	v.do("MAIL FROM:<a@alice.test> AUTH=a+2x@b.test", "501 5.5.4")
}

// RFC 4954 9: at least 3 failures before the connection is dropped;
// each 535 comes after the delay.
func TestAuthFailureLimit(t *testing.T) {
	addr, _ := authServer(t, &Server{AuthFailDelay: 100 * time.Millisecond})
	v, _ := tlsConv(t, addr)
	start := time.Now()
	v.do("AUTH PLAIN "+b64("\x00bob\x00x"), "535 5.7.8")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("535 after %v, before the delay", d)
	}
	v.do("AUTH PLAIN "+b64("\x00bob\x00y"), "535 5.7.8")
	v.send("AUTH PLAIN " + b64("\x00bob\x00z") + "\r\n")
	v.expect("535 5.7.8")
	v.expect("421 4.7.0")
	if !v.closed() {
		t.Fatal("open after three failed AUTH")
	}
}

func TestSubmission(t *testing.T) {
	addr, srv := authServer(t, &Server{Submission: true})
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<bob@bob.test>", "530 5.7.0")
	v, _ = tlsConv(t, addr)
	v.do("MAIL FROM:<bob@bob.test>", "530 5.7.0")
	v.do("RCPT TO:<alice@alice.test>", "503 5.5.1")
	v.do("AUTH PLAIN "+b64("\x00bob\x00bob"), "235 2.7.0")
	v.do("MAIL FROM:<bob@localhost>", "554 5.1.2") // RFC 6409 4.2: fully-qualified domains
	v.do("MAIL FROM:<bob@bob.test>", "250 2.1.0")
	v.do("RCPT TO:<alice@alice>", "554 5.1.2")
	v.do("RCPT TO:<Postmaster>", "250 ")
	v.do("RCPT TO:<alice@alice.test>", "250 ")
	v.send("BDAT 18 LAST\r\nSubject: s\r\n\r\nhi\r\n")
	v.expect("250 2.0.0")
	if m := messages(t, srv.Store, "alice"); len(m) != 1 || body(m[0]) != "hi\r\n" {
		t.Fatalf("alice: %q", m)
	}
}

// net/smtp: AUTH PLAIN after StartTLS, then a message.
func TestNetSMTPAuth(t *testing.T) {
	addr, srv := authServer(t, &Server{Submission: true})
	dial := func() *smtp.Client {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.StartTLS(clientTLS()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// net/smtp quits after a refused AUTH.
	if err := dial().Auth(smtp.PlainAuth("", "bob", "wrong", "127.0.0.1")); err == nil || !strings.Contains(err.Error(), "535") {
		t.Fatalf("a wrong password: %v", err)
	}
	c := dial()
	if err := c.Auth(smtp.PlainAuth("", "bob", "bob", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("bob@bob.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("alice@alice.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: ns\r\n\r\nfrom net/smtp\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if m := messages(t, srv.Store, "alice"); len(m) != 1 || !strings.Contains(m[0], "with UTF8SMTPSA id") {
		t.Fatalf("alice: %q", m)
	}
}

var enhancedRE = regexp.MustCompile(`^[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3} `)

// With ENHANCEDSTATUSCODES announced, every 2xx, 4xx and 5xx reply of
// AUTH, BDAT and the DSN parameters carries an enhanced code (RFC 2034).
func TestEnhancedCodesOfExtensions(t *testing.T) {
	addr, _ := authServer(t, &Server{MaxErrors: 100, MaxAuthFailures: 100})
	v, _ := tlsConv(t, addr)
	check := func(r string) {
		t.Helper()
		for _, l := range strings.SplitAfter(strings.TrimSuffix(r, "\r\n"), "\r\n") {
			if l[0] != '3' && !enhancedRE.MatchString(l) {
				t.Errorf("no enhanced code: %q", l)
			}
		}
	}
	for _, cmd := range []string{
		"AUTH", "AUTH X", "AUTH PLAIN !", "AUTH PLAIN " + b64("\x00bob\x00no"), "AUTH PLAIN", "*", "AUTH LOGIN", "=", "AUTH PLAIN", "x",
		"BDAT", "BDAT 0", "MAIL FROM:<a@alice.test> RET=X", "MAIL FROM:<a@alice.test> ENVID=+", "MAIL FROM:<a@alice.test> AUTH=x",
		"MAIL FROM:<a@alice.test> RET=FULL ENVID=x AUTH=<>", "AUTH PLAIN =", "RCPT TO:<bob@bob.test> NOTIFY=X", "RCPT TO:<bob@bob.test> ORCPT=x",
		"RCPT TO:<x@example.com>", "RCPT TO:<bob@bob.test> NOTIFY=NEVER ORCPT=rfc822;bob@bob.test", "BDAT 0", "DATA", "BDAT 3 LAST\r\nx",
		"AUTH PLAIN " + b64("\x00bob\x00bob"), "AUTH PLAIN " + b64("\x00bob\x00bob"), "RCPT TO:<x@example.com>", "HELP",
	} {
		v.send(cmd + "\r\n")
		check(v.reply())
	}
}
