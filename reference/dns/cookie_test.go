package dns

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func TestServerCookie(t *testing.T) {
	var j cookieJar
	addr := netip.MustParseAddr("127.0.0.1")
	client := []byte("protospc")
	now := time.Now()
	c, malformed := j.reply(client, addr, now)
	if malformed || c == nil {
		t.Fatal("a client cookie alone is not answered with a cookie")
	}
	b, _ := hex.DecodeString(c.Cookie)
	if len(b) != 24 || !bytes.Equal(b[:8], client) || b[8] != 1 {
		t.Fatalf("cookie %x: want the client cookie then a version 1 server cookie", b)
	}
	if !j.valid(client, b[8:], addr, now) {
		t.Error("our own fresh server cookie is not valid")
	}
	if j.valid(client, b[8:], netip.MustParseAddr("127.0.0.2"), now) {
		t.Error("a server cookie made for another address is valid")
	}
	if j.valid(client, b[8:], addr, now.Add(2*time.Hour)) {
		t.Error("a two-hour-old server cookie is valid")
	}
	for _, n := range []int{0, 5, 9, 15, 41} {
		if _, malformed := j.reply(make([]byte, n), addr, now); !malformed {
			t.Errorf("a %d-byte COOKIE option is not malformed", n)
		}
	}
}

// A query with a cookie is answered with one, never from the packet
// cache; a malformed cookie gets FORMERR with an OPT record; NSID is
// returned only when asked.
func TestAuthCookieAndNSID(t *testing.T) {
	z, err := LoadZone("test.", bytes.NewBufferString("test. 300 IN SOA ns1.test. h.test. 1 2 3 4 5\nwww.test. 300 IN A 192.0.2.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := &AuthServer{Zones: []*Zone{z}, NSID: []byte("ns-a")}
	ask := func(opts ...mdns.EDNS0) *mdns.Msg {
		q := new(mdns.Msg)
		q.SetQuestion("www.test.", mdns.TypeA)
		q.SetEdns0(1232, false)
		q.IsEdns0().Option = opts
		b, _ := q.Pack()
		out := s.handle(b, netip.MustParseAddrPort("127.0.0.1:5353"), false)
		if len(out) != 1 {
			t.Fatalf("%d answers", len(out))
		}
		m := new(mdns.Msg)
		if err := m.Unpack(out[0]); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for range 2 {
		m := ask(&mdns.EDNS0_LOCAL{Code: mdns.EDNS0COOKIE, Data: []byte("protospc")})
		if m.Rcode != mdns.RcodeSuccess || len(m.IsEdns0().Option) != 1 || m.IsEdns0().Option[0].Option() != mdns.EDNS0COOKIE {
			t.Fatalf("no cookie in: %v", m)
		}
	}
	if m := ask(&mdns.EDNS0_LOCAL{Code: mdns.EDNS0COOKIE, Data: []byte("short")}); m.Rcode != mdns.RcodeFormatError || m.IsEdns0() == nil {
		t.Errorf("malformed cookie: %v", m)
	}
	if m := ask(&mdns.EDNS0_NSID{Code: mdns.EDNS0NSID}); len(m.IsEdns0().Option) != 1 || m.IsEdns0().Option[0].(*mdns.EDNS0_NSID).Nsid != hex.EncodeToString([]byte("ns-a")) {
		t.Errorf("NSID not returned: %v", m)
	}
	if m := ask(); len(m.IsEdns0().Option) != 0 {
		t.Errorf("options nobody asked for: %v", m)
	}
}
