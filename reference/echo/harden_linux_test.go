package echo

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/netutil/netutiltest"
)

// TestAcceptSurvivesFDExhaustion runs a server in a child process whose
// descriptor limit is 64, opens 100 connections to it so that accept fails
// with EMFILE, closes them, and checks the child still serves.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	const env = "PROTOSPEC_ECHO_EMFILE_CHILD"
	if netutiltest.IsFDChild(env) {
		netutiltest.ServeWithFewFDs((&Server{Service: Echo}).Serve)
	}
	netutiltest.FDExhaustion(t, netutiltest.FDTest{Env: env, MinConns: netutiltest.FDLimit, Serves: echoed})
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
