package dns

import (
	"bytes"
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
)

// This file holds only the fuzz target: the libFuzzer build
// (scripts/libfuzzer-build.sh) compiles it with a testing shim in place of
// package testing, which the other test files' helpers cannot take.

// FuzzPacketCache: for any datagram, the answer served the second time
// (from the packet cache, when cached) is the answer computed afresh, with
// the second query's ID.
func FuzzPacketCache(f *testing.F) {
	for _, c := range []struct {
		name  string
		qtype uint16
	}{{"www.test.", mdns.TypeA}, {"TeSt.", mdns.TypeSOA}, {"test.", mdns.TypeAXFR}, {"nope.test.", mdns.TypeMX}} {
		m := new(mdns.Msg)
		m.SetQuestion(c.name, c.qtype)
		m.SetEdns0(1232, true)
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Add([]byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f"))
	var zones []*Zone
	f.Fuzz(func(t *testing.T, q []byte) {
		if zones == nil {
			zones = fixtureZones(t)
		}
		s := &AuthServer{Zones: zones}
		client := netip.MustParseAddrPort("127.0.0.1:5353")
		s.handle(q, client, false)
		if len(q) >= 2 {
			q = append([]byte(nil), q...)
			q[0] ^= 0x5A
		}
		got := s.handle(q, client, false)
		want, personal := s.answerQuery(q, client, false)
		if personal {
			return // a server cookie carries the time: never cached, not comparable
		}
		if len(got) != len(want) {
			t.Fatalf("%d answers from the cache path, %d computed", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("answer %d differs:\ncached   %x\ncomputed %x", i, got[i], want[i])
			}
		}
	})
}
