package dnsdist

import (
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders dnsdist.conf for a fixed work directory, port and
// backend and compares it with testdata/.
func TestConfig(t *testing.T) {
	opts := targets.Options{Protocol: "dns", Params: map[string]string{"backend": "127.0.0.1:40002"}}
	launchertest.Config(t, declared, opts, []int{40001},
		launchertest.ConfigCase{Golden: "testdata/dnsdist.conf", ArgvGolden: "testdata/dnsdist.argv"})
}

// TestStartQueryClose starts dnsdist in front of the reference, asks it
// what the fixture says the backend serves (AXFR refused to the outsider
// by dnsdist itself), and checks that Close stops it and removes its
// temporary directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "dnsdist", "dnsdist.conf", fixture.Outsider)
}
