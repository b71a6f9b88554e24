package http1

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
)

// startServer runs a Server over a fresh fixture docroot on loopback.
func startServer(t testing.TB, configure func(*Server)) (*Server, string) {
	t.Helper()
	root := t.TempDir()
	if err := fixture.Write(root); err != nil {
		t.Fatal(err)
	}
	s := &Server{Root: root}
	if configure != nil {
		configure(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		select {
		case err := <-done:
			if err != ErrServerClosed {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return s, l.Addr().String()
}

// testResponse is a response read off the wire by readResponse.
type testResponse struct {
	Proto  string
	Code   int
	Header Header
	Body   []byte
}

// readResponse reads one response; head reports the request was HEAD.
func readResponse(br *bufio.Reader, head bool) (*testResponse, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	parts := strings.SplitN(strings.TrimRight(line, "\r\n"), " ", 3)
	if len(parts) < 2 {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	r := &testResponse{Proto: parts[0], Code: code}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		n, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("bad field line %q", l)
		}
		r.Header.Add(n, strings.TrimSpace(v))
	}
	if head || code < 200 || code == 204 || code == 304 {
		return r, nil
	}
	cl := r.Header.Get("Content-Length")
	if cl == "" {
		return nil, fmt.Errorf("response %d without Content-Length", code)
	}
	n, err := strconv.Atoi(cl)
	if err != nil {
		return nil, err
	}
	r.Body = make([]byte, n)
	_, err = io.ReadFull(br, r.Body)
	return r, err
}

// client is a raw loopback connection to the server under test.
type client struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (cl *client) send(s string) {
	cl.t.Helper()
	if _, err := io.WriteString(cl.c, s); err != nil {
		cl.t.Fatal(err)
	}
}

func (cl *client) read(head bool) *testResponse {
	cl.t.Helper()
	r, err := readResponse(cl.br, head)
	if err != nil {
		cl.t.Fatalf("reading response: %v", err)
	}
	return r
}

// closed reports whether the server closed the connection (EOF within 2 s).
func (cl *client) closed() bool {
	cl.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	defer cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 1)
	_, err := cl.br.Read(b)
	return err == io.EOF || err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// roundTrip sends raw bytes on a new connection and reads one response.
func roundTrip(t testing.TB, addr, raw string) (*testResponse, *client) {
	t.Helper()
	cl := dial(t, addr)
	cl.send(raw)
	head := strings.HasPrefix(raw, "HEAD ")
	return cl.read(head), cl
}

func excerpt(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return strconv.Quote(string(b))
}
