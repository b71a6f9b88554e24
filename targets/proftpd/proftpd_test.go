package proftpd

import (
	"errors"
	"strings"
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/ftpd"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: ftpd.Protocol}

// TestConfig renders proftpd.conf for a fixed work directory and ports,
// with mod_tls and without, and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, ftpd.ConfigPorts,
		launchertest.ConfigCase{Root: true, Vars: map[string]any{"tls": true, "ipv6": true}, Golden: "testdata/proftpd.conf"},
		launchertest.ConfigCase{Root: true, Vars: map[string]any{"tls": false, "ipv6": false}, Golden: "testdata/proftpd-notls.conf", ArgvGolden: "testdata/argv"})
}

// TestServes starts proftpd, logs in as anonymous and as the fixture's
// user, transfers in passive and active mode, plain and over TLS, and
// checks that Close stops it and removes its work directory.
func TestServes(t *testing.T) {
	launchertest.FTPLifecycle(t, "proftpd", "proftpd.conf")
}

// TestMissingBinary: neither installed nor unpacked, the error says how
// to do either.
func TestMissingBinary(t *testing.T) {
	t.Setenv(targets.UnpackedEnv, t.TempDir())
	launchertest.MissingBinary(t, launchertest.Missing(launcher), opts, "proftpd-basic")
	_, err := launchertest.Missing(launcher).Start(t.Context(), opts)
	if !errors.Is(err, targets.ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get download proftpd-core proftpd-mod-crypto") {
		t.Errorf("error %v does not say what to unpack", err)
	}
}
