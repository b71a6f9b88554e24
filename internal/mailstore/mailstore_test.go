package mailstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func open(t *testing.T, max int64) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), max)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeliverListReadDelete(t *testing.T) {
	s := open(t, 0)
	msg := []byte("Subject: hi\r\n\r\nhello\r\n")
	id, err := s.Deliver("bob", msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "bob", "new", id)); err != nil {
		t.Fatalf("not in new/: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), "bob", "tmp")); len(ents) != 0 {
		t.Fatalf("tmp/ not empty after delivery: %v", ents)
	}
	list, err := s.List("bob")
	if err != nil || len(list) != 1 || list[0].ID != id || !list[0].New || list[0].Size != int64(len(msg)) {
		t.Fatalf("List = %+v, %v", list, err)
	}
	got, err := s.Read("bob", id)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Read = %q, %v", got, err)
	}
	if err := s.SetFlags("bob", id, "RS"); err != nil {
		t.Fatal(err)
	}
	list, _ = s.List("bob")
	if len(list) != 1 || list[0].New || list[0].Flags != "RS" {
		t.Fatalf("after SetFlags: %+v", list)
	}
	if got, err := s.Read("bob", id); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Read from cur/ = %q, %v", got, err)
	}
	if err := s.SetFlags("bob", id, "SR"); err == nil {
		t.Fatal("flags out of order accepted")
	}
	if err := s.Delete("bob", id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read("bob", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read after Delete: %v", err)
	}
	if err := s.Delete("bob", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := s.List("nobody"); !errors.Is(err, ErrNoMailbox) {
		t.Fatalf("List of a missing mailbox: %v", err)
	}
}

func TestMailboxNamesCannotEscape(t *testing.T) {
	s := open(t, 0)
	for _, name := range []string{"", ".", "..", "../x", "a/b", "/etc", ".hidden", "a\x00b", "a\\b", "ä", strings.Repeat("a", MaxMailboxName+1), "-x"} {
		if _, err := s.Deliver(name, []byte("x")); !errors.Is(err, ErrBadMailbox) {
			t.Errorf("Deliver(%q) = %v, want ErrBadMailbox", name, err)
		}
		if _, err := s.List(name); !errors.Is(err, ErrBadMailbox) {
			t.Errorf("List(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"bob", "Bob.Smith", "a+tag", "x_y-z", strings.Repeat("a", MaxMailboxName)} {
		if err := ValidMailbox(name); err != nil {
			t.Errorf("ValidMailbox(%q) = %v", name, err)
		}
	}
	if _, err := s.Deliver("bob", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../../etc/passwd", "..", ".x", "a/b", "", "x:2,S"} {
		if _, err := s.Read("bob", id); !errors.Is(err, ErrBadID) {
			t.Errorf("Read(%q) = %v, want ErrBadID", id, err)
		}
		if err := s.Delete("bob", id); !errors.Is(err, ErrBadID) {
			t.Errorf("Delete(%q) = %v, want ErrBadID", id, err)
		}
	}
	ents, _ := os.ReadDir(s.Root())
	if len(ents) != 1 || ents[0].Name() != "bob" {
		t.Fatalf("store holds %v", ents)
	}
}

func TestSizeLimit(t *testing.T) {
	s := open(t, 10)
	if _, err := s.Deliver("bob", []byte("0123456789")); err != nil {
		t.Fatalf("a message of exactly the limit: %v", err)
	}
	if _, err := s.Deliver("bob", []byte("0123456789x")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	d, err := s.NewDraft("bob")
	if err != nil {
		t.Fatal(err)
	}
	d.Write([]byte("01234"))
	d.Write([]byte("56789"))
	if _, err := d.Write([]byte("x")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Write past the limit: %v", err)
	}
	if _, err := d.Commit(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Commit of a too large draft: %v", err)
	}
	list, _ := s.List("bob")
	if len(list) != 1 {
		t.Fatalf("%d messages, want the one under the limit", len(list))
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root(), "bob", "tmp")); len(ents) != 0 {
		t.Fatalf("tmp/ keeps %v", ents)
	}
}

func TestDraftToSeveralMailboxes(t *testing.T) {
	s := open(t, 0)
	d, err := s.NewDraft("bob", "alice", "bob")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(d, "Subject: both\r\n\r\nx\r\n")
	id, err := d.Commit()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"bob", "alice"} {
		list, err := s.List(m)
		if err != nil || len(list) != 1 || list[0].ID != id {
			t.Fatalf("%s: %+v %v", m, list, err)
		}
	}
	// Deleting one copy leaves the other.
	if err := s.Delete("bob", id); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Read("alice", id); err != nil || !strings.Contains(string(b), "both") {
		t.Fatalf("alice's copy: %q %v", b, err)
	}
	if _, err := d.Commit(); !errors.Is(err, ErrDraftFinished) {
		t.Fatalf("second Commit: %v", err)
	}
	d2, _ := s.NewDraft("bob")
	d2.Write([]byte("gone"))
	d2.Abort()
	if list, _ := s.List("bob"); len(list) != 0 {
		t.Fatalf("an aborted draft is listed: %+v", list)
	}
}

func TestUniqueNamesConcurrent(t *testing.T) {
	s := open(t, 0)
	const n = 200
	var wg sync.WaitGroup
	ids := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id, err := s.Deliver("bob", []byte(fmt.Sprintf("m%d", i)))
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}(i)
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %s twice", id)
		}
		seen[id] = true
		if !uniqueNameRE(id) {
			t.Fatalf("id %q is not a Maildir unique name", id)
		}
	}
	if list, _ := s.List("bob"); len(list) != n {
		t.Fatalf("%d listed, want %d", len(list), n)
	}
}

// uniqueNameRE checks the shape secs.M<usec>P<pid>Q<n>R<hex>.host.
func uniqueNameRE(id string) bool {
	var sec, usec, pid, q int
	var rest string
	n, _ := fmt.Sscanf(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.Replace(id, ".M", " ", 1), "P", " "), "Q", " "), "R", " "), "%d %d %d %d %s", &sec, &usec, &pid, &q, &rest)
	return n == 5 && pid == os.Getpid() && usec < 1000000 && strings.Contains(rest, ".") && validID(id) == nil
}

func TestCleanTmp(t *testing.T) {
	s := open(t, 0)
	d, _ := s.NewDraft("bob")
	d.Write([]byte("left by a crash"))
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(d.path, old, old)
	d.f.Close()
	if n, err := s.CleanTmp(36 * time.Hour); err != nil || n != 1 {
		t.Fatalf("CleanTmp = %d, %v", n, err)
	}
}

// crashEnv marks the child of TestKillAfterDeliver.
const crashEnv = "MAILSTORE_CRASH_CHILD"

func crashMessage(i int) []byte {
	return []byte(fmt.Sprintf("Subject: %d\r\n\r\n%s\r\n", i, strings.Repeat(fmt.Sprintf("line %d\r\n", i), 500)))
}

// crashChild delivers messages one after the other into the store its
// environment names, printing each id once Deliver returned, until killed.
func crashChild() {
	s, err := Open(os.Getenv(crashEnv), 0)
	if err != nil {
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		id, err := s.Deliver("bob", crashMessage(i))
		if err != nil {
			os.Exit(3)
		}
		fmt.Fprintf(w, "%d %s\n", i, id)
		w.Flush()
	}
}

// TestKillAfterDeliver re-executes the test binary as a child that
// delivers without pause and kills it with SIGKILL right after it reported
// some deliveries: every message whose Deliver returned is complete, and
// new/ holds nothing that is not a complete message (a kill mid-delivery
// leaves at most a file in tmp/).
//
// SIGKILL proves the order of the steps (nothing is in new/ before it is
// complete); the fsyncs are what makes the same hold for a power loss,
// which a test cannot produce.
func TestKillAfterDeliver(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild()
	}
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillAfterDeliver$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		reported := map[string]int{}
		want := 5 + round*20
		for len(reported) < want && sc.Scan() {
			var i int
			var id string
			if _, err := fmt.Sscanf(sc.Text(), "%d %s", &i, &id); err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			reported[id] = i
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if len(reported) < want {
			t.Fatalf("child reported %d deliveries before it died", len(reported))
		}
		s, err := Open(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for id, i := range reported {
			b, err := s.Read("bob", id)
			if err != nil || !bytes.Equal(b, crashMessage(i)) {
				t.Fatalf("message %d (%s) after the kill: %d bytes, %v", i, id, len(b), err)
			}
		}
		list, _ := s.List("bob")
		for _, m := range list {
			b, err := s.Read("bob", m.ID)
			var i int
			if err != nil || len(b) < 10 {
				t.Fatalf("listed %s unreadable: %v", m.ID, err)
			}
			fmt.Sscanf(string(b), "Subject: %d", &i)
			if !bytes.Equal(b, crashMessage(i)) {
				t.Fatalf("new/ holds an incomplete message %s (%d bytes)", m.ID, len(b))
			}
		}
		t.Logf("round %d: %d reported, %d in new/", round, len(reported), len(list))
	}
}

// BenchmarkDeliver measures one durable delivery of a 4 KiB message
// (two fsyncs and a link).
func BenchmarkDeliver(b *testing.B) {
	s, err := Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte("0123456789abcdef\r\n"), 228)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := s.Deliver("bob", msg); err != nil {
			b.Fatal(err)
		}
	}
}
