package reference

import (
	"net/netip"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/dns"
	refdns "github.com/protospec/protospec/reference/dns"
)

func TestLoopbackExcept(t *testing.T) {
	ps := loopbackExcept(dnsOutsider)
	in := func(a string) bool {
		for _, p := range ps {
			if p.Contains(netip.MustParseAddr(a)) {
				return true
			}
		}
		return false
	}
	for _, a := range []string{"127.0.0.1", "127.0.0.65", "127.0.0.67", "127.255.255.254", "127.0.1.66", "::1"} {
		if !in(a) {
			t.Errorf("%s not allowed", a)
		}
	}
	for _, a := range []string{"127.0.0.66", "10.0.0.1", "128.0.0.1"} {
		if in(a) {
			t.Errorf("%s allowed", a)
		}
	}
}

func containsAddr(ps []netip.Prefix, a string) bool {
	for _, p := range ps {
		if p.Contains(netip.MustParseAddr(a)) {
			return true
		}
	}
	return false
}

// TestServeDNSAllowList checks serve dns refuses the suite's outsider by
// default, as the embedded reference does, and takes the allow param.
func TestServeDNSAllowList(t *testing.T) {
	zones, err := loadFixtureZones()
	if err != nil {
		t.Fatal(err)
	}
	s, err := dnsAuthFromParams(zones, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r refdns.Resolver
	if err := dnsResolverParams(&r, nil); err != nil {
		t.Fatal(err)
	}
	for name, ps := range map[string][]netip.Prefix{"transfer": s.AllowTransfer, "recursion": r.AllowClients} {
		if containsAddr(ps, fixture.Outsider) || !containsAddr(ps, "127.0.0.1") {
			t.Errorf("default %s allow-list %v: want loopback except %s", name, ps, fixture.Outsider)
		}
	}
	p := map[string]string{fixture.ParamAllow: "127.0.0.2/32, ::1", fixture.ParamRateLimit: "5",
		fixture.ParamMaxTCPConnsPerClient: "3", fixture.ParamTCPMaxLifetime: "30s", fixture.ParamMaxInflightPerClient: "7"}
	if err := dnsResolverParams(&r, p); err != nil {
		t.Fatal(err)
	}
	if !containsAddr(r.AllowClients, "127.0.0.2") || containsAddr(r.AllowClients, "127.0.0.1") || !containsAddr(r.AllowClients, "::1") ||
		r.RateLimit != 5 || r.MaxTCPConnsPerClient != 3 || r.TCPMaxLifetime != 30*time.Second || r.MaxInflightPerClient != 7 {
		t.Errorf("params not applied: %+v", &r)
	}
	for _, bad := range []map[string]string{{fixture.ParamAllow: "nonsense"}, {fixture.ParamRateLimit: "-1"}, {fixture.ParamTCPIdleTimeout: "5"}, {fixture.ParamMaxTCPConns: "0"}} {
		if err := dnsResolverParams(&r, bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
