package reference

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dnsfixture "github.com/protospec/protospec/internal/dns"
	contract "github.com/protospec/protospec/internal/echo"
	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/reference/echo"
)

// syncBuffer is a bytes.Buffer safe for the servers' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor returns the buffer once it holds sub (a log line comes just
// after the answer it tells of), or after 10 s.
func (s *syncBuffer) waitFor(sub string) string {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.String(), sub) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return s.String()
}

// serveFor starts Serve of protocol and returns what it serves once it is
// bound; the server stops when the test ends.
func serveFor(t *testing.T, protocol string, opts ServeOptions) Serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan Serving, 1)
	opts.Serving = func(s Serving) { got <- s }
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, protocol, opts) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case s := <-got:
		return s
	case err := <-done:
		t.Fatalf("serve %s: %v", protocol, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve %s told nothing", protocol)
	}
	return Serving{}
}

// TestServeEchoEveryService checks that serve echo serves the five
// services, each on TCP and UDP of its own port, on consecutive ports in
// the contract's order, and one alone with service=.
func TestServeEchoEveryService(t *testing.T) {
	log := &syncBuffer{}
	s := serveFor(t, contract.Name, ServeOptions{Addr: "127.0.0.1:0", AccessLog: log})
	if len(s.Endpoints) != 2*len(echo.Services) {
		t.Fatalf("endpoints %v, want TCP and UDP of %d services", s.Endpoints, len(echo.Services))
	}
	first := 0
	for i, svc := range echo.Services {
		tcp, udp := s.Endpoints[string(svc)+"/tcp"], s.Endpoints[string(svc)+"/udp"]
		if tcp.Network != "tcp" || udp.Network != "udp" || tcp.Addr != udp.Addr {
			t.Fatalf("%s: tcp %v, udp %v: want one address for both", svc, tcp, udp)
		}
		_, p, _ := net.SplitHostPort(tcp.Addr)
		port, _ := strconv.Atoi(p)
		if i == 0 {
			first = port
		} else if port != first+i {
			t.Errorf("%s on port %d, want %d", svc, port, first+i)
		}
	}
	c, err := net.Dial("tcp", s.Endpoints["uppercase/tcp"].Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("hello\n"))
	line, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if line != "HELLO\n" {
		t.Errorf("uppercase answered %q, %v", line, err)
	}
	if l := log.waitFor("uppercase tcp"); !strings.Contains(l, "uppercase tcp") || !strings.Contains(l, "in=6 out=6") {
		t.Errorf("access log %q: want the uppercase connection with its bytes", l)
	}

	one := serveFor(t, contract.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{contract.ParamService: "echo"}})
	if len(one.Endpoints) != 2 || one.Endpoints["echo/tcp"].Addr == "" || one.Endpoints["echo/udp"].Addr == "" {
		t.Errorf("service=echo serves %v", one.Endpoints)
	}
}

// TestServeHTTP1Static checks the charset and dir-index params and the
// access log of serve http1.
func TestServeHTTP1Static(t *testing.T) {
	get := func(addr, path string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		var b bytes.Buffer
		b.ReadFrom(c)
		return b.String()
	}
	log := &syncBuffer{}
	s := serveFor(t, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", AccessLog: log})
	addr := s.Endpoints["http/tcp"].Addr
	if r := get(addr, "/hello.txt"); !strings.Contains(r, "Content-Type: text/plain; charset=utf-8\r\n") {
		t.Errorf("GET /hello.txt:\n%s", r)
	}
	if r := get(addr, "/data/"); !strings.HasPrefix(r, "HTTP/1.1 200 ") || !strings.Contains(r, `href="./1k.bin"`) {
		t.Errorf("GET /data/:\n%s", r)
	}
	if l := log.waitFor(`GET "/hello.txt" 200 14`); !strings.Contains(l, `GET "/hello.txt" 200 14`) {
		t.Errorf("access log %q", l)
	}
	off := serveFor(t, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{fixture.ParamCharset: "none", fixture.ParamDirIndex: "false"}})
	addr = off.Endpoints["http/tcp"].Addr
	if r := get(addr, "/hello.txt"); !strings.Contains(r, "Content-Type: text/plain\r\n") {
		t.Errorf("charset=none: GET /hello.txt:\n%s", r)
	}
	if r := get(addr, "/data/"); !strings.HasPrefix(r, "HTTP/1.1 404 ") {
		t.Errorf("dir-index=false: GET /data/:\n%s", r)
	}
	for _, bad := range []map[string]string{{fixture.ParamCharset: "utf 8"}, {fixture.ParamDirIndex: "maybe"}} {
		if err := Serve(context.Background(), fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: bad}); err == nil {
			t.Errorf("params %v: no error", bad)
		}
	}
}

// TestServeDNSServing checks what serve dns tells of itself: its two
// endpoints on one address, dns/axfr-acl only with the suite's
// allow-list, and dns/tsig only with the suite's TSIG key.
func TestServeDNSServing(t *testing.T) {
	s := serveFor(t, dnsfixture.Name, ServeOptions{Addr: "127.0.0.1:0"})
	if u, c := s.Endpoints["dns/udp"], s.Endpoints["dns/tcp"]; u.Network != "udp" || c.Network != "tcp" || u.Addr != c.Addr {
		t.Errorf("endpoints %v: want dns/udp and dns/tcp on one address", s.Endpoints)
	}
	if !slices.Equal(s.Features, []string{dnsfixture.FeatureAXFRACL, dnsfixture.FeatureTSIG}) {
		t.Errorf("features %v, want %s and %s", s.Features, dnsfixture.FeatureAXFRACL, dnsfixture.FeatureTSIG)
	}
	open := serveFor(t, dnsfixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{dnsfixture.ParamAllow: "127.0.0.0/8", dnsfixture.ParamTSIGKey: "none"}})
	if len(open.Features) != 0 {
		t.Errorf("allow=127.0.0.0/8: features %v, want none", open.Features)
	}
}
