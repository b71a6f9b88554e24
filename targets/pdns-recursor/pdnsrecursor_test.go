package pdnsrecursor

import (
	"testing"

	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders recursor.conf for a fixed work directory, port and
// upstream, as root and not, and compares it with testdata/.
func TestConfig(t *testing.T) {
	opts := targets.Options{Protocol: "dns", Params: map[string]string{"upstream": "127.0.0.1:40002"}}
	launchertest.Config(t, launcher, opts, []int{40001},
		launchertest.ConfigCase{Golden: "testdata/recursor.conf", ArgvGolden: "testdata/recursor.argv"},
		launchertest.ConfigCase{Root: true, Golden: "testdata/recursor-root.conf"})
	if got, want := RootHints("127.0.0.1"), ".\t3600000\tIN\tNS\troot.upstream.\nroot.upstream.\t3600000\tIN\tA\t127.0.0.1\n"; got != want {
		t.Errorf("root hints %q, want %q", got, want)
	}
}

// TestStartQueryClose resolves www.test. through the recursor from a fake
// upstream, checks that the outsider is refused, and that Close stops it
// and removes its temporary directory.
func TestStartQueryClose(t *testing.T) {
	tg, dir := launchertest.Resolver(t, "pdns-recursor", "recursor.conf", map[string]string{"server-port": "53"})
	launchertest.Offered(t, tg, "dns/iterative", "dns/allowlist", "dns/tcp-pipelining")
	udp, _ := tg.Endpoint("resolver/udp")
	launchertest.OutsiderRefused(t, udp.Addr)
	launchertest.CloseStops(t, tg, dir)
}

// TestNoUpstream checks that a resolver without an upstream refuses to
// start, saying why.
func TestNoUpstream(t *testing.T) {
	launchertest.NoUpstream(t, "pdns-recursor", ErrNoUpstream)
}

// TestIteratesHierarchy walks reference/dns's loopback hierarchy through
// the recursor, rooted at port 53: what dns/iterative claims.
func TestIteratesHierarchy(t *testing.T) {
	launchertest.IteratesHierarchy(t, "pdns-recursor")
}
