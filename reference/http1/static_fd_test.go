package http1

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// openUnder counts this process's descriptors open on files under root.
func openUnder(t *testing.T, root string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, root+"/") {
			n++
		}
	}
	return n
}

// Every file opened for a request is closed when the request is done,
// whichever way it ends: served, answered without a body, refused before
// the body is read, or abandoned when the client goes away mid-body (the
// open-file cache off: it keeps files open on purpose, see
// TestFileCache).
func TestStaticFilesClosed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors through /proc")
	}
	s, addr := startServer(t, func(s *Server) { s.FileCacheValid = -1 })
	root, _, err := s.docRoot()
	if err != nil {
		t.Fatal(err)
	}
	etag := func() string {
		r, _ := roundTrip(t, addr, "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		return r.Header.Get("ETag")
	}()
	for _, c := range []struct {
		name, req string
		code      int
	}{
		{"get", "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"head", "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"not-modified", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + "\r\n\r\n", 304},
		{"unsatisfiable-range", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-2000\r\n\r\n", 416},
		{"multipart-range", "GET /data/1k.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,10-20\r\n\r\n", 206},
		{"directory-redirect", "GET /dir HTTP/1.1\r\nHost: x\r\n\r\n", 301},
		{"directory-index", "GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"file-with-slash", "GET /hello.txt/ HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"index-with-slash", "GET /index.html/ HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"unknown-expectation", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", 417},
		{"options", "OPTIONS /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200},
	} {
		r, cl := roundTrip(t, addr, c.req)
		if r.Code != c.code {
			t.Errorf("%s: status %d, want %d", c.name, r.Code, c.code)
		}
		cl.c.Close()
		waitNoneOpen(t, root, c.name)
	}
	// A client that announces a body and leaves without sending it.
	cl := dial(t, addr)
	cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
	time.Sleep(50 * time.Millisecond)
	cl.c.Close()
	waitNoneOpen(t, root, "abandoned body")
}

func waitNoneOpen(t *testing.T, root, name string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for openUnder(t, root) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d descriptors still open under the root", name, openUnder(t, root))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The file served is the file checked: replacing the path with a symlink
// that leads out of the root while the request body is still on its way
// does not make the server read outside the root.
func TestStaticFileSwappedForSymlink(t *testing.T) {
	s, addr := startServer(t, nil)
	root, _, err := s.docRoot()
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("secret outside the root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cl := dial(t, addr)
	cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
	time.Sleep(100 * time.Millisecond) // the path has been resolved by now
	link := filepath.Join(root, "hello.txt.tmp")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link, filepath.Join(root, "hello.txt")); err != nil {
		t.Fatal(err)
	}
	cl.send("cd")
	r := cl.read(false)
	if r.Code != 200 || string(r.Body) != "Hello, world!\n" {
		t.Fatalf("got %d %q, want 200 with the file that was checked", r.Code, r.Body)
	}
}

// The open-file cache holds one descriptor per file it serves, reuses it
// within FileCacheValid, lets a PUT's new content be seen at once, and
// closes everything with the server.
func TestFileCache(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors through /proc")
	}
	s, addr := startServer(t, func(s *Server) { s.FileCacheValid = time.Hour })
	root, _, err := s.docRoot()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		r, cl := roundTrip(t, addr, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		cl.c.Close()
		if r.Code != 200 {
			t.Fatalf("GET /hello.txt: %d", r.Code)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := openUnder(t, root); n != 1 {
		t.Errorf("after five GETs of one file, %d descriptors open under the root, want 1 (the cached one)", n)
	}
	put := "PUT /upload/c.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
	for i, body := range []string{"one", "two"} {
		r, cl := roundTrip(t, addr, put+body)
		cl.c.Close()
		if r.Code != 201 && r.Code != 204 {
			t.Fatalf("PUT %d: %d", i, r.Code)
		}
		g, cl := roundTrip(t, addr, "GET /upload/c.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		cl.c.Close()
		if string(g.Body) != body {
			t.Errorf("GET after PUT %q: %q (a stale cached file)", body, g.Body)
		}
	}
	s.Close()
	waitNoneOpen(t, root, "after Close")
}
