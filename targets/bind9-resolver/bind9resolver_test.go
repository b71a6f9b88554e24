package bind9resolver

import (
	"net"
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders named.conf for a fixed work directory, port and
// upstream and compares it with testdata/.
func TestConfig(t *testing.T) {
	opts := targets.Options{Protocol: "dns", Params: map[string]string{"upstream": "127.0.0.1:40002"}}
	launchertest.Config(t, launcher, opts, []int{40001},
		launchertest.ConfigCase{Golden: "testdata/named.conf", ArgvGolden: "testdata/named.argv"})
	if got, want := RootHints("127.0.0.1"), ".\t3600000\tIN\tNS\troot.upstream.\nroot.upstream.\t3600000\tIN\tA\t127.0.0.1\n"; got != want {
		t.Errorf("root hints %q, want %q", got, want)
	}
}

// TestStartQueryClose resolves www.test. through named from a fake
// upstream, checks that named, told no server-port, does not claim to
// iterate, that it refuses the outsider, and that Close stops it and
// removes its temporary directory.
func TestStartQueryClose(t *testing.T) {
	tg, dir := launchertest.Resolver(t, "bind9-resolver", "named.conf", nil)
	launchertest.NotOffered(t, tg, "dns/iterative")
	udp, _ := tg.Endpoint("resolver/udp")
	launchertest.OutsiderRefused(t, udp.Addr)
	launchertest.CloseStops(t, tg, dir)
}

// TestIterativeFeature checks that named claims to iterate when the
// suite's further servers share the upstream's port.
func TestIterativeFeature(t *testing.T) {
	_, upAddr := launchertest.FakeUpstream(t)
	_, port, _ := net.SplitHostPort(upAddr)
	tg := launchertest.Open(t, "bind9-resolver", targets.Options{Protocol: "dns", Params: map[string]string{"upstream": upAddr, "server-port": port}})
	launchertest.Offered(t, tg, "dns/iterative", "dns/allowlist", "dns/tcp-pipelining")
}

// TestIteratesHierarchy walks reference/dns's loopback hierarchy through
// named, rooted at port 53: what dns/iterative claims.
func TestIteratesHierarchy(t *testing.T) {
	launchertest.IteratesHierarchy(t, "bind9-resolver")
}

// TestNoUpstream checks that a resolver without an upstream refuses to
// start, saying why.
func TestNoUpstream(t *testing.T) {
	launchertest.NoUpstream(t, "bind9-resolver", ErrNoUpstream)
}
