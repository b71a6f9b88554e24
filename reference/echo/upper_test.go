package echo

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// upperByByte is the byte rule written the obvious way, the model for Upper.
func upperByByte(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func TestUpper(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"\n", "\n"},
		{"héllo\r\n", "HéLLO\r\n"},
		{"hello, world 42!\n", "HELLO, WORLD 42!\n"},
		{"`az{@AZ[", "`AZ{@AZ["}, // the bytes next to both ranges
		{"\x00a\x00\xe1\xfa\xc3\xa9", "\x00A\x00\xe1\xfa\xc3\xa9"},
		{"straße ñandú ÿ", "STRAßE ñANDú ÿ"},
		{"abcdefghijklmnopqrstuvwxyz0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"},
	} {
		if got := string(Upper([]byte(tc.in))); got != tc.want {
			t.Errorf("Upper(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUpperEveryByte checks all 256 byte values at every position of the
// eight-byte words and of the tail.
func TestUpperEveryByte(t *testing.T) {
	for length := range 20 {
		for pos := range length {
			for v := range 256 {
				in := bytes.Repeat([]byte{'q'}, length)
				in[pos] = byte(v)
				got, want := Upper(in), upperByByte(in)
				if !bytes.Equal(got, want) {
					t.Fatalf("Upper(%q) = %q, want %q", in, got, want)
				}
			}
		}
	}
}

func TestUpperKeepsInputAndAllocates(t *testing.T) {
	in := []byte("keep me")
	out := Upper(in)
	if string(in) != "keep me" {
		t.Errorf("input changed to %q", in)
	}
	out[0] = 'x'
	if in[0] != 'k' {
		t.Error("Upper returned the input's backing array")
	}
	if Upper(nil) == nil {
		t.Error("Upper(nil) returned nil, want an empty slice")
	}
}

func TestUppercaseLines(t *testing.T) {
	addr := startTCP(t, &Server{Service: Uppercase})

	t.Run("one line at a time", func(t *testing.T) {
		c := dial(t, addr)
		for _, line := range []string{"hello\n", "héllo\r\n", "\n", "MiXeD 123 \x00\xff\n", "\r\n"} {
			write(t, c, line)
			if got := string(readN(t, c, len(line))); got != string(upperByByte([]byte(line))) {
				t.Errorf("reply to %q: %q", line, got)
			}
		}
	})

	t.Run("pipelined lines in one write", func(t *testing.T) {
		c := dial(t, addr)
		in := "one\ntwo\r\n\nthree\n"
		write(t, c, in)
		if got := string(readN(t, c, len(in))); got != "ONE\nTWO\r\n\nTHREE\n" {
			t.Errorf("replies: %q", got)
		}
	})

	t.Run("line split byte by byte", func(t *testing.T) {
		c := dial(t, addr)
		c.SetNoDelay(true)
		for _, b := range []byte("split line\n") {
			write(t, c, string(b))
			time.Sleep(time.Millisecond)
		}
		if got := string(readN(t, c, 11)); got != "SPLIT LINE\n" {
			t.Errorf("reply: %q", got)
		}
	})

	t.Run("many lines, reply order", func(t *testing.T) {
		c := dial(t, addr)
		var in, want strings.Builder
		for i := range 5000 {
			line := strings.Repeat(string(rune('a'+i%26)), i%100) + "\n"
			in.WriteString(line)
			want.WriteString(strings.ToUpper(line))
		}
		go io.WriteString(c, in.String())
		if got := string(readN(t, c, want.Len())); got != want.String() {
			t.Error("replies differ from the uppercased lines")
		}
	})
}

func TestUppercaseHalfClose(t *testing.T) {
	addr := startTCP(t, &Server{Service: Uppercase})
	for _, tc := range []struct{ in, want string }{
		{"abc\ndef", "ABC\nDEF"},
		{"abc\n", "ABC\n"},
		{"partial only é", "PARTIAL ONLY é"},
		{"", ""},
		{"trailing cr\r", "TRAILING CR\r"},
	} {
		c := dial(t, addr)
		write(t, c, tc.in)
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := readAll(c, 1<<20)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if string(got) != tc.want {
			t.Errorf("half-close after %q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUppercaseLineTooLong(t *testing.T) {
	const maxLine = 16
	addr := startTCP(t, &Server{Service: Uppercase, MaxLine: maxLine})
	for _, tc := range []struct {
		name, in, want string
		eof            bool // the server closes after the error
	}{
		{"longest allowed line", strings.Repeat("a", maxLine-1) + "\n", strings.Repeat("A", maxLine-1) + "\n", false},
		{"MaxLine bytes then LF", strings.Repeat("a", maxLine) + "\n", LineTooLongReply, true},
		{"MaxLine bytes, no LF yet", strings.Repeat("b", maxLine), LineTooLongReply, true},
		{"earlier lines answered first", "ok\n" + strings.Repeat("c", maxLine+5), "OK\n" + LineTooLongReply, true},
		{"CR counts", strings.Repeat("d", maxLine-1) + "\r\n", LineTooLongReply, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			write(t, c, tc.in)
			got := readN(t, c, len(tc.want))
			if string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if tc.eof {
				expectEOF(t, c)
			}
		})
	}

	t.Run("limit spans several writes", func(t *testing.T) {
		c := dial(t, addr)
		c.SetNoDelay(true)
		for range maxLine - 1 {
			write(t, c, "x")
		}
		time.Sleep(20 * time.Millisecond)
		write(t, c, "x")
		if got := readN(t, c, len(LineTooLongReply)); string(got) != LineTooLongReply {
			t.Fatalf("got %q", got)
		}
		expectEOF(t, c)
	})

	t.Run("client keeps sending after the limit", func(t *testing.T) {
		c := dial(t, addr)
		go c.Write(bytes.Repeat([]byte("y"), 100<<10))
		if got := readN(t, c, len(LineTooLongReply)); string(got) != LineTooLongReply {
			t.Fatalf("got %q", got)
		}
		// The server reads what is left before it closes, so the close
		// is a FIN and not a reset that could destroy the reply.
		expectEOF(t, c)
	})

}

func TestUppercaseDefaultMaxLine(t *testing.T) {
	addr := startTCP(t, &Server{Service: Uppercase})
	c := dial(t, addr)
	ok := strings.Repeat("z", 4095) + "\n"
	write(t, c, ok)
	if got := readN(t, c, len(ok)); string(got) != strings.ToUpper(ok) {
		t.Fatal("4096-byte line not answered")
	}
	write(t, c, strings.Repeat("z", 4096))
	if got := readN(t, c, len(LineTooLongReply)); string(got) != LineTooLongReply {
		t.Fatalf("got %q", got)
	}
	expectEOF(t, c)
}

func TestUppercaseIdleTimeout(t *testing.T) {
	const idle = 200 * time.Millisecond
	addr := startTCP(t, &Server{Service: Uppercase, IdleTimeout: idle})

	t.Run("silent client", func(t *testing.T) {
		c := dial(t, addr)
		start := time.Now()
		expectEOF(t, c)
		if d := time.Since(start); d < idle*3/4 {
			t.Errorf("closed after %v, before the idle timeout", d)
		}
	})

	t.Run("bytes without a complete line", func(t *testing.T) {
		c := dial(t, addr)
		c.SetNoDelay(true)
		start := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 40 {
				if _, err := c.Write([]byte("s")); err != nil {
					return
				}
				time.Sleep(idle / 8)
			}
		}()
		if _, err := readAll(c, 1<<20); err != nil && !isReset(err) {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 4*idle {
			t.Errorf("dribbling client kept the connection for %v", d)
		}
		<-done
	})

	t.Run("complete lines keep it open", func(t *testing.T) {
		c := dial(t, addr)
		for range 6 {
			time.Sleep(idle / 2)
			write(t, c, "ping\n")
			if got := readN(t, c, 5); string(got) != "PING\n" {
				t.Fatalf("got %q", got)
			}
		}
	})
}

func TestUppercaseMaxConns(t *testing.T) {
	s := &Server{Service: Uppercase, MaxConns: 2}
	addr := startTCP(t, s)
	served := func(c net.Conn) {
		t.Helper()
		write(t, c, "in\n")
		if got := readN(t, c, 3); string(got) != "IN\n" {
			t.Fatalf("got %q", got)
		}
	}
	c1, c2 := dial(t, addr), dial(t, addr)
	served(c1)
	served(c2)

	c3 := dial(t, addr)
	got, err := readAll(c3, 1<<20)
	if err != nil || string(got) != TooManyConnsReply {
		t.Fatalf("over-limit connection: %q, %v; want %q then EOF", got, err, TooManyConnsReply)
	}

	// A freed slot is available again.
	c1.Close()
	deadline := time.Now().Add(testDeadline)
	for {
		c := dial(t, addr)
		write(t, c, "again\n")
		b := readN(t, c, 6)
		if string(b) == "AGAIN\n" {
			break
		}
		if string(b) != TooManyConnsReply[:6] || time.Now().After(deadline) {
			t.Fatalf("after freeing a slot: %q", b)
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	served(c2)
}

// TestUppercaseWriteTimeout: a client that sends lines but never reads.
// Once nothing more can be written the server's write misses its
// WriteTimeout deadline and the server drops the client, and not before.
// It runs over net.Pipe (no buffers: the first reply already blocks) in a
// synctest bubble, so the deadline is fake time: over loopback TCP the
// test raced the kernel, whose window updates to a client with a full
// receive buffer can be lost, leaving the server waiting in Read for
// seconds with its replies still fitting its send buffer.
func TestUppercaseWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 100 * time.Millisecond
		s := &Server{Service: Uppercase, WriteTimeout: timeout}
		l := newPipeListener()
		served := make(chan error, 1)
		go func() { served <- s.Serve(l) }()
		c := l.dial()
		t.Cleanup(func() {
			c.Close()
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := <-served; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		})
		werr := make(chan error, 1)
		go func() {
			line := []byte(strings.Repeat("w", 1000) + "\n")
			for {
				if _, err := c.Write(line); err != nil {
					werr <- err
					return
				}
			}
		}()
		synctest.Wait() // the server's reply blocks; the client's next line too
		time.Sleep(timeout - time.Millisecond)
		synctest.Wait()
		if n := activeConns(s); n != 1 {
			t.Fatalf("%d connections served before the write deadline, want 1", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := activeConns(s); n != 0 {
			t.Fatalf("uppercase to a client that does not read: %d connections still served after the write deadline", n)
		}
		select {
		case err := <-werr:
			if !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("client write: %v, want the server to have closed the connection", err)
			}
		default:
			t.Error("the client's writes still block: the server did not close the connection")
		}
	})
}

// activeConns is how many connections s serves.
func activeConns(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// pipeListener is a net.Listener of net.Pipe connections, for tests in a
// synctest bubble (which cannot use real sockets).
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// dial returns the client end of a new connection the server accepts.
func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func TestUppercaseUDP(t *testing.T) {
	srv := startUDP(t, &Server{Service: Uppercase})
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := bytes.Repeat([]byte("big datagram é\n"), maxDatagram/15+1)[:maxDatagram]
	for _, in := range [][]byte{
		[]byte("héllo\r\n"),
		{},
		[]byte("two\nlines, no trailing lf"),
		[]byte("\x00\xffa"),
		big,
	} {
		c.SetDeadline(time.Now().Add(testDeadline))
		if _, err := c.WriteToUDP(in, srv); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, maxDatagram+1)
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no reply to %d bytes: %v", len(in), err)
		}
		if !from.IP.Equal(srv.IP) || from.Port != srv.Port {
			t.Errorf("reply from %v, want the service address %v", from, srv)
		}
		if !bytes.Equal(buf[:n], upperByByte(in)) {
			t.Errorf("reply to %d bytes %.20q: %d bytes %.20q", len(in), in, n, buf[:n])
		}
	}
}

func BenchmarkUpper(b *testing.B) {
	for _, size := range []int{64, 4096} {
		in := bytes.Repeat([]byte("The quick brown fox, 42 héllos.\n"), size/32+1)[:size]
		out := make([]byte, 0, size)
		b.Run(sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				out = appendUpper(out[:0], in)
			}
		})
		b.Run(sizeName(size)+"/alloc", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_ = Upper(in)
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// BenchmarkUppercaseTCP measures one loopback connection carrying 64-byte
// lines, written and read concurrently.
func BenchmarkUppercaseTCP(b *testing.B) {
	addr := startTCP(b, &Server{Service: Uppercase})
	c := dial(b, addr)
	line := []byte(strings.Repeat("benchmark line ", 5)[:63] + "\n")
	const batch = 256
	chunk := bytes.Repeat(line, batch)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	c.SetDeadline(time.Now().Add(time.Minute))
	errc := make(chan error, 1)
	go func() {
		n := b.N
		for n > 0 {
			k := min(n, batch)
			if _, err := c.Write(chunk[:k*len(line)]); err != nil {
				errc <- err
				return
			}
			n -= k
		}
		errc <- nil
	}()
	buf := make([]byte, 64<<10)
	want := int64(b.N) * int64(len(line))
	for got := int64(0); got < want; {
		n, err := c.Read(buf[:min(int64(len(buf)), want-got)])
		if err != nil {
			b.Fatal(err)
		}
		got += int64(n)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}
