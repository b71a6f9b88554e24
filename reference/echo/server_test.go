package echo

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testDeadline bounds every network step of a test.
const testDeadline = 5 * time.Second

// startTCP serves s on a fresh loopback listener and returns its address.
// The cleanup closes s, checks that Serve returned ErrServerClosed and that
// none of the server's goroutines are left.
func startTCP(t testing.TB, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(l) }()
	t.Cleanup(func() {
		closeAndCheck(t, s)
		select {
		case err := <-errc:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want %v", err, ErrServerClosed)
			}
		case <-time.After(testDeadline):
			t.Error("Serve did not return after Close")
		}
	})
	return l.Addr().String()
}

// startUDP is startTCP for ServePacket.
func startUDP(t testing.TB, s *Server) *net.UDPAddr {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.ServePacket(pc) }()
	t.Cleanup(func() {
		closeAndCheck(t, s)
		select {
		case err := <-errc:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("ServePacket returned %v, want %v", err, ErrServerClosed)
			}
		case <-time.After(testDeadline):
			t.Error("ServePacket did not return after Close")
		}
	})
	return pc.LocalAddr().(*net.UDPAddr)
}

// closeAndCheck closes s within testDeadline and fails t if any goroutine is
// still running a Server method afterwards.
func closeAndCheck(t testing.TB, s *Server) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(testDeadline):
		t.Fatalf("Close did not return within %v; goroutines:\n%s", testDeadline, serverStacks())
	}
	checkNoServerGoroutines(t)
}

// checkNoServerGoroutines fails t if a goroutine is still inside a Server
// method a short while after Close.
func checkNoServerGoroutines(t testing.TB) {
	t.Helper()
	var stacks string
	for range 100 {
		if stacks = serverStacks(); stacks == "" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("goroutines left after Close:\n%s", stacks)
}

// serverStacks returns the stacks of goroutines running Server code.
func serverStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaked []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "reference/echo.(*Server).") || strings.Contains(g, "reference/echo.lingerClose") {
			leaked = append(leaked, g)
		}
	}
	return strings.Join(leaked, "\n\n")
}

// dial opens a TCP connection to addr whose every step has a deadline.
func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testDeadline)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testDeadline))
	return c.(*net.TCPConn)
}

// readAll reads c until EOF, at most limit bytes. err is nil on a clean EOF.
func readAll(c net.Conn, limit int64) ([]byte, error) {
	var b bytes.Buffer
	_, err := io.Copy(&b, io.LimitReader(c, limit))
	if err == nil && int64(b.Len()) == limit {
		err = errors.New("read limit reached before EOF")
	}
	return b.Bytes(), err
}

// readN reads exactly n bytes from c.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v (got %q)", n, err, b)
	}
	return b
}

// expectEOF checks that the server closes c with nothing more to send.
func expectEOF(t testing.TB, c net.Conn) {
	t.Helper()
	b, err := readAll(c, 1<<20)
	if err != nil {
		t.Fatalf("want EOF, got %v after %q", err, b)
	}
	if len(b) != 0 {
		t.Fatalf("want EOF, got %q", b)
	}
}

func write(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

func TestUnknownService(t *testing.T) {
	for _, svc := range []Service{"", "ECHO", "time"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{Service: svc}
		if err := s.Serve(l); !errors.Is(err, ErrUnknownService) {
			t.Errorf("Serve with service %q: %v, want %v", svc, err, ErrUnknownService)
		}
		if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("listener not closed by Serve: %v", err)
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ServePacket(pc); !errors.Is(err, ErrUnknownService) {
			t.Errorf("ServePacket with service %q: %v, want %v", svc, err, ErrUnknownService)
		}
	}
}

func TestServeAfterClose(t *testing.T) {
	s := &Server{Service: Echo}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", l.Addr().String(), testDeadline); err == nil {
		t.Error("listener still accepts after Serve returned")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ServePacket(pc); !errors.Is(err, ErrServerClosed) {
		t.Errorf("ServePacket after Close: %v", err)
	}
}

// TestCloseWithClients closes servers of every service while clients are
// connected and in the middle of an exchange, on several listeners at once.
func TestCloseWithClients(t *testing.T) {
	for _, svc := range Services {
		t.Run(string(svc), func(t *testing.T) {
			s := &Server{Service: svc}
			var addrs []string
			errc := make(chan error, 3)
			for _, network := range []string{"tcp4", "tcp6"} {
				host := "127.0.0.1:0"
				if network == "tcp6" {
					host = "[::1]:0"
				}
				l, err := net.Listen(network, host)
				if err != nil {
					t.Logf("no %s loopback: %v", network, err)
					continue
				}
				addrs = append(addrs, l.Addr().String())
				go func() { errc <- s.Serve(l) }()
			}
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { errc <- s.ServePacket(pc) }()

			var conns []*net.TCPConn
			for _, a := range addrs {
				for range 3 {
					c := dial(t, a)
					write(t, c, "partial line without end")
					conns = append(conns, c)
				}
			}
			if svc == Echo {
				for _, c := range conns {
					readN(t, c, len("partial line without end"))
				}
			}
			if svc == Chargen {
				for _, c := range conns {
					readN(t, c, 1000)
				}
			}
			time.Sleep(50 * time.Millisecond) // let every connection reach the server
			start := time.Now()
			closeAndCheck(t, s)
			if d := time.Since(start); d > time.Second {
				t.Errorf("Close took %v with idle clients", d)
			}
			for range len(addrs) + 1 {
				select {
				case err := <-errc:
					if !errors.Is(err, ErrServerClosed) {
						t.Errorf("Serve/ServePacket returned %v", err)
					}
				case <-time.After(testDeadline):
					t.Fatal("Serve/ServePacket did not return")
				}
			}
			for _, c := range conns {
				// Daytime may have sent its line before Close; nothing
				// else is pending. The connection must end either way.
				if b, err := readAll(c, 1<<24); err != nil && !isReset(err) {
					t.Errorf("client read after Close: %v after %d bytes", err, len(b))
				}
			}
			if _, err := net.DialTimeout("tcp", addrs[0], testDeadline); err == nil {
				t.Error("listener still accepts after Close")
			}
		})
	}
}

// isReset reports whether err is a connection reset, which is a valid way
// for a closed server's connection to end when input was left unread.
func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "reset")
}

// TestServeReturnsPermanentAcceptError checks that Serve gives up on a
// listener that someone else closed, whether Serve is already in Accept
// or gets there after the close: the outcome is the same, so the test
// needs no wait between the two.
func TestServeReturnsPermanentAcceptError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Service: Echo}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(l) }()
	l.Close()
	select {
	case err := <-errc:
		if err == nil || errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want the accept error", err)
		}
	case <-time.After(testDeadline):
		t.Fatal("Serve did not return")
	}
	closeAndCheck(t, s)
}

func TestDefaults(t *testing.T) {
	var s Server
	if s.maxLine() != 4096 || s.idleTimeout() != 60*time.Second || s.writeTimeout() != 10*time.Second || s.maxConns() != 512 || s.maxConnsPerClient() != 64 {
		t.Errorf("defaults: %d %v %v %d %d", s.maxLine(), s.idleTimeout(), s.writeTimeout(), s.maxConns(), s.maxConnsPerClient())
	}
}
