package exim4

import (
	"errors"
	"strings"
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
	"github.com/protospec/protospec/targets/mta"
)

var opts = targets.Options{Protocol: mta.Protocol}

// TestConfig renders exim4.conf for a fixed work directory and port and
// compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, mta.ConfigPorts, launchertest.ConfigCase{
		Root:       true,
		Vars:       map[string]any{"maildir": "/work/dir/maildir", "cert": "/work/dir/tls/cert.pem", "key": "/work/dir/tls/key.pem"},
		Golden:     "testdata/exim4.conf",
		ArgvGolden: "testdata/argv",
	})
}

// TestServes starts exim, delivers to every fixture address in plain
// text and over STARTTLS, sees relaying and an unknown user refused, and
// checks that Close stops it and removes its work directory.
func TestServes(t *testing.T) {
	launchertest.SMTPLifecycle(t, "exim4", "exim4.conf")
}

// TestMissingBinary: neither installed nor unpacked, the error says how
// to do either.
func TestMissingBinary(t *testing.T) {
	t.Setenv(targets.UnpackedEnv, t.TempDir())
	launchertest.MissingBinary(t, launchertest.Missing(launcher), opts, "exim4-daemon-light")
	_, err := launchertest.Missing(launcher).Start(t.Context(), opts)
	if !errors.Is(err, targets.ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get download exim4-daemon-light") {
		t.Errorf("error %v does not say what to unpack", err)
	}
}
