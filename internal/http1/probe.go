package http1

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// statusLineMax bounds what the probe reads of a status line.
const statusLineMax = 512

// FixtureProbe is the readiness probe of a server serving the fixture: "GET /hello.txt" on the
// service's address must be answered 200.
func FixtureProbe(ctx context.Context, service, addr string) error {
	if service != "http/tcp" {
		return fmt.Errorf("http1 probe: no service %q", service)
	}
	return GetProbe(addr, "/hello.txt")(ctx)
}

// GetProbe returns a readiness probe that succeeds once "GET path
// HTTP/1.1" sent to addr over TCP is answered 200. It reads at most one
// status line of 512 bytes within ctx's deadline (or a second).
func GetProbe(addr, path string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d dial.Dialer
		c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
		if err != nil {
			return err
		}
		defer c.Close()
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(time.Second)
		}
		if err := c.SetDeadline(deadline); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path); err != nil {
			return err
		}
		line, err := bufio.NewReader(&limitedReader{c, statusLineMax}).ReadString('\n')
		if err != nil {
			return fmt.Errorf("GET %s: no status line: %w", path, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if !strings.HasPrefix(line, "HTTP/1.1 200 ") && line != "HTTP/1.1 200" {
			return fmt.Errorf("GET %s answered %q, want 200", path, line)
		}
		return nil
	}
}

// limitedReader reads at most n bytes from r, then fails: a status line
// longer than that is no answer.
type limitedReader struct {
	r io.Reader
	n int
}

func (l *limitedReader) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("status line longer than %d bytes", statusLineMax)
	}
	if len(b) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= n
	return n, err
}

// LivenessProbe is the contract's probe, the liveness preflight of runs:
// "GET / HTTP/1.1" on the service's address (over TLS for "http/tls",
// without verifying the certificate: the specs judge that) must be
// answered by a status line "HTTP/1.x NNN", whatever the code: a server
// that does not serve the fixture is still alive.
func LivenessProbe(ctx context.Context, service, addr string) error {
	if service != "http/tcp" && service != "http/tls" {
		return fmt.Errorf("http1 probe: no service %q", service)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Second)
	}
	ep := dial.Endpoint{Network: "tcp", Addr: addr}
	if service == "http/tls" {
		ep.Security = dial.TLS
	}
	d := dial.Dialer{TLS: &tls.Config{InsecureSkipVerify: true}}
	c, err := d.Dial(ctx, ep)
	if err != nil {
		return fmt.Errorf("%s at %s: %w", service, addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return fmt.Errorf("%s at %s: sending GET /: %w", service, addr, err)
	}
	line, err := bufio.NewReader(&limitedReader{c, statusLineMax}).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s at %s: GET / got no status line: %w", service, addr, err)
	}
	if !statusLine.MatchString(strings.TrimRight(line, "\r\n")) {
		return fmt.Errorf("%s at %s: GET / answered %q, not an HTTP status line", service, addr, line)
	}
	return nil
}

// statusLine is what the liveness probe accepts as an answer.
var statusLine = regexp.MustCompile(`^HTTP/1\.[01] [1-5][0-9][0-9]( |$)`)
