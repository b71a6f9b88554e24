package pyhttp

import (
	"errors"
	"strings"
	"testing"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: "http1"}

// TestArgv renders the command line for a fixed work directory and ports
// and compares it with testdata/.
func TestArgv(t *testing.T) {
	launchertest.Config(t, launcher, opts, []int{40001, 40002},
		launchertest.ConfigCase{ArgvGolden: "testdata/argv.txt"})
}

func TestStaticKeepAliveRedirect(t *testing.T) {
	tg := launchertest.Open(t, "python", opts)
	cl := launchertest.StaticKeepAlive(t, tg)
	resp, _ := cl.Do(t, "GET", fixture.RedirectPath, "", "")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != fixture.RedirectLocation {
		t.Fatalf("GET /redirect = %d Location %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), fixture.RedirectLocation)
	}
	launchertest.Offered(t, tg, "http1/redirect")
	err := tg.Feature("http1/session")
	if !errors.Is(err, targets.ErrNotOffered) || !strings.Contains(err.Error(), "/session") {
		t.Errorf("http1/session: %v, want not offered with a reason", err)
	}
	if v := tg.Info().Version; !strings.HasPrefix(v, "python/") {
		t.Errorf("version %q", v)
	}
}

// TestLifecycle: Close, a missing binary and a taken port (server.py has
// no /upload/).
func TestLifecycle(t *testing.T) {
	launchertest.Lifecycle(t, launchertest.HTTPLauncher{Launcher: launcher, Missing: launchertest.Missing(launcher), Package: "python3", FreePorts: &launcher.FreePorts})
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, "python") }
