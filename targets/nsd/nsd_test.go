package nsd

import (
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders nsd.conf for a fixed work directory and port and
// compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, targets.Options{Protocol: "dns"}, []int{40001}, launchertest.ConfigCase{Golden: "testdata/nsd.conf"})
}

// TestStartQueryClose starts nsd, asks it what the fixture says it serves,
// and checks that Close stops it and removes its temporary directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "nsd", "nsd.conf", fixture.Outsider)
}
