package smtp

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBDAT(t *testing.T) {
	addr, srv := start(t, &Server{MaxErrors: 100})
	v := dialConv(t, addr)
	if ehlo := v.do("EHLO client.test", "250 HELP"); !strings.Contains(ehlo, "250-CHUNKING\r\n") {
		t.Fatalf("EHLO: %q", ehlo)
	}
	// Refused BDATs still have their chunk read: "RSET" inside it is
	// not a command.
	v.send("BDAT 6\r\nRSET\r\n")
	v.expect("503 5.5.1")
	v.do("BDAT x", "501 5.5.4")
	v.do("BDAT 1 NOTLAST", "501 5.5.4")
	v.do("BDAT -1", "501 5.5.4")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	// Binary octets, a bare LF, a lone "." line and no dot-stuffing.
	text := "Subject: chunks\r\n\r\n.\r\nbare\nlf\x00\xff\r\n"
	v.send(fmt.Sprintf("BDAT %d\r\n%s", 10, text[:10]))
	v.expect("250 2.0.0")
	v.do("DATA", "503 5.5.1") // no DATA after BDAT
	v.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(text)-10, text[10:]))
	v.expect("250 2.0.0 Ok: queued as ")
	// BDAT 0 LAST: an empty message.
	v.do("MAIL FROM:<>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.do("BDAT 0 LAST", "250 2.0.0 Ok: queued as ")
	// Pipelined: MAIL, RCPT and two chunks in one write.
	v.send("MAIL FROM:<a@alice.test>\r\nRCPT TO:<alice@alice.test>\r\nBDAT 3\r\nab\nBDAT 4 last\r\ncd\r\n")
	for _, want := range []string{"250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0 Ok: queued"} {
		v.expect(want)
	}
	// BDAT after LAST: no transaction.
	v.send("BDAT 2\r\nxy")
	v.expect("503 5.5.1")
	bob := messages(t, srv.Store, "bob")
	if len(bob) != 2 || body(bob[0]) != ".\r\nbare\nlf\x00\xff\r\n" || !strings.HasPrefix(bob[0], "Return-Path: <a@alice.test>\r\nReceived: from client.test") || !strings.HasSuffix(bob[1], "\r\n") {
		t.Fatalf("bob: %q", bob)
	}
	if a := messages(t, srv.Store, "alice"); len(a) != 1 || !strings.HasSuffix(a[0], "\r\nab\ncd\r\n") {
		t.Fatalf("alice: %q", a)
	}
	// RSET drops chunks sent so far.
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.send("BDAT 5\r\nhello")
	v.expect("250 ")
	v.do("RSET", "250 ")
	v.do("BDAT 0 LAST", "503 5.5.1")
	if n := len(messages(t, srv.Store, "bob")); n != 2 {
		t.Fatalf("bob has %d messages after RSET", n)
	}
	// HELO sessions have no CHUNKING.
	v.do("HELO client.test", "250 ")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.send("BDAT 4 LAST\r\nQUIT")
	v.expect("503 5.5.1")
	v.do("NOOP", "250 ")
}

// The SIZE limit holds across chunks: 552, the chunk read all the same,
// and every later BDAT 503 until RSET.
func TestBDATSize(t *testing.T) {
	addr, srv := start(t, nil)
	max := srv.Store.MaxMessageBytes() - headerAllowance
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	half := max/2 + 1
	chunk := strings.Repeat("z", int(half))
	go func() {
		v.c.Write([]byte(fmt.Sprintf("BDAT %d\r\n%s", half, chunk)))
		v.c.Write([]byte(fmt.Sprintf("BDAT %d\r\n%s", half, chunk)))
		v.c.Write([]byte("BDAT 4 LAST\r\nNOOP"))
	}()
	v.expect("250 2.0.0")
	v.expect("552 5.3.4")
	v.expect("503 5.5.1")
	v.do("RSET", "250 ")
	if m := messages(t, srv.Store, "bob"); len(m) != 0 {
		t.Fatal("an oversized message stored")
	}
}

func TestBDATTimeout(t *testing.T) {
	addr, srv := start(t, &Server{DataTimeout: 300 * time.Millisecond})
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	v.send("BDAT 100 LAST\r\nonly a part")
	v.expect("421 4.4.2")
	if m := messages(t, srv.Store, "bob"); len(m) != 0 {
		t.Fatal("a partial message stored")
	}
	for deadline := time.Now().Add(5 * time.Second); srv.sessionCount() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if tmp, _ := filepath.Glob(filepath.Join(srv.Store.Root(), "bob", "tmp", "*")); len(tmp) != 0 {
		t.Fatalf("drafts left in tmp: %v", tmp)
	}
}

func TestBDATLoop(t *testing.T) {
	addr, srv := start(t, nil)
	v := dialConv(t, addr)
	v.do("EHLO client.test", "250 HELP")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	hdr := strings.Repeat("Received: from x by y; Thu, 1 Jan 2026 00:00:00 +0000\r\n", MaxHops+1) + "\r\nx\r\n"
	// Cut in the middle of a "Received:".
	v.send(fmt.Sprintf("BDAT %d\r\n%s", 60, hdr[:60]))
	v.expect("250 ")
	v.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(hdr)-60, hdr[60:]))
	v.expect("554 5.4.6")
	if m := messages(t, srv.Store, "bob"); len(m) != 0 {
		t.Fatal("a looping message stored")
	}
	// MaxHops of them pass, and a Received in the body does not count.
	v.do("RSET", "250 ")
	v.do("MAIL FROM:<a@alice.test>", "250 ")
	v.do("RCPT TO:<bob@bob.test>", "250 ")
	hdr = strings.Repeat("received: x\r\n", MaxHops) + "\r\n" + strings.Repeat("Received: y\r\n", 10)
	v.send(fmt.Sprintf("BDAT %d LAST\r\n%s", len(hdr), hdr))
	v.expect("250 2.0.0")
}

func TestHopCounter(t *testing.T) {
	for _, c := range []struct {
		in   string
		hops int
	}{
		{"Received: a\r\nReceived: b\r\n\r\nReceived: c\r\n", 2},
		{"X-Received: a\r\nReceivedx: b\r\nRECEIVED:c\n\nReceived: d", 1},
		{"Subject: x\r\n Received: folded\r\n", 0},
		{"Receive", 0},
	} {
		for cut := 0; cut <= len(c.in); cut++ {
			var h hopCounter
			h.scan([]byte(c.in[:cut]))
			h.scan([]byte(c.in[cut:]))
			if h.hops != c.hops {
				t.Errorf("%q cut at %d: %d hops, want %d", c.in, cut, h.hops, c.hops)
			}
		}
	}
}
