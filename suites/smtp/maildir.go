package smtp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/protospec/protospec/suites/spec"
)

// The deliveries a spec sees: the target's Maildir store (the directory
// smtp.DirMaildir of the target, laid out as the mail fixture writes it:
// DIR/bob, DIR/alice, DIR/postmaster, each with new/ and cur/). Each
// letter carries a token no other spec uses, so a spec finds its own
// message among the others'.

// letter is one message a spec sends: its text as it is before
// dot-stuffing, ending in CRLF, and the token in its Subject.
type letter struct {
	token string
	raw   []byte
	body  []byte
}

// newLetter makes a message with a header section naming a new token and
// the given body (CRLF line ends).
func newLetter(body string) letter {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tok := "protospec-" + hex.EncodeToString(b)
	hdr := "From: <" + sender + ">\r\n" +
		"To: <" + rcptBob + ">\r\n" +
		"Subject: " + tok + "\r\n" +
		"Message-ID: <" + tok + "@protospec.test>\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"\r\n"
	return letter{token: tok, raw: []byte(hdr + body), body: []byte(body)}
}

// withHeader returns l with the header lines (CRLF-ended) in front.
func (l letter) withHeader(lines string) letter {
	l.raw = append([]byte(lines), l.raw...)
	return l
}

// maildir is the target's Maildir root, or a skip when it has none.
func maildir(t *spec.T) string { return t.Dir(dirMaildir) }

// lf turns every CRLF into LF: a Maildir on Unix may store either.
func lf(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

// find returns the messages of mailbox (under root) that carry token.
func find(root, mailbox, token string) ([][]byte, error) {
	var out [][]byte
	for _, sub := range []string{"new", "cur"} {
		dir := filepath.Join(root, mailbox, sub)
		ents, err := os.ReadDir(dir)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue // moved meanwhile
			}
			if bytes.Contains(b, []byte(token)) {
				out = append(out, b)
			}
		}
	}
	return out, nil
}

// waitDelivered polls mailbox for the letter's token for up to a few
// seconds (a server may hand the message to a delivery agent after its
// 250) and returns the file, or nil.
func waitDelivered(t *spec.T, root, mailbox string, l letter, d time.Duration) []byte {
	deadline := time.Now().Add(t.Scaled(d))
	for {
		got, err := find(root, mailbox, l.token)
		t.Check(err)
		if len(got) > 0 {
			if len(got) > 1 {
				t.Mismatch("the message delivered once to "+mailbox, "%d copies", len(got))
			}
			return got[0]
		}
		if time.Now().After(deadline) || t.Context().Err() != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectDelivered fails the spec unless the letter landed in mailbox,
// exactly: the delivered file is the letter after the trace fields the
// server put in front (RFC 5321 4.4). It returns the fields in front.
func expectDelivered(t *spec.T, root, mailbox string, l letter) []byte {
	got := waitDelivered(t, root, mailbox, l, deliveryWait)
	if got == nil {
		t.Mismatch(fmt.Sprintf("the message %s in the Maildir %s after the 250 to the end of data", l.token, mailbox), "not there after %v", t.Scaled(deliveryWait))
	}
	g, want := lf(got), lf(l.raw)
	if !bytes.HasSuffix(g, want) {
		t.Check(spec.Equal("the delivered message after the server's trace fields", want, g[max(0, len(g)-len(want)):]))
	}
	front := g[:len(g)-len(want)]
	for _, line := range strings.SplitAfter(string(front), "\n") {
		if line == "" {
			continue
		}
		if line == "\n" || !(line[0] == ' ' || line[0] == '\t' || strings.Contains(line, ":")) {
			t.Mismatch("only header fields in front of the message as sent", "%q", line)
		}
	}
	return front
}

// expectNotDelivered fails the spec if a message with the letter's token
// lands in mailbox within the delivery wait.
func expectNotDelivered(t *spec.T, root, mailbox string, l letter, why string) {
	if got := waitDelivered(t, root, mailbox, l, refusalWait); got != nil {
		t.Mismatch("no message "+l.token+" in the Maildir "+mailbox+" ("+why+")", "delivered: %s", spec.Excerpt(got, 300))
	}
}

// received returns the Received fields (unfolded) among header lines.
func received(front []byte) []string {
	var out []string
	for _, f := range fields(front) {
		if len(f) >= 9 && strings.EqualFold(f[:9], "received:") {
			out = append(out, f)
		}
	}
	return out
}

// fields unfolds header lines (LF ends) into fields.
func fields(hdr []byte) []string {
	var out []string
	for _, line := range strings.Split(string(hdr), "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1] += " " + strings.TrimSpace(line)
			continue
		}
		out = append(out, line)
	}
	return out
}
