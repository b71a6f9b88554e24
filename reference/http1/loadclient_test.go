package http1

import (
	"net"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/loadgen/loadgentest"
	"github.com/protospec/protospec/internal/netutil/netutiltest"
	wire "github.com/protospec/protospec/internal/wire/http1"
)

func TestRespParser(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		head     bool
		status   int
		rest     string // what follows the response
		close    bool
		bad      bool
		partial  bool // needs more bytes
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200},
		{name: "pipelined", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\n", status: 200, rest: "HTTP/1.1 404 Not Found\r\n"},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n", status: 200},
		{name: "chunked LF", in: "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, Chunked\n\n1\nx\n0\n\n", status: 200},
		{name: "head", in: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", head: true, status: 200},
		{name: "204", in: "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", status: 204},
		{name: "304", in: "HTTP/1.1 304 Not Modified\r\n\r\n", status: 304},
		{name: "interim", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n", status: 201},
		{name: "close", in: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\nx", status: 200, close: true},
		{name: "http10", in: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, close: true},
		{name: "http10 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", status: 200},
		{name: "until close", in: "HTTP/1.1 200 OK\r\n\r\nbody until close", status: 200, close: true, partial: true},
		{name: "same lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx", status: 200},
		{name: "no reason", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "short body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", partial: true},
		{name: "two lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", bad: true},
		{name: "bad length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", bad: true},
		{name: "bad status", in: "HTTP/1.1 2000 OK\r\n\r\n", bad: true},
		{name: "not http", in: "SSH-2.0-OpenSSH\r\n\r\n", bad: true},
		{name: "space before colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", bad: true},
		{name: "folded", in: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", bad: true},
		{name: "bad chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", bad: true},
		{name: "chunk without CRLF", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n", bad: true},
		{name: "101", in: "HTTP/1.1 101 Switching Protocols\r\n\r\n", bad: true},
	} {
		for _, step := range []int{1, 7, 1 << 20} {
			method := "GET"
			if tc.head {
				method = "HEAD"
			}
			m, r, err := loadRead([]byte(tc.in), method, step)
			switch {
			case tc.bad:
				if err == nil || loadgen.Classify(err) != loadgen.KindBadResponse {
					t.Errorf("%s (step %d): err %v, want a bad response", tc.name, step, err)
				}
			case err != nil:
				t.Errorf("%s (step %d): %v", tc.name, step, err)
			case tc.partial:
				if m != nil {
					t.Errorf("%s (step %d): complete, want more bytes needed", tc.name, step)
				}
				if cur := r.d.Current(); tc.close && (cur == nil || cur.Framing != wire.FramingClose) {
					t.Errorf("%s (step %d): not read until the close", tc.name, step)
				}
			case m == nil:
				t.Errorf("%s (step %d): incomplete, want done %d", tc.name, step, tc.status)
			default:
				if closes := m.Closes() || m.Framing == wire.FramingClose; m.Status != tc.status || closes != tc.close {
					t.Errorf("%s (step %d): status %d close %v, want %d close %v", tc.name, step, m.Status, closes, tc.status, tc.close)
				}
				if got := tc.in[m.Offset+m.Len:]; got != tc.rest {
					t.Errorf("%s (step %d): left %q, want %q", tc.name, step, got, tc.rest)
				}
			}
		}
	}
}

func startReferenceHTTP(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := fixture.Write(root); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Root: root}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

func TestLoadClientAgainstReference(t *testing.T) {
	addr := startReferenceHTTP(t)
	mix := []string{"/hello.txt", "/data/64k.bin", "HEAD /index.html", "/empty.txt", "/redirect", "/dir/"}
	for _, tc := range []struct {
		name     string
		opts     LoadClientOptions
		pipeline int
	}{
		{"keep-alive", LoadClientOptions{Requests: mix}, 1},
		{"pipelined", LoadClientOptions{Requests: mix}, 8},
		{"no keep-alive", LoadClientOptions{Requests: mix, NoKeepAlive: true}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Addr = addr
			p, err := NewLoadClient(o)
			if err != nil {
				t.Fatal(err)
			}
			res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 4, Pipeline: tc.pipeline, Requests: 600})
			if res.Completed != 600 || res.ErrorCount() != 0 {
				t.Fatalf("completed %d, errors %v; want 600 and none", res.Completed, res.Errors)
			}
			if tc.opts.NoKeepAlive && res.Connects < 600 {
				t.Errorf("%d connects for 600 requests without keep-alive", res.Connects)
			}
			if !tc.opts.NoKeepAlive && res.Connects > 8 {
				t.Errorf("%d connects with keep-alive", res.Connects)
			}
		})
	}
	t.Run("status", func(t *testing.T) {
		p, err := NewLoadClient(LoadClientOptions{Addr: addr, Requests: []string{"/hello.txt", "/missing"}})
		if err != nil {
			t.Fatal(err)
		}
		res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Requests: 100})
		if res.Completed != 50 || res.Errors[loadgen.KindStatus] != 50 || res.Connects != 1 {
			t.Fatalf("completed %d errors %v connects %d; want 50 ok, 50 unexpected_status on one connection", res.Completed, res.Errors, res.Connects)
		}
	})
}

// TestLoadClientServerCloses: a server that closes after every few responses,
// saying so, costs reconnects, not errors.
func TestLoadClientServerCloses(t *testing.T) {
	addr := netutiltest.ServeTCP(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		have := ""
		for served := 0; served < 3; {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			have += string(buf[:n])
			for strings.Contains(have, "\r\n\r\n") && served < 3 {
				have = have[strings.Index(have, "\r\n\r\n")+4:]
				served++
				hdr := ""
				if served == 3 {
					hdr = "Connection: close\r\n"
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\n" + hdr + "Content-Length: 2\r\n\r\nok"))
			}
		}
		// Lingering close, as RFC 9112 9.6 advises: closing with
		// unread requests would reset the connection and could
		// discard the last response.
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(time.Second))
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
	p, err := NewLoadClient(LoadClientOptions{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Pipeline: 4, Requests: 300})
	if res.Completed != 300 || res.ErrorCount() != 0 {
		t.Fatalf("completed %d errors %v; want 300 and none", res.Completed, res.Errors)
	}
	if res.Connects < 100 {
		t.Errorf("%d connects, want >= 100", res.Connects)
	}
}

func TestLoadClientOptions(t *testing.T) {
	for _, o := range []LoadClientOptions{
		{},
		{Addr: "127.0.0.1:1", Requests: []string{"no-slash"}},
		{Addr: "127.0.0.1:1", Requests: []string{"G(T /"}},
		{Addr: "127.0.0.1:1", Requests: []string{"GET / extra"}},
		{Addr: "127.0.0.1:1", Headers: []string{"X: a\r\nY: b"}},
	} {
		if _, err := NewLoadClient(o); err == nil {
			t.Errorf("NewLoadClient(%+v) accepted bad options", o)
		}
	}
	p, err := NewLoadClient(LoadClientOptions{Addr: "127.0.0.1:1", Requests: []string{"HEAD /a", "/b"}, Method: "POST", NoKeepAlive: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"HEAD /a HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUser-Agent: protospec-bench\r\nConnection: close\r\n\r\n",
		"POST /b HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUser-Agent: protospec-bench\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	}
	for i, w := range want {
		if string(p.reqs[i]) != w {
			t.Errorf("request %d = %q, want %q", i, p.reqs[i], w)
		}
	}
}

// nginxResponse is what nginx 1.22 sends for /hello.txt.
const nginxResponse = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 21 Nov 2026 21:00:00 GMT\r\n" +
	"Content-Type: text/plain\r\nContent-Length: 14\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
	"Connection: keep-alive\r\nETag: \"65920080-e\"\r\nAccept-Ranges: bytes\r\n\r\nHello, world!\n"

func BenchmarkRespParse(b *testing.B) {
	buf := []byte(nginxResponse)
	var r respReader
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		r.expect("GET")
		r.feed(buf)
		m, err := r.next()
		if err != nil || m == nil || m.Len != int64(len(buf)) {
			b.Fatal(m, err)
		}
		r.d.Recycle(m)
	}
}

func BenchmarkRespParseChunked(b *testing.B) {
	buf := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"400\r\n" + string(make([]byte, 1024)) + "\r\n400\r\n" + string(make([]byte, 1024)) + "\r\n0\r\n\r\n")
	var r respReader
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		r.expect("GET")
		r.feed(buf)
		m, err := r.next()
		if err != nil || m == nil {
			b.Fatal(m, err)
		}
		r.d.Recycle(m)
	}
}

// TestPlanLoad checks the registered client's params: the request mix and
// keep-alive as bench reports them, and bad values refused before any
// target starts.
func TestPlanLoad(t *testing.T) {
	c, err := loadgen.LookupClient(fixture.Name)
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Plan(map[string]string{"paths": "/hello.txt, HEAD /index.html", "method": "POST", "no-keepalive": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.Workload, "|"); l.Service != "http/tcp" || got != "POST /hello.txt|HEAD /index.html" || strings.Join(l.Options, "|") != "no keep-alive" {
		t.Errorf("plan: service %q workload %q options %q", l.Service, got, l.Options)
	}
	l, err = c.Plan(nil)
	if err != nil || strings.Join(l.Workload, "|") != "GET /" || strings.Join(l.Options, "|") != "keep-alive" {
		t.Fatalf("default plan: %+v, %v", l, err)
	}
	for _, bad := range []map[string]string{{"paths": "no-slash"}, {"method": "G(T"}, {"no-keepalive": "maybe"}} {
		if _, err := c.Plan(bad); err == nil {
			t.Errorf("Plan(%v) accepted it", bad)
		}
	}
	addr := startReferenceHTTP(t)
	p, err := l.Open(loadgen.TCP(addr), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Requests: 50}); res.Completed != 50 || res.ErrorCount() != 0 {
		t.Errorf("completed %d, errors %v; want 50 and none", res.Completed, res.Errors)
	}
}
