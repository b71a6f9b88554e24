package apache2

import (
	"errors"
	"strings"
	"testing"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: "http1"}

// TestConfig renders httpd.conf for a fixed work directory and port, as
// root (children as www-data) and not, and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, []int{40001, 40002},
		launchertest.ConfigCase{Golden: "testdata/httpd.conf"},
		launchertest.ConfigCase{Root: true, Vars: map[string]any{"user": "www-data", "group": "www-data"}, Golden: "testdata/httpd-root.conf"})
}

func TestStaticKeepAliveRedirect(t *testing.T) {
	tg := launchertest.Open(t, "apache2", opts)
	cl := launchertest.StaticKeepAlive(t, tg)
	// apache2 makes the Location absolute (RFC 9110 10.2.2 allows either).
	resp, _ := cl.Do(t, "GET", fixture.RedirectPath, "", "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 301 || (loc != fixture.RedirectLocation && loc != "http://localhost"+fixture.RedirectLocation) {
		t.Fatalf("GET /redirect = %d Location %q, want 301 %q", resp.StatusCode, loc, fixture.RedirectLocation)
	}
	resp, body := cl.Do(t, "TRACE", "/hello.txt", "X-Probe: 1\r\n", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "message/http") ||
		!strings.HasPrefix(body, "TRACE /hello.txt HTTP/1.1\r\n") || !strings.Contains(body, "X-Probe: 1\r\n") {
		t.Fatalf("TRACE = %d %q %q, want 200 message/http reflecting the request", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	launchertest.Offered(t, tg, "http1/trace", "http1/redirect")
	err := tg.Feature("http1/session")
	if !errors.Is(err, targets.ErrNotOffered) || !strings.Contains(err.Error(), "/session") {
		t.Errorf("http1/session: %v, want not offered with a reason", err)
	}
	if v := tg.Info().Version; !strings.HasPrefix(v, "Apache/") {
		t.Errorf("version %q", v)
	}
}

// TestLifecycle: PUT/DELETE under /upload/, Close, a missing binary and
// a taken port.
func TestLifecycle(t *testing.T) {
	launchertest.HTTPLifecycle(t, launchertest.HTTPLauncher{Launcher: launcher, Missing: launchertest.Missing(launcher), Package: "apache2", FreePorts: &launcher.FreePorts})
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, "apache2") }
