package smtp

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var o bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &o
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, o.String())
	}
	return o.String()
}

// Python's smtplib: EHLO, STARTTLS verified against the fixture CA,
// sendmail to two recipients, one refused; send_message of an 8-bit
// message with BODY=8BITMIME.
func TestPythonSmtplib(t *testing.T) {
	py := needBinary(t, "python3")
	addr, srv := start(t, &Server{TLSConfig: fixtureTLS.ServerConfig()})
	dir := t.TempDir()
	paths, err := fixtureTLS.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(addr, ":")
	script := `
import smtplib, ssl, sys
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = smtplib.SMTP(host, port, timeout=10)
s.ehlo("client.test")
assert s.has_extn("starttls") and s.has_extn("pipelining") and s.has_extn("8bitmime"), s.esmtp_features
s.starttls(context=ssl.create_default_context(cafile=ca))
s.ehlo("client.test")
refused = s.sendmail("alice@alice.test", ["bob@bob.test", "eve@example.com"],
    "From: alice@alice.test\r\nTo: bob@bob.test\r\nSubject: py\r\n\r\n.dot line\r\nhello from smtplib\r\n")
assert list(refused) == ["eve@example.com"] and refused["eve@example.com"][0] == 550, refused
try:
    s.sendmail("alice@alice.test", ["nobody@bob.test"], "x")
    sys.exit("a mail to no valid recipient accepted")
except smtplib.SMTPRecipientsRefused as e:
    pass
s.sendmail("alice@alice.test", ["bob@bob.test"], "Subject: 8bit\r\n\r\ngr\u00fc\u00dfe\r\n".encode("utf-8"), mail_options=["BODY=8BITMIME"])
code, _ = s.docmd("MAIL", "FROM:<a@alice.test> SIZE=999999999999")
assert code == 552, code
print(s.quit()[0])
`
	out := run(t, py, "-c", script, host, port, paths.CA)
	if strings.TrimSpace(out) != "221" {
		t.Fatalf("python: %s", out)
	}
	msgs := messages(t, srv.Store, "bob")
	if len(msgs) != 2 || body(msgs[0]) != ".dot line\r\nhello from smtplib\r\n" || body(msgs[1]) != "grüße\r\n" {
		t.Fatalf("bob's mailbox: %q", msgs)
	}
	if !strings.Contains(msgs[0], "with ESMTPS id") {
		t.Errorf("not received under TLS: %q", msgs[0])
	}
}

// swaks: plain, pipelined, and STARTTLS (when its TLS support is there),
// with an attachment.
func TestSwaks(t *testing.T) {
	swaks := needBinary(t, "swaks")
	addr, srv := start(t, &Server{TLSConfig: fixtureTLS.ServerConfig()})
	base := []string{"--server", addr, "--from", "alice@alice.test", "--to", "bob@bob.test", "--helo", "client.test", "--timeout", "10"}
	run(t, swaks, append(base, "--header", "Subject: plain")...)
	run(t, swaks, append(base, "--pipeline", "--header", "Subject: pipelined")...)
	att := filepath.Join(t.TempDir(), "a.bin")
	os.WriteFile(att, bytes.Repeat([]byte{0, 1, 2, 0xff, '.', '\n'}, 1000), 0o600)
	run(t, swaks, append(base, "--header", "Subject: attached", "--attach", att)...)
	want := []string{"Subject: plain", "Subject: pipelined", "Subject: attached"}
	support := run(t, swaks, "--support")
	if strings.Contains(support, "=== TLS supported") {
		out := run(t, swaks, append(base, "--tls", "--header", "Subject: tls")...)
		if !strings.Contains(out, "TLS started") {
			t.Errorf("swaks did not start TLS:\n%s", out)
		}
		want = append(want, "Subject: tls")
	} else {
		t.Log("swaks has no TLS support (libnet-ssleay-perl missing): STARTTLS not tried")
	}
	// Refusals swaks reports with its exit status.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, swaks, "--server", addr, "--from", "a@alice.test", "--to", "x@example.com", "--timeout", "10").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "<** 550 5.7.1") {
		t.Errorf("relay attempt: %v\n%s", err, out)
	}
	msgs := messages(t, srv.Store, "bob")
	if len(msgs) != len(want) {
		t.Fatalf("bob has %d messages, want %d", len(msgs), len(want))
	}
	for i, w := range want {
		if !strings.Contains(msgs[i], w) {
			t.Errorf("message %d lacks %q", i, w)
		}
	}
}

// swaks: AUTH PLAIN and LOGIN after STARTTLS, a wrong
// password refused, and AUTH refused before TLS.
func TestSwaksAuth(t *testing.T) {
	swaks := needBinary(t, "swaks")
	if !strings.Contains(run(t, swaks, "--support"), "=== TLS supported") {
		t.Skip("swaks has no TLS support (libnet-ssleay-perl missing)")
	}
	addr, srv := start(t, &Server{TLSConfig: fixtureTLS.ServerConfig(), Submission: true, AuthFailDelay: time.Millisecond})
	base := []string{"--server", addr, "--from", "bob@bob.test", "--to", "alice@alice.test", "--helo", "client.test", "--timeout", "10", "--tls"}
	out := run(t, swaks, append(base, "--auth", "PLAIN", "--auth-user", "bob", "--auth-password", "bob", "--header", "Subject: plain auth")...)
	if !strings.Contains(out, "<~  235 2.7.0") {
		t.Errorf("AUTH PLAIN:\n%s", out)
	}
	run(t, swaks, append(base, "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "alice", "--header", "Subject: login auth")...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o, err := exec.CommandContext(ctx, swaks, append(base, "--auth", "PLAIN", "--auth-user", "bob", "--auth-password", "nope")...).CombinedOutput()
	if err == nil || !strings.Contains(string(o), "<~* 535 5.7.8") {
		t.Errorf("a wrong password: %v\n%s", err, o)
	}
	o, err = exec.CommandContext(ctx, swaks, "--server", addr, "--from", "bob@bob.test", "--to", "alice@alice.test", "--timeout", "10").CombinedOutput()
	if err == nil || !strings.Contains(string(o), "<** 530 5.7.0") {
		t.Errorf("submission without AUTH: %v\n%s", err, o)
	}
	msgs := messages(t, srv.Store, "alice")
	if len(msgs) != 2 || !strings.Contains(msgs[0], "Subject: plain auth") || !strings.Contains(msgs[1], "Subject: login auth") || !strings.Contains(msgs[1], "with ESMTPSA id") {
		t.Fatalf("alice's mailbox: %q", msgs)
	}
}

// Python's smtplib: login() after starttls() (it picks PLAIN), a LOGIN
// exchange by hand, and BDAT sent by hand.
func TestPythonSmtplibAuth(t *testing.T) {
	py := needBinary(t, "python3")
	addr, srv := start(t, &Server{TLSConfig: fixtureTLS.ServerConfig(), AuthFailDelay: time.Millisecond})
	paths, err := fixtureTLS.WriteDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(addr, ":")
	script := `
import smtplib, ssl, sys
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = smtplib.SMTP(host, port, timeout=10)
s.ehlo("client.test")
assert not s.has_extn("auth"), s.esmtp_features
assert s.has_extn("chunking") and s.has_extn("dsn"), s.esmtp_features
s.starttls(context=ssl.create_default_context(cafile=ca))
s.ehlo("client.test")
assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"], s.esmtp_features
try:
    s.login("bob", "wrong")
    sys.exit("a wrong password accepted")
except smtplib.SMTPAuthenticationError as e:
    assert e.smtp_code == 535, e
code, resp = s.login("bob", "bob")
assert code == 235, (code, resp)
s.sendmail("bob@bob.test", ["alice@alice.test"], "Subject: py auth\r\n\r\nhi\r\n", mail_options=["RET=HDRS"], rcpt_options=["NOTIFY=SUCCESS,DELAY"])
s.mail("bob@bob.test")
s.rcpt("alice@alice.test")
text = b"Subject: py bdat\r\n\r\nchunked\r\n"
s.send(b"BDAT 10\r\n" + text[:10])
code, _ = s.getreply()
assert code == 250, code
s.send(b"BDAT %d LAST\r\n" % (len(text) - 10) + text[10:])
code, resp = s.getreply()
assert code == 250 and resp.startswith(b"2.0.0 Ok: queued as"), (code, resp)
print(s.quit()[0])
`
	out := run(t, py, "-c", script, host, port, paths.CA)
	if strings.TrimSpace(out) != "221" {
		t.Fatalf("python: %s", out)
	}
	msgs := messages(t, srv.Store, "alice")
	if len(msgs) != 2 || body(msgs[0]) != "hi\r\n" || body(msgs[1]) != "chunked\r\n" {
		t.Fatalf("alice's mailbox: %q", msgs)
	}
}
