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
	ans := inBailiwick(resp.Answer, zone)
	auth := inBailiwick(resp.Ns, zone)
	extra := inBailiwick(resp.Extra, zone)
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
