package netutiltest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// FDLimit is the child's descriptor limit (RLIMIT_NOFILE).
const FDLimit = 64

// FDTest describes one descriptor-exhaustion test.
type FDTest struct {
	// Env names the variable (set to "1") that marks the child process.
	Env string
	// ExtraEnv are more NAME=value variables for the child.
	ExtraEnv []string
	// MinConns, when above 0, fails the test when fewer connections
	// opened: the child's descriptors were then not exhausted.
	MinConns int
	// Serves reports whether the server at addr answers one request well.
	Serves func(addr string) bool
}

// IsFDChild reports whether this process is the child FDExhaustion
// started, marked by the variable env.
func IsFDChild(env string) bool { return os.Getenv(env) == "1" }

// ServeWithFewFDs is the child's side: it listens on loopback, lowers its
// descriptor limit to FDLimit, prints its address and serves; it exits 2
// when it cannot start and 3 when serve returns. It never returns.
func ServeWithFewFDs(serve func(l net.Listener) error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(2)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: FDLimit, Max: FDLimit}); err != nil {
		os.Exit(2)
	}
	fmt.Printf("addr %s\n", l.Addr())
	err = serve(l)
	fmt.Fprintf(os.Stderr, "child: Serve returned %v\n", err)
	os.Exit(3)
}

// FDExhaustion reruns the calling test in a child process (which calls
// ServeWithFewFDs), opens 100 connections to it so that accept fails with
// EMFILE, closes them, and checks within 10 seconds that the child still
// serves and has not exited.
func FDExhaustion(t *testing.T, ft FDTest) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	cmd.Env = append(append(os.Environ(), ft.Env+"=1"), ft.ExtraEnv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	childFailed := func(when string) {
		t.Helper()
		select {
		case <-exited:
			t.Fatalf("server process exited %s: %v\n%s", when, waitErr, stderr.String())
		default:
		}
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "addr "))

	// Hold more connections than the child has descriptors, each one
	// answered (so accepted) or not, then let them go.
	var conns []net.Conn
	d := dial.Dialer{Timeout: 2 * time.Second}
	for range 100 {
		c, err := d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr})
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	if len(conns) < ft.MinConns {
		t.Fatalf("only %d connections opened: the child's descriptors were not exhausted", len(conns))
	}
	for _, c := range conns {
		c.Close()
	}
	childFailed("while its descriptors were exhausted")

	deadline := time.Now().Add(10 * time.Second)
	for {
		if ft.Serves(addr) {
			return
		}
		childFailed("after descriptor exhaustion")
		if time.Now().After(deadline) {
			t.Fatal("server does not serve after descriptor exhaustion")
		}
	}
}
