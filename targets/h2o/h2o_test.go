package h2o

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: "http1"}

// TestConfig renders h2o.conf for a fixed work directory and ports
// and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, []int{40001, 40002},
		launchertest.ConfigCase{Golden: "testdata/h2o.conf"})
}

func TestStaticKeepAliveRedirect(t *testing.T) {
	launchertest.ServesFixture(t, "h2o", opts, "h2o/", false)
}

// TestLifecycle: Close, a missing binary and a taken port (h2o has no
// /upload/).
func TestLifecycle(t *testing.T) {
	launchertest.Lifecycle(t, launchertest.HTTPLauncher{Launcher: launcher, Missing: launchertest.Missing(launcher), Package: "h2o", FreePorts: &launcher.FreePorts})
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, "h2o") }
