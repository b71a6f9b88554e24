package apache2

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// probeGet sends "GET path HTTP/1.1" to addr and succeeds when the status
// line says 200. It reads at most one line of 512 bytes within ctx's
// deadline (or a second).
func probeGet(ctx context.Context, addr, path string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
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
	line, err := bufio.NewReader(&limited{c, 512}).ReadString('\n')
	if err != nil {
		return fmt.Errorf("GET %s: no status line: %w", path, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "HTTP/1.1 200 ") && line != "HTTP/1.1 200" {
		return fmt.Errorf("GET %s answered %q, want 200", path, line)
	}
	return nil
}

// limited reads at most n bytes from c.
type limited struct {
	c net.Conn
	n int
}

func (l *limited) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("status line longer than 512 bytes")
	}
	if len(b) > l.n {
		b = b[:l.n]
	}
	n, err := l.c.Read(b)
	l.n -= n
	return n, err
}
