package dnsmasq

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestArgv builds dnsmasq's command line for a fixed work directory, port
// and upstream and compares it with testdata/.
func TestArgv(t *testing.T) {
	opts := targets.Options{Protocol: "dns", Params: map[string]string{"upstream": "127.0.0.1:40002"}}
	launchertest.Config(t, launcher, opts, []int{40001}, launchertest.ConfigCase{ArgvGolden: "testdata/dnsmasq.argv"})
}

// TestStartQueryClose resolves www.test. through dnsmasq from a fake
// upstream and checks that Close stops dnsmasq and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	tg, dir := launchertest.Resolver(t, "dnsmasq", "dnsmasq.pid", nil)
	launchertest.NotOffered(t, tg, "dns/iterative", "dns/allowlist")
	launchertest.CloseStops(t, tg, dir)
}

// TestNoUpstream checks that a forwarder without an upstream refuses to
// start, saying why.
func TestNoUpstream(t *testing.T) {
	launchertest.NoUpstream(t, "dnsmasq", ErrNoUpstream)
}
