package launchertest

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
)

// OutsiderRefused checks that a recursive query sent to addr from the
// suite's outsider address is refused or ignored, the behaviour
// dns/allowlist claims, and that one from 127.0.0.1 is answered (so that
// a dead resolver does not pass).
func OutsiderRefused(t testing.TB, addr string) {
	t.Helper()
	ResolveA(t, "udp", addr)
	c := &dns.Client{Timeout: time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(fixture.Outsider)}}}
	r, _, err := c.Exchange(new(dns.Msg).SetQuestion("www.test.", dns.TypeA), addr)
	if err == nil && r.Rcode != dns.RcodeRefused {
		t.Errorf("query from %s: rcode %s, want REFUSED or no answer", fixture.Outsider, dns.RcodeToString[r.Rcode])
	}
}
