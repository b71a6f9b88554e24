package echo_test

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/protospec/protospec/reference/echo"
)

// ExampleServer runs the uppercase service on an ephemeral loopback port and
// sends it one line.
func ExampleServer() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &echo.Server{Service: echo.Uppercase}
	go srv.Serve(l)
	defer srv.Close()

	c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(c, "héllo, world\r\n")
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", reply)
	// Output: "HéLLO, WORLD\r\n"
}
