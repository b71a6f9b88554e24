package pop3

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
// EMFILE, closes them, and checks the child still greets and logs bob in.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	const env = "PROTOSPEC_POP3_EMFILE_CHILD"
	if netutiltest.IsFDChild(env) {
		st, err := mailstore.Open(os.Getenv("PROTOSPEC_POP3_EMFILE_STORE"), 0)
		if err != nil {
			os.Exit(2)
		}
		netutiltest.ServeWithFewFDs((&Server{Store: st, MaxConns: 1000, MaxConnsPerClient: 1000}).Serve)
	}
	dir := t.TempDir()
	if _, err := fixtureStoreAt(dir); err != nil {
		t.Fatal(err)
	}
	netutiltest.FDExhaustion(t, netutiltest.FDTest{Env: env, MinConns: 70,
		ExtraEnv: []string{"PROTOSPEC_POP3_EMFILE_STORE=" + dir}, Serves: servesLogin})
}

func servesLogin(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	for _, cmd := range []string{"", "USER bob\r\n", "PASS bob\r\n", "QUIT\r\n"} {
		if cmd != "" {
			c.Write([]byte(cmd))
		}
		if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+OK") {
			return false
		}
	}
	return true
}
