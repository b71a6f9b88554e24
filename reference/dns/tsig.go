package dns

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// tsigAnswer handles a query carrying a TSIG record (RFC 8945). It
// reports handled=false for an unsigned query, which then takes the
// ordinary path. An unknown key gets NOTAUTH/BADKEY, a bad MAC
// NOTAUTH/BADSIG, a time outside fudge NOTAUTH/BADTIME (RFC 8945 5.2);
// every answer to a valid signed query is signed, each message of a
// transfer after the first over the prior MAC (RFC 8945 5.3.1).
func (s *AuthServer) tsigAnswer(buf []byte, client netip.AddrPort, tcp bool) (out [][]byte, handled bool) {
	if len(buf) < 12 || buf[10] == 0 && buf[11] == 0 {
		return nil, false // no additional records, so no TSIG
	}
	req := new(mdns.Msg)
	if err := req.Unpack(buf); err != nil {
		return nil, false
	}
	t := req.IsTsig()
	if t == nil {
		return nil, false
	}
	secret, known := s.TSIGKeys[strings.ToLower(t.Hdr.Name)]
	if !known || !strings.EqualFold(t.Algorithm, mdns.HmacSHA256) {
		return s.tsigError(req, t, mdns.RcodeBadKey, "", false), true
	}
	switch err := mdns.TsigVerify(buf, secret, "", false); {
	case err == nil:
	case errors.Is(err, mdns.ErrTime):
		return s.tsigError(req, t, mdns.RcodeBadTime, secret, true), true
	default:
		return s.tsigError(req, t, mdns.RcodeBadSig, "", false), true
	}
	answers, _ := s.answerQuery(buf, client, tcp)
	mac := t.MAC
	for i, a := range answers {
		m := new(mdns.Msg)
		if err := m.Unpack(a); err != nil {
			return nil, true
		}
		m.SetTsig(t.Hdr.Name, mdns.HmacSHA256, 300, time.Now().Unix())
		signed, newMAC, err := mdns.TsigGenerate(m, secret, mac, i > 0)
		if err != nil {
			return nil, true
		}
		answers[i], mac = signed, newMAC
	}
	return answers, true
}

// tsigError answers a signed query failing verification: NOTAUTH with the
// TSIG error code; BADTIME answers are signed and carry the server's time
// in Other Data (RFC 8945 5.2.3), the others carry an empty MAC.
func (s *AuthServer) tsigError(req *mdns.Msg, t *mdns.TSIG, code uint16, secret string, sign bool) [][]byte {
	resp := replyTo(req)
	resp.Rcode = mdns.RcodeNotAuth
	rr := &mdns.TSIG{
		Hdr:        mdns.RR_Header{Name: t.Hdr.Name, Rrtype: mdns.TypeTSIG, Class: mdns.ClassANY},
		Algorithm:  t.Algorithm,
		TimeSigned: t.TimeSigned,
		Fudge:      t.Fudge,
		OrigId:     req.Id,
		Error:      code,
	}
	if sign {
		now := uint64(time.Now().Unix())
		rr.OtherLen = 6
		rr.OtherData = hex48(now)
		resp.Extra = append(resp.Extra, rr)
		out, _, err := mdns.TsigGenerate(resp, secret, t.MAC, false)
		if err != nil {
			return nil
		}
		return [][]byte{out}
	}
	resp.Extra = append(resp.Extra, rr)
	out, err := resp.Pack()
	if err != nil {
		return nil
	}
	return [][]byte{out}
}

// hex48 spells a 48-bit time as the 12 hex digits miekg/dns keeps in
// TSIG.OtherData.
func hex48(v uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 12)
	for i := 11; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}
