package unbound

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
	refdns "github.com/protospec/protospec/reference/dns"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/launchertest"
)

// TestConfig renders unbound.conf for a fixed work directory, port and
// upstream and compares it with testdata/.
func TestConfig(t *testing.T) {
	opts := targets.Options{Protocol: "dns", Params: map[string]string{"upstream": "127.0.0.1:40002"}}
	launchertest.Config(t, launcher, opts, []int{40001}, launchertest.ConfigCase{Golden: "testdata/unbound.conf"})
}

// TestIterativeFeature checks what the target says of dns/iterative for
// each server-port the suite may give.
func TestIterativeFeature(t *testing.T) {
	for sp, want := range map[string]string{"53": "", "": "did not say", "5300": "port 5300"} {
		st := &targets.Static{Features: map[string]bool{}, Reasons: map[string]string{}}
		iterative(&targets.Run{Opts: targets.Options{Params: map[string]string{"server-port": sp}}}, st)
		reason := st.Reasons["dns/iterative"]
		if st.Features["dns/iterative"] != (want == "") || !strings.Contains(reason, want) {
			t.Errorf("server-port %q: offered %v, reason %q; want reason with %q", sp, st.Features["dns/iterative"], reason, want)
		}
	}
}

// TestStartQueryClose resolves www.test. through unbound from a fake
// upstream and checks that Close stops unbound and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	tg, dir := launchertest.Resolver(t, "unbound", "unbound.conf", map[string]string{"server-port": "53"})
	launchertest.Offered(t, tg, "dns/iterative", "dns/allowlist", "dns/tcp-pipelining")
	udp, _ := tg.Endpoint("resolver/udp")
	outsiderRefused(t, udp.Addr)
	launchertest.CloseStops(t, tg, dir)
}

// TestIterativeNeedsPort53 checks that unbound does not claim to iterate
// when the suite's further servers are not on port 53.
func TestIterativeNeedsPort53(t *testing.T) {
	_, upAddr := launchertest.FakeUpstream(t)
	_, port, _ := net.SplitHostPort(upAddr)
	tg := launchertest.Open(t, "unbound", targets.Options{Protocol: "dns", Params: map[string]string{"upstream": upAddr, "server-port": port}})
	if err := tg.Feature("dns/iterative"); !errors.Is(err, targets.ErrNotOffered) {
		t.Errorf("dns/iterative with server-port %s: got %v, want not offered", port, err)
	}
}

// outsiderRefused checks that a query from the suite's outsider address
// is refused or ignored, the behaviour dns/allowlist claims.
func outsiderRefused(t *testing.T, addr string) {
	t.Helper()
	c := &dns.Client{Timeout: time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(fixture.Outsider)}}}
	r, _, err := c.Exchange(new(dns.Msg).SetQuestion("www.test.", dns.TypeA), addr)
	if err == nil && r.Rcode != dns.RcodeRefused {
		t.Errorf("query from %s: rcode %s, want REFUSED or no answer", fixture.Outsider, dns.RcodeToString[r.Rcode])
	}
}

// TestNoUpstream checks that a resolver without an upstream refuses to
// start, saying why.
func TestNoUpstream(t *testing.T) {
	launchertest.NoUpstream(t, "unbound", ErrNoUpstream)
}

// TestIteratesHierarchy walks reference/dns's loopback hierarchy (root,
// TLDs, second-level zones, all on port 53 of their own addresses) through
// unbound: what "dns/iterative" claims. It needs port 53, so root.
func TestIteratesHierarchy(t *testing.T) {
	launchertest.SkipUnlessAvailable(t, launcher)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := refdns.StartHierarchy(ctx, refdns.HierarchyConfig{Port: 53})
	if err != nil {
		t.Skipf("the hierarchy needs port 53 of 127.0.0.10-18: %v", err)
	}
	defer h.Close()
	tg, err := targets.Open(ctx, "unbound", targets.Options{Protocol: "dns", Params: map[string]string{"upstream": h.Root.String(), "server-port": "53"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ep, _ := tg.Endpoint("resolver/udp")
	c := &dns.Client{Timeout: 3 * time.Second}
	for _, tc := range []struct {
		name  string
		rcode int
		want  string
	}{
		{refdns.GaiaName, dns.RcodeSuccess, refdns.GaiaAddr},
		{"alias.test.", dns.RcodeSuccess, "127.0.0.1"},
		{"nonexistent.test.", dns.RcodeNameError, ""},
	} {
		r, _, err := c.Exchange(new(dns.Msg).SetQuestion(tc.name, dns.TypeA), ep.Addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got string
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				got = a.A.String()
			}
		}
		if r.Rcode != tc.rcode || got != tc.want {
			t.Errorf("%s A: rcode %s, address %q; want %s, %q", tc.name, dns.RcodeToString[r.Rcode], got, dns.RcodeToString[tc.rcode], tc.want)
		}
	}
}
