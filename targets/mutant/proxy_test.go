package mutant

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestFramed(t *testing.T) {
	var seen []string
	s := Framed(bufio.ScanLines, 8, func(i int, msg []byte) ([]byte, Action) {
		seen = append(seen, string(msg))
		if i == 1 {
			return bytes.ToUpper(msg), Continue
		}
		return msg, Continue
	})
	var out []byte
	for _, p := range []string{"one\ntw", "o\nthr", "ee\nfour"} {
		o, closed := s.Next([]byte(p), false)
		if closed {
			t.Fatal("closed")
		}
		out = append(out, o...)
	}
	o, _ := s.Next(nil, true)
	out = append(out, o...)
	if string(out) != "one\nTWO\nthree\nfour" {
		t.Errorf("out %q", out)
	}
	if strings.Join(seen, "|") != "one\n|two\n|three\n|four" {
		t.Errorf("messages %q", seen)
	}

	// A message longer than the limit turns the stream transparent.
	s = Framed(bufio.ScanLines, 4, func(int, []byte) ([]byte, Action) { return []byte("X"), Continue })
	o1, _ := s.Next([]byte("a\nlonger than four"), false)
	o2, _ := s.Next([]byte("\nb\n"), false)
	if got := string(o1) + string(o2); got != "Xlonger than four\nb\n" {
		t.Errorf("over the limit: %q", got)
	}

	// Close drops what follows and asks for the connection's end.
	s = Framed(bufio.ScanLines, 0, func(int, []byte) ([]byte, Action) { return []byte("bye\n"), Close })
	if o, closed := s.Next([]byte("a\nb\n"), false); string(o) != "bye\n" || !closed {
		t.Errorf("close: %q %v", o, closed)
	}
}

// upstreamTCP is a TCP echo server that closes its side at the client's
// EOF; every accepted connection's remote address goes to peers.
func upstreamTCP(t *testing.T) (addr string, peers chan net.Addr) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	peers = make(chan net.Addr, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			peers <- c.RemoteAddr()
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), peers
}

func dialTCP(t *testing.T, from, addr string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c.(*net.TCPConn)
}

// exchange writes data, closes the write side and reads to the end.
func exchange(t *testing.T, c *net.TCPConn, data string) string {
	t.Helper()
	if _, err := c.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	got, err := io.ReadAll(io.LimitReader(c, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

func TestTCPProxy(t *testing.T) {
	up, peers := upstreamTCP(t)
	plain, err := ListenTCP("127.0.0.1:0", up, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	// Transparent, half-close passed on both ways, and the upstream sees
	// the client's own loopback address.
	if got := exchange(t, dialTCP(t, "127.0.0.2", plain.Addr()), "hello\nworld"); got != "hello\nworld" {
		t.Errorf("through the plain proxy: %q", got)
	}
	if a := (<-peers).(*net.TCPAddr); !a.IP.Equal(net.ParseIP("127.0.0.2")) {
		t.Errorf("upstream saw %s, want 127.0.0.2", a)
	}

	upper, err := ListenTCP("127.0.0.1:0", up, func() (Stream, Stream) {
		return StreamFunc(func(p []byte, _ bool) ([]byte, bool) { return bytes.ToUpper(p), false }), nil
	}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer upper.Close()
	if got := exchange(t, dialTCP(t, "", upper.Addr()), "hello"); got != "HELLO" {
		t.Errorf("through the uppercasing proxy: %q", got)
	}

	closing, err := ListenTCP("127.0.0.1:0", up, func() (Stream, Stream) {
		return Framed(bufio.ScanLines, 0, func(_ int, l []byte) ([]byte, Action) { return l, Close }), nil
	}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer closing.Close()
	c := dialTCP(t, "", closing.Addr())
	c.Write([]byte("one\ntwo\n"))
	if got, _ := io.ReadAll(io.LimitReader(c, 1<<20)); string(got) != "one\n" {
		t.Errorf("closing after the first line: %q", got)
	}
}

func TestTCPProxyBounds(t *testing.T) {
	up, _ := upstreamTCP(t)
	p, err := ListenTCP("127.0.0.1:0", up, nil, Limits{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	first := dialTCP(t, "", p.Addr())
	first.Write([]byte("x"))
	if _, err := io.ReadFull(first, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// The second connection is over MaxConns: closed at once.
	second := dialTCP(t, "", p.Addr())
	if n, err := second.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("a connection over MaxConns: read %d, %v", n, err)
	}
	// Close ends the idle first connection and waits for its goroutines.
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a connection open")
	}
	if n, err := first.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("after Close: read %d, %v", n, err)
	}
}

// upstreamUDP echoes every datagram and sends the sender's address to
// peers.
func upstreamUDP(t *testing.T) (addr string, peers chan net.Addr) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	peers = make(chan net.Addr, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			peers <- from
			pc.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String(), peers
}

func TestUDPProxy(t *testing.T) {
	up, peers := upstreamUDP(t)
	for _, tc := range []struct {
		name      string
		m         *Datagram
		send      string
		want      string
		otherPort bool
	}{
		{"plain", nil, "hello", "hello", false},
		{"rewritten", &Datagram{ToClient: bytes.ToUpper}, "hello", "HELLO", false},
		{"other port", &Datagram{OtherPort: true}, "hello", "hello", true},
		{"to server", &Datagram{ToServer: func(p []byte) []byte { return append(p, '!') }}, "hello", "hello!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ListenUDP("127.0.0.1:0", up, tc.m, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			c, err := net.ListenPacket("udp", "127.0.0.3:0")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			proxy, _ := net.ResolveUDPAddr("udp", p.Addr())
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.WriteTo([]byte(tc.send), proxy); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			if string(buf[:n]) != tc.want {
				t.Errorf("got %q, want %q", buf[:n], tc.want)
			}
			if same := from.String() == p.Addr(); same == tc.otherPort {
				t.Errorf("answer from %s, proxy at %s", from, p.Addr())
			}
			if a := (<-peers).(*net.UDPAddr); !a.IP.Equal(net.ParseIP("127.0.0.3")) {
				t.Errorf("upstream saw %s, want 127.0.0.3", a)
			}
		})
	}
}

func TestUDPProxyDrops(t *testing.T) {
	up, _ := upstreamUDP(t)
	p, err := ListenUDP("127.0.0.1:0", up, &Datagram{ToClient: func(p []byte) []byte {
		if bytes.Equal(p, []byte("drop")) {
			return nil
		}
		return p
	}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("udp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("drop"))
	c.Write([]byte("keep"))
	// The upstream answers in order: the first answer to arrive is the
	// second one, so the first was dropped.
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "keep" {
		t.Errorf("got %q, %v; want keep", buf[:n], err)
	}
}

func TestUDPProxyDisplacesOldestClient(t *testing.T) {
	up, _ := upstreamUDP(t)
	p, err := ListenUDP("127.0.0.1:0", up, nil, Limits{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ask := func(c net.Conn, data string) {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte(data))
		buf := make([]byte, 100)
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != data {
			t.Fatalf("got %q, %v; want %q", buf[:n], err, data)
		}
	}
	a, err := net.Dial("udp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.Dial("udp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ask(a, "a1")
	ask(b, "b1") // displaces a
	ask(a, "a2") // displaces b, a is served again
	p.mu.Lock()
	n := len(p.sessions)
	p.mu.Unlock()
	if n != 1 {
		t.Errorf("%d sessions with MaxConns 1", n)
	}
}
