package pdns

import (
	"os"
	"testing"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders pdns.conf for a fixed work directory and port, as
// root and not, and compares it and the zone list with testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, targets.Options{Protocol: "dns"}, []int{40001},
		launchertest.ConfigCase{Golden: "testdata/pdns.conf", ArgvGolden: "testdata/pdns.argv"},
		launchertest.ConfigCase{Root: true, Golden: "testdata/pdns-root.conf"})
	want, err := os.ReadFile("testdata/zones.conf")
	if err != nil {
		t.Fatal(err)
	}
	if got := ZoneList(launchertest.ConfigDir); got != string(want) {
		t.Errorf("zone list:\n%s\nwant\n%s", got, want)
	}
}

// TestStartQueryClose starts pdns_server, asks it what the fixture says
// it serves, and checks that Close stops it and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	launchertest.Authoritative(t, "pdns", "pdns.conf", fixture.Outsider)
}
