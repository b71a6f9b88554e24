package echofuzz

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/protospec/protospec/reference/echo"
)

const (
	// fuzzMaxLine is the small line limit the uppercase fuzzer runs with, so
	// that over-long lines are common.
	fuzzMaxLine = 64
	// stepDeadline bounds each input's whole exchange: a hang is a failure.
	stepDeadline = 5 * time.Second
	// maxInput bounds the input sent to a TCP server per fuzz call.
	maxInput = 256 << 10
	// maxGoroutines is far above what one exchange at a time needs; more
	// means connections are leaking.
	maxGoroutines = 100
)

// seeds are realistic inputs shared by every target.
var seeds = []string{
	"",
	"\n",
	"hello\n",
	"héllo\r\n",
	"hello, world 42!\r\nsecond line\nthird",
	"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
	"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n",
	"partial line without lf",
	"\x00\x01\x7f\x80\xfe\xff\n",
	"straße ñandú 日本語\n",
	strings.Repeat("a", fuzzMaxLine-1) + "\n",
	strings.Repeat("b", fuzzMaxLine) + "\n",
	strings.Repeat("c", fuzzMaxLine),
	"ok\n" + strings.Repeat("d", 3*fuzzMaxLine) + "\nnever answered\n",
	strings.Repeat("line\r\n", 200),
}

func addSeeds(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
}

// upperModel is the byte rule written the obvious way.
func upperModel(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c = c - 'a' + 'A'
		}
		out[i] = c
	}
	return out
}

// uppercaseModel is what the uppercase TCP server must send back for a
// client that sends in and then half-closes, with line limit maxLine.
func uppercaseModel(in []byte, maxLine int) []byte {
	var out []byte
	for len(in) > 0 {
		i := bytes.IndexByte(in, '\n')
		if (i < 0 && len(in) >= maxLine) || i >= maxLine {
			return append(out, echo.LineTooLongReply...)
		}
		if i < 0 {
			return append(out, upperModel(in)...)
		}
		out = append(out, upperModel(in[:i+1])...)
		in = in[i+1:]
	}
	return out
}

func FuzzUpper(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		out := echo.Upper(in)
		if !bytes.Equal(in, orig) {
			t.Fatalf("Upper changed its input %q to %q", orig, in)
		}
		if len(out) != len(in) {
			t.Fatalf("Upper(%q) has length %d, want %d", in, len(out), len(in))
		}
		for i, c := range in {
			want := c
			if 'a' <= c && c <= 'z' {
				want = c - 'a' + 'A'
			}
			if out[i] != want {
				t.Fatalf("Upper(%q)[%d] = %#x, want %#x", in, i, out[i], want)
			}
		}
		if again := echo.Upper(out); !bytes.Equal(again, out) {
			t.Fatalf("Upper not idempotent: %q then %q", out, again)
		}
		if utf8.Valid(in) && !utf8.Valid(out) {
			t.Fatalf("Upper made valid UTF-8 %q invalid: %q", in, out)
		}
		if len(in) > 0 && &out[0] == &in[0] {
			t.Fatal("Upper returned its input's backing array")
		}
	})
}

// kept is the server address that serveTCP or serveUDP keeps for the life
// of a libFuzzer process: each binary holds one fuzz target, whose F comes
// anew for every input.
var kept net.Addr

// serveTCP starts s on a loopback listener for the life of the fuzz target;
// the cleanup closes it and checks that no server goroutine is left. In the
// libFuzzer build, where cleanups never run, the first server is kept
// instead of one more started per input.
func serveTCP(f *testing.F, s *echo.Server) string {
	if libFuzzer && kept != nil {
		return kept.String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(l) }()
	if libFuzzer {
		kept = l.Addr()
	}
	f.Cleanup(func() { closeServer(f, s, errc) })
	return l.Addr().String()
}

// serveUDP is serveTCP for a datagram server.
func serveUDP(f *testing.F, s *echo.Server) *net.UDPAddr {
	if libFuzzer && kept != nil {
		return kept.(*net.UDPAddr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.ServePacket(pc) }()
	if libFuzzer {
		kept = pc.LocalAddr()
	}
	f.Cleanup(func() { closeServer(f, s, errc) })
	return pc.LocalAddr().(*net.UDPAddr)
}

// closeServer closes s, waits for its Serve call and checks for leaks.
func closeServer(f *testing.F, s *echo.Server, errc chan error) {
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			f.Errorf("Close: %v", err)
		}
	case <-time.After(stepDeadline):
		f.Fatalf("Close hangs; goroutines:\n%s", stacks())
	}
	select {
	case err := <-errc:
		if !errors.Is(err, echo.ErrServerClosed) {
			f.Errorf("Serve returned %v, want %v", err, echo.ErrServerClosed)
		}
	case <-time.After(stepDeadline):
		f.Fatal("Serve did not return after Close")
	}
	for range 100 {
		if !strings.Contains(stacks(), "reference/echo.") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.Errorf("server goroutines left after Close:\n%s", stacks())
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// exchangeTCP sends in on a new connection to addr, half-closes, and returns
// everything the server sends until it closes. Writing and reading run
// concurrently so that a large exchange cannot deadlock on full buffers.
func exchangeTCP(t *testing.T, addr string, in []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, stepDeadline)
	if err != nil {
		t.Fatal(err)
	}
	tc := c.(*net.TCPConn)
	defer func() {
		// Reset instead of FIN so that thousands of runs leave no TIME_WAIT.
		tc.SetLinger(0)
		tc.Close()
	}()
	tc.SetDeadline(time.Now().Add(stepDeadline))
	werr := make(chan error, 1)
	go func() {
		_, err := tc.Write(in)
		if err == nil {
			err = tc.CloseWrite()
		}
		werr <- err
	}()
	var got bytes.Buffer
	_, rerr := io.Copy(&got, io.LimitReader(tc, int64(len(in))+1024))
	tc.SetLinger(0)
	tc.Close()
	<-werr // a write refused after an error reply is fine
	return got.Bytes(), rerr
}

// checkGoroutines fails t when goroutines pile up across inputs.
func checkGoroutines(t *testing.T) {
	for range 200 {
		if runtime.NumGoroutine() <= maxGoroutines {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%d goroutines: connections leak\n%s", runtime.NumGoroutine(), stacks())
}

func FuzzUppercaseTCPServer(f *testing.F) {
	addSeeds(f)
	addr := serveTCP(f, &echo.Server{
		Service:      echo.Uppercase,
		MaxLine:      fuzzMaxLine,
		IdleTimeout:  stepDeadline,
		WriteTimeout: stepDeadline,
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > maxInput {
			t.Skip("input larger than maxInput")
		}
		got, err := exchangeTCP(t, addr, in)
		if err != nil {
			t.Fatalf("after %q: %v (got %q)", in, err, got)
		}
		if want := uppercaseModel(in, fuzzMaxLine); !bytes.Equal(got, want) {
			t.Fatalf("input %q:\n got %q\nwant %q", in, got, want)
		}
		checkGoroutines(t)
	})
}

func FuzzEchoTCPServer(f *testing.F) {
	addSeeds(f)
	addr := serveTCP(f, &echo.Server{
		Service:      echo.Echo,
		IdleTimeout:  stepDeadline,
		WriteTimeout: stepDeadline,
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > maxInput {
			t.Skip("input larger than maxInput")
		}
		got, err := exchangeTCP(t, addr, in)
		if err != nil {
			t.Fatalf("after %d bytes: %v (got %d bytes)", len(in), err, len(got))
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("input %q:\n got %q", in, got)
		}
		checkGoroutines(t)
	})
}

func FuzzUppercaseUDPServer(f *testing.F) {
	addSeeds(f)
	f.Add(bytes.Repeat([]byte("x"), 65507))
	srv := serveUDP(f, &echo.Server{Service: echo.Uppercase, WriteTimeout: stepDeadline})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 65507 {
			t.Skip("larger than a UDP datagram")
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(stepDeadline))
		if _, err := c.WriteToUDP(in, srv); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65536)
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no reply to %q: %v", in, err)
		}
		if !from.IP.Equal(srv.IP) || from.Port != srv.Port {
			t.Fatalf("reply from %v, want %v", from, srv)
		}
		if want := upperModel(in); !bytes.Equal(buf[:n], want) {
			t.Fatalf("datagram %q:\n got %q\nwant %q", in, buf[:n], want)
		}
	})
}
