package smtp

import (
	"bufio"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/netutil/netutiltest"
)

// TestAcceptSurvivesFDExhaustion runs the server in a child process whose
// descriptor limit is 64, opens 100 connections so that accept fails with
// EMFILE, closes them, and checks the child still answers EHLO.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	const env = "PROTOSPEC_SMTP_EMFILE_CHILD"
	if netutiltest.IsFDChild(env) {
		st, err := mailstore.Open(os.Getenv("PROTOSPEC_SMTP_EMFILE_STORE"), 0)
		if err != nil {
			os.Exit(2)
		}
		netutiltest.ServeWithFewFDs((&Server{Store: st, MaxConns: 1000, MaxConnsPerClient: 1000}).Serve)
	}
	netutiltest.FDExhaustion(t, netutiltest.FDTest{Env: env, MinConns: 70,
		ExtraEnv: []string{"PROTOSPEC_SMTP_EMFILE_STORE=" + t.TempDir()}, Serves: servesEHLO})
}

func servesEHLO(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "220 ") {
		return false
	}
	c.Write([]byte("EHLO client.test\r\n"))
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if strings.HasPrefix(l, "250 ") {
			return true
		}
	}
}
