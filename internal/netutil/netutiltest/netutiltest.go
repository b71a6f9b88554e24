// Package netutiltest holds the protocol-free test servers and harnesses
// the protocols' tests share: a loopback TCP server that hands each
// connection to the test, and (on Linux) a server in a child process that
// runs out of descriptors and must keep serving.
//
//	addr := netutiltest.ServeTCP(t, func(c net.Conn) { io.WriteString(c, "hello\r\n") })
//
//	func TestAcceptSurvivesFDExhaustion(t *testing.T) {
//		if netutiltest.IsFDChild("MY_CHILD") {
//			netutiltest.ServeWithFewFDs(func(l net.Listener) error { return srv.Serve(l) })
//		}
//		netutiltest.FDExhaustion(t, netutiltest.FDTest{Env: "MY_CHILD", Serves: serves})
//	}
package netutiltest

import (
	"net"
	"testing"
	"time"
)

// ServeTCP listens on a loopback port until the test ends and runs handle
// on each connection it accepts, in its own goroutine, with a deadline of
// five seconds, closing the connection when handle returns. It returns the
// address.
func ServeTCP(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}
