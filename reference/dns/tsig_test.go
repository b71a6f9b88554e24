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

// TestTSIGErrors: a MAC made with another secret gets BADSIG, a time
// outside the fudge BADTIME with the server's time in Other Data (RFC 8945
// 5.2.3), and neither is answered as if it were unsigned.
func TestTSIGErrors(t *testing.T) {
	const secret = "cHJvdG9zcGVjLXRlc3Qta2V5LXNlY3JldA=="
	udp, _ := startAuth(t, &AuthServer{TSIGKeys: map[string]string{"protospec-key.": secret}})
	ask := func(c *mdns.Client, signed int64) *mdns.Msg {
		t.Helper()
		m := new(mdns.Msg)
		m.SetQuestion("www.test.", mdns.TypeA)
		m.SetTsig("protospec-key.", mdns.HmacSHA256, 300, signed)
		r, _, _ := c.Exchange(m, udp)
		if r == nil {
			t.Fatal("no answer to a signed query")
		}
		if len(r.Answer) != 0 {
			t.Errorf("answered with data despite the TSIG error: %v", r)
		}
		return r
	}
	wrong := &mdns.Client{TsigSecret: map[string]string{"protospec-key.": "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="}, Timeout: 2 * time.Second}
	if r := ask(wrong, time.Now().Unix()); r.Rcode != mdns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != mdns.RcodeBadSig {
		t.Errorf("wrong secret: %v", r)
	}
	right := &mdns.Client{TsigSecret: map[string]string{"protospec-key.": secret}, Timeout: 2 * time.Second}
	r := ask(right, time.Now().Unix()-3600)
	if r.Rcode != mdns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != mdns.RcodeBadTime {
		t.Fatalf("an hour's skew: %v", r)
	}
	if ts := r.IsTsig(); ts.OtherLen != 6 || ts.OtherData == "" {
		t.Errorf("BADTIME without the server's time in Other Data: %v", ts)
	}
}
