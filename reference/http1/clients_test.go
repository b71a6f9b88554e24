package http1

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
)

func TestGoClient(t *testing.T) {
	_, addr := startServer(t, nil)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}
	defer c.CloseIdleConnections()
	base := "http://" + addr

	var reused []bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/hello.txt", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != hello {
			t.Fatalf("GET: %d %q", resp.StatusCode, b)
		}
	}
	if len(reused) != 3 || reused[0] || !reused[1] || !reused[2] {
		t.Errorf("connection reuse %v, want [false true true]", reused)
	}

	// Redirect, followed by the client.
	resp, err := c.Get(base + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != hello || resp.Request.URL.Path != "/hello.txt" {
		t.Errorf("redirect ended at %s with %q", resp.Request.URL, b)
	}

	// Chunked upload (unknown length) with Expect: 100-continue.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("chunk one,"))
		pw.Write([]byte("chunk two"))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/echo", pr)
	req.Header.Set("Expect", "100-continue")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "chunk one,chunk two" || resp.Header.Get("X-Body-Length") != "19" {
		t.Errorf("chunked echo: %q %v", b, resp.Header)
	}

	// Cookie session through net/http's jar.
	for i, want := range []string{fixture.SessionNewBody, "welcome back, visit 2\n", "welcome back, visit 3\n"} {
		resp, err := c.Get(base + "/session")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("session visit %d: %q, want %q", i+1, b, want)
		}
	}

	// Range and conditional GET.
	req, _ = http.NewRequest("GET", base+"/data/64k.bin", nil)
	req.Header.Set("Range", "bytes=65530-")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(b, fixture.Pattern(65536)[65530:]) {
		t.Errorf("range: %d %d bytes", resp.StatusCode, len(b))
	}
	req, _ = http.NewRequest("GET", base+"/hello.txt", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	req.Header.Set("If-Modified-Since", resp.Header.Get("Last-Modified"))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("If-None-Match with another file's ETag: %d (If-Modified-Since must be ignored)", resp.StatusCode)
	}
}

func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, e.String())
	}
	return o.String(), e.String()
}

func TestCurl(t *testing.T) {
	curl := needBinary(t, "curl")
	_, addr := startServer(t, nil)
	base := "http://" + addr
	out, errOut := run(t, curl, "-sv", "--max-time", "10", base+"/hello.txt", base+"/index.html")
	if !regexp.MustCompile(`(?i)re-?using existing`).MatchString(errOut) {
		t.Errorf("curl did not reuse the connection:\n%s", errOut)
	}
	if !strings.HasPrefix(out, hello) {
		t.Errorf("curl body %q", out)
	}
	out, _ = run(t, curl, "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "-z", "Mon, 01 Jan 2024 00:00:00 GMT", base+"/hello.txt")
	if out != "304" {
		t.Errorf("curl -z: %s, want 304", out)
	}
	out, _ = run(t, curl, "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "-z", "Sun, 31 Dec 2023 00:00:00 GMT", base+"/hello.txt")
	if out != "200" {
		t.Errorf("curl -z older date: %s, want 200", out)
	}
	out, _ = run(t, curl, "-s", "--max-time", "10", "-r", "0-9", "-w", " %{http_code}", base+"/hello.txt")
	if out != "Hello, wor 206" {
		t.Errorf("curl -r 0-9: %q", out)
	}
	out, errOut = run(t, curl, "-sv", "--max-time", "10", "--http1.0", base+"/hello.txt")
	if out != hello || !strings.Contains(errOut, "GET /hello.txt HTTP/1.0") {
		t.Errorf("curl --http1.0: %q\n%s", out, errOut)
	}
	out, _ = run(t, curl, "-s", "--max-time", "10", "-d", "b=2&a=1", base+"/form")
	if out != "a=1\nb=2\n" {
		t.Errorf("curl -d /form: %q", out)
	}
	out, _ = run(t, curl, "-s", "--max-time", "10", "-F", "n=v", "-F", "f=@"+"/dev/null;filename=empty.txt", base+"/form")
	if out != "f=@empty.txt:0\nn=v\n" {
		t.Errorf("curl -F /form: %q", out)
	}
}

const pythonClient = `
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], timeout=10)
out = []
for _ in range(2):
    c.request("GET", "/hello.txt")
    r = c.getresponse()
    out.append("%d %r" % (r.status, r.read()))
sock = c.sock
c.request("HEAD", "/data/1k.bin")
r = c.getresponse()
out.append("%d %s %r" % (r.status, r.getheader("Content-Length"), r.read()))
c.request("POST", "/echo", body=b"abc", headers={"Content-Type": "text/plain"})
r = c.getresponse()
out.append("%d %r %s" % (r.status, r.read(), r.getheader("X-Body-Length")))
c.request("PUT", "/upload/py.txt", body=iter([b"ab", b"cd"]), encode_chunked=True)
r = c.getresponse()
out.append("%d %r" % (r.status, r.read()))
out.append("same socket: %s" % (c.sock is sock))
print("\n".join(out))
`

func TestPythonHTTPClient(t *testing.T) {
	py := needBinary(t, "python3")
	_, addr := startServer(t, nil)
	out, _ := run(t, py, "-c", pythonClient, addr)
	want := "200 b'Hello, world!\\n'\n200 b'Hello, world!\\n'\n200 1024 b''\n200 b'abc' 3\n201 b'created\\n'\nsame socket: True\n"
	if out != want {
		t.Errorf("python http.client:\n%s\nwant\n%s", out, want)
	}
}
