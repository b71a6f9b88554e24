package node

import (
	"testing"

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

func TestStaticKeepAliveRedirectEcho(t *testing.T) {
	launchertest.ServesFixture(t, "node", opts, "node/", true)
}

// TestLifecycle: Close, a missing binary and a taken port (server.js has
// no /upload/).
func TestLifecycle(t *testing.T) {
	launchertest.Lifecycle(t, launchertest.HTTPLauncher{Launcher: launcher, Missing: launchertest.Missing(launcher), Package: "nodejs", FreePorts: &launcher.FreePorts, InUse: "EADDRINUSE"})
}

// TestTLS: the http/tls endpoint serves the fixture with the run's
// certificate.
func TestTLS(t *testing.T) { launchertest.TLSServes(t, "node") }
