package postfix

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
	"github.com/protospec/protospec/targets/mta"
)

var opts = targets.Options{Protocol: mta.Protocol}

// TestConfig renders master.cf and main.cf for a fixed work directory
// and port and compares them with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, opts, mta.ConfigPorts,
		launchertest.ConfigCase{Root: true, Golden: "testdata/master.cf", ArgvGolden: "testdata/argv"})
	r, err := launcher.NewRun(Master, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.Root, r.Dir, r.Ports = true, launchertest.ConfigDir, mta.ConfigPorts
	main, err := MainConfig(r)
	if err != nil {
		t.Fatal(err)
	}
	launchertest.Golden(t, "testdata/main.cf", string(main))
}

// TestServes starts postfix, delivers to every fixture address in plain
// text and over STARTTLS, sees relaying and an unknown user refused, and
// checks that Close stops it and removes its work directory.
func TestServes(t *testing.T) {
	launchertest.SMTPLifecycle(t, "postfix", "conf/master.cf")
}

// TestMissingBinary: without postfix, the error says what to install.
func TestMissingBinary(t *testing.T) {
	launchertest.MissingBinary(t, launchertest.Missing(launcher), opts, "postfix")
}
