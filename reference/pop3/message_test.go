package pop3

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
)

func TestTranscode(t *testing.T) {
	for _, c := range []struct {
		in        string
		bodyLines int
		wire      string
		size      int64
	}{
		{"a\r\nb\r\n", -1, "a\r\nb\r\n", 6},
		{"a\nb\n", -1, "a\r\nb\r\n", 6},                        // bare LF made CRLF
		{"a\rb\r\n", -1, "a\rb\r\n", 5},                        // a bare CR kept
		{"no end", -1, "no end\r\n", 8},                        // a last line ended
		{".\r\n..x\r\nx.\r\n", -1, "..\r\n...x\r\nx.\r\n", 12}, // stuffed, size without it
		{"", -1, "", 0},
		{"H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n", 2, "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n", 0},
		{"H: 1\r\n\r\nb1\r\n", 0, "H: 1\r\n\r\n", 0},
		{"H: 1\r\nno body\r\n", 1, "H: 1\r\nno body\r\n", 0},
		{"H: 1\n\n.b1\n", 5, "H: 1\r\n\r\n..b1\r\n", 0},
	} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		n, err := transcode(w, strings.NewReader(c.in), true, c.bodyLines)
		w.Flush()
		if err != nil || b.String() != c.wire || (c.bodyLines < 0 && n != c.size) {
			t.Errorf("transcode(%q, %d) = %q, %d, %v; want %q, %d", c.in, c.bodyLines, b.String(), n, err, c.wire, c.size)
		}
	}
}

// TestLargeMessageStreams retrieves a message of 8 MiB of LF-ended lines:
// the session's buffers stay what they are, the size LIST reports is that
// of the CRLF text RETR sends.
func TestLargeMessageStreams(t *testing.T) {
	st, err := mailstore.Open(t.TempDir(), 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("0123456789", 7) + "\n"
	big := "Subject: big\n\n" + strings.Repeat(line, (8<<20)/len(line))
	if _, err := st.Deliver("bob", []byte(big)); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, &Server{Store: st})
	v := dialConv(t, addr)
	v.login("bob", "bob")
	want := int64(len(big) + strings.Count(big, "\n"))
	v.do("LIST 1", "+OK 1 "+strconv.FormatInt(want, 10))
	v.do("RETR 1", "+OK")
	n, err := io.Copy(io.Discard, io.LimitReader(v.r, want+3))
	if err != nil || n != want+3 {
		t.Fatalf("RETR sent %d octets, %v; want %d", n, err, want+3)
	}
	v.do("QUIT", "+OK")
}

// BenchmarkRetr measures one RETR of a 64 KiB message over loopback.
func BenchmarkRetr(b *testing.B) {
	st, err := mailstore.Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 1024)
	if _, err := st.Deliver("bob", msg); err != nil {
		b.Fatal(err)
	}
	srv := &Server{Store: st}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	r.ReadString('\n')
	c.Write([]byte("USER bob\r\nPASS bob\r\n"))
	r.ReadString('\n')
	r.ReadString('\n')
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		c.Write([]byte("RETR 1\r\n"))
		for {
			l, err := r.ReadSlice('\n')
			if err != nil && err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
			if string(l) == ".\r\n" {
				break
			}
		}
	}
}

// TestWriteDeadline pipelines RETRs of a 1 MiB message and reads
// nothing: the server's write deadline ends the session, which releases
// the maildrop's lock.
func TestWriteDeadline(t *testing.T) {
	st := fixtureStore(t)
	if _, err := st.Deliver("alice", bytes.Repeat([]byte("x\r\n"), 350_000)); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, &Server{Store: st, WriteTimeout: 300 * time.Millisecond})
	v := dialConv(t, addr)
	v.login("alice", "alice")
	v.send(strings.Repeat("RETR 2\r\n", 30))
	for i := 0; ; i++ {
		w := dialConv(t, addr)
		w.do("USER alice", "+OK")
		w.send("PASS alice\r\n")
		l := w.line()
		if strings.HasPrefix(l, "+OK") {
			break
		}
		if !strings.HasPrefix(l, "-ERR [IN-USE]") || i > 200 {
			t.Fatalf("login while the stalled session holds the lock: %q", l)
		}
		w.c.Close()
		time.Sleep(50 * time.Millisecond)
	}
}
