package caddy

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: "http1"}

// TestConfig renders Caddyfile for a fixed work directory and ports
// and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, []int{40001, 40002},
		launchertest.ConfigCase{Golden: "testdata/Caddyfile"})
}

func TestStaticKeepAliveRedirect(t *testing.T) {
	launchertest.ServesFixture(t, "caddy", opts, "caddy/", false)
}

// TestLifecycle: Close, a missing binary and a taken port (caddy has no
// /upload/).
func TestLifecycle(t *testing.T) {
	launchertest.Lifecycle(t, launchertest.HTTPLauncher{Launcher: launcher, Missing: launchertest.Missing(launcher), Package: "caddy", FreePorts: &launcher.FreePorts, InUse: "address already in use"})
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, "caddy") }
