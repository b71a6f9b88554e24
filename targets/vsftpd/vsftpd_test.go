package vsftpd

import (
	"strings"
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/ftpd"
	"github.com/protospec/protospec/targets/launchertest"
)

var opts = targets.Options{Protocol: ftpd.Protocol}

// TestConfig renders vsftpd.conf for a fixed work directory and ports
// and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, ftpd.ConfigPorts,
		launchertest.ConfigCase{Root: true, Golden: "testdata/vsftpd.conf"},
		launchertest.ConfigCase{Root: true, Vars: map[string]any{"instance": "tls"}, Golden: "testdata/vsftpd-tls.conf"},
		launchertest.ConfigCase{Root: true, Vars: map[string]any{"instance": "ipv6"}, Golden: "testdata/vsftpd-ipv6.conf"})
}

// TestServes starts vsftpd, logs in as anonymous and as the fixture's
// user, transfers in passive and active mode, plain and over TLS, and
// checks that Close stops it and removes its work directory.
func TestServes(t *testing.T) {
	launchertest.FTPLifecycle(t, "vsftpd", "vsftpd.conf")
}

// TestVersion: vsftpd prints its version on its standard input.
func TestVersion(t *testing.T) {
	bin, err := launcher.Find()
	if err != nil {
		t.Skip(err)
	}
	if v := version(bin); !strings.HasPrefix(v, "vsftpd 3.") {
		t.Errorf("version %q", v)
	}
}

func TestMissingBinary(t *testing.T) {
	launchertest.MissingBinary(t, launchertest.Missing(launcher), opts, "vsftpd")
}
