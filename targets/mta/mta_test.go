package mta

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/smtp"
)

// TestMailboxes: every fixture address has its mailbox, and the bare
// Postmaster, qualified with Hostname, reaches the fixture's postmaster.
func TestMailboxes(t *testing.T) {
	got := map[string]string{}
	for _, m := range Mailboxes() {
		got[m.Address] = m.Mailbox
	}
	for addr, mb := range mailstore.FixtureMailboxes() {
		if got[addr] != mb {
			t.Errorf("%s: mailbox %q, want %q", addr, got[addr], mb)
		}
	}
	if got["postmaster@"+Hostname] != mailstore.PostmasterMailbox {
		t.Errorf("postmaster@%s: mailbox %q", Hostname, got["postmaster@"+Hostname])
	}
	for _, d := range []string{smtp.DomainBob, smtp.DomainAlice, Hostname} {
		if !slices.Contains(Domains(), d) {
			t.Errorf("domain %s is not delivered locally", d)
		}
	}
	if slices.Contains(Domains(), smtp.ForeignDomain) {
		t.Errorf("the foreign domain %s is local", smtp.ForeignDomain)
	}
}

// TestReachable: a directory under one that others cannot pass (no o+x,
// whoever runs the test) is refused, one under open ones is not.
func TestReachable(t *testing.T) {
	open := t.TempDir()
	// The test's directories are 0700: open them, as SMTPLifecycle does.
	for _, d := range []string{open, filepath.Dir(open)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for d := filepath.Dir(filepath.Dir(open)); d != filepath.Dir(d); d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o001 == 0 {
			t.Skipf("%s is not open to others: the test needs a TMPDIR that is", d)
		}
	}
	if err := Reachable(filepath.Join(open, "work")); err != nil {
		t.Errorf("under %s: %v", open, err)
	}
	closed := filepath.Join(t.TempDir(), "closed")
	if err := os.MkdirAll(filepath.Join(closed, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Reachable(filepath.Join(closed, "work")); err == nil {
		t.Error("a work directory under a mode 0700 directory was taken as reachable")
	}
}
