package http1

import (
	"bytes"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDirIndex checks the listing of a directory without index.html: its
// entries, sorted and escaped, dot files left out, for GET and HEAD only,
// and 404 without DirIndex.
func TestDirIndex(t *testing.T) {
	var root string
	_, addr := startServer(t, func(s *Server) {
		s.DirIndex = true
		root = s.Root
	})
	for _, name := range []string{"upload/b.txt", "upload/a <&>.txt", "upload/.hidden", "upload/x:y"} {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := roundTrip(t, addr, "GET /upload/ HTTP/1.1\r\nHost: x\r\n\r\n")
	body := string(r.Body)
	if r.Code != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /upload/: %d %q\n%s", r.Code, r.Header.Get("Content-Type"), body)
	}
	a, b := strings.Index(body, `href="./a%20%3C&amp;%3E.txt">a &lt;&amp;&gt;.txt<`), strings.Index(body, `href="./b.txt"`)
	if a < 0 || b < a || strings.Contains(body, ".hidden") || !strings.Contains(body, `href="./x:y"`) || !strings.Contains(body, `href="../"`) {
		t.Errorf("listing of /upload/:\n%s", body)
	}
	if r, _ := roundTrip(t, addr, "HEAD /data/ HTTP/1.1\r\nHost: x\r\n\r\n"); r.Code != 200 || len(r.Body) != 0 {
		t.Errorf("HEAD /data/: %d, %d bytes", r.Code, len(r.Body))
	}
	if r, _ := roundTrip(t, addr, "POST /data/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"); r.Code != 405 {
		t.Errorf("POST /data/: %d, want 405", r.Code)
	}
	if r, _ := roundTrip(t, addr, "GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n"); r.Code != 200 || !bytes.Contains(r.Body, []byte("directory index")) {
		t.Errorf("GET /dir/ (with index.html): %d\n%s", r.Code, r.Body)
	}

	_, plain := startServer(t, nil)
	if r, _ := roundTrip(t, plain, "GET /data/ HTTP/1.1\r\nHost: x\r\n\r\n"); r.Code != 404 {
		t.Errorf("GET /data/ without DirIndex: %d, want 404", r.Code)
	}
}

// TestCharset checks that Charset goes on text types only.
func TestCharset(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.Charset = "utf-8" })
	for path, want := range map[string]string{
		"/hello.txt":   "text/plain; charset=utf-8",
		"/index.html":  "text/html; charset=utf-8",
		"/data/1k.bin": "application/octet-stream",
	} {
		if r, _ := roundTrip(t, addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); r.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, r.Header.Get("Content-Type"), want)
		}
	}
	_, plain := startServer(t, nil)
	if r, _ := roundTrip(t, plain, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"); r.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("without Charset: %q", r.Header.Get("Content-Type"))
	}
}

// lockedBuffer is a buffer for a logger shared by connections.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAccessLog checks one line per response, unreadable requests too
// (their method, when it was read, and "-" for the target).
func TestAccessLog(t *testing.T) {
	var buf lockedBuffer
	_, addr := startServer(t, func(s *Server) { s.AccessLog = log.New(&buf, "", 0) })
	roundTrip(t, addr, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	roundTrip(t, addr, "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n")
	roundTrip(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nBad Field\r\n\r\n")
	// A line is written once its response is, so it may come just after
	// the client read the response.
	for _, want := range []string{` GET "/hello.txt" 200 14`, ` HEAD "/nope" 404 0`, `GET "-" 400 `} {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(buf.String(), want) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := buf.String(); !strings.Contains(got, want) {
			t.Errorf("access log lacks %q:\n%s", want, got)
		}
	}
}
