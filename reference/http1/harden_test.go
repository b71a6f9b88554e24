package http1

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// dialFrom connects to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) *client {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

// TestConnLimitDefaults checks that the zero Server has a connection limit
// and a per-client share.
func TestConnLimitDefaults(t *testing.T) {
	var s Server
	if s.maxConns() <= 0 || s.maxConnsPerClient() <= 0 || s.maxConnsPerClient() > s.maxConns() {
		t.Fatalf("limits %d, %d per client", s.maxConns(), s.maxConnsPerClient())
	}
}

// TestConnLimitPerClient checks one source address cannot take more than
// its share: its third connection gets 503, another address is served.
func TestConnLimitPerClient(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxConns = 10; s.MaxConnsPerClient = 2 })
	for range 2 {
		cl := dialFrom(t, "127.0.0.1", addr)
		cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		if r := cl.read(false); r.Code != 200 {
			t.Fatalf("connection within the share got %d", r.Code)
		}
	}
	if r := dialFrom(t, "127.0.0.1", addr).read(false); r.Code != 503 {
		t.Fatalf("connection over the share got %d, want 503", r.Code)
	}
	other := dialFrom(t, "127.0.0.2", addr)
	other.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := other.read(false); r.Code != 200 {
		t.Fatalf("another client got %d, want 200", r.Code)
	}
}
