package nsd

import (
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestStartQueryClose starts nsd, asks it what the fixture says it serves,
// and checks that Close stops it and removes its temporary directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "nsd", "nsd.conf", fixture.Outsider)
}
