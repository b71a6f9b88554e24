package pop3

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/protospec/protospec/internal/mailstore"
)

const crashEnv = "PROTOSPEC_POP3_CRASH_STORE"

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

// TestKillAfterQuit re-executes the test binary as a server in a child
// process. One session deletes message 1 and QUITs; a second marks the
// next message deleted and the child is killed with SIGKILL before it
// quits. The first deletion is on disk (it was answered +OK), the second
// is not (the session never reached the UPDATE state).
func TestKillAfterQuit(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		crashChild()
	}
	dir := t.TempDir()
	st, err := fixtureStoreAt(dir)
	if err != nil {
		t.Fatal(err)
	}
	before := ids(t, st, "bob")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillAfterQuit$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "addr "))
	a := dialConv(t, addr)
	a.login("bob", "bob")
	a.do("DELE 1", "+OK")
	a.do("QUIT", "+OK")
	b := waitLogin(t, addr, "")
	b.do("DELE 1", "+OK")
	b.do("NOOP", "+OK")
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if after := ids(t, reopen(t, &Server{Store: st}), "bob"); !slices.Equal(after, before[1:]) {
		t.Fatalf("after the kill: %q, want %q", after, before[1:])
	}
}
