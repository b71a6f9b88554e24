package http1

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
)

// dialFrom connects to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) *client {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

// TestConnLimitDefaults checks that the zero Server has a connection limit
// and a per-client share.
func TestConnLimitDefaults(t *testing.T) {
	var s Server
	if s.maxConns() <= 0 || s.maxConnsPerClient() <= 0 || s.maxConnsPerClient() > s.maxConns() {
		t.Fatalf("limits %d, %d per client", s.maxConns(), s.maxConnsPerClient())
	}
}

// TestConnLimitPerClient checks one source address cannot take more than
// its share: its third connection gets 503, another address is served.
func TestConnLimitPerClient(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxConns = 10; s.MaxConnsPerClient = 2 })
	for range 2 {
		cl := dialFrom(t, "127.0.0.1", addr)
		cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		if r := cl.read(false); r.Code != 200 {
			t.Fatalf("connection within the share got %d", r.Code)
		}
	}
	if r := dialFrom(t, "127.0.0.1", addr).read(false); r.Code != 503 {
		t.Fatalf("connection over the share got %d, want 503", r.Code)
	}
	other := dialFrom(t, "127.0.0.2", addr)
	other.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := other.read(false); r.Code != 200 {
		t.Fatalf("another client got %d, want 200", r.Code)
	}
}

// TestSessionCreateFullIsCheap checks that creating a session in a full
// table costs about what it costs in a table with room: no scan of the
// table per insert.
func TestSessionCreateFullIsCheap(t *testing.T) {
	const n = 2000
	now := time.Now()
	var tb sessionTable
	for range maxSessions - n {
		tb.create(now)
	}
	start := time.Now()
	for range n {
		tb.create(now)
	}
	room := time.Since(start)
	start = time.Now()
	for range n {
		tb.create(now)
	}
	full := time.Since(start)
	if len(tb.m) != maxSessions {
		t.Fatalf("table holds %d sessions, want %d", len(tb.m), maxSessions)
	}
	if full > 10*room+20*time.Millisecond {
		t.Fatalf("%d creates took %v in a full table, %v with room", n, full, room)
	}
}

// put sends one PUT of body to /upload/name on a new connection.
func put(t *testing.T, addr, name, body string) *testResponse {
	t.Helper()
	r, _ := roundTrip(t, addr, "PUT /upload/"+name+" HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	return r
}

// TestPutKeepsMode checks a new upload is 0644 and a replaced one keeps
// its mode.
func TestPutKeepsMode(t *testing.T) {
	s, addr := startServer(t, nil)
	p := filepath.Join(s.Root, "upload", "m.txt")
	if r := put(t, addr, "m.txt", "a"); r.Code != 201 {
		t.Fatalf("PUT: %d", r.Code)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("new upload: %v %v, want 0644", st.Mode(), err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if r := put(t, addr, "m.txt", "b"); r.Code != 204 {
		t.Fatalf("PUT again: %d", r.Code)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("replaced upload: %v %v, want 0640", st.Mode(), err)
	}
}

// TestPutLongName checks a name too long for the file system gets a 4xx.
func TestPutLongName(t *testing.T) {
	_, addr := startServer(t, nil)
	if r := put(t, addr, strings.Repeat("n", 300), "a"); r.Code != 414 {
		t.Fatalf("PUT of a 300-character name: %d, want 414", r.Code)
	}
}

// TestUploadQuota checks the upload area is bounded in bytes and files.
func TestUploadQuota(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxUploadBytes = 10; s.MaxUploadFiles = 2 })
	if r := put(t, addr, "a", "12345678"); r.Code != 201 {
		t.Fatalf("first PUT: %d", r.Code)
	}
	if r := put(t, addr, "b", "12345678"); r.Code != 507 {
		t.Fatalf("PUT over the byte quota: %d, want 507", r.Code)
	}
	r, _ := roundTrip(t, addr, "PUT /upload/b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n")
	if r.Code != 507 {
		t.Fatalf("chunked PUT over the byte quota: %d, want 507", r.Code)
	}
	if r := put(t, addr, "a", "1234567890"); r.Code != 204 {
		t.Fatalf("replacing within the quota: %d, want 204", r.Code)
	}
	if r := put(t, addr, "a", "12345678901"); r.Code != 507 {
		t.Fatalf("replacing over the quota: %d, want 507", r.Code)
	}
	if r := put(t, addr, "b", ""); r.Code != 201 {
		t.Fatalf("second file: %d", r.Code)
	}
	if r := put(t, addr, "c", ""); r.Code != 507 {
		t.Fatalf("third file over the count: %d, want 507", r.Code)
	}
}

// TestRefusedRouteDoesNotReadBody checks a request refused from its head
// (405) is answered without waiting for a large body, and the connection
// then closed.
func TestRefusedRouteDoesNotReadBody(t *testing.T) {
	_, addr := startServer(t, nil)
	cl := dial(t, addr)
	cl.c.SetDeadline(time.Now().Add(5 * time.Second))
	cl.send("POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
	if r := cl.read(false); r.Code != 405 || r.Header.Get("Connection") != "close" {
		t.Fatalf("got %d %v, want 405 and Connection: close", r.Code, r.Header)
	}
}

// allocated runs f and returns the bytes allocated meanwhile.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// pipeRequest serves raw on one end of a pipe and returns the response.
func pipeRequest(t *testing.T, s *Server, raw []byte) *testResponse {
	t.Helper()
	c1, c2 := net.Pipe()
	go s.ServeConn(c1)
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	go c2.Write(raw)
	r, err := readResponse(bufio.NewReader(c2), false)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBodyMemory checks what a request's content costs in memory: a PUT
// streams it to disk, a refused request drops it, and chunked content
// for /echo costs no more than twice its size (plus the copy the test's
// client reads back).
func TestBodyMemory(t *testing.T) {
	const size = 8 << 20
	root := t.TempDir()
	if err := fixture.Write(root); err != nil {
		t.Fatal(err)
	}
	s := &Server{Root: root, MaxUploadBytes: 64 << 20}
	defer s.Close()
	body := bytes.Repeat([]byte("x"), size)
	putReq := append([]byte("PUT /upload/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "+strconv.Itoa(size)+"\r\n\r\n"), body...)
	var r *testResponse
	if n := allocated(func() { r = pipeRequest(t, s, putReq) }); r.Code != 201 || n > size/4 {
		t.Errorf("PUT of %d bytes: %d, %d bytes allocated", size, r.Code, n)
	}
	small := append([]byte("POST /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 200000\r\n\r\n"), body[:200000]...)
	if n := allocated(func() { r = pipeRequest(t, s, small) }); r.Code != 405 || n > 100000 {
		t.Errorf("405 with 200000 bytes of content: %d, %d bytes allocated", r.Code, n)
	}
	var chunked bytes.Buffer
	chunked.WriteString("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n")
	for i := 0; i < size; i += 4096 {
		fmt.Fprintf(&chunked, "1000\r\n%s\r\n", body[:4096])
	}
	chunked.WriteString("0\r\n\r\n")
	raw := chunked.Bytes()
	if n := allocated(func() { r = pipeRequest(t, s, raw) }); r.Code != 200 || len(r.Body) != size || n > 3*size+size/2 {
		t.Errorf("chunked /echo of %d bytes: %d, %d bytes back, %d bytes allocated", size, r.Code, len(r.Body), n)
	}
}

// TestInflightBodyBudget checks the content held in memory across
// connections is bounded: while one /echo body is being received, another
// that does not fit gets 503.
func TestInflightBodyBudget(t *testing.T) {
	s, addr := startServer(t, func(s *Server) { s.MaxInflightBodyBytes = 1 << 20 })
	a := dial(t, addr)
	a.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 800000\r\n\r\nabc")
	deadline := time.Now().Add(5 * time.Second)
	for s.inflightUsed() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first body was never reserved")
		}
		runtime.Gosched()
	}
	b := dial(t, addr)
	b.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 800000\r\n\r\n")
	if r := b.read(false); r.Code != 503 {
		t.Fatalf("second body: %d, want 503", r.Code)
	}
	a.send(strings.Repeat("x", 800000-3))
	if r := a.read(false); r.Code != 200 || len(r.Body) != 800000 {
		t.Fatalf("first body: %d, %d bytes", r.Code, len(r.Body))
	}
}
