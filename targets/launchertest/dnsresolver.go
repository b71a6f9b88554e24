package launchertest

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/internal/dial"
	fixture "github.com/protospec/protospec/internal/dns"
	refdns "github.com/protospec/protospec/reference/dns"
	"github.com/protospec/protospec/targets"
)

// OutsiderRefused checks that a recursive query sent to addr from the
// suite's outsider address is refused or ignored, the behaviour
// dns/allowlist claims, and that one from 127.0.0.1 is answered (so that
// a dead resolver does not pass).
func OutsiderRefused(t testing.TB, addr string) {
	t.Helper()
	ResolveA(t, "udp", addr)
	r, err := exchangeFrom(fixture.Outsider, new(dns.Msg).SetQuestion("www.test.", dns.TypeA), addr)
	if err == nil && r.Rcode != dns.RcodeRefused {
		t.Errorf("query from %s: rcode %s, want REFUSED or no answer", fixture.Outsider, dns.RcodeToString[r.Rcode])
	}
}

// IteratesHierarchy walks reference/dns's loopback hierarchy (root, TLDs,
// second-level zones, all on port 53 of their own addresses) through the
// resolver launcher name, which must then offer dns/iterative: what that
// feature claims. It needs port 53, so root; it skips otherwise.
func IteratesHierarchy(t *testing.T, name string) {
	t.Helper()
	l, ok := targets.Lookup(name)
	if !ok {
		t.Fatalf("no launcher %q registered", name)
	}
	SkipUnlessAvailable(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := refdns.StartHierarchy(ctx, refdns.HierarchyConfig{Port: 53})
	if err != nil {
		t.Skipf("the hierarchy needs port 53 of 127.0.0.10-18: %v", err)
	}
	defer h.Close()
	tg, err := targets.Open(ctx, name, targets.Options{Protocol: "dns", Params: map[string]string{"upstream": h.Root.String(), "server-port": "53"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	Offered(t, tg, fixture.FeatureIterative)
	ep, _ := tg.Endpoint("resolver/udp")
	c := &dns.Client{Net: "udp", Timeout: 3 * time.Second}
	for _, tc := range []struct {
		name  string
		rcode int
		want  string
	}{
		{refdns.GaiaName, dns.RcodeSuccess, refdns.GaiaAddr},
		{"alias.test.", dns.RcodeSuccess, "127.0.0.1"},
		{"nonexistent.test.", dns.RcodeNameError, ""},
	} {
		r, err := fixture.Exchange(ctx, c, new(dns.Msg).SetQuestion(tc.name, dns.TypeA), ep.Addr)
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

// exchangeFrom sends m to addr over UDP from the local address from,
// through the one dialer, and reads the answer within a second.
func exchangeFrom(from string, m *dns.Msg, addr string) (*dns.Msg, error) {
	d := dial.Dialer{Timeout: time.Second, Source: from}
	nc, err := d.Connect(context.Background(), dial.Endpoint{Network: "udp", Addr: addr})
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	r, _, err := c.ExchangeWithConnContext(context.Background(), m, &dns.Conn{Conn: nc})
	return r, err
}
