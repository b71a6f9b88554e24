package http1

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/netutil/netutiltest"
)

// TestAcceptSurvivesFDExhaustion runs a server in a child process whose
// descriptor limit is 64, opens 100 connections to it so that accept fails
// with EMFILE, closes them, and checks the child still serves.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	const env = "PROTOSPEC_EMFILE_CHILD"
	if netutiltest.IsFDChild(env) {
		root := os.Getenv("PROTOSPEC_EMFILE_ROOT")
		if err := fixture.Write(root); err != nil {
			os.Exit(2)
		}
		netutiltest.ServeWithFewFDs((&Server{Root: root}).Serve)
	}
	netutiltest.FDExhaustion(t, netutiltest.FDTest{Env: env, ExtraEnv: []string{"PROTOSPEC_EMFILE_ROOT=" + t.TempDir()}, Serves: servesHello})
}

// servesHello reports whether the server at addr answers a GET of the
// fixture's /hello.txt with a 200.
func servesHello(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	r, err := readResponse(bufio.NewReader(c), false)
	return err == nil && r.Code == 200
}
