package lighttpd

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: "http1"}

// TestConfig renders lighttpd.conf for a fixed work directory and ports
// and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, []int{40001, 40002},
		launchertest.ConfigCase{Golden: "testdata/lighttpd.conf"})
}

func TestStaticKeepAliveRedirectEcho(t *testing.T) {
	launchertest.ServesFixture(t, "lighttpd", opts, "lighttpd/", true)
}

// TestLifecycle: PUT/DELETE under /upload/, Close, a missing binary and
// a taken port.
func TestLifecycle(t *testing.T) {
	launchertest.HTTPLifecycle(t, launchertest.HTTPLauncher{Launcher: launcher, Missing: launchertest.Missing(launcher), Package: "lighttpd", FreePorts: &launcher.FreePorts})
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, "lighttpd") }
