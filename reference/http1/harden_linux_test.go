package http1

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
)

// TestAcceptSurvivesFDExhaustion runs a server in a child process whose
// descriptor limit is 64, opens 100 connections to it so that accept fails
// with EMFILE, closes them, and checks the child still serves.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	if os.Getenv("PROTOSPEC_EMFILE_CHILD") == "1" {
		emfileChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcceptSurvivesFDExhaustion$")
	cmd.Env = append(os.Environ(), "PROTOSPEC_EMFILE_CHILD=1", "PROTOSPEC_EMFILE_ROOT="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	go func() { waitErr = cmd.Wait(); close(exited) }()
	addr := strings.TrimSpace(strings.TrimPrefix(line, "addr "))
	var conns []net.Conn
	for range 100 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	select {
	case <-exited:
		t.Fatalf("server process exited while descriptors were exhausted: %v", waitErr)
	default:
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintf(c, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			r, err := readResponse(bufio.NewReader(c), false)
			c.Close()
			if err == nil && r.Code == 200 {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("server process exited after descriptor exhaustion: %v", waitErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server does not serve after descriptor exhaustion")
		}
	}
}

// emfileChild serves the fixture with RLIMIT_NOFILE 64 and prints its
// address; it exits 3 if Serve returns.
func emfileChild() {
	root := os.Getenv("PROTOSPEC_EMFILE_ROOT")
	if err := fixture.Write(root); err != nil {
		os.Exit(2)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(2)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 64, Max: 64}); err != nil {
		os.Exit(2)
	}
	fmt.Printf("addr %s\n", l.Addr())
	s := &Server{Root: root}
	err = s.Serve(l)
	fmt.Fprintf(os.Stderr, "child: Serve returned %v\n", err)
	os.Exit(3)
}
