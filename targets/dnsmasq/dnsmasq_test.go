package dnsmasq

import (
	"testing"

	"github.com/protospec/protospec/targets/launchertest"
)

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
