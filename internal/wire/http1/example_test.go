package http1_test

import (
	"fmt"

	wire "github.com/protospec/protospec/internal/wire/http1"
)

// Feed the bytes of a connection as they arrive and take the messages.
func Example() {
	d := wire.NewRequestDecoder(wire.Limits{})
	d.Feed([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /form HTTP/1.1\r\nHost : a\r\nContent-Le"))
	d.Feed([]byte("ngth: 5\r\n\r\nhello"))
	for m, ok := d.Next(); ok; m, ok = d.Next() {
		fmt.Printf("%s %s %s %d bytes, content %q\n", m.Method, m.Target, m.Framing, m.Len, m.Body)
		for _, p := range m.Problems {
			fmt.Println(" ", p.Level(), p.Rule())
		}
	}
	// Output:
	// GET / none 27 bytes, content ""
	// POST /form content-length 57 bytes, content "hello"
	//   MUST http1/rfc9112/5.1/no-space-before-colon
	//   MUST http1/rfc9112/3.2/host-required
}
