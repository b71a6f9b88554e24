package echo

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// dialFrom is dial from the loopback address src, so that the server sees
// the connection come from another client.
func dialFrom(t testing.TB, src, addr string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: testDeadline, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testDeadline))
	return c.(*net.TCPConn)
}

// uppercased reports whether c answers a line with its uppercase form; it
// fails t if c answers anything else than that or the over-limit reply.
func uppercased(t testing.TB, c net.Conn) bool {
	t.Helper()
	write(t, c, "in\n")
	switch got := string(readN(t, c, 3)); got {
	case "IN\n":
		return true
	case TooManyConnsReply[:3]:
		return false
	default:
		t.Fatalf("got %q, want %q or %q", got, "IN\n", TooManyConnsReply)
		return false
	}
}

// TestPerClientShare: a client that holds its share of the connections is
// turned away, while another client is still served, and a connection the
// first client frees is its own again.
func TestPerClientShare(t *testing.T) {
	const attacker, client = "127.0.0.13", "127.0.0.1"
	s := &Server{Service: Uppercase, MaxConns: 4, MaxConnsPerClient: 2}
	addr := startTCP(t, s)
	a1, a2 := dialFrom(t, attacker, addr), dialFrom(t, attacker, addr)
	if !uppercased(t, a1) || !uppercased(t, a2) {
		t.Fatal("the attacker's first two connections, within its share, were refused")
	}
	a3 := dialFrom(t, attacker, addr)
	got, err := readAll(a3, 1<<20)
	if err != nil || string(got) != TooManyConnsReply {
		t.Fatalf("connection over the share: %q, %v; want %q then EOF", got, err, TooManyConnsReply)
	}
	for i := range 2 {
		if c := dialFrom(t, client, addr); !uppercased(t, c) {
			t.Fatalf("other client's connection %d refused while the attacker holds its share", i+1)
		}
	}

	// Once a1 is gone the attacker has a slot again. Each refused attempt
	// is a full round trip, which paces the loop.
	a1.Close()
	deadline := time.Now().Add(testDeadline)
	for !uppercased(t, dialFrom(t, attacker, addr)) {
		if time.Now().After(deadline) {
			t.Fatal("the attacker's freed connection was not counted off its share")
		}
	}
	if !uppercased(t, a2) {
		t.Fatal("a2 no longer served")
	}
}

// TestPerClientShareEcho: over the share, echo closes without a byte, as
// over MaxConns, and the share does not count other clients.
func TestPerClientShareEcho(t *testing.T) {
	addr := startTCP(t, &Server{Service: Echo, MaxConnsPerClient: 1})
	a1 := dialFrom(t, "127.0.0.13", addr)
	write(t, a1, "1")
	readN(t, a1, 1)
	got, err := readAll(dialFrom(t, "127.0.0.13", addr), 1<<10)
	if err != nil && !isReset(err) || len(got) != 0 {
		t.Fatalf("echo connection over the share: %q, %v; want nothing", got, err)
	}
	c := dialFrom(t, "127.0.0.1", addr)
	write(t, c, "2")
	if got := readN(t, c, 1); string(got) != "2" {
		t.Fatalf("other client: %q", got)
	}
}

// TestNoPerClientShare: a negative MaxConnsPerClient lets one client take
// every connection up to MaxConns.
func TestNoPerClientShare(t *testing.T) {
	addr := startTCP(t, &Server{Service: Uppercase, MaxConns: 3, MaxConnsPerClient: -1})
	for i := range 3 {
		if !uppercased(t, dialFrom(t, "127.0.0.13", addr)) {
			t.Fatalf("connection %d refused with no per-client share", i+1)
		}
	}
}

func TestPerClientShareDefaults(t *testing.T) {
	for _, c := range []struct{ maxConns, share, want int }{
		{0, 0, DefaultMaxConnsPerClient},
		{10, 0, 10},
		{0, 300, 300},
		{0, 9999, DefaultMaxConns},
		{100, 20, 20},
		{0, -1, -1},
	} {
		s := Server{MaxConns: c.maxConns, MaxConnsPerClient: c.share}
		if got := s.maxConnsPerClient(); got != c.want {
			t.Errorf("MaxConns %d, MaxConnsPerClient %d: share %d, want %d", c.maxConns, c.share, got, c.want)
		}
	}
}

// errnoListener fails its first Accept calls with the errors in errs, as
// the accept(2) of an exhausted process or system does.
type errnoListener struct {
	net.Listener
	errs chan error
}

func (l *errnoListener) Accept() (net.Conn, error) {
	select {
	case err := <-l.errs:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", err)}
	default:
		return l.Listener.Accept()
	}
}

// TestAcceptRetriesResourceErrors: Serve goes on accepting after each of
// the errors of a process or system out of descriptors or memory, backing
// off between the attempts.
func TestAcceptRetriesResourceErrors(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errnos := []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED}
	l := &errnoListener{Listener: inner, errs: make(chan error, len(errnos))}
	for _, e := range errnos {
		l.errs <- e
	}
	s := &Server{Service: Echo}
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- s.Serve(l) }()
	c := dial(t, inner.Addr().String())
	write(t, c, "x")
	if got := readN(t, c, 1); string(got) != "x" {
		t.Fatalf("echo after accept errors: %q", got)
	}
	// Five back-offs of 5, 10, 20, 40 and 80 ms.
	if d := time.Since(start); d < 155*time.Millisecond {
		t.Errorf("served after %v: accept errors were not backed off", d)
	}
	closeAndCheck(t, s)
	if err := <-errc; err != ErrServerClosed {
		t.Errorf("Serve returned %v", err)
	}
}
