package knot

import (
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders knot.conf for a fixed work directory and port, as
// root and not, and compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, targets.Options{Protocol: "dns"}, []int{40001},
		launchertest.ConfigCase{Golden: "testdata/knot.conf"},
		launchertest.ConfigCase{Root: true, Golden: "testdata/knot-root.conf"})
}

// TestStartQueryClose starts knotd, asks it what the fixture says it
// serves, and checks that Close stops it and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "knot", "knot.conf", fixture.Outsider)
}
