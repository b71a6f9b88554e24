package nginx

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: "http1"}

// TestConfig renders nginx.conf for a fixed work directory and port, as
// root and not, with the echo module and without, and compares it with
// testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, []int{40001, 40002},
		launchertest.ConfigCase{Golden: "testdata/nginx.conf", Vars: map[string]any{"echoModule": echoModule}},
		launchertest.ConfigCase{Root: true, Golden: "testdata/nginx-root.conf", Vars: map[string]any{"echoModule": ""}})
}

func TestStaticKeepAliveRedirect(t *testing.T) {
	launchertest.ServesFixture(t, "nginx", opts, "nginx/", false)
}

// TestLifecycle: PUT/DELETE under /upload/, Close, a missing binary and
// a taken port.
func TestLifecycle(t *testing.T) {
	launchertest.HTTPLifecycle(t, launchertest.HTTPLauncher{Launcher: launcher, Missing: launchertest.Missing(launcher), Package: "nginx", FreePorts: &launcher.FreePorts})
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, "nginx") }
