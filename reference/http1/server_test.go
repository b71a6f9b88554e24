package http1

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	fixture "github.com/protospec/protospec/internal/http1"
)

// wireCase is one raw request and the server's expected reaction.
type wireCase struct {
	name  string
	raw   string
	code  int
	close bool
	check func(t *testing.T, r *testResponse)
}

func hasHeader(name, value string) func(*testing.T, *testResponse) {
	return func(t *testing.T, r *testResponse) {
		t.Helper()
		if got := r.Header.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
}

func hasBody(body string) func(*testing.T, *testResponse) {
	return func(t *testing.T, r *testResponse) {
		t.Helper()
		if string(r.Body) != body {
			t.Errorf("body = %s, want %q", excerpt(r.Body), body)
		}
	}
}

func all(fs ...func(*testing.T, *testResponse)) func(*testing.T, *testResponse) {
	return func(t *testing.T, r *testResponse) {
		t.Helper()
		for _, f := range fs {
			f(t, r)
		}
	}
}

const hello = "Hello, world!\n"

// withBody appends Content-Length and the body to a request head.
func withBody(head, body string) string {
	return head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

var wireCases = []wireCase{
	{name: "get", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 200,
		check: all(hasBody(hello), hasHeader("Content-Type", "text/plain"), hasHeader("Server", ServerName),
			hasHeader("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"), hasHeader("Accept-Ranges", "bytes"))},
	{name: "leading-empty-lines", raw: "\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: hasBody(hello)},
	{name: "bare-lf", raw: "GET /hello.txt HTTP/1.1\nHost: x\n\n", code: 200, check: hasBody(hello)},
	{name: "space-before-colon", raw: "GET /hello.txt HTTP/1.1\r\nHost : x\r\n\r\n", code: 400, close: true},
	{name: "obs-fold", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", code: 400, close: true},
	{name: "ws-before-first-field", raw: "GET /hello.txt HTTP/1.1\r\n Host: x\r\n\r\n", code: 400, close: true},
	{name: "bad-field-name", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n", code: 400, close: true},
	{name: "no-colon", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nXA\r\n\r\n", code: 400, close: true},
	{name: "bare-cr-field", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", code: 400, close: true},
	{name: "bare-cr-line", raw: "GET /hello.txt\rHTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "nul-field", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", code: 400, close: true},
	{name: "no-host-11", raw: "GET /hello.txt HTTP/1.1\r\n\r\n", code: 400, close: true},
	{name: "two-hosts", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", code: 400, close: true},
	{name: "bad-host", raw: "GET /hello.txt HTTP/1.1\r\nHost: a/b\r\n\r\n", code: 400, close: true},
	{name: "bad-host-port", raw: "GET /hello.txt HTTP/1.1\r\nHost: x:8a\r\n\r\n", code: 400, close: true},
	{name: "ipv6-host", raw: "GET /hello.txt HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", code: 200},
	{name: "empty-host", raw: "GET /hello.txt HTTP/1.1\r\nHost:\r\n\r\n", code: 200},
	{name: "http10-no-host", raw: "GET /hello.txt HTTP/1.0\r\n\r\n", code: 200, close: true, check: hasBody(hello)},
	{name: "http10-keep-alive", raw: "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", code: 200,
		check: hasHeader("Connection", "keep-alive")},
	{name: "connection-close", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", code: 200, close: true,
		check: hasHeader("Connection", "close")},
	{name: "http2-version", raw: "GET /hello.txt HTTP/2.0\r\nHost: x\r\n\r\n", code: 505, close: true},
	{name: "http09-version", raw: "GET /hello.txt HTTP/0.9\r\nHost: x\r\n\r\n", code: 505, close: true},
	{name: "http12-as-11", raw: "GET /hello.txt HTTP/1.2\r\nHost: x\r\n\r\n", code: 200, check: hasBody(hello)},
	{name: "lowercase-version", raw: "GET /hello.txt http/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "long-version", raw: "GET /hello.txt HTTP/1.10\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "no-version", raw: "GET /hello.txt\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "double-space", raw: "GET  /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "tab-separator", raw: "GET\t/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "trailing-space", raw: "GET /hello.txt HTTP/1.1 \r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "long-target", raw: "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", code: 414, close: true},
	{name: "long-garbage-line", raw: strings.Repeat("\x01", 9000) + "\r\n\r\n", code: 400, close: true},
	{name: "big-header", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 17000) + "\r\n\r\n", code: 431, close: true},
	{name: "many-fields", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: a\r\n", 101) + "\r\n", code: 431, close: true},
	{name: "absolute-form", raw: "GET http://example.com/hello.txt HTTP/1.1\r\nHost: other\r\n\r\n", code: 200, check: hasBody(hello)},
	{name: "absolute-form-userinfo", raw: "GET http://u@example.com/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "absolute-form-no-host", raw: "GET http:///hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "options-star", raw: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", code: 200,
		check: all(hasHeader("Allow", allowServer), hasHeader("Content-Length", "0"))},
	{name: "get-star", raw: "GET * HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "connect", raw: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", code: 501},
	{name: "authority-form-get", raw: "GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "fragment", raw: "GET /hello.txt#x HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "bad-pct", raw: "GET /hello%zz HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "te-and-cl", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", code: 400, close: true},
	{name: "te-not-final", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", code: 400, close: true},
	{name: "te-gzip-chunked", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", code: 501, close: true},
	{name: "te-chunked-twice", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", code: 400, close: true},
	// An unknown coding before a framing error is no reason to answer 501:
	// every coding is checked first (staticcheck SA4004 found the loop
	// returning on its first pass).
	{name: "te-gzip-chunked-twice", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked, chunked\r\n\r\n0\r\n\r\n", code: 400, close: true},
	{name: "te-gzip-bad-coding", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, a@b, chunked\r\n\r\n0\r\n\r\n", code: 400, close: true},
	{name: "te-http10", raw: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", code: 400, close: true},
	{name: "te-empty", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n", code: 400, close: true},
	{name: "cl-repeated-same", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", code: 200,
		check: all(hasBody("abc"), hasHeader("X-Body-Length", "3"))},
	{name: "cl-lines-same", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", code: 200, check: hasBody("abc")},
	{name: "cl-differ", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd", code: 400, close: true},
	{name: "cl-lines-differ", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", code: 400, close: true},
	{name: "cl-negative", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", code: 400, close: true},
	{name: "cl-plus", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", code: 400, close: true},
	{name: "cl-hex", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\nabc", code: 400, close: true},
	{name: "cl-overflow", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", code: 400, close: true},
	{name: "cl-too-big", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n", code: 413, close: true},
	{name: "post-no-length", raw: "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: hasHeader("X-Body-Length", "0")},
	{name: "put-no-length", raw: "PUT /upload/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 411},
	{name: "chunked-echo", raw: "POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5;ext=1;quoted=\"a;b\"\r\nhello\r\n7 ; e\r\n, world\r\n0\r\nX-Trailer: t\r\nContent-Length: 99\r\n\r\n", code: 200,
		check: all(hasBody("hello, world"), hasHeader("X-Body-Length", "12"), hasHeader("X-Request-Method", "POST"),
			hasHeader("X-Request-Target", "/echo?q=1"), hasHeader("Content-Type", "application/octet-stream"))},
	{name: "chunked-bad-size", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", code: 400, close: true},
	{name: "chunked-no-crlf", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", code: 400, close: true},
	{name: "chunked-overflow", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nhello\r\n0\r\n\r\n", code: 400, close: true},
	{name: "chunked-lf-only", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", code: 400, close: true},
	{name: "chunked-bad-ext", raw: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n", code: 400, close: true},
	{name: "expect-unknown", raw: "GET /hello.txt HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\n\r\n", code: 417},
	{name: "expect-http10-ignored", raw: "GET /hello.txt HTTP/1.0\r\nExpect: bogus\r\n\r\n", code: 200, close: true},
	{name: "unknown-method", raw: "FOO /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 501},
	{name: "lowercase-method", raw: "get /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 501},
	{name: "echo-any-method", raw: "FOO /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", code: 200,
		check: all(hasBody("hi"), hasHeader("X-Request-Method", "FOO"))},
	{name: "post-static", raw: "POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", code: 405, check: hasHeader("Allow", allowStatic)},
	{name: "put-static", raw: "PUT /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", code: 405, check: hasHeader("Allow", allowStatic)},
	{name: "delete-static", raw: "DELETE /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 405, check: hasHeader("Allow", allowStatic)},
	{name: "trace-disabled", raw: "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", code: 405, check: hasHeader("Allow", allowStatic)},
	{name: "options-file", raw: "OPTIONS /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 200,
		check: all(hasHeader("Allow", allowStatic), hasHeader("Content-Length", "0"))},
	{name: "options-upload", raw: "OPTIONS /upload/x HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: hasHeader("Allow", allowUpload)},
	{name: "options-missing", raw: "OPTIONS /nope HTTP/1.1\r\nHost: x\r\n\r\n", code: 404},
	{name: "not-found", raw: "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", code: 404},
	{name: "dotdot-escape", raw: "GET /../hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 400},
	{name: "pct-dotdot-escape", raw: "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", code: 400},
	{name: "dotdot-inside", raw: "GET /dir/../hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: hasBody(hello)},
	{name: "pct-decoded", raw: "GET /hell%6F.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: hasBody(hello)},
	{name: "pct-slash", raw: "GET /dir%2Findex.html HTTP/1.1\r\nHost: x\r\n\r\n", code: 400},
	{name: "pct-backslash", raw: "GET /dir%5C..%5Chello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 400},
	{name: "pct-nul", raw: "GET /hello.txt%00.html HTTP/1.1\r\nHost: x\r\n\r\n", code: 400},
	{name: "raw-backslash", raw: "GET /dir\\..\\hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 400, close: true},
	{name: "dir-redirect", raw: "GET /dir?a=1 HTTP/1.1\r\nHost: x\r\n\r\n", code: 301, check: hasHeader("Location", "/dir/?a=1")},
	{name: "dir-index", raw: "GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: hasHeader("Content-Type", "text/html")},
	{name: "dir-no-index", raw: "GET /data/ HTTP/1.1\r\nHost: x\r\n\r\n", code: 404},
	{name: "file-with-slash", raw: "GET /hello.txt/ HTTP/1.1\r\nHost: x\r\n\r\n", code: 404},
	{name: "empty-file", raw: "GET /empty.txt HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: all(hasBody(""), hasHeader("Content-Length", "0"))},
	{name: "redirect", raw: "GET /redirect HTTP/1.1\r\nHost: x\r\n\r\n", code: 301, check: hasHeader("Location", "/hello.txt")},
	{name: "redirect-post", raw: "POST /redirect HTTP/1.1\r\nHost: x\r\n\r\n", code: 405, check: hasHeader("Allow", allowStatic)},
	{name: "form-get", raw: "GET /form HTTP/1.1\r\nHost: x\r\n\r\n", code: 405, check: hasHeader("Allow", allowForm)},
	{name: "form-urlencoded", raw: "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 18\r\n\r\nb=2&a=x%20y&b=1&c=", code: 200,
		check: hasBody("a=x y\nb=1\nb=2\nc=\n")},
	{name: "form-multipart", raw: withBody("POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\n",
		"--XX\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nv\r\n"+
			"--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nabc\r\n--XX--\r\n"), code: 200,
		check: hasBody("f=@a.txt:3\nn=v\n")},
	{name: "form-bad-type", raw: "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\na", code: 415},
	{name: "form-gzip", raw: "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\na=1", code: 415, check: hasHeader("Accept-Encoding", "identity")},
	{name: "session-post", raw: "POST /session HTTP/1.1\r\nHost: x\r\n\r\n", code: 405},
	{name: "head-echo", raw: "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: hasHeader("X-Request-Method", "HEAD")},
	{name: "head-file", raw: "HEAD /data/1k.bin HTTP/1.1\r\nHost: x\r\n\r\n", code: 200, check: all(hasHeader("Content-Length", "1024"), hasBody(""))},
}

func TestWire(t *testing.T) {
	_, addr := startServer(t, nil)
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			r, cl := roundTrip(t, addr, tc.raw)
			if r.Code != tc.code {
				t.Fatalf("sent %s\nstatus %d, want %d (body %s)", excerpt([]byte(tc.raw)), r.Code, tc.code, excerpt(r.Body))
			}
			if r.Proto != "HTTP/1.1" {
				t.Errorf("status line version %q", r.Proto)
			}
			if r.Header.Get("Date") == "" {
				t.Error("no Date")
			} else if _, ok := ParseHTTPDate(r.Header.Get("Date")); !ok {
				t.Errorf("bad Date %q", r.Header.Get("Date"))
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if tc.close {
				if r.Header.Get("Connection") != "close" {
					t.Errorf("no Connection: close")
				}
				if !cl.closed() {
					t.Error("connection left open, want closed")
				}
			} else {
				// The connection must still work.
				cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
				if r2 := cl.read(false); r2.Code != 200 || string(r2.Body) != hello {
					t.Errorf("follow-up request got %d %s", r2.Code, excerpt(r2.Body))
				}
			}
		})
	}
}

func TestHTTP10Persistence(t *testing.T) {
	_, addr := startServer(t, nil)
	cl := dial(t, addr)
	for i := 0; i < 3; i++ {
		cl.send("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		r := cl.read(false)
		if r.Code != 200 || r.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("request %d: %d Connection=%q", i, r.Code, r.Header.Get("Connection"))
		}
	}
	cl.send("GET /hello.txt HTTP/1.0\r\n\r\n")
	if r := cl.read(false); r.Code != 200 {
		t.Fatalf("status %d", r.Code)
	}
	if !cl.closed() {
		t.Error("HTTP/1.0 without keep-alive left the connection open")
	}
}

func TestPipelining(t *testing.T) {
	_, addr := startServer(t, nil)
	cl := dial(t, addr)
	cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n" +
		"HEAD /data/1k.bin HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n" +
		"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /empty.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	want := []struct {
		code int
		head bool
		body string
	}{{200, false, hello}, {200, true, ""}, {200, false, "abc"}, {200, false, "de"}, {404, false, ""}, {200, false, ""}}
	for i, w := range want {
		r := cl.read(w.head)
		if r.Code != w.code {
			t.Fatalf("response %d: status %d, want %d", i, r.Code, w.code)
		}
		if w.body != "" && string(r.Body) != w.body {
			t.Errorf("response %d: body %s, want %q", i, excerpt(r.Body), w.body)
		}
		if w.head && r.Header.Get("Content-Length") != "1024" {
			t.Errorf("HEAD Content-Length %q", r.Header.Get("Content-Length"))
		}
	}
	if !cl.closed() {
		t.Error("connection open after Connection: close")
	}
}

func TestExpectContinue(t *testing.T) {
	_, addr := startServer(t, nil)
	cl := dial(t, addr)
	cl.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	r := cl.read(false)
	if r.Code != 100 {
		t.Fatalf("got %d before the body, want 100", r.Code)
	}
	if r.Header.Has("Content-Length") {
		t.Error("100 Continue with Content-Length")
	}
	cl.send("hello")
	if r = cl.read(false); r.Code != 200 || string(r.Body) != "hello" {
		t.Fatalf("final %d %s", r.Code, excerpt(r.Body))
	}

	// A final status known before the body: no 100, answer, close.
	cl = dial(t, addr)
	cl.send("PUT /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	if r = cl.read(false); r.Code != 405 {
		t.Fatalf("got %d, want 405", r.Code)
	}
	if !cl.closed() {
		t.Error("connection open with an unread body")
	}

	cl = dial(t, addr)
	cl.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\nExpect: 100-continue\r\n\r\n")
	if r = cl.read(false); r.Code != 413 {
		t.Fatalf("got %d, want 413", r.Code)
	}

	cl = dial(t, addr)
	cl.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: bogus\r\n\r\n")
	if r = cl.read(false); r.Code != 417 {
		t.Fatalf("got %d, want 417", r.Code)
	}
	if !cl.closed() {
		t.Error("connection open after 417 with an unread body")
	}
}

func TestBodyLimit(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxBodyBytes = 10 })
	r, cl := roundTrip(t, addr, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
	if r.Code != 413 || !cl.closed() {
		t.Fatalf("chunked over limit: %d", r.Code)
	}
	r, _ = roundTrip(t, addr, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
	if r.Code != 200 {
		t.Fatalf("at limit: %d", r.Code)
	}
}

func TestTrace(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.EnableTrace = true })
	r, _ := roundTrip(t, addr, "TRACE /x HTTP/1.1\r\nHost: x\r\nCookie: secret=1\r\nAuthorization: Basic Zm9v\r\nX-A: b\r\n\r\n")
	if r.Code != 200 || r.Header.Get("Content-Type") != "message/http" {
		t.Fatalf("%d %q", r.Code, r.Header.Get("Content-Type"))
	}
	if want := "TRACE /x HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n"; string(r.Body) != want {
		t.Errorf("body %s, want %q", excerpt(r.Body), want)
	}
	r, _ = roundTrip(t, addr, "OPTIONS /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.Header.Get("Allow") != allowStatic+", TRACE" {
		t.Errorf("Allow %q", r.Header.Get("Allow"))
	}
}

func TestUpload(t *testing.T) {
	_, addr := startServer(t, nil)
	cl := dial(t, addr)
	steps := []struct {
		raw  string
		code int
		body string
	}{
		{"PUT /upload/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 201, "created\n"},
		{"GET /upload/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200, "abc"},
		{"PUT /upload/a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n", 204, ""},
		{"GET /upload/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200, "de"},
		{"PUT /upload/a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\nContent-Length: 1\r\n\r\nz", 412, ""},
		{"PUT /upload/b.txt HTTP/1.1\r\nHost: x\r\nIf-Match: *\r\nContent-Length: 1\r\n\r\nz", 412, ""},
		{"PUT /upload/a.txt HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-0/1\r\nContent-Length: 1\r\n\r\nz", 400, ""},
		{"PUT /upload/sub/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz", 405, ""},
		{"POST /upload/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz", 405, ""},
		{"DELETE /upload/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 204, ""},
		{"DELETE /upload/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 404, ""},
		{"GET /upload/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 404, ""},
		{"PUT /upload/%2e%2e HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz", 405, ""},
	}
	for i, st := range steps {
		cl.send(st.raw)
		r := cl.read(false)
		if r.Code != st.code {
			t.Fatalf("step %d %s: status %d, want %d (%s)", i, excerpt([]byte(st.raw)), r.Code, st.code, excerpt(r.Body))
		}
		if st.body != "" && string(r.Body) != st.body {
			t.Errorf("step %d: body %s", i, excerpt(r.Body))
		}
		if r.Code == 201 && r.Header.Get("Location") != "/upload/a.txt" {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		if (r.Code == 204) && r.Header.Has("Content-Length") {
			t.Error("204 with Content-Length")
		}
	}
}

func TestSymlinkOutsideRoot(t *testing.T) {
	s, addr := startServer(t, nil)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(s.Root, "link")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink(outside, filepath.Join(s.Root, "dirlink")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/link", "/dirlink/secret"} {
		r, _ := roundTrip(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if r.Code != 403 || bytes.Contains(r.Body, []byte("secret")) {
			t.Errorf("%s: %d %s, want 403", p, r.Code, excerpt(r.Body))
		}
	}
	r, _ := roundTrip(t, addr, "PUT /upload/../link HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz")
	if r.Code == 201 || r.Code == 204 {
		t.Errorf("PUT through symlink: %d", r.Code)
	}
}

// TestSymlinkInsideRoot: a symlink, absolute or relative, that stays inside
// Root is served like its target (the kernel's RESOLVE_BENEATH refuses
// every absolute symlink; the server must then decide by the resolved path).
func TestSymlinkInsideRoot(t *testing.T) {
	s, addr := startServer(t, nil)
	if err := os.Symlink(filepath.Join(s.Root, "hello.txt"), filepath.Join(s.Root, "abs-link.txt")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink("hello.txt", filepath.Join(s.Root, "rel-link.txt")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/abs-link.txt", "/rel-link.txt"} {
		r, _ := roundTrip(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if r.Code != 200 || string(r.Body) != "Hello, world!\n" {
			t.Errorf("%s: %d %s, want 200 with hello.txt", p, r.Code, excerpt(r.Body))
		}
	}
}

func TestSession(t *testing.T) {
	_, addr := startServer(t, nil)
	r, _ := roundTrip(t, addr, "GET /session HTTP/1.1\r\nHost: x\r\n\r\n")
	sc := r.Header.Get("Set-Cookie")
	c, err := ParseSetCookie(sc)
	if err != nil || r.Code != 200 || string(r.Body) != fixture.SessionNewBody {
		t.Fatalf("%d %q %s %v", r.Code, sc, excerpt(r.Body), err)
	}
	if c.Name != "sid" || !isSessionID(c.Value) || c.Path != "/" || c.MaxAge != 3600 || !c.HttpOnly || c.SameSite != "Lax" {
		t.Fatalf("Set-Cookie %q", sc)
	}
	cl := dial(t, addr)
	for n := 2; n <= 3; n++ {
		cl.send("GET /session HTTP/1.1\r\nHost: x\r\nCookie: other=1; sid=" + c.Value + "\r\n\r\n")
		r = cl.read(false)
		if want := "welcome back, visit " + string(rune('0'+n)) + "\n"; string(r.Body) != want || r.Header.Has("Set-Cookie") {
			t.Fatalf("visit %d: %s Set-Cookie=%q", n, excerpt(r.Body), r.Header.Get("Set-Cookie"))
		}
	}
	cl.send("GET /session HTTP/1.1\r\nHost: x\r\nCookie: sid=00000000000000000000000000000000\r\n\r\n")
	if r = cl.read(false); string(r.Body) != fixture.SessionNewBody || !r.Header.Has("Set-Cookie") {
		t.Fatalf("unknown sid: %s", excerpt(r.Body))
	}
	cl.send("HEAD /session HTTP/1.1\r\nHost: x\r\n\r\n")
	if r = cl.read(true); r.Header.Get("Content-Length") != "12" || !r.Header.Has("Set-Cookie") {
		t.Fatalf("HEAD: %v", r.Header)
	}
}

func TestSessionTableExpiry(t *testing.T) {
	var tb sessionTable
	now := time.Unix(1000, 0)
	sid, err := tb.create(now)
	if err != nil {
		t.Fatal(err)
	}
	if n := tb.visit(sid, now.Add(time.Second)); n != 2 {
		t.Fatalf("visit = %d", n)
	}
	if n := tb.visit(sid, now.Add(3600*time.Second)); n != 0 {
		t.Fatalf("expired visit = %d", n)
	}
	for i := 0; i < maxSessions+5; i++ {
		if _, err := tb.create(now); err != nil {
			t.Fatal(err)
		}
	}
	if len(tb.m) > maxSessions {
		t.Fatalf("table grew to %d", len(tb.m))
	}
}

func TestTimeouts(t *testing.T) {
	_, addr := startServer(t, func(s *Server) {
		s.ReadHeaderTimeout = 300 * time.Millisecond
		s.IdleTimeout = 300 * time.Millisecond
	})
	cl := dial(t, addr)
	start := time.Now()
	cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
	r := cl.read(false)
	if r.Code != 408 || !cl.closed() {
		t.Fatalf("slow header: %d", r.Code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cut after %v", d)
	}
	cl = dial(t, addr)
	cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	cl.read(false)
	if !cl.closed() {
		t.Error("idle connection not closed")
	}
	// A silent new connection is closed without a response.
	cl = dial(t, addr)
	b, err := io.ReadAll(cl.br)
	if len(b) != 0 || err != nil {
		t.Errorf("silent connection got %q %v", b, err)
	}
}

func TestMaxConns(t *testing.T) {
	_, addr := startServer(t, func(s *Server) { s.MaxConns = 1 })
	cl := dial(t, addr)
	cl.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	cl.read(false)
	cl2 := dial(t, addr)
	if r := cl2.read(false); r.Code != 503 {
		t.Fatalf("second connection got %d", r.Code)
	}
}

// TestCloseNoLeak: Close ends Serve, closes every live connection (each
// waiting for its next request after one was answered, so the server is
// known to serve it) and leaves no goroutine behind.
func TestCloseNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	root := t.TempDir()
	fixture.Write(root)
	s := &Server{Root: root}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- s.Serve(l) }()
	var conns []net.Conn
	var readers []*bufio.Reader
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		c.Write([]byte("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		conns, readers = append(conns, c), append(readers, br)
	}
	s.Close()
	if err := <-done; err != ErrServerClosed {
		t.Fatalf("Serve = %v", err)
	}
	for i, c := range conns {
		if _, err := readers[i].ReadByte(); err != io.EOF {
			t.Errorf("client read after Close: %v", err)
		}
		c.Close()
	}
	if err := s.Serve(l); err != ErrServerClosed {
		t.Errorf("Serve after Close = %v", err)
	}
}

// TestHugeRequestLineAnswered checks the 414 survives a client that keeps
// sending: the lingering close must not turn it into a reset.
func TestHugeRequestLineAnswered(t *testing.T) {
	_, addr := startServer(t, nil)
	cl := dial(t, addr)
	go func() {
		io.WriteString(cl.c, "GET /"+strings.Repeat("a", 200<<10)+" HTTP/1.1\r\nHost: x\r\n\r\n")
	}()
	if r := cl.read(false); r.Code != 414 {
		t.Fatalf("status %d, want 414", r.Code)
	}
}

// A request rejected for its framing after the request-line is HEAD is
// answered without content: a body there would be read as the next
// response (RFC 9110 9.3.2, RFC 9112 6.3 rule 1).
func TestHeadRejectedWithoutContent(t *testing.T) {
	_, addr := startServer(t, nil)
	cl := dial(t, addr)
	cl.send("HEAD /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n")
	r := cl.read(true)
	if r.Code != 400 {
		t.Fatalf("status %d, want 400", r.Code)
	}
	if !cl.closed() {
		t.Fatal("the connection stays open after the 400, or content followed the head")
	}
}
