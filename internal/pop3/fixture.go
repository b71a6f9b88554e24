package pop3

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
)

// FixtureMessage is one message the fixture delivers: its maildrop and
// its text, every line ended by CRLF (so its size in octets is the size
// a POP3 server reports for it).
type FixtureMessage struct {
	Mailbox string
	Text    string
}

// fixtureEpoch is the delivery time of the first fixture message; each
// next one is a minute later, so every server lists them in this order.
var fixtureEpoch = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

// FixtureMessages are the messages WriteFixture delivers, in maildrop
// order: bob's three (a short one; one whose lines start with "." for
// byte-stuffing, RFC 1939 3; one with a header of three lines and a body
// of ten for TOP), then alice's one. Postmaster's maildrop is empty.
var FixtureMessages = []FixtureMessage{
	{Mailbox: "bob", Text: "From: alice@alice.test\r\nTo: bob@bob.test\r\nSubject: fixture 1\r\n\r\nHello bob.\r\n"},
	{Mailbox: "bob", Text: "From: alice@alice.test\r\nTo: bob@bob.test\r\nSubject: fixture 2, dots\r\n\r\n.\r\n..\r\n.leading dot\r\nnot a dot.\r\n.\r\n"},
	{Mailbox: "bob", Text: "From: alice@alice.test\r\nTo: bob@bob.test\r\nSubject: fixture 3, ten lines\r\n\r\n" + tenLines()},
	{Mailbox: "alice", Text: "From: bob@bob.test\r\nTo: alice@alice.test\r\nSubject: fixture for alice\r\n\r\nHello alice.\r\n"},
}

func tenLines() string {
	var b strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "body line %d\r\n", i)
	}
	return b.String()
}

// FixtureMaildrop returns the texts of mailbox's fixture messages in
// maildrop order: message number i (from 1) is element i-1.
func FixtureMaildrop(mailbox string) []string {
	var out []string
	for _, m := range FixtureMessages {
		if m.Mailbox == mailbox {
			out = append(out, m.Text)
		}
	}
	return out
}

// WriteFixture writes the mail fixture into dir: a Maildir for every
// mailbox of internal/mailstore's fixture (bob, alice, postmaster) and the
// FixtureMessages delivered into them, a minute apart from fixtureEpoch
// so that their order is the same for every server.
func WriteFixture(dir string) error {
	st, err := mailstore.Open(dir, DefaultMaxBytes)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, mb := range mailstore.FixtureMailboxes() {
		if seen[mb] {
			continue
		}
		seen[mb] = true
		if err := st.Create(mb); err != nil {
			return err
		}
	}
	for i, m := range FixtureMessages {
		id, err := st.Deliver(m.Mailbox, []byte(m.Text))
		if err != nil {
			return err
		}
		at := fixtureEpoch.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(filepath.Join(st.Root(), m.Mailbox, "new", id), at, at); err != nil {
			return err
		}
	}
	return nil
}
