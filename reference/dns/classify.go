package dns

import (
	"strings"

	mdns "github.com/miekg/dns"
)

// kinds of upstream answers.
const (
	kLame = iota
	kAnswer
	kCNAME
	kReferral
	kNXDomain
	kNoData
)

// classified is an upstream answer reduced to what the resolver may use:
// only records inside the bailiwick of the zone the server was asked as,
// with lower-case owner names.
type classified struct {
	kind  int
	chain []mdns.RR // CNAMEs from qname
	final []mdns.RR // data for the last name of the chain
	last  string    // last name of the chain, lower case
	soa   *mdns.SOA // negative-answer SOA
	child string    // referral target zone
	ns    []mdns.RR // referral NS RRset
	glue  []mdns.RR // referral glue
}

// inBailiwick filters rrs to class IN records owned by names at or below
// zone, and returns copies with lower-case owners. Records outside the zone
// the queried server serves are never used or cached (RFC 2181 5.4.1,
// RFC 5452 6).
func inBailiwick(rrs []mdns.RR, zone string) []mdns.RR {
	var out []mdns.RR
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype == mdns.TypeOPT || h.Class != mdns.ClassINET {
			continue
		}
		owner := strings.ToLower(h.Name)
		if !mdns.IsSubDomain(zone, owner) {
			continue
		}
		cp := mdns.Copy(rr)
		cp.Header().Name = owner
		out = append(out, cp)
	}
	return out
}

// classify sorts a response from a server for zone to question qname/qtype
// into answer, CNAME to follow, referral, NXDOMAIN, NODATA or lame.
func classify(resp *mdns.Msg, zone, qname string, qtype uint16) classified {
	ans := normalizeTTLs(inBailiwick(resp.Answer, zone))
	auth := normalizeTTLs(inBailiwick(resp.Ns, zone))
	extra := normalizeTTLs(inBailiwick(resp.Extra, zone))
	cl := classified{last: qname}
	cur := qname
	for range maxChain {
		var final []mdns.RR
		var cn *mdns.CNAME
		for _, rr := range ans {
			if rr.Header().Name != cur {
				continue
			}
			t := rr.Header().Rrtype
			if t == qtype || (qtype == mdns.TypeANY && t != mdns.TypeCNAME) {
				final = append(final, rr)
			} else if c, ok := rr.(*mdns.CNAME); ok && cn == nil {
				cn = c
			}
		}
		if len(final) > 0 {
			cl.final = final
			break
		}
		if cn == nil {
			break
		}
		cl.chain = append(cl.chain, cn)
		cur = strings.ToLower(cn.Target)
		if containsName(cl.chain[:len(cl.chain)-1], cur) {
			break // loop
		}
	}
	cl.last = cur
	if len(cl.final) > 0 {
		cl.kind = kAnswer
		return cl
	}
	// A chain leaving the zone is followed by a new resolution; nothing
	// about the target is taken from this server.
	if !mdns.IsSubDomain(zone, cur) {
		cl.kind = kCNAME
		return cl
	}
	for _, rr := range auth {
		if s, ok := rr.(*mdns.SOA); ok && mdns.IsSubDomain(s.Hdr.Name, cur) {
			cl.soa = s
			break
		}
	}
	switch resp.Rcode {
	case mdns.RcodeNameError:
		cl.kind = kNXDomain
		return cl
	case mdns.RcodeSuccess:
	default:
		cl.kind = kLame
		return cl
	}
	if len(cl.chain) > 0 {
		if resp.Authoritative && cl.soa != nil {
			cl.kind = kNoData
		} else {
			cl.kind = kCNAME
		}
		return cl
	}
	// Referral: the deepest NS RRset strictly below zone that encloses cur.
	for _, rr := range auth {
		ns, ok := rr.(*mdns.NS)
		if !ok {
			continue
		}
		o := ns.Hdr.Name
		if o == zone || !mdns.IsSubDomain(o, cur) {
			continue
		}
		if cl.child == "" || len(o) > len(cl.child) {
			cl.child = o
		}
	}
	if cl.child != "" {
		targets := map[string]bool{}
		for _, rr := range auth {
			if ns, ok := rr.(*mdns.NS); ok && ns.Hdr.Name == cl.child {
				cl.ns = append(cl.ns, ns)
				targets[strings.ToLower(ns.Ns)] = true
			}
		}
		// Glue only from this referral, only for its NS names.
		for _, rr := range extra {
			t := rr.Header().Rrtype
			if (t == mdns.TypeA || t == mdns.TypeAAAA) && targets[rr.Header().Name] {
				cl.glue = append(cl.glue, rr)
			}
		}
		cl.kind = kReferral
		return cl
	}
	if cl.soa != nil || resp.Authoritative {
		cl.kind = kNoData
		return cl
	}
	cl.kind = kLame
	return cl
}

func containsName(rrs []mdns.RR, name string) bool {
	for _, rr := range rrs {
		if rr.Header().Name == name {
			return true
		}
	}
	return false
}

// normalizeTTLs fixes the TTLs of records (already copies) as RFC 2181
// asks: "Implementations should treat a TTL value received with the most
// significant bit set as if the entire value received was zero" (section
// 8), and for an RRset whose records differ, "the client should treat the
// RRs for all purposes as if all TTLs in the RRSet had been set to the
// value of the lowest TTL in the RRSet" (section 5.2). Records of one
// RRset need not be adjacent.
func normalizeTTLs(rrs []mdns.RR) []mdns.RR {
	type key struct {
		name  string
		rtype uint16
	}
	lowest := map[key]uint32{}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Ttl&0x80000000 != 0 {
			h.Ttl = 0
		}
		k := key{h.Name, h.Rrtype}
		if t, ok := lowest[k]; !ok || h.Ttl < t {
			lowest[k] = h.Ttl
		}
	}
	for _, rr := range rrs {
		h := rr.Header()
		h.Ttl = lowest[key{h.Name, h.Rrtype}]
	}
	return rrs
}
