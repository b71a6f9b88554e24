package knotresolver

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders kresd.conf for a fixed work directory and port, with
// an upstream on port 53 (iterating) and on another (a stub), and
// compares it with testdata/.
func TestConfig(t *testing.T) {
	opts := func(up string) targets.Options {
		return targets.Options{Protocol: "dns", Params: map[string]string{"upstream": up}}
	}
	launchertest.Config(t, launcher, opts("127.0.0.10:53"), []int{40001},
		launchertest.ConfigCase{Golden: "testdata/kresd.conf", ArgvGolden: "testdata/kresd.argv"})
	launchertest.Config(t, launcher, opts("127.0.0.1:40002"), []int{40001},
		launchertest.ConfigCase{Golden: "testdata/kresd-stub.conf"})
}

// TestStartQueryClose resolves www.test. through kresd from a fake
// upstream on a free port (so as its stub), checks that the outsider is
// refused and that kresd does not claim to iterate, and that Close stops
// it and removes its temporary directory.
func TestStartQueryClose(t *testing.T) {
	tg, dir := launchertest.Resolver(t, "knot-resolver", "kresd.conf", map[string]string{"server-port": "53"})
	launchertest.Offered(t, tg, "dns/allowlist", "dns/tcp-pipelining")
	launchertest.NotOffered(t, tg, "dns/iterative")
	udp, _ := tg.Endpoint("resolver/udp")
	launchertest.OutsiderRefused(t, udp.Addr)
	launchertest.CloseStops(t, tg, dir)
}

// TestIteratesHierarchy walks reference/dns's loopback hierarchy through
// kresd, rooted at port 53: what dns/iterative claims.
func TestIteratesHierarchy(t *testing.T) {
	launchertest.IteratesHierarchy(t, "knot-resolver")
}

// TestNoUpstream checks that a resolver without an upstream refuses to
// start, saying why.
func TestNoUpstream(t *testing.T) {
	launchertest.NoUpstream(t, "knot-resolver", ErrNoUpstream)
}
