// Package http1 is the conformance suite of HTTP/1.0 and HTTP/1.1 origin
// servers: message syntax and framing (RFC 9112), semantics of methods,
// status codes, conditional and range requests (RFC 9110), the 431 status
// (RFC 6585) and server-side cookies (RFC 6265), against the fixture of
// internal/http1 (docroot and dynamic endpoints).
//
//	protospec run http1                          # against the embedded reference
//	protospec run http1 --target nginx --label-filter 'rfc9112 && must'
//	PROTOSPEC_TARGET=nginx go test ./suites/http1
//
// Each spec sends raw bytes and reads the answer with the suite's own
// bounded response reader (response.go); verifiers (verify.go) accept every
// reaction the RFC allows and fail with "expected: … / actual: …".
package http1

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var _ = spec.RegisterProtocol(spec.Protocol{
	Name:  "http1",
	Title: "HTTP/1.0 and HTTP/1.1 origin servers: RFC 9112, RFC 9110, RFC 6585, RFC 6265",
	Docs:  []string{"rfc9112", "rfc9110", "rfc6585", "rfc6265", "rfc6265bis"},
	Examples: []string{
		"http1 --tls --target nginx --baseline builtin",
		"http1 --tls --target tls://127.0.0.1:8443 --ca ca.pem",
		"http1 --target 127.0.0.1:8080 --feature http1/trace",
	},
})

// service is the one service every HTTP/1 target offers.
const service = "http/tcp"

// Optional features of an HTTP/1 target: the fixture's dynamic endpoints,
// PUT and DELETE under /upload/, and TRACE. Every launcher of protocol
// "http1" uses these names.
const (
	featRedirect = fixture.FeatureRedirect
	featForm     = fixture.FeatureForm
	featSession  = fixture.FeatureSession
	featEcho     = fixture.FeatureEcho
	featUpload   = fixture.FeatureUpload
	featTrace    = fixture.FeatureTrace
)

// Timing of the specs that wait for something not to happen, at the
// default step timeout: every use scales them by the run's --timeout
// (spec.T.Scaled).
const (
	// quiet is how long a spec listens to conclude that nothing more comes.
	quiet = 500 * time.Millisecond
	// closeWait is how long a server has to close a connection it must close.
	closeWait = 3 * time.Second
)

// Fixture files the specs use most.
var (
	hello = mustFile("/hello.txt")
	index = mustFile("/index.html")
	empty = mustFile("/empty.txt")
	oneK  = mustFile("/data/1k.bin")
	big   = mustFile("/data/64k.bin")
	dirIx = mustFile("/dir/index.html")
)

func mustFile(p string) fixture.File {
	f, ok := fixture.Lookup(p)
	if !ok {
		panic("http1 suite: fixture has no " + p)
	}
	return f
}

// host is the Host field value for the target: its address.
func host(t *spec.T) string { return t.Endpoint(service).Addr }

// request builds "METHOD target HTTP/1.1" with a Host field, the given
// field lines ("Name: value") and the empty line.
func request(t *spec.T, method, target string, fields ...string) string {
	return requestV(t, "HTTP/1.1", method, target, fields...)
}

// requestV is request with an explicit HTTP-version.
func requestV(t *spec.T, version, method, target string, fields ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " " + version + "\r\n")
	b.WriteString("Host: " + host(t) + "\r\n")
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// request10 builds an HTTP/1.0 request without a Host field.
func request10(method, target string, fields ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.0\r\n")
	for _, f := range fields {
		b.WriteString(f + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// get builds a GET request.
func get(t *spec.T, target string, fields ...string) string {
	return request(t, "GET", target, fields...)
}

// withBody builds a request with a Content-Length body.
func withBody(t *spec.T, method, target, body string, fields ...string) string {
	fields = append(fields, "Content-Length: "+strconv.Itoa(len(body)))
	return request(t, method, target, fields...) + body
}

// lines joins raw lines with CRLF and ends with the empty line.
func lines(ls ...string) string { return strings.Join(ls, "\r\n") + "\r\n\r\n" }

// methodOf is the first word of a raw request, to know how to read the
// answer (HEAD responses have no content).
func methodOf(raw string) string {
	if i := strings.IndexAny(raw, " \r\n"); i > 0 {
		return raw[:i]
	}
	return raw
}

// exchange opens a connection, sends raw and reads one final response.
// The error is the reader's: a closed connection, a timeout, or a
// malformed response.
func exchange(t *spec.T, raw string) (*spec.Conn, *Response, error) {
	c := t.Dial(service)
	wait := sendReading(c, raw)
	resp, err := ReadResponse(c, methodOf(raw))
	if serr := wait(); serr != nil && resp == nil {
		return c, nil, fmt.Errorf("%v; reading the response: %v", serr, err)
	}
	return c, resp, err
}

// sendReading sends raw on c; a large request is written while the caller
// reads the response, since a server may answer (a 414, a 431, a 501) and
// close before it has read it all, and the reset that then ends the write
// would otherwise hide the answer (RFC 9112 9.6 lets a server close after
// its response). wait returns the write's error once it has ended; the
// caller calls it before the spec ends, and judges the error only where no
// response came.
func sendReading(c *spec.Conn, raw string) (wait func() error) {
	if len(raw) < largeRequest {
		c.Send(raw)
		return func() error { return nil }
	}
	sent := make(chan error, 1)
	go func() { sent <- c.TrySend(raw) }()
	var once sync.Once
	var err error
	return func() error { once.Do(func() { err = <-sent }); return err }
}

// largeRequest is the size from which a request is written while its
// response is read.
const largeRequest = 16 << 10

// roundTrip is exchange that fails the spec when no response can be read.
func roundTrip(t *spec.T, raw string) (*spec.Conn, *Response) {
	c, resp, err := exchange(t, raw)
	t.Check(err)
	return c, resp
}

// fetch sends raw on a new connection and returns the response.
func fetch(t *spec.T, raw string) *Response {
	_, resp := roundTrip(t, raw)
	return resp
}

// read reads one final response to a request with method on c, failing
// the spec when there is none.
func read(t *spec.T, c *spec.Conn, method string) *Response {
	resp, err := ReadResponse(c, method)
	t.Check(err)
	return resp
}

// mustStatus fetches and checks the status in one step.
func mustStatus(t *spec.T, raw string, codes ...int) *Response {
	resp := fetch(t, raw)
	t.Check(expectStatus(resp, codes...))
	return resp
}

// validators fetches f and returns its ETag and Last-Modified values,
// skipping the spec when the target sends neither that the spec needs.
func validators(t *spec.T, path string) (etag, lastMod string) {
	resp := mustStatus(t, get(t, path), 200)
	return resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
}

// needETag returns the strong ETag of path or skips the spec.
func needETag(t *spec.T, path string) string {
	etag, _ := validators(t, path)
	if etag == "" {
		t.Skipf("not applicable: the target sends no ETag for %s", path)
	}
	if strings.HasPrefix(etag, "W/") {
		t.Skipf("not applicable: the target sends a weak ETag %s for %s", etag, path)
	}
	return etag
}

// needLastModified returns Last-Modified of path as a time or skips.
func needLastModified(t *spec.T, path string) (string, time.Time) {
	_, lm := validators(t, path)
	if lm == "" {
		t.Skipf("not applicable: the target sends no Last-Modified for %s", path)
	}
	tm, err := parseHTTPDate(lm)
	if err != nil {
		t.Failf("Last-Modified %q is not an HTTP-date: %v", lm, err)
	}
	return lm, tm
}

// uploadPath returns a fresh name under /upload/ for one spec, deleted on
// the target when the spec ends (removeAfter).
func uploadPath(t *spec.T, what string) string {
	p := fmt.Sprintf("%s%s-%d.txt", fixture.UploadDir, what, time.Now().UnixNano())
	removeAfter(t, p)
	return p
}

// looksLikePasswd reports whether b looks like a Unix /etc/passwd.
func looksLikePasswd(b []byte) bool {
	return bytes.Contains(b, []byte("root:x:0:0")) || bytes.Contains(b, []byte("root:*:0:0")) ||
		bytes.Contains(b, []byte("daemon:x:1:1")) || bytes.Contains(b, []byte("/bin/sh\n"))
}
