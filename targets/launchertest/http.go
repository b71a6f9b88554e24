package launchertest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
)

// HTTPClient is one HTTP/1.1 connection to a target's http/tcp endpoint,
// with a deadline and bounded reads.
type HTTPClient struct {
	c  net.Conn
	br *bufio.Reader
}

// DialHTTP connects to tg's http/tcp endpoint; the connection is closed
// when the test ends.
func DialHTTP(t testing.TB, tg targets.Target) *HTTPClient {
	t.Helper()
	ep, err := tg.Endpoint("http/tcp")
	if err != nil {
		t.Fatal(err)
	}
	d := dial.Dialer{Timeout: 5 * time.Second}
	c, err := d.Dial(context.Background(), ep)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &HTTPClient{c: c, br: bufio.NewReader(io.LimitReader(c, 1<<20))}
}

// DialHTTPS connects to tg's http/tls endpoint through the dialer every
// pillar uses, trusting only the run's fixture CA that opts gave the
// launcher; the connection is closed when the test ends.
func DialHTTPS(t testing.TB, tg targets.Target, fx *tlsfixture.Fixture) *HTTPClient {
	t.Helper()
	ep, err := tg.Endpoint("http/tls")
	if err != nil {
		t.Fatal(err)
	}
	d := dial.Dialer{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: fx.Pool()}}
	c, err := d.Dial(context.Background(), ep)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &HTTPClient{c: c, br: bufio.NewReader(io.LimitReader(c, 1<<20))}
}

// TLSServes starts the launcher with a fixture CA of its own and checks
// that its http/tls endpoint serves the fixture's /hello.txt with a
// certificate that CA signed, for localhost.
func TLSServes(t *testing.T, name string) {
	t.Helper()
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	tg := Open(t, name, targets.Options{Protocol: "http1", TLS: fx})
	cl := DialHTTPS(t, tg, fx)
	hello, _ := fixture.Lookup("/hello.txt")
	resp, body := cl.Do(t, "GET", "/hello.txt", "", "")
	if resp.StatusCode != 200 || body != string(hello.Content) {
		t.Errorf("GET /hello.txt over TLS = %d %q, want 200 %q", resp.StatusCode, body, hello.Content)
	}
	st := cl.c.(*tls.Conn).ConnectionState()
	if st.ServerName != "localhost" || len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Issuer.CommonName != fx.CA.Subject.CommonName {
		t.Errorf("TLS state: server name %q, peer chain %d", st.ServerName, len(st.PeerCertificates))
	}
}

// Do sends one request (headers are "Name: value\r\n" lines) and reads its
// response and body.
func (cl *HTTPClient) Do(t testing.TB, method, path, headers, body string) (*http.Response, string) {
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

// StaticKeepAlive checks that tg serves the fixture's /hello.txt as
// text/plain and then /data/1k.bin on the same connection, which it
// returns.
func StaticKeepAlive(t testing.TB, tg targets.Target) *HTTPClient {
	t.Helper()
	cl := DialHTTP(t, tg)
	hello, _ := fixture.Lookup("/hello.txt")
	resp, body := cl.Do(t, "GET", "/hello.txt", "", "")
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
	resp, body = cl.Do(t, "GET", "/data/1k.bin", "", "")
	if resp.StatusCode != 200 || body != string(fixture.Pattern(1024)) {
		t.Fatalf("second GET on the connection = %d, %d bytes", resp.StatusCode, len(body))
	}
	return cl
}

// ServesFixture opens the HTTP launcher name and checks what a
// third-party server offers of the fixture: the static files over one
// kept-alive connection, /redirect, /echo when echo is set (and the
// http1/echo feature), /session not offered with a reason, and a version
// that starts with version ("nginx/"). It returns the target.
func ServesFixture(t *testing.T, name string, opts targets.Options, version string, echo bool) targets.Target {
	t.Helper()
	tg := Open(t, name, opts)
	cl := StaticKeepAlive(t, tg)
	resp, _ := cl.Do(t, "GET", fixture.RedirectPath, "", "")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != fixture.RedirectLocation {
		t.Fatalf("GET /redirect = %d Location %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), fixture.RedirectLocation)
	}
	if echo {
		resp, body := cl.Do(t, "POST", fixture.EchoPath, "", "hello, echo")
		if resp.StatusCode != 200 || body != "hello, echo" {
			t.Fatalf("POST /echo = %d %q, want 200 %q", resp.StatusCode, body, "hello, echo")
		}
		Offered(t, tg, "http1/echo")
	}
	Offered(t, tg, "http1/redirect")
	err := tg.Feature("http1/session")
	if !errors.Is(err, targets.ErrNotOffered) || !strings.Contains(err.Error(), "/session") {
		t.Errorf("http1/session: %v, want not offered with a reason", err)
	}
	if v := tg.Info().Version; !strings.HasPrefix(v, version) {
		t.Errorf("version %q, want %s...", v, version)
	}
	return tg
}

// Upload checks the http1/upload feature: PUT creates then replaces a file
// under /upload/, GET returns it and DELETE removes it.
func Upload(t testing.TB, tg targets.Target) {
	t.Helper()
	if err := tg.Feature(fixture.FeatureUpload); err != nil {
		t.Fatal(err)
	}
	cl := DialHTTP(t, tg)
	resp, _ := cl.Do(t, "PUT", "/upload/a.txt", "", "first\n")
	if resp.StatusCode != 201 {
		t.Fatalf("PUT new = %d, want 201", resp.StatusCode)
	}
	resp, _ = cl.Do(t, "PUT", "/upload/a.txt", "", "second\n")
	if resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("PUT existing = %d, want 204 or 200", resp.StatusCode)
	}
	resp, body := cl.Do(t, "GET", "/upload/a.txt", "", "")
	if resp.StatusCode != 200 || body != "second\n" {
		t.Fatalf("GET after PUT = %d %q", resp.StatusCode, body)
	}
	resp, _ = cl.Do(t, "DELETE", "/upload/a.txt", "", "")
	if resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("DELETE = %d", resp.StatusCode)
	}
	resp, _ = cl.Do(t, "GET", "/upload/a.txt", "", "")
	if resp.StatusCode != 404 {
		t.Fatalf("GET after DELETE = %d, want 404", resp.StatusCode)
	}
}

// HTTPLauncher is what HTTPLifecycle needs to know of an HTTP launcher.
type HTTPLauncher struct {
	// Launcher is the registered launcher; Missing is the same launcher
	// looking for a binary that does not exist.
	Launcher, Missing targets.Launcher
	// Package is the Debian package its errors name.
	Package string
	// FreePorts is the launcher's hook that picks its port.
	FreePorts *func(host string, n int) ([]int, error)
	// InUse is what the server's log says of a taken port (default
	// "Address already in use").
	InUse string
}

// HTTPLifecycle runs, as subtests, the checks every HTTP launcher shares:
// Upload, Close stopping the server and removing its work directory, a
// missing binary, and a start on a taken port failing with the server's
// log ("Address already in use").
func HTTPLifecycle(t *testing.T, h HTTPLauncher) {
	t.Run("Upload", func(t *testing.T) {
		Upload(t, Open(t, h.Launcher.Name(), targets.Options{Protocol: "http1"}))
	})
	Lifecycle(t, h)
}

// Lifecycle runs the checks of HTTPLifecycle but Upload, for a launcher
// whose server offers no /upload/.
func Lifecycle(t *testing.T, h HTTPLauncher) {
	opts := targets.Options{Protocol: "http1"}
	t.Run("CloseStops", func(t *testing.T) {
		tg := Open(t, h.Launcher.Name(), opts)
		dir, ok := tg.(interface{ WorkDir() string })
		if !ok {
			t.Fatalf("target %T does not tell its work directory", tg)
		}
		CloseStops(t, tg, dir.WorkDir())
	})
	t.Run("MissingBinary", func(t *testing.T) {
		MissingBinary(t, h.Missing, opts, h.Package)
	})
	t.Run("StartErrorHasLog", func(t *testing.T) {
		port := TakenPort(t)
		old := *h.FreePorts
		// The first port is taken; a launcher that needs more (a TLS
		// port) gets free ones for the rest.
		*h.FreePorts = func(host string, n int) ([]int, error) {
			if n <= 1 {
				return []int{port}, nil
			}
			more, err := targets.FreePorts(host, n-1)
			return append([]int{port}, more...), err
		}
		defer func() { *h.FreePorts = old }()
		inUse := h.InUse
		if inUse == "" {
			inUse = "Address already in use"
		}
		StartFails(t, h.Launcher, opts, inUse)
	})
}
