package nginx

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/fixture/http1"
	"github.com/protospec/protospec/targets"
)

func start(t *testing.T) *Target {
	t.Helper()
	if err := (Launcher{}).Available(); err != nil {
		t.Skipf("nginx not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	begin := time.Now()
	tg, err := Launcher{}.Start(ctx, targets.Options{Protocol: "http1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("nginx ready after %v", time.Since(begin))
	t.Cleanup(func() { tg.Close() })
	return tg.(*Target)
}

// client is one HTTP/1.1 connection with a deadline and bounded reads.
type client struct {
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, tg *Target) *client {
	t.Helper()
	ep, err := tg.Endpoint("http/tcp")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", ep.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &client{c: c, br: bufio.NewReader(io.LimitReader(c, 1<<20))}
}

// do sends one request and reads its response and body.
func (cl *client) do(t *testing.T, method, path, headers, body string) (*http.Response, string) {
	t.Helper()
	req := method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headers
	if body != "" || method == "PUT" {
		req += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	req += "\r\n" + body
	if _, err := io.WriteString(cl.c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(cl.br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, path, err)
	}
	return resp, string(b)
}

func TestStaticKeepAliveRedirect(t *testing.T) {
	tg := start(t)
	cl := dial(t, tg)
	hello, _ := fixture.Lookup("/hello.txt")
	resp, body := cl.do(t, "GET", "/hello.txt", "", "")
	if resp.StatusCode != 200 || body != string(hello.Content) {
		t.Fatalf("GET /hello.txt = %d %q, want 200 %q", resp.StatusCode, body, hello.Content)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	if resp.Close {
		t.Fatal("server closes after the first request")
	}
	// Second request on the same connection: keep-alive.
	resp, body = cl.do(t, "GET", "/data/1k.bin", "", "")
	if resp.StatusCode != 200 || body != string(fixture.Pattern(1024)) {
		t.Fatalf("second GET on the connection = %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = cl.do(t, "GET", fixture.RedirectPath, "", "")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != fixture.RedirectLocation {
		t.Fatalf("GET /redirect = %d Location %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), fixture.RedirectLocation)
	}
	if err := tg.Feature("http1/redirect"); err != nil {
		t.Errorf("http1/redirect: %v", err)
	}
	err := tg.Feature("http1/session")
	if !errors.Is(err, targets.ErrNotOffered) || !strings.Contains(err.Error(), "/session") {
		t.Errorf("http1/session: %v, want not offered with a reason", err)
	}
	if v := tg.Info().Version; !strings.HasPrefix(v, "nginx/") {
		t.Errorf("version %q", v)
	}
}

func TestUpload(t *testing.T) {
	tg := start(t)
	if err := tg.Feature("http1/upload"); err != nil {
		t.Fatal(err)
	}
	cl := dial(t, tg)
	resp, _ := cl.do(t, "PUT", "/upload/a.txt", "", "first\n")
	if resp.StatusCode != 201 {
		t.Fatalf("PUT new = %d, want 201", resp.StatusCode)
	}
	resp, _ = cl.do(t, "PUT", "/upload/a.txt", "", "second\n")
	if resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("PUT existing = %d, want 204 or 200", resp.StatusCode)
	}
	resp, body := cl.do(t, "GET", "/upload/a.txt", "", "")
	if resp.StatusCode != 200 || body != "second\n" {
		t.Fatalf("GET after PUT = %d %q", resp.StatusCode, body)
	}
	resp, _ = cl.do(t, "DELETE", "/upload/a.txt", "", "")
	if resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("DELETE = %d", resp.StatusCode)
	}
	resp, _ = cl.do(t, "GET", "/upload/a.txt", "", "")
	if resp.StatusCode != 404 {
		t.Fatalf("GET after DELETE = %d, want 404", resp.StatusCode)
	}
}

func TestCloseStops(t *testing.T) {
	tg := start(t)
	pid, dir := tg.PID(), tg.Dir()
	begin := time.Now()
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("nginx stopped after %v", time.Since(begin))
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("pid %d still exists after Close (kill 0: %v)", pid, err)
	}
	// The workers were in the master's process group: none is left.
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(-pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still has members after Close (kill 0: %v)", pid, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work dir %s not removed: %v", dir, err)
	}
}

func TestMissingBinary(t *testing.T) {
	old := binaryName
	binaryName = "protospec-no-such-nginx"
	defer func() { binaryName = old }()
	_, err := Launcher{}.Start(context.Background(), targets.Options{Protocol: "http1"})
	if !errors.Is(err, targets.ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get install nginx") {
		t.Fatalf("Start with a missing binary: %v, want ErrMissingBinary naming the package nginx", err)
	}
	if err := (Launcher{}).Available(); !errors.Is(err, targets.ErrMissingBinary) {
		t.Fatalf("Available: %v", err)
	}
}

// A start that fails says what nginx logged: here the port is taken.
func TestStartErrorHasLog(t *testing.T) {
	if err := (Launcher{}).Available(); err != nil {
		t.Skipf("nginx not installed: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	old := freePorts
	freePorts = func(string, int) ([]int, error) { return []int{l.Addr().(*net.TCPAddr).Port}, nil }
	defer func() { freePorts = old }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg, err := Launcher{}.Start(ctx, targets.Options{Protocol: "http1"})
	if err == nil {
		tg.Close()
		t.Fatal("Start succeeded on a port already in use")
	}
	if !strings.Contains(err.Error(), "Address already in use") {
		t.Fatalf("error does not carry nginx's log: %v", err)
	}
}
