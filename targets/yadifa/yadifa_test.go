package yadifa

import (
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders yadifad.conf for a fixed work directory and port and
// compares it with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, targets.Options{Protocol: "dns"}, []int{40001},
		launchertest.ConfigCase{Golden: "testdata/yadifad.conf", ArgvGolden: "testdata/yadifad.argv", Vars: map[string]any{"uid": 0, "gid": 0}})
}

// TestStartQueryClose starts yadifad, asks it what the fixture says it
// serves, and checks that Close stops it and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "yadifa", "yadifad.conf", fixture.Outsider)
}
