package xinetd

import (
	"fmt"
	"sort"
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

var ports = []int{40001, 40002, 40003, 40004}

// TestConfig renders xinetd.conf for fixed ports and compares it with
// testdata/.
func TestConfig(t *testing.T) {
	launchertest.Config(t, launcher, targets.Options{Protocol: "echo"}, ports, launchertest.ConfigCase{Golden: "testdata/xinetd.conf"})
}

// TestEndpoints checks that each service is offered over TCP and UDP on
// the port its config block names.
func TestEndpoints(t *testing.T) {
	eps := launcher.Endpoints(&targets.Run{Ports: ports})
	var got []string
	for k, v := range eps {
		got = append(got, fmt.Sprintf("%s %s", k, v))
	}
	sort.Strings(got)
	want := []string{
		"chargen/tcp tcp://127.0.0.1:40004", "chargen/udp udp://127.0.0.1:40004",
		"daytime/tcp tcp://127.0.0.1:40003", "daytime/udp udp://127.0.0.1:40003",
		"discard/tcp tcp://127.0.0.1:40002", "discard/udp udp://127.0.0.1:40002",
		"echo/tcp tcp://127.0.0.1:40001", "echo/udp udp://127.0.0.1:40001",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("endpoints %v, want %v", got, want)
	}
}
