package reference

import (
	"net/netip"
	"testing"
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
