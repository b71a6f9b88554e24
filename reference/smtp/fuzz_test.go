package smtp

import (
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/protospec/protospec/internal/mailstore"
)

// FuzzCommand checks the command and path parsers on any line: no panic;
// an accepted verb is 4 to 8 letters; an accepted path has the lengths of
// RFC 5321 4.5.3.1 and no CR, LF or NUL.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"MAIL FROM:<alice@alice.test> SIZE=100 BODY=8BITMIME", "RCPT TO:<Postmaster>", "MAIL FROM:<>",
		"RCPT TO:<@a.test,@b.test:bob@bob.test>", `MAIL FROM:<"a b\"c"@alice.test>`, "MAIL FROM:<a@[127.0.0.1]>",
		"MAIL FROM:<a@[IPv6:::1]>", "RCPT TO:<jøran@bob.test>", "EHLO client.test", "STARTTLS", "MAIL FROM: <a@b>",
		"MAIL FROM:<a@b> SMTPUTF8", "DATA\x00", "mail from:<a@b>  SIZE=1",
		"MAIL FROM:<a@b> RET=HDRS ENVID=QQ+2B1", "RCPT TO:<b@c> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+40c",
		"MAIL FROM:<a@b> AUTH=<>", "BDAT 10 LAST", "AUTH PLAIN AGJvYgBib2I=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if n, _, err := parseBDAT(line); err == nil && n < 0 {
			t.Fatalf("BDAT %q: chunk size %d", line, n)
		}
		if v, err := decodeXtext(line); err == nil && len(v) > len(line) {
			t.Fatalf("xtext %q decoded longer: %q", line, v)
		}
		if _, err := decodeBase64(line); err == nil && strings.ContainsAny(line, "\r\n ") {
			t.Fatalf("base64 %q with white space accepted", line)
		}
		cmd, err := parseCommand(line)
		if err == nil {
			if len(cmd.verb) < 4 || len(cmd.verb) > 8 || strings.ContainsAny(cmd.arg, "\r\n\x00") {
				t.Fatalf("%q accepted as %+v", line, cmd)
			}
		}
		for _, kw := range []string{"FROM:", "TO:"} {
			a, params, err := parsePathArg(line, kw, kw == "FROM:", kw == "TO:")
			if err != nil {
				continue
			}
			if len(a.local) > MaxLocalPart || len(a.domain) > MaxDomain || strings.ContainsAny(a.String(), "\r\n\x00 <>") && !strings.HasPrefix(a.local, `"`) {
				t.Fatalf("%q accepted as %+v", line, a)
			}
			if a.utf8 && !utf8.ValidString(a.String()) {
				t.Fatalf("%q: invalid UTF-8 accepted", line)
			}
			for _, p := range params {
				if p.key == "" || strings.ContainsAny(p.key+p.value, " =\r\n") {
					t.Fatalf("%q: parameter %+v", line, p)
				}
			}
		}
	})
}

var queuedRE = regexp.MustCompile(`(?m)^250 2\.0\.0 Ok: queued as (\S+)\r$`)

// FuzzSession drives one whole session over net.Pipe: no panic, no hang,
// every reply line well formed, and every 250 to an end of data names a
// message that is in bob's or alice's mailbox.
func FuzzSession(f *testing.F) {
	f.Add([]byte("EHLO c.test\r\nMAIL FROM:<a@alice.test>\r\nRCPT TO:<bob@bob.test>\r\nDATA\r\nSubject: x\r\n\r\n..x\r\n.\r\n"))
	f.Add([]byte("HELO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<alice@alice.test>\r\nDATA\r\nx\n.\nx\r\n.\r\nRSET\r\n"))
	f.Add([]byte("EHLO c.test\r\nMAIL FROM:<a@alice.test> SIZE=10 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<bob@bob.test>\r\nDATA\r\n\r\n.\r\nVRFY x\r\nHELP\r\nNOOP\r\nSTARTTLS\r\n"))
	f.Add([]byte("MAIL FROM:<a@b>\r\nDATA\r\nEHLO\r\nBDAT 1 LAST\r\nx\r\n"))
	f.Add([]byte("EHLO c.test\r\nMAIL FROM:<a@alice.test> RET=FULL\r\nRCPT TO:<bob@bob.test> NOTIFY=NEVER\r\nBDAT 5\r\nab\r\nBDAT 3 LAST\r\n.\r\nDATA\r\n"))
	f.Add([]byte("EHLO c.test\r\nMAIL FROM:<a@alice.test>\r\nRCPT TO:<alice@alice.test>\r\nBDAT 0 LAST\r\nAUTH PLAIN\r\n*\r\nBDAT 99999999 LAST\r\n"))
	st, err := mailstore.Open(f.TempDir(), 64<<10)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) > 8192 {
			return
		}
		// A short data timeout: a BDAT chunk longer than the input waits
		// for it, as net.Pipe cannot say the client is done writing.
		s := &Server{Store: st, CommandTimeout: 2 * time.Second, DataTimeout: 300 * time.Millisecond, MaxRecipients: 5, AuthFailDelay: time.Millisecond}
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() { s.ServeConn(server); close(done) }()
		go func() {
			client.SetWriteDeadline(time.Now().Add(5 * time.Second))
			client.Write(input)
			client.Write([]byte("\r\n.\r\nQUIT\r\n"))
		}()
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		out, _ := io.ReadAll(io.LimitReader(client, 1<<20))
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the session did not end")
		}
		if !strings.HasPrefix(string(out), "220 ") {
			t.Fatalf("no greeting: %q", out)
		}
		lines := strings.Split(string(out), "\n")
		for _, l := range lines[:len(lines)-1] {
			if len(l) < 5 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '5' || l[2] < '0' || l[2] > '9' || (l[3] != ' ' && l[3] != '-') || !strings.HasSuffix(l, "\r") {
				t.Fatalf("malformed reply line %q", l)
			}
		}
		for _, m := range queuedRE.FindAllStringSubmatch(string(out), -1) {
			found := false
			for _, box := range []string{"bob", "alice", mailstore.PostmasterMailbox} {
				if _, err := st.Read(box, m[1]); err == nil {
					found = true
				}
			}
			if !found {
				t.Fatalf("250 for %s, which no mailbox holds", m[1])
			}
		}
	})
}
