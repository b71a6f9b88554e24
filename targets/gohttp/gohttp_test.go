package gohttp

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: "http1"}

func TestStaticKeepAliveRedirectEcho(t *testing.T) {
	tg := launchertest.Open(t, Name, opts)
	cl := launchertest.StaticKeepAlive(t, tg)
	resp, _ := cl.Do(t, "GET", fixture.RedirectPath, "", "")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != fixture.RedirectLocation {
		t.Fatalf("GET /redirect = %d Location %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), fixture.RedirectLocation)
	}
	resp, body := cl.Do(t, "POST", fixture.EchoPath, "", "hello, echo")
	if resp.StatusCode != 200 || body != "hello, echo" {
		t.Fatalf("POST /echo = %d %q, want 200 %q", resp.StatusCode, body, "hello, echo")
	}
	resp, body = cl.Do(t, "GET", "/index.html", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<html") {
		t.Fatalf("GET /index.html = %d, want 200 with the file (not FileServer's redirect)", resp.StatusCode)
	}
	launchertest.Offered(t, tg, "http1/redirect")
	launchertest.Offered(t, tg, "http1/echo")
	err := tg.Feature("http1/session")
	if !errors.Is(err, targets.ErrNotOffered) || !strings.Contains(err.Error(), "/session") {
		t.Errorf("http1/session: %v, want not offered with a reason", err)
	}
	if v := tg.Info().Version; !strings.HasPrefix(v, "go/net/http ") {
		t.Errorf("version %q", v)
	}
}

// TestCloseStops: Close stops both servers: their ports refuse
// connections.
func TestCloseStops(t *testing.T) {
	tg := launchertest.Open(t, Name, opts)
	var addrs []string
	for _, ep := range tg.Info().Endpoints {
		if _, addr, ok := strings.Cut(ep, "://"); ok {
			addrs = append(addrs, addr)
		}
	}
	if len(addrs) != 2 {
		t.Fatalf("endpoints %v, want http/tcp and http/tls", tg.Info().Endpoints)
	}
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Close", a)
		}
	}
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, Name) }
