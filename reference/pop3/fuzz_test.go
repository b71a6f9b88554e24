package pop3

import (
	"bufio"
	"bytes"
	"github.com/protospec/protospec/internal/mailstore"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	ipop3 "github.com/protospec/protospec/internal/pop3"
)

// FuzzCommand checks the command parser on any line: no panic; an
// accepted keyword is three or four letters, upper-cased; the arguments
// are non-empty printable ASCII, without spaces but for PASS's.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{"USER bob", "PASS a b  c", "APOP bob c4c9334bac560ecc979e58001b3e22fb", "TOP 1 10", "LIST", "uidl 1",
		"AUTH PLAIN AGJvYgBib2I=", "STLS", "RETR  1", "NOOP\x00", "CAPA ", "X", "QUIT\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := parseCommand(line)
		if err != nil {
			return
		}
		if len(cmd.verb) < 3 || len(cmd.verb) > 4 || strings.ToUpper(cmd.verb) != cmd.verb || strings.Trim(cmd.verb, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Fatalf("%q: keyword %q", line, cmd.verb)
		}
		for _, a := range cmd.args {
			if a == "" || (cmd.verb != "PASS" && strings.Contains(a, " ")) {
				t.Fatalf("%q: argument %q", line, a)
			}
			for i := 0; i < len(a); i++ {
				if a[i] < 0x20 || a[i] > 0x7e {
					t.Fatalf("%q: argument %q not printable", line, a)
				}
			}
		}
		for _, a := range cmd.args {
			if n, err := parseNumber(a); err == nil && n < 1 {
				t.Fatalf("%q: message number %d", a, n)
			}
		}
	})
}

// unstuff reads a multi-line body as a client does: lines up to the
// terminator, each with a leading "." removed.
func unstuff(t *testing.T, wire []byte) []byte {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(wire))
	var out []byte
	for {
		l, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("no terminator in %q", wire)
		}
		if !bytes.HasSuffix(l, []byte("\r\n")) || bytes.IndexByte(l[:len(l)-2], '\n') >= 0 {
			t.Fatalf("line %q of %q", l, wire)
		}
		if string(l) == ".\r\n" {
			if rest, _ := io.ReadAll(r); len(rest) != 0 {
				t.Fatalf("%q after the terminator", rest)
			}
			return out
		}
		out = append(out, bytes.TrimPrefix(l, []byte("."))...)
	}
}

// FuzzTranscode checks a message's trip to the wire: every line ends with
// CRLF, the terminator comes once at the end, unstuffing gives the file
// with its line ends made CRLF, the counted size is that of the unstuffed
// text, and TOP's output is a prefix of RETR's.
func FuzzTranscode(f *testing.F) {
	for _, m := range ipop3.FixtureMessages {
		f.Add([]byte(m.Text), 2)
	}
	f.Add([]byte("a\nb\r\n.\n..\r\r\nno end"), 0)
	f.Add([]byte("\r"), 1)
	f.Add([]byte(""), 0)
	f.Fuzz(func(t *testing.T, msg []byte, lines int) {
		var wire bytes.Buffer
		w := bufio.NewWriter(&wire)
		n, err := transcode(w, bytes.NewReader(msg), true, -1)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString(".\r\n")
		w.Flush()
		text := unstuff(t, wire.Bytes())
		if int64(len(text)) != n {
			t.Fatalf("counted %d octets, sent %d", n, len(text))
		}
		// The file with bare LFs made CRLF and a last line ended.
		want := bytes.ReplaceAll(bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		if len(want) > 0 && !bytes.HasSuffix(want, []byte("\r\n")) {
			if want[len(want)-1] == '\r' {
				want = append(want, '\n')
			} else {
				want = append(want, '\r', '\n')
			}
		}
		if !bytes.Equal(text, want) {
			t.Fatalf("%q went out as %q, want %q", msg, text, want)
		}
		if size, _ := transcode(nil, bytes.NewReader(msg), false, -1); size != n {
			t.Fatalf("size %d, RETR sent %d", size, n)
		}
		if lines < 0 {
			lines = -lines
		}
		var top bytes.Buffer
		tw := bufio.NewWriter(&top)
		transcode(tw, bytes.NewReader(msg), true, lines%50)
		tw.Flush()
		if !bytes.HasPrefix(wire.Bytes(), top.Bytes()) {
			t.Fatalf("TOP %d of %q = %q, not a prefix of %q", lines%50, msg, top.Bytes(), wire.Bytes())
		}
	})
}

// FuzzSession drives one whole session over net.Pipe: no panic, no hang,
// a greeting, and every line the server sends ended by CRLF.
func FuzzSession(f *testing.F) {
	f.Add([]byte("USER bob\r\nPASS bob\r\nSTAT\r\nLIST\r\nRETR 2\r\nTOP 3 1\r\nUIDL\r\nDELE 1\r\nRETR 1\r\nRSET\r\nNOOP\r\n"))
	f.Add([]byte("CAPA\r\nAUTH PLAIN\r\nAGFsaWNlAGFsaWNl\r\nLIST 1\r\nUIDL 1\r\nDELE 1\r\nQUIT\r\n"))
	f.Add([]byte("APOP bob 00000000000000000000000000000000\r\nUSER bob\nPASS bob\r\nSTLS\r\n"))
	f.Add([]byte("AUTH PLAIN AGJvYgBib2I=\r\nTOP 1 0\r\nTOP 2 999999999\r\nLIST 0\r\nSTLS\r\nUSER x\r\n"))
	// The libFuzzer shim's F is no testing.TB and lives for one input
	// (its Cleanup never runs): one store serves every input of the
	// process, refilled below when a session deleted from it.
	st, err := sessionStore()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) > 8192 {
			return
		}
		if list, _ := st.List("bob"); len(list) < 3 {
			for _, m := range ipop3.FixtureMessages {
				st.Deliver(m.Mailbox, []byte(m.Text))
			}
		}
		s := &Server{Store: st, Plaintext: PlaintextAlways, TLSConfig: fixtureTLS.ServerConfig(), LoginDelay: -1,
			IdleTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() { s.ServeConn(server); close(done) }()
		go func() {
			client.SetWriteDeadline(time.Now().Add(5 * time.Second))
			client.Write(input)
			client.Write([]byte("\r\nQUIT\r\n"))
		}()
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		out, _ := io.ReadAll(io.LimitReader(client, 1<<20))
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the session did not end")
		}
		if !bytes.HasPrefix(out, []byte("+OK ")) {
			t.Fatalf("no greeting: %q", out)
		}
		lines := bytes.Split(out, []byte("\n"))
		for _, l := range lines[:len(lines)-1] {
			if !bytes.HasSuffix(l, []byte("\r")) {
				t.Fatalf("a line without CRLF: %q", l)
			}
		}
	})
}

var (
	sessionOnce sync.Once
	sessionSt   *mailstore.Store
	sessionErr  error
)

// sessionStore is FuzzSession's fixture store, made once per process in a
// temporary directory.
func sessionStore() (*mailstore.Store, error) {
	sessionOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pop3-fuzz-")
		if err != nil {
			sessionErr = err
			return
		}
		sessionSt, sessionErr = fixtureStoreAt(dir)
	})
	return sessionSt, sessionErr
}
