package knot

import (
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestStartQueryClose starts knotd, asks it what the fixture says it
// serves, and checks that Close stops it and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "knot", "knot.conf", fixture.Outsider)
}
