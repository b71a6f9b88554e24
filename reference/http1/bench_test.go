package http1

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// BenchmarkServeHello measures keep-alive GET /hello.txt over one loopback
// connection, one request in flight at a time.
func BenchmarkServeHello(b *testing.B) {
	_, addr := startServer(b, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET /hello.txt HTTP/1.1\r\nHost: bench\r\n\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		r, err := readResponse(br, false)
		if err != nil || r.Code != 200 || len(r.Body) != 14 {
			b.Fatalf("response %v %v", r, err)
		}
	}
}
