package http1

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/tlsfixture"
)

// startTLSServer serves the fixture over TLS with a new fixture leaf and
// returns the address and a client configuration that trusts it.
func startTLSServer(t *testing.T) (string, *tls.Config) {
	t.Helper()
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := fixture.Write(root); err != nil {
		t.Fatal(err)
	}
	s := &Server{Root: root}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeTLS(l, fx.ServerConfig()) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != ErrServerClosed {
			t.Errorf("ServeTLS returned %v, want ErrServerClosed", err)
		}
	})
	return l.Addr().String(), &tls.Config{RootCAs: fx.Pool(), ServerName: "localhost"}
}

// ServeTLS serves requests over TLS, persistent connections included.
func TestServeTLS(t *testing.T) {
	addr, cfg := startTLSServer(t)
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		if _, err := io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil || line != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("request %d: status line %q, %v", i, line, err)
		}
		cl := ""
		for {
			h, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if h == "\r\n" {
				break
			}
			if v, ok := strings.CutPrefix(h, "Content-Length: "); ok {
				cl = strings.TrimSpace(v)
			}
		}
		if cl != "14" {
			t.Fatalf("request %d: Content-Length %q, want 14", i, cl)
		}
		if _, err := io.CopyN(io.Discard, br, int64(len("Hello, world!\n"))); err != nil {
			t.Fatal(err)
		}
	}
}

// An error response over TLS reaches the client before the connection
// closes: the lingering close sends close_notify and FIN, then drains.
func TestTLSErrorThenClose(t *testing.T) {
	addr, cfg := startTLSServer(t)
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	big := "GET /" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
	go io.WriteString(c, big)
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer: %v (got %q)", err, got)
	}
	if !strings.HasPrefix(string(got), "HTTP/1.1 414 ") && !strings.HasPrefix(string(got), "HTTP/1.1 431 ") && !strings.HasPrefix(string(got), "HTTP/1.1 400 ") {
		t.Errorf("answer %q, want a 4xx before the close", got)
	}
}

// A client that speaks plain HTTP to the TLS listener gets no HTTP.
func TestServeTLSRefusesPlain(t *testing.T) {
	addr, _ := startTLSServer(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	if strings.Contains(string(got), "200 OK") {
		t.Errorf("plain HTTP answered on the TLS listener: %q", got)
	}
}
