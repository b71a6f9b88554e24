package pop3_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/protospec/protospec/internal/mailstore"
	ipop3 "github.com/protospec/protospec/internal/pop3"
	"github.com/protospec/protospec/reference/pop3"
)

// The server on a loopback port, serving the fixture: bob logs in and
// asks for the size of his maildrop.
func ExampleServer() {
	dir, _ := os.MkdirTemp("", "pop3-example")
	defer os.RemoveAll(dir)
	ipop3.WriteFixture(dir)
	st, _ := mailstore.Open(dir, 0)
	srv := &pop3.Server{Store: st}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Close()

	c, _ := net.Dial("tcp", l.Addr().String())
	defer c.Close()
	r := bufio.NewReader(c)
	greeting, _ := r.ReadString('\n')
	fmt.Println(strings.Fields(greeting)[0])
	fmt.Fprint(c, "USER bob\r\nPASS bob\r\nSTAT\r\nQUIT\r\n")
	for range 4 {
		l, _ := r.ReadString('\n')
		fmt.Println(strings.TrimSpace(l))
	}
	// Output:
	// +OK
	// +OK Send PASS
	// +OK Maildrop locked and ready, 3 messages
	// +OK 3 388
	// +OK protospec POP3 reference signing off (0 messages deleted)
}
