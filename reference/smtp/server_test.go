package smtp

import (
	"crypto/tls"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

func TestNetSMTPWithSTARTTLS(t *testing.T) {
	addr, srv := start(t, &Server{TLSConfig: fixtureTLS.ServerConfig()})
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "STARTTLS"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("EHLO does not announce %s", ext)
		}
	}
	if err := c.StartTLS(clientTLS()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS announced again under TLS")
	}
	if err := c.Mail("alice@alice.test"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"bob@bob.test", "Alice@ALICE.test"} {
		if err := c.Rcpt(to); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	const text = "From: alice@alice.test\r\nSubject: t\r\n\r\n.leading dot\r\n..two\r\nend\r\n"
	fmt.Fprint(w, text)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	for _, box := range []string{"bob", "alice"} {
		msgs := messages(t, srv.Store, box)
		if len(msgs) != 1 {
			t.Fatalf("%s has %d messages", box, len(msgs))
		}
		m := msgs[0]
		if !strings.HasSuffix(m, text) {
			t.Errorf("%s: text not kept (dot-stuffing undone?): %q", box, m)
		}
		if !strings.HasPrefix(m, "Return-Path: <alice@alice.test>\r\nReceived: from client.test ([127.0.0.1])\r\n\tby localhost (protospec) with UTF8SMTPS id ") { // net/smtp sends SMTPUTF8 when announced
			t.Errorf("%s: trace fields: %q", box, m)
		}
	}
}

func TestSequence(t *testing.T) {
	addr, _ := start(t, nil)
	v := dialConv(t, addr)
	v.do("MAIL FROM:<a@alice.test>", "503 5.5.1")
	v.do("RCPT TO:<bob@bob.test>", "503 5.5.1")
	v.do("DATA", "503 5.5.1")
	v.do("EHLO client.test", "250 HELP")
	v.do("RCPT TO:<bob@bob.test>", "503 5.5.1")
	v.do("DATA", "503 5.5.1")
	v.do("MAIL FROM:<a@alice.test>", "250 2.1.0")
	v.do("MAIL FROM:<a@alice.test>", "503 5.5.1")
	v.do("DATA", "503 5.5.1")
	v.do("RSET", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "503 5.5.1")
	v.do("MAIL FROM:<>", "250 ")
	v.do("EHLO again.test", "250 HELP") // EHLO resets the transaction
	v.do("RCPT TO:<bob@bob.test>", "503 5.5.1")
	v.do("QUIT", "221 2.0.0")
	if !v.closed() {
		t.Fatal("open after QUIT")
	}
}

func TestSyntax(t *testing.T) {
	addr, _ := start(t, &Server{MaxErrors: 100})
	v := dialConv(t, addr)
	v.do("EHLO", "501 5.5.4")
	v.do("EHLO bad_host!", "501 5.5.4")
	v.do("HELO [127.0.0.1]", "250 ")
	v.do("EHLO client.test", "250 HELP")
	for _, c := range []struct{ cmd, want string }{
		{"FOO", "500 5.5.2"},
		{"MAIL FROM: <a@alice.test>", "501 5.5.4"}, // no space after FROM: (RFC 5321 4.1.2)
		{"MAIL FROM:a@alice.test", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test", "501 5.5.4"},
		{"MAIL FROM:<a@@alice.test>", "501 5.5.4"},
		{"MAIL FROM:<a..b@alice.test>", "501 5.5.4"},
		{"MAIL FROM:<" + strings.Repeat("x", 65) + "@alice.test>", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> FOO=1", "555 5.5.4"},
		{"MAIL FROM:<a@alice.test> SIZE=abc", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> BODY=9BIT", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> SIZE=1 SIZE=2", "501 5.5.4"},
		{"MAIL FROM:<a@alice.test> SIZE=99999999999", "552 5.3.4"},
		{"MAIL FROM:<jøran@alice.test>", "553 5.6.7"},
		{"NOOP\x00", "500 5.5.2"},
		{"RSET x", "501 5.5.4"},
		{"VRFY", "501 5.5.4"},
		{"VRFY bob", "252 2.5.0"},
		{"EXPN list", "502 5.5.1"},
		{"HELP", "214 2.0.0"},
		{"NOOP anything", "250 2.0.0"},
		{"STARTTLS", "502 5.5.1"}, // no TLSConfig
		{"NÖOP", "500 5.5.2"},
		{strings.Repeat("N", 600), "500 5.5.2"},
	} {
		v.do(c.cmd, c.want)
	}
	// A bare LF does not end a command line (RFC 5321 2.3.8).
	v.send("NOOP\n")
	v.expect("500 5.5.2")
	// A line over 512 octets.
	v.do("NOOP "+strings.Repeat("x", 510), "500 5.5.2")
	v.do("mail from:<a@alice.test> size=100 body=8bitmime", "250 2.1.0")
	v.do("RCPT TO:<@relay.test,@other.test:bob@bob.test>", "250 2.1.5") // source route ignored
	v.do("RCPT TO:<Postmaster>", "250 2.1.5")
	v.do("RCPT TO:<nobody@bob.test>", "550 5.1.1")
	v.do("RCPT TO:<someone@example.com>", "550 5.7.1") // no open relay
	v.do("RCPT TO:<bob@bob.test> FOO=1", "555 5.5.4")
	v.do("RCPT TO:<>", "501 5.5.4")
}

func TestSMTPUTF8(t *testing.T) {
	addr, srv := start(t, &Server{Mailboxes: map[string]string{"jøran@bob.test": "joran"}})
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<jøran@bob.test>", "553 5.6.7")
	v.do("RSET", "250 ")
	v.do("MAIL FROM:<ålice@alice.test> SMTPUTF8", "250 ")
	v.do("RCPT TO:<jøran@bob.test>", "250 ")
	v.do("DATA", "354 ")
	v.send("Subject: ü\r\n\r\nhej\r\n.\r\n")
	v.expect("250 2.0.0")
	m := messages(t, srv.Store, "joran")
	if len(m) != 1 || !strings.Contains(m[0], "with UTF8SMTP id") {
		t.Fatalf("%q", m)
	}
}

func TestDataTransparencyAndBareLF(t *testing.T) {
	addr, srv := start(t, nil)
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	// "\n.\n" and "\r\n.\n" are not the end of data; only <CRLF>.<CRLF> is.
	v.send("Subject: bare\r\n\r\nline\n.\nmore\r\n.\nstill\r\n")
	v.send("NOOP\r\n") // still message text
	v.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if b, err := v.r.ReadByte(); err == nil {
		t.Fatalf("a reply (%q...) before <CRLF>.<CRLF>", b)
	}
	v.c.SetDeadline(time.Now().Add(10 * time.Second))
	v.send(".\r\n")
	v.expect("554 5.6.0")
	if m := messages(t, srv.Store, "bob"); len(m) != 0 {
		t.Fatalf("a message with bare LF stored: %q", m)
	}
	// SMTP smuggling: "\n.\r\n" does not end the text, and what
	// follows it is not run as commands.
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	v.send("Subject: smuggle\r\n\r\nx\n.\r\nMAIL FROM:<evil@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nDATA\r\nSubject: smuggled\r\n\r\n")
	v.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if b, err := v.r.ReadByte(); err == nil {
		t.Fatalf("a reply (%q...) to a text ended by <LF>.<CRLF>", b)
	}
	v.c.SetDeadline(time.Now().Add(10 * time.Second))
	v.send(".\r\n")
	v.expect("554 5.6.0")
	v.do("NOOP", "250 ")
	// A bare CR too.
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	v.send("Subject: cr\r\n\r\na\rb\r\n.\r\n")
	v.expect("554 5.6.0")
	// Dot-stuffed lines, an empty line, a line of exactly 1000 octets.
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	long := strings.Repeat("y", 998)
	v.send("Subject: ok\r\n\r\n..\r\n...x\r\n\r\n." + long + "\r\n.\r\n")
	v.expect("250 2.0.0")
	m := messages(t, srv.Store, "bob")
	if len(m) != 1 || body(m[0]) != ".\r\n..x\r\n\r\n"+long+"\r\n" {
		t.Fatalf("stored %q", m)
	}
	// A line of 1001 octets.
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	v.send("Subject: long\r\n\r\n" + long + "yy\r\n.\r\n")
	v.expect("500 5.5.2")
	// An empty message.
	v.do("MAIL FROM:<> ", "501 ")
	v.do("MAIL FROM:<>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA x", "501 5.5.4")
	v.do("DATA", "354 ")
	v.send(".\r\n")
	v.expect("250 2.0.0")
	if m := messages(t, srv.Store, "bob"); len(m) != 2 {
		t.Fatalf("%d messages", len(m))
	}
}

func TestSizeLimit(t *testing.T) {
	addr, srv := start(t, nil)
	max := srv.Store.MaxMessageBytes() - headerAllowance
	v := dialConv(t, addr)
	ehlo := v.do("EHLO client.test", "250 HELP")
	if !strings.Contains(ehlo, fmt.Sprintf("250-SIZE %d\r\n", max)) {
		t.Fatalf("EHLO: %q", ehlo)
	}
	v.do(fmt.Sprintf("MAIL FROM:<a@alice.test> SIZE=%d", max+1), "552 5.3.4")
	v.do(fmt.Sprintf("MAIL FROM:<a@alice.test> SIZE=%d", max), "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	line := strings.Repeat("z", 998) + "\r\n"
	go func() {
		for n := int64(0); n <= max; n += int64(len(line)) {
			if _, err := v.c.Write([]byte(line)); err != nil {
				return
			}
		}
		v.c.Write([]byte(".\r\n"))
	}()
	v.expect("552 5.3.4")
	if m := messages(t, srv.Store, "bob"); len(m) != 0 {
		t.Fatalf("an oversized message stored")
	}
	v.do("NOOP", "250 ")
}

func TestRecipientLimit(t *testing.T) {
	addr, srv := start(t, &Server{MaxRecipients: 3})
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	for i := 0; i < 3; i++ {
		v.do("RCPT TO:<bob@bob.test>", "250 ")
	}
	v.do("RCPT TO:<alice@alice.test>", "452 4.5.3")
	v.do("DATA", "354 ")
	v.send("Subject: x\r\n\r\nx\r\n.\r\n")
	v.expect("250 ")
	if m := messages(t, srv.Store, "bob"); len(m) != 1 {
		t.Fatalf("bob got %d copies, want 1", len(m))
	}
}

func TestPipelining(t *testing.T) {
	addr, srv := start(t, nil)
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.send("MAIL FROM:<a@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nRCPT TO:<x@example.com>\r\nRCPT TO:<alice@alice.test>\r\nDATA\r\n")
	for _, want := range []string{"250 2.1.0", "250 2.1.5", "550 5.7.1", "250 2.1.5", "354 "} {
		v.expect(want)
	}
	v.send("Subject: p\r\n\r\nx\r\n.\r\nMAIL FROM:<a@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nDATA\r\n")
	for _, want := range []string{"250 2.0.0", "250 2.1.0", "250 2.1.5", "354 "} {
		v.expect(want)
	}
	v.send("Subject: q\r\n\r\ny\r\n.\r\nQUIT\r\n")
	v.expect("250 2.0.0")
	v.expect("221 ")
	if m := messages(t, srv.Store, "bob"); len(m) != 2 {
		t.Fatalf("bob has %d messages", len(m))
	}
}

// The STARTTLS injection of CVE-2011-0411: commands sent in the same
// packet as STARTTLS must not be answered after the handshake.
func TestSTARTTLSInjection(t *testing.T) {
	addr, _ := start(t, &Server{TLSConfig: fixtureTLS.ServerConfig()})
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("STARTTLS x", "501 5.5.4")
	v.send("STARTTLS\r\nMAIL FROM:<evil@alice.test>\r\n")
	v.expect("220 2.0.0")
	tc := tls.Client(v.c, clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	v.c, v.r = tc, newReader(tc)
	v.do("MAIL FROM:<a@alice.test>", "503 5.5.1") // EHLO forgotten, injected MAIL dropped
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 2.1.0") // no nested MAIL: the injected one was not run
	v.do("STARTTLS", "503 5.5.1")
}

func TestCommandTimeout(t *testing.T) {
	addr, _ := start(t, &Server{CommandTimeout: 200 * time.Millisecond, DataTimeout: 200 * time.Millisecond})
	v := dialConv(t, addr)
	v.expect("421 4.4.2")
	if !v.closed() {
		t.Fatal("open after the timeout")
	}
	// Slow message text: the data timeout applies.
	v = dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	v.send("Subject: slow\r\n")
	v.expect("421 4.4.2")
}

func TestDataTotalTimeout(t *testing.T) {
	addr, srv := start(t, &Server{DataTotal: 500 * time.Millisecond})
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			if _, err := v.c.Write([]byte("drip\r\n")); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	v.expect("421 4.4.2")
	<-done
	if m := messages(t, srv.Store, "bob"); len(m) != 0 {
		t.Fatal("a timed-out message stored")
	}
}

func TestConnectionLimits(t *testing.T) {
	addr, srv := start(t, &Server{MaxConns: 3, MaxConnsPerClient: 2})
	a, b := dialConv(t, addr), dialConv(t, addr)
	c, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c, "421 4.7.0") {
		t.Fatalf("third connection from one client: %q", c)
	}
	a.do("QUIT", "221 ")
	a.closed()
	for deadline := time.Now().Add(5 * time.Second); srv.sessionCount() > 1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	dialConv(t, addr).do("NOOP", "250 ")
	b.do("NOOP", "250 ")
}

func TestTooManyErrors(t *testing.T) {
	addr, _ := start(t, &Server{MaxErrors: 3})
	v := dialConv(t, addr)
	for i := 0; i < 3; i++ {
		v.do("BOGUS", "500 ")
	}
	v.send("NOOP\r\n")
	v.expect("421 4.7.0")
}

func TestHugeLineCloses(t *testing.T) {
	addr, _ := start(t, nil)
	v := dialConv(t, addr)
	go v.c.Write([]byte(strings.Repeat("A", maxDiscard+10000)))
	v.expect("421 4.7.0")
}

func TestLoopDetection(t *testing.T) {
	addr, srv := start(t, nil)
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("DATA", "354 ")
	v.send(strings.Repeat("Received: from x by y; Thu, 1 Jan 2026 00:00:00 +0000\r\n", MaxHops+1) + "\r\nx\r\n.\r\n")
	v.expect("554 5.4.6")
	if m := messages(t, srv.Store, "bob"); len(m) != 0 {
		t.Fatal("a looping message stored")
	}
}

func TestCloseSends421(t *testing.T) {
	addr, srv := start(t, nil)
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	go srv.Close()
	v.expect("421 4.3.2")
}

func (s *Server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// A pipelining client that never reads its replies: the write deadline
// ends the session instead of holding it.
func TestClientThatDoesNotRead(t *testing.T) {
	addr, srv := start(t, &Server{WriteTimeout: 300 * time.Millisecond})
	v := dialConv(t, addr)
	go func() {
		junk := []byte(strings.Repeat("NOOP\r\n", 10000))
		for i := 0; i < 100; i++ {
			if _, err := v.c.Write(junk); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for srv.sessionCount() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the session of a client that does not read is still open")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSessionTimeout(t *testing.T) {
	addr, _ := start(t, &Server{SessionTimeout: 500 * time.Millisecond})
	v := dialConv(t, addr)
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		v.send("NOOP\r\n")
		if r := v.reply(); strings.HasPrefix(r, "421 4.4.2") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("a session of NOOPs outlived SessionTimeout")
}
