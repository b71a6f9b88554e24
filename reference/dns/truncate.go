package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
)

// pack packs resp so it is at most limit bytes. When the answer or
// authority section does not fit, the TC bit is set and whole RRsets are
// dropped from the first one that does not fit onwards; RFC 2181 9: "When a
// DNS client receives a reply with TC set, it should ignore that response"
// and "the TC bit should not be set merely because some extra information
// could have been included ... but there was insufficient room", so
// additional records that do not fit are left out without TC, except glue of
// a referral (RFC 9471). The question and OPT are always kept.
func pack(resp *mdns.Msg, limit int, referral bool) ([]byte, error) {
	resp.Compress = true
	if resp.Len() <= limit {
		return resp.Pack()
	}
	var opt mdns.RR
	extra := make([]mdns.RR, 0, len(resp.Extra))
	for _, rr := range resp.Extra {
		if rr.Header().Rrtype == mdns.TypeOPT {
			opt = rr
		} else {
			extra = append(extra, rr)
		}
	}
	t := new(mdns.Msg)
	t.MsgHdr = resp.MsgHdr
	t.Compress = true
	t.Question = resp.Question
	if opt != nil {
		t.Extra = []mdns.RR{opt}
	}
	fill := func(sec *[]mdns.RR, rrs []mdns.RR) bool {
		for _, set := range rrsets(rrs) {
			n := len(*sec)
			*sec = append(*sec, set...)
			if t.Len() > limit {
				*sec = (*sec)[:n]
				return false
			}
		}
		return true
	}
	if !fill(&t.Answer, resp.Answer) || !fill(&t.Ns, resp.Ns) {
		t.Truncated = true
		return t.Pack()
	}
	// Additional data: everything that fits, OPT first (kept above).
	for _, set := range rrsets(extra) {
		n := len(t.Extra)
		t.Extra = append(t.Extra, set...)
		if t.Len() > limit {
			t.Extra = t.Extra[:n]
			if referral {
				t.Truncated = true
			}
		}
	}
	return t.Pack()
}

// rrsets splits rrs into runs of records with the same owner, type and
// class, in order.
func rrsets(rrs []mdns.RR) [][]mdns.RR {
	var out [][]mdns.RR
	for i := 0; i < len(rrs); {
		j := i + 1
		h := rrs[i].Header()
		for j < len(rrs) {
			g := rrs[j].Header()
			if g.Rrtype != h.Rrtype || g.Class != h.Class || !strings.EqualFold(g.Name, h.Name) {
				break
			}
			j++
		}
		out = append(out, rrs[i:j])
		i = j
	}
	return out
}
