package opensmtpd

import (
	"errors"
	"strings"
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
	"github.com/protospec/protospec/targets/mta"
)

var opts = targets.Options{Protocol: mta.Protocol}

// TestConfig renders smtpd.conf for a fixed work directory and port and
// compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, mta.ConfigPorts, launchertest.ConfigCase{Root: true, Golden: "testdata/smtpd.conf", ArgvGolden: "testdata/argv"})
}

// TestServes starts OpenSMTPD, delivers to every fixture address in plain
// text (OpenSMTPD offers no STARTTLS here), sees relaying and an unknown user refused, and
// checks that Close stops it and removes its work directory.
func TestServes(t *testing.T) {
	launchertest.SMTPLifecycle(t, "opensmtpd", "smtpd.conf")
}

// TestMissingBinary: neither installed nor unpacked, the error says how
// to do either.
func TestMissingBinary(t *testing.T) {
	t.Setenv(targets.UnpackedEnv, t.TempDir())
	launchertest.MissingBinary(t, launchertest.Missing(launcher), opts, "opensmtpd")
	_, err := launchertest.Missing(launcher).Start(t.Context(), opts)
	if !errors.Is(err, targets.ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get download opensmtpd") {
		t.Errorf("error %v does not say what to unpack", err)
	}
}
