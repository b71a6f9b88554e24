package http1

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
)

func TestConditional(t *testing.T) {
	_, addr := startServer(t, nil)
	etag := ETagFor(14, fixture.ModTime)
	lm := "Mon, 01 Jan 2024 00:00:00 GMT"
	cases := []struct {
		name, fields string
		method       string
		code         int
	}{
		{"inm-match", "If-None-Match: " + etag, "GET", 304},
		{"inm-weak-match", "If-None-Match: W/" + etag, "GET", 304},
		{"inm-list", `If-None-Match: "x", ` + etag, "GET", 304},
		{"inm-star", "If-None-Match: *", "GET", 304},
		{"inm-head", "If-None-Match: " + etag, "HEAD", 304},
		{"inm-other", `If-None-Match: "nope"`, "GET", 200},
		{"ims-equal", "If-Modified-Since: " + lm, "GET", 304},
		{"ims-later", "If-Modified-Since: Tue, 02 Jan 2024 00:00:00 GMT", "GET", 304},
		{"ims-earlier", "If-Modified-Since: Sun, 31 Dec 2023 23:59:59 GMT", "GET", 200},
		{"ims-rfc850", "If-Modified-Since: Monday, 01-Jan-24 00:00:00 GMT", "GET", 304},
		{"ims-asctime", "If-Modified-Since: Mon Jan  1 00:00:00 2024", "GET", 304},
		{"ims-invalid", "If-Modified-Since: yesterday", "GET", 200},
		// RFC 9110 13.1.3: "A date which is later than the server's
		// current time is invalid."
		{"ims-future", "If-Modified-Since: " + time.Now().Add(48*time.Hour).UTC().Format(HTTPDateFormat), "GET", 200},
		{"inm-beats-ims", "If-None-Match: \"nope\"\r\nIf-Modified-Since: " + lm, "GET", 200},
		{"im-match", "If-Match: " + etag, "GET", 200},
		{"im-weak", "If-Match: W/" + etag, "GET", 412},
		{"im-mismatch", `If-Match: "nope"`, "GET", 412},
		{"im-star", "If-Match: *", "GET", 200},
		{"ius-earlier", "If-Unmodified-Since: Sun, 31 Dec 2023 00:00:00 GMT", "GET", 412},
		{"ius-equal", "If-Unmodified-Since: " + lm, "GET", 200},
		{"ius-invalid", "If-Unmodified-Since: garbage", "GET", 200},
		{"im-beats-ius", "If-Match: " + etag + "\r\nIf-Unmodified-Since: Sun, 31 Dec 2023 00:00:00 GMT", "GET", 200},
		{"im-then-inm", "If-Match: " + etag + "\r\nIf-None-Match: " + etag, "GET", 304},
	}
	cl := dial(t, addr)
	for _, tc := range cases {
		cl.send(tc.method + " /hello.txt HTTP/1.1\r\nHost: x\r\n" + tc.fields + "\r\n\r\n")
		r := cl.read(tc.method == "HEAD")
		if r.Code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.name, r.Code, tc.code)
			continue
		}
		if r.Code == 304 {
			if r.Header.Get("ETag") != etag || r.Header.Get("Last-Modified") != lm || r.Header.Has("Content-Length") {
				t.Errorf("%s: 304 fields %v", tc.name, r.Header)
			}
		}
	}
}

func TestRange(t *testing.T) {
	_, addr := startServer(t, nil)
	data := fixture.Pattern(1024)
	etag := ETagFor(1024, fixture.ModTime)
	cases := []struct {
		name, fields string
		code         int
		cr           string
		body         []byte
	}{
		{"first", "Range: bytes=0-9", 206, "bytes 0-9/1024", data[0:10]},
		{"middle", "Range: bytes=100-199", 206, "bytes 100-199/1024", data[100:200]},
		{"open", "Range: bytes=1000-", 206, "bytes 1000-1023/1024", data[1000:]},
		{"suffix", "Range: bytes=-24", 206, "bytes 1000-1023/1024", data[1000:]},
		{"suffix-long", "Range: bytes=-5000", 206, "bytes 0-1023/1024", data},
		{"clipped", "Range: bytes=1000-5000", 206, "bytes 1000-1023/1024", data[1000:]},
		{"unit-case", "Range: BYTES=0-0", 206, "bytes 0-0/1024", data[:1]},
		{"unsatisfiable", "Range: bytes=2000-3000", 416, "bytes */1024", nil},
		{"suffix-zero", "Range: bytes=-0", 416, "bytes */1024", nil},
		{"invalid-reversed", "Range: bytes=9-0", 200, "", data},
		{"invalid-syntax", "Range: bytes=abc", 200, "", data},
		{"other-unit", "Range: pages=1-2", 200, "", data},
		{"if-range-etag", "Range: bytes=0-9\r\nIf-Range: " + etag, 206, "bytes 0-9/1024", data[:10]},
		{"if-range-weak", "Range: bytes=0-9\r\nIf-Range: W/" + etag, 200, "", data},
		{"if-range-other", "Range: bytes=0-9\r\nIf-Range: \"x\"", 200, "", data},
		{"if-range-date", "Range: bytes=0-9\r\nIf-Range: Mon, 01 Jan 2024 00:00:00 GMT", 206, "bytes 0-9/1024", data[:10]},
		{"if-range-old-date", "Range: bytes=0-9\r\nIf-Range: Sun, 31 Dec 2023 00:00:00 GMT", 200, "", data},
	}
	cl := dial(t, addr)
	for _, tc := range cases {
		cl.send("GET /data/1k.bin HTTP/1.1\r\nHost: x\r\n" + tc.fields + "\r\n\r\n")
		r := cl.read(false)
		if r.Code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.name, r.Code, tc.code)
			continue
		}
		if got := r.Header.Get("Content-Range"); got != tc.cr {
			t.Errorf("%s: Content-Range %q, want %q", tc.name, got, tc.cr)
		}
		if tc.body != nil && !bytes.Equal(r.Body, tc.body) {
			t.Errorf("%s: body differs (%d bytes)", tc.name, len(r.Body))
		}
	}
	// Range on HEAD is ignored.
	cl.send("HEAD /data/1k.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n")
	if r := cl.read(true); r.Code != 200 {
		t.Errorf("HEAD with Range: %d", r.Code)
	}
	// Empty file: every range is unsatisfiable.
	cl.send("GET /empty.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0\r\n\r\n")
	if r := cl.read(false); r.Code != 416 || r.Header.Get("Content-Range") != "bytes */0" {
		t.Errorf("empty file range: %d %q", r.Code, r.Header.Get("Content-Range"))
	}
}

func TestMultiRange(t *testing.T) {
	_, addr := startServer(t, nil)
	data := fixture.Pattern(65536)
	r, _ := roundTrip(t, addr, "GET /data/64k.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9, 70000-80000, 100-199,-10\r\n\r\n")
	if r.Code != 206 {
		t.Fatalf("status %d", r.Code)
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	want := []struct {
		cr   string
		body []byte
	}{{"bytes 0-9/65536", data[:10]}, {"bytes 100-199/65536", data[100:200]}, {"bytes 65526-65535/65536", data[65526:]}}
	for i, w := range want {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		b, _ := io.ReadAll(p)
		if p.Header.Get("Content-Range") != w.cr || !bytes.Equal(b, w.body) || p.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("part %d: %q %d bytes", i, p.Header.Get("Content-Range"), len(b))
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("after last part: %v", err)
	}
	if !strings.HasSuffix(string(r.Body), "--"+params["boundary"]+"--\r\n") {
		t.Error("no closing delimiter")
	}
}

func TestCleanPath(t *testing.T) {
	cases := map[string]string{
		"/":               "/",
		"/a/b":            "/a/b",
		"/a/b/":           "/a/b/",
		"/a/./b":          "/a/b",
		"/a/../b":         "/b",
		"/a/b/..":         "/a/",
		"/a/%2e%2E/b":     "/b",
		"//a":             "/a",
		"/a%20b":          "/a b",
		"/..":             "!",
		"/a/../../b":      "!",
		"/a%2fb":          "!",
		"/a%5cb":          "!",
		"/a%00":           "!",
		"/a\\b":           "!",
		"/%":              "!",
		"relative":        "!",
		"/dir/%2e%2e/%2e": "/",
	}
	for in, want := range cases {
		got, err := cleanPath(in)
		if err != nil {
			got = "!"
		}
		if got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseHTTPDate(t *testing.T) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"} {
		d, ok := ParseHTTPDate(s)
		if !ok || d.Unix() != 784111777 {
			t.Errorf("ParseHTTPDate(%q) = %v %v", s, d, ok)
		}
	}
	for _, s := range []string{"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT", "784111777", "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT"} {
		if _, ok := ParseHTTPDate(s); ok {
			t.Errorf("ParseHTTPDate(%q) accepted", s)
		}
	}
}

func TestRangeOverlapIgnored(t *testing.T) {
	_, addr := startServer(t, nil)
	r, _ := roundTrip(t, addr, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-,0-,0-\r\n\r\n")
	if r.Code != 200 || string(r.Body) != hello {
		t.Errorf("overlapping ranges: %d", r.Code)
	}
	r, _ = roundTrip(t, addr, "GET /dir%20x/../dir HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.Code != 301 || r.Header.Get("Location") != "/dir/" {
		t.Errorf("redirect: %d %q", r.Code, r.Header.Get("Location"))
	}
}

func TestEscapePath(t *testing.T) {
	if got := escapePath("/a b/ü?%/x:@"); got != "/a%20b/%C3%BC%3F%25/x:@" {
		t.Errorf("escapePath = %q", got)
	}
}
