package pureftpd

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/ftpd"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: ftpd.Protocol}

// TestConfig renders pure-ftpd's command line for a fixed work
// directory and ports and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, ftpd.ConfigPorts, launchertest.ConfigCase{Root: true, ArgvGolden: "testdata/argv"})
}

// TestServes starts pure-ftpd, logs in as anonymous and as the fixture's
// user, transfers in passive and active mode, plain and over TLS, and
// checks that Close stops it and removes its work directory.
func TestServes(t *testing.T) {
	launchertest.FTPLifecycle(t, "pureftpd", "tree/users.txt")
}

func TestMissingBinary(t *testing.T) {
	t.Setenv(targets.UnpackedEnv, t.TempDir())
	launchertest.MissingBinary(t, launchertest.Missing(launcher), opts, "pure-ftpd")
}
