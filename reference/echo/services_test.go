package echo

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

// udpClient returns a UDP socket on loopback with a deadline.
func udpClient(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testDeadline))
	return c
}

// exchange sends in to srv and returns the one reply, checking that it came
// from the service address.
func exchange(t *testing.T, c *net.UDPConn, srv *net.UDPAddr, in []byte) []byte {
	t.Helper()
	if _, err := c.WriteToUDP(in, srv); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, maxDatagram+1)
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no reply to %q: %v", in, err)
	}
	if !from.IP.Equal(srv.IP) || from.Port != srv.Port {
		t.Errorf("reply from %v, want %v", from, srv)
	}
	return buf[:n]
}

func TestEchoTCP(t *testing.T) {
	addr := startTCP(t, &Server{Service: Echo})

	t.Run("every byte value, immediately", func(t *testing.T) {
		c := dial(t, addr)
		var all []byte
		for v := range 256 {
			all = append(all, byte(v))
		}
		write(t, c, string(all))
		if got := readN(t, c, 256); !bytes.Equal(got, all) {
			t.Errorf("echo of all byte values: %q", got)
		}
		// No line semantics: a byte without LF comes back before more input.
		write(t, c, "a")
		if got := readN(t, c, 1); string(got) != "a" {
			t.Errorf("got %q", got)
		}
	})

	t.Run("one megabyte, concurrent write and read", func(t *testing.T) {
		c := dial(t, addr)
		in := bytes.Repeat([]byte("0123456789abcdef\n\x00\xff"), (1<<20)/19)
		go c.Write(in)
		if got := readN(t, c, len(in)); !bytes.Equal(got, in) {
			t.Error("echoed bytes differ")
		}
	})

	t.Run("half-close", func(t *testing.T) {
		c := dial(t, addr)
		in := bytes.Repeat([]byte("half-close "), 10000)
		go func() {
			c.Write(in)
			c.CloseWrite()
		}()
		got, err := readAll(c, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, in) {
			t.Errorf("got %d bytes, want the %d sent", len(got), len(in))
		}
	})
}

func TestEchoIdleTimeout(t *testing.T) {
	const idle = 200 * time.Millisecond
	addr := startTCP(t, &Server{Service: Echo, IdleTimeout: idle})
	c := dial(t, addr)
	for range 4 {
		time.Sleep(idle / 2)
		write(t, c, "k")
		readN(t, c, 1)
	}
	start := time.Now()
	expectEOF(t, c)
	if d := time.Since(start); d < idle*3/4 || d > 5*idle {
		t.Errorf("idle connection closed after %v, want about %v", d, idle)
	}
}

func TestEchoMaxConns(t *testing.T) {
	addr := startTCP(t, &Server{Service: Echo, MaxConns: 1})
	c1 := dial(t, addr)
	write(t, c1, "1")
	readN(t, c1, 1)
	c2 := dial(t, addr)
	got, err := readAll(c2, 1<<10)
	if err != nil && !isReset(err) {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("over-limit echo connection got %q, want nothing", got)
	}
	write(t, c1, "2")
	if got := readN(t, c1, 1); string(got) != "2" {
		t.Errorf("first connection after rejection: %q", got)
	}
}

func TestEchoUDP(t *testing.T) {
	srv := startUDP(t, &Server{Service: Echo})
	c := udpClient(t)
	for _, in := range [][]byte{[]byte("hello\r\n"), {}, {0, 0xff, '\n'}, bytes.Repeat([]byte{'e'}, maxDatagram)} {
		if got := exchange(t, c, srv, in); !bytes.Equal(got, in) {
			t.Errorf("echo of %d bytes: %d bytes back", len(in), len(got))
		}
	}
}

func TestDiscardTCP(t *testing.T) {
	addr := startTCP(t, &Server{Service: Discard, IdleTimeout: 200 * time.Millisecond})

	c := dial(t, addr)
	go func() {
		c.Write(bytes.Repeat([]byte("discard me\n"), 50000))
		c.CloseWrite()
	}()
	expectEOF(t, c)

	c = dial(t, addr)
	start := time.Now()
	expectEOF(t, c)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("idle discard connection closed after %v", d)
	}
}

func TestDiscardUDP(t *testing.T) {
	srv := startUDP(t, &Server{Service: Discard})
	c := udpClient(t)
	if _, err := c.WriteToUDP([]byte("nothing comes back"), srv); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := c.ReadFromUDP(make([]byte, 100)); err == nil {
		t.Errorf("discard replied with %d bytes", n)
	}
}

func TestDaytimeFormat(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 21, 20, 57, 9, 0, time.UTC), "Saturday, November 21, 2026 20:57:09-UTC\r\n"},
		{time.Date(2025, 3, 5, 4, 3, 2, 999, time.UTC), "Wednesday, March 5, 2025 04:03:02-UTC\r\n"},
		// Converted to UTC: 23:30 on the 31st at UTC-2 is the 1st in UTC.
		{time.Date(1999, 12, 31, 23, 30, 0, 0, time.FixedZone("X", -2*3600)), "Saturday, January 1, 2000 01:30:00-UTC\r\n"},
	} {
		if got := string(appendDaytime(nil, tc.t)); got != tc.want {
			t.Errorf("daytime(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestDaytime(t *testing.T) {
	fixed := time.Date(2026, 11, 21, 20, 57, 9, 0, time.FixedZone("CET", 3600))
	const want = "Saturday, November 21, 2026 19:57:09-UTC\r\n"
	s := &Server{Service: Daytime, Now: func() time.Time { return fixed }}
	addr := startTCP(t, s)
	srv := startUDP(t, s)

	c := dial(t, addr)
	got, err := readAll(c, 1<<10)
	if err != nil || string(got) != want {
		t.Errorf("TCP daytime: %q, %v; want %q then EOF", got, err, want)
	}

	// Input sent before the line is thrown away and does not reset the reply.
	c = dial(t, addr)
	write(t, c, "ignored input\r\n")
	if got, err := readAll(c, 1<<10); err != nil || string(got) != want {
		t.Errorf("TCP daytime with input: %q, %v", got, err)
	}

	u := udpClient(t)
	for _, in := range []string{"", "any datagram"} {
		if got := string(exchange(t, u, srv, []byte(in))); got != want {
			t.Errorf("UDP daytime after %q: %q", in, got)
		}
	}
}

func TestDaytimeDefaultClock(t *testing.T) {
	addr := startTCP(t, &Server{Service: Daytime})
	before := time.Now().UTC().Truncate(time.Second)
	got, err := readAll(dial(t, addr), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UTC()
	line := strings.TrimSuffix(string(got), "-UTC\r\n")
	ts, err := time.Parse(daytimeLayout, line)
	if err != nil {
		t.Fatalf("daytime line %q: %v", got, err)
	}
	if ts.Before(before) || ts.After(after) {
		t.Errorf("daytime %v not between %v and %v", ts, before, after)
	}
}

// chargenLineAt is RFC 864 line n, CRLF included, built from the rule.
func chargenLineAt(n int) string {
	var b strings.Builder
	for k := range 72 {
		b.WriteByte(byte(' ' + (n+k)%95))
	}
	b.WriteString("\r\n")
	return b.String()
}

func TestChargenPattern(t *testing.T) {
	if got := chargenLineAt(0); got != ` !"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`+"`abcdefg\r\n" {
		t.Fatalf("line 0: %q", got)
	}
	// RFC 864's sample starts at line 1 of this pattern.
	if got := chargenLineAt(1); got != `!"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`+"`abcdefgh\r\n" {
		t.Fatalf("line 1: %q", got)
	}
	if got := chargenLineAt(94); got[:2] != "~ " {
		t.Fatalf("line 94 wraps badly: %q", got)
	}
}

func TestChargenTCP(t *testing.T) {
	addr := startTCP(t, &Server{Service: Chargen})
	c := dial(t, addr)
	const lines = 3*95 + 7
	got := readN(t, c, lines*74)
	for n := range lines {
		if line := string(got[n*74 : (n+1)*74]); line != chargenLineAt(n) {
			t.Fatalf("line %d: %q, want %q", n, line, chargenLineAt(n))
		}
	}
	// Input is thrown away; the stream goes on.
	write(t, c, "ignored\r\n")
	readN(t, c, 100000)
	c.Close()
}

// waitIdle waits until s serves no connection, or fails t after testDeadline.
func waitIdle(t *testing.T, s *Server, why string) {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for {
		s.mu.Lock()
		active := s.active
		s.mu.Unlock()
		if active == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d connections still served", why, active)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChargenStopsOnClientClose(t *testing.T) {
	s := &Server{Service: Chargen}
	addr := startTCP(t, s)
	c := dial(t, addr)
	readN(t, c, 1000)
	c.Close()
	waitIdle(t, s, "chargen after the client closed")
}

func TestChargenWriteTimeout(t *testing.T) {
	// The client stops reading: once the buffers are full the server's
	// write misses its deadline and the server drops the connection.
	s := &Server{Service: Chargen, WriteTimeout: 100 * time.Millisecond}
	addr := startTCP(t, s)
	c := dial(t, addr)
	c.SetReadBuffer(4096)
	readN(t, c, 74)
	waitIdle(t, s, "chargen to a client that does not read")
}

func TestChargenUDP(t *testing.T) {
	srv := startUDP(t, &Server{Service: Chargen})
	c := udpClient(t)
	var want strings.Builder
	for n := 0; want.Len() < 512; n++ {
		want.WriteString(chargenLineAt(n))
	}
	for _, in := range []string{"", "x", strings.Repeat("y", 1000)} {
		got := exchange(t, c, srv, []byte(in))
		if string(got) != want.String()[:512] {
			t.Errorf("UDP chargen after %d bytes: %d bytes %q", len(in), len(got), got)
		}
	}
	if len(chargenCycle) != 95*74 {
		t.Errorf("cycle length %d, want %d", len(chargenCycle), 95*74)
	}
}
