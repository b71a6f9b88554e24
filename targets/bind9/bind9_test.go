package bind9

import (
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders named.conf for a fixed work directory and port and
// compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, targets.Options{Protocol: "dns"}, []int{40001},
		launchertest.ConfigCase{Golden: "testdata/named.conf", ArgvGolden: "testdata/named.argv"})
}

// TestStartQueryClose starts named, asks it what the fixture says it
// serves, and checks that Close stops it and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "bind9", "named.conf", fixture.Outsider)
}
