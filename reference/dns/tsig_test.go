package dns

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func TestTSIG(t *testing.T) {
	const secret = "cHJvdG9zcGVjLXRlc3Qta2V5LXNlY3JldA=="
	udp, _ := startAuth(t, &AuthServer{TSIGKeys: map[string]string{"protospec-key.": secret}})
	c := &mdns.Client{TsigSecret: map[string]string{"protospec-key.": secret, "other.": secret}, Timeout: 2 * time.Second}
	m := new(mdns.Msg)
	m.SetQuestion("www.test.", mdns.TypeA)
	m.SetTsig("protospec-key.", mdns.HmacSHA256, 300, time.Now().Unix())
	r, _, err := c.Exchange(m, udp)
	if err != nil || r.IsTsig() == nil || r.Rcode != mdns.RcodeSuccess {
		t.Fatalf("signed query: %v %v", r, err)
	}
	m.SetTsig("other.", mdns.HmacSHA256, 300, time.Now().Unix())
	m.Extra = m.Extra[len(m.Extra)-1:]
	r, _, _ = c.Exchange(m, udp)
	if r == nil || r.Rcode != mdns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != mdns.RcodeBadKey {
		t.Fatalf("unknown key: %v", r)
	}
}
