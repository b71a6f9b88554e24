package http1

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/netutil/netutiltest"
)

// answering serves each connection one canned answer after reading the
// request head, and returns its address.
func answering(t *testing.T, answer string) string {
	t.Helper()
	return netutiltest.ServeTCP(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		var head []byte
		for !strings.Contains(string(head), "\r\n\r\n") {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			head = append(head, buf[:n]...)
		}
		io.WriteString(c, answer)
	})
}

func TestGetProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok := answering(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	if err := GetProbe(ok, "/hello.txt")(ctx); err != nil {
		t.Errorf("200: %v", err)
	}
	if err := FixtureProbe(ctx, "http/tcp", ok); err != nil {
		t.Errorf("Probe http/tcp: %v", err)
	}
	if err := FixtureProbe(ctx, "ftp/tcp", ok); err == nil {
		t.Error("Probe of a service http1 lacks succeeded")
	}
	for answer, want := range map[string]string{
		"HTTP/1.1 404 Not Found\r\n\r\n":           "want 200",
		"HTTP/1.1 200 " + strings.Repeat("x", 600): "longer than 512",
		"": "no status line",
	} {
		if err := GetProbe(answering(t, answer), "/hello.txt")(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("answer %.20q: %v, want an error with %q", answer, err, want)
		}
	}
}
