package smtp

import (
	"bufio"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
)

const crashEnv = "PROTOSPEC_SMTP_CRASH_STORE"

// crashChild serves the store its environment names on a loopback port,
// printing the address, until killed.
func crashChild() {
	st, err := mailstore.Open(os.Getenv(crashEnv), 0)
	if err != nil {
		os.Exit(2)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(2)
	}
	fmt.Printf("addr %s\n", l.Addr())
	(&Server{Store: st}).Serve(l)
	os.Exit(3)
}

func crashText(i int) string {
	return fmt.Sprintf("Subject: crash %d\r\n\r\n%s", i, strings.Repeat(fmt.Sprintf("line %d of the text\r\n", i), 200))
}

// submit sends message i with net/smtp and reports whether the server
// answered 250 to its end of data.
func submit(c *smtp.Client, i int) bool {
	if c.Mail("alice@alice.test") != nil || c.Rcpt("bob@bob.test") != nil {
		return false
	}
	w, err := c.Data()
	if err != nil {
		return false
	}
	if _, err := w.Write([]byte(crashText(i))); err != nil {
		return false
	}
	return w.Close() == nil // the 250 after <CRLF>.<CRLF>
}

// submitBDAT sends message i in two BDAT chunks (RFC 3030) and reports
// whether the server answered 250 to BDAT LAST.
func submitBDAT(c *smtp.Client, i int) bool {
	if c.Mail("alice@alice.test") != nil || c.Rcpt("bob@bob.test") != nil {
		return false
	}
	text := crashText(i)
	half := len(text) / 2
	fmt.Fprintf(c.Text.W, "BDAT %d\r\n%s", half, text[:half])
	fmt.Fprintf(c.Text.W, "BDAT %d LAST\r\n%s", len(text)-half, text[half:])
	if c.Text.W.Flush() != nil {
		return false
	}
	if _, _, err := c.Text.ReadResponse(250); err != nil {
		return false
	}
	_, _, err := c.Text.ReadResponse(250) // the 250 to BDAT LAST
	return err == nil
}

// TestKillAfter250 re-executes the test binary as a server in a child
// process, submits a stream of messages with net/smtp and kills the child
// with SIGKILL: once right after a 250, once at a moment of its own
// while messages are in flight; then both again with BDAT instead of
// DATA. Every message answered 250 must be in
// bob's Maildir, complete and once; nothing else may be there but
// messages sent and not yet answered.
func TestKillAfter250(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		crashChild()
	}
	for round, mode := range []string{"right after a 250", "at a random moment", "BDAT, right after a 250", "BDAT, at a random moment"} {
		send := submit
		if round >= 2 {
			send = submitBDAT
		}
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillAfter250$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %v", err)
		}
		addr := strings.TrimSpace(strings.TrimPrefix(line, "addr "))
		c, err := smtp.Dial(addr)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal(err)
		}
		acked := map[int]bool{}
		sent := 0
		for i := 0; i < 2000; i++ {
			sent = i + 1
			if !send(c, i) {
				break
			}
			acked[i] = true
			if round%2 == 1 && i == 0 { // a random moment, once the stream runs
				time.AfterFunc(time.Duration(20+time.Now().UnixNano()%100)*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
			if round%2 == 0 && i == 20 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		c.Close()
		st, err := mailstore.Open(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := map[int]int{}
		for _, m := range messages(t, st, "bob") {
			var i int
			_, after, _ := strings.Cut(m, "Subject: crash ")
			if _, err := fmt.Sscanf(after, "%d", &i); err != nil || !strings.HasSuffix(m, crashText(i)) {
				t.Fatalf("an incomplete message in the mailbox: %d bytes", len(m))
			}
			found[i]++
		}
		for i := range acked {
			if found[i] != 1 {
				t.Errorf("%s: message %d answered 250, found %d times", mode, i, found[i])
			}
		}
		for i, n := range found {
			if !acked[i] && i != sent-1 {
				t.Errorf("%s: message %d stored %d times, never sent or answered", mode, i, n)
			}
		}
		t.Logf("%s: %d answered 250, %d in the mailbox", mode, len(acked), len(found))
		if len(acked) == 0 {
			t.Fatalf("%s: no message acknowledged before the kill", mode)
		}
	}
}

// BenchmarkSubmit measures one submission of a 4.6 KiB message over one
// net/smtp connection on loopback: MAIL, RCPT, DATA, the text, and the 250
// that says it is on disk.
func BenchmarkSubmit(b *testing.B) {
	st, err := mailstore.Open(b.TempDir(), 0)
	if err != nil {
		b.Fatal(err)
	}
	srv := &Server{Store: st}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	c, err := smtp.Dial(l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	i := 0
	for b.Loop() {
		if !submit(c, i) {
			b.Fatal("submission failed")
		}
		i++
	}
}
