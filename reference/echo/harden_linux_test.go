package echo

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAcceptSurvivesFDExhaustion runs a server in a child process whose
// descriptor limit is 64, opens 100 connections to it so that accept fails
// with EMFILE, closes them, and checks the child still serves.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	if os.Getenv("PROTOSPEC_ECHO_EMFILE_CHILD") == "1" {
		emfileChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcceptSurvivesFDExhaustion$")
	cmd.Env = append(os.Environ(), "PROTOSPEC_ECHO_EMFILE_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	go func() { waitErr = cmd.Wait(); close(exited) }()
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
	for range 100 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	if len(conns) < 64 {
		t.Fatalf("only %d connections opened: the child's descriptors were not exhausted", len(conns))
	}
	for _, c := range conns {
		c.Close()
	}
	childFailed("while its descriptors were exhausted")

	deadline := time.Now().Add(10 * time.Second)
	for {
		if echoed(addr) {
			return
		}
		childFailed("after descriptor exhaustion")
		if time.Now().After(deadline) {
			t.Fatal("server does not serve after descriptor exhaustion")
		}
	}
}

// echoed reports whether the echo server at addr echoes one byte.
func echoed(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		return false
	}
	b := make([]byte, 1)
	_, err = io.ReadFull(c, b)
	return err == nil && b[0] == 'x'
}

// emfileChild serves echo with RLIMIT_NOFILE 64 and prints its address; it
// exits 3 if Serve returns.
func emfileChild() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(2)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 64, Max: 64}); err != nil {
		os.Exit(2)
	}
	fmt.Printf("addr %s\n", l.Addr())
	s := &Server{Service: Echo}
	err = s.Serve(l)
	fmt.Fprintf(os.Stderr, "child: Serve returned %v\n", err)
	os.Exit(3)
}
