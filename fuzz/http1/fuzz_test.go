package http1fuzz

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/reference/http1"
)

// requestSeeds are realistic requests, pipelines and smuggling attempts.
var requestSeeds = []string{
	"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET /hello.txt HTTP/1.0\r\n\r\n",
	"HEAD /data/1k.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9,20-\r\n\r\n",
	"GET http://example.com:8080/a?b=c HTTP/1.1\r\nHost: other\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"PUT /upload/f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
	"POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2",
	"GET /session HTTP/1.1\r\nHost: x\r\nCookie: sid=0123456789abcdef0123456789abcdef\r\n\r\n",
	"\r\nGET /a HTTP/1.1\nHost: x\n\n",
	// Smuggling shapes.
	"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nContent-Length: 5\r\n\r\nhello!",
	"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
	"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/2.0\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
}

// reparseLimits are generous: serialization may add a space after colons
// or turn LF into CRLF, so the second parse must not hit the first's limits.
var reparseLimits = http1.Limits{MaxHeaderBytes: 1 << 20, MaxHeaderCount: 1 << 10, MaxRequestLine: 1 << 20}

func parseWith(data []byte, lim http1.Limits) (*http1.Request, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	req, err := http1.ReadRequest(br, lim)
	if err != nil {
		return nil, err
	}
	return req, http1.ReadBody(br, req, lim)
}

// FuzzRequestParser checks that parsing never panics and that a parsed
// request survives serialize-and-parse unchanged.
func FuzzRequestParser(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := http1.ParseRequest(data)
		if err != nil {
			var se *http1.StatusError
			if errors.As(err, &se) && (se.Code < 400 || se.Code > 599) {
				t.Fatalf("status error with code %d", se.Code)
			}
			return
		}
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			t.Fatal(err)
		}
		again, err := parseWith(buf.Bytes(), reparseLimits)
		if err != nil {
			t.Fatalf("reparse of %q failed: %v", buf.Bytes(), err)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("round trip differs:\n%+v\n%+v", req, again)
		}
	})
}

// FuzzChunkedDecoder checks the chunked decoder never panics and that a
// decoded body re-encoded as one chunk decodes to the same bytes.
func FuzzChunkedDecoder(f *testing.F) {
	for _, s := range []string{
		"0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", "3;ext=1\r\nabc\r\n2;q=\"x;y\"\r\nde\r\n0\r\nX-T: v\r\n\r\n",
		"ffffffffffffffff\r\n", "3\r\nabc\n0\r\n\r\n", "3\r\nabcX\r\n", "0\r\nContent-Length: 5\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := http1.NewChunkedReader(bufio.NewReader(bytes.NewReader(data)), http1.Limits{})
		body, err := io.ReadAll(io.LimitReader(cr, 1<<20))
		if err != nil {
			return
		}
		if len(body) == 1<<20 {
			return
		}
		var enc bytes.Buffer
		if len(body) > 0 {
			enc.WriteString(strings.ToLower(strings.TrimLeft(hex(len(body)), "0")) + "\r\n")
			enc.Write(body)
			enc.WriteString("\r\n")
		}
		enc.WriteString("0\r\n")
		for _, fl := range cr.Trailer {
			enc.WriteString(fl.Name + ": " + fl.Value + "\r\n")
		}
		enc.WriteString("\r\n")
		cr2 := http1.NewChunkedReader(bufio.NewReader(&enc), http1.Limits{MaxHeaderBytes: 1 << 20, MaxHeaderCount: 1 << 10})
		body2, err := io.ReadAll(cr2)
		if err != nil || !bytes.Equal(body, body2) || !reflect.DeepEqual(cr.Trailer, cr2.Trailer) {
			t.Fatalf("re-encoded body differs: %v", err)
		}
	})
}

func hex(n int) string {
	const digits = "0123456789abcdef"
	var b []byte
	for ; n > 0; n >>= 4 {
		b = append([]byte{digits[n&15]}, b...)
	}
	return string(b)
}

// FuzzSetCookieParser checks ParseSetCookie never panics, that
// FormatSetCookie output parses back to the same cookie, and that the Jar
// accepts whatever the parser does.
func FuzzSetCookieParser(f *testing.F) {
	for _, s := range []string{
		"SID=31d4d96e407aad42; Path=/; Secure; HttpOnly",
		"lang=en-US; Path=/; Domain=example.com",
		"lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
		"a=b; Max-Age=-1; SameSite=Lax",
		"a=b; Expires=Sunday, 06-Nov-94 08:49:37 GMT; Domain=.EXAMPLE.com",
		"=x", "x", "a=b;;;Path", "a=b; Expires=99 Jan 1601 99:99:99",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := http1.ParseSetCookie(s)
		if err != nil {
			return
		}
		back, err := http1.ParseSetCookie(http1.FormatSetCookie(c))
		if err != nil {
			t.Fatalf("formatted cookie %q rejected", http1.FormatSetCookie(c))
		}
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("round trip differs:\n%+v\n%+v", c, back)
		}
		j := http1.NewJar()
		u := &url.URL{Scheme: "https", Host: "www.example.com", Path: "/a/b"}
		j.SetCookies(u, []string{s})
		_ = j.CookieHeader(u)
	})
}

// fuzzServer returns a server over a fixture docroot in f's TempDir. It is
// made afresh for each f, never shared: the docroot goes when f ends (with
// go test -count=2, and after every input in the libFuzzer build, whose F
// lives for one input).
func fuzzServer(f *testing.F) *http1.Server {
	root := f.TempDir()
	if err := fixture.Write(root); err != nil {
		f.Fatal(err)
	}
	return &http1.Server{
		Root:              root,
		ReadHeaderTimeout: 100 * time.Millisecond,
		ReadTimeout:       100 * time.Millisecond,
		IdleTimeout:       100 * time.Millisecond,
		WriteTimeout:      2 * time.Second,
		MaxBodyBytes:      1 << 16,
	}
}

// finalGET is the valid request appended after the fuzzed bytes.
const finalGET = "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

// helloTail is how the stream ends when finalGET is answered.
const helloTail = "\r\n\r\nHello, world!\n"

// cleanStream reports whether stream parses as a sequence of requests that
// keep the connection open, ending with exactly finalGET: then the server
// must answer finalGET with 200.
func cleanStream(stream []byte) bool {
	br := bufio.NewReader(bytes.NewReader(stream))
	for {
		req, err := http1.ReadRequest(br, http1.Limits{MaxBodyBytes: 1 << 16})
		if err != nil {
			return false
		}
		if req.Header.Has("Expect") || http1.ReadBody(br, req, http1.Limits{MaxBodyBytes: 1 << 16}) != nil {
			return false
		}
		if req.Close {
			_, err := br.Peek(1)
			return err == io.EOF && req.Method == "GET" && req.Target == "/hello.txt" && len(req.Header) == 2 &&
				req.Header.Get("Host") == "x" && req.ProtoMinor == 1
		}
	}
}

// FuzzServerConn feeds arbitrary bytes, then a valid GET, to a server over
// net.Pipe. The server must never panic or hang, must write only
// well-formed responses, and must answer the GET with 200 whenever the
// bytes before it were a clean sequence of requests.
func FuzzServerConn(f *testing.F) {
	s := fuzzServer(f)
	for _, seed := range requestSeeds {
		f.Add([]byte(seed))
	}
	f.Add([]byte("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort"))
	f.Add([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		cli, srv := net.Pipe()
		done := make(chan struct{})
		go func() {
			s.ServeConn(srv)
			close(done)
		}()
		cli.SetDeadline(time.Now().Add(5 * time.Second))
		stream := append(append([]byte{}, data...), finalGET...)
		go func() {
			cli.Write(stream)
		}()
		out, err := io.ReadAll(cli)
		cli.Close()
		if err != nil {
			t.Fatalf("server did not close the connection: %v (read %q)", err, excerpt(out))
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("ServeConn did not return")
		}
		if len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.1 ")) {
			t.Fatalf("response does not start with a status line: %q", excerpt(out))
		}
		if cleanStream(stream) && !bytes.HasSuffix(out, []byte(helloTail)) {
			t.Fatalf("clean request stream, but the final GET was not answered: %q", excerpt(out))
		}
	})
}

func excerpt(b []byte) []byte {
	if len(b) > 300 {
		return b[len(b)-300:]
	}
	return b
}
