package dns

import (
	mdns "github.com/miekg/dns"
)

// QNAME minimisation (RFC 9156): with Resolver.QNameMin, iterate asks each
// zone's servers for the name one label below the zone (then one more, as
// long as they answer that the name exists: data, NODATA for an empty
// non-terminal), with QTYPE A, and sends the full name with the original
// QTYPE only once no label is left to hide. A referral moves on to the
// child zone; an NXDOMAIN ends the resolution, nothing existing below the
// name (RFC 8020); a CNAME, or anything odd, falls back to the full name.
type qmin struct {
	on     bool
	leak   bool // minimised queries keep the original QTYPE (a mutant's defect)
	qname  string
	qtype  uint16
	labels []string // qname's labels
	reveal int      // labels of the next minimised query
}

func (r *Resolver) newQmin(zone, qname string, qtype uint16) *qmin {
	q := &qmin{on: r.QNameMin && qtype != mdns.TypeDS, leak: r.QNameMinLeakQType, qname: qname, qtype: qtype}
	if q.on {
		idx := mdns.Split(qname)
		for k, off := range idx {
			end := len(qname)
			if k+1 < len(idx) {
				end = idx[k+1]
			}
			q.labels = append(q.labels, qname[off:end])
		}
		q.zone(zone)
	}
	return q
}

// zone restarts minimising below a zone cut.
func (q *qmin) zone(zone string) { q.reveal = mdns.CountLabel(zone) + 1 }

// next returns the name and type of the next query.
func (q *qmin) next() (string, uint16) {
	n := len(q.labels)
	if !q.on || q.reveal >= n {
		return q.qname, q.qtype
	}
	name := ""
	for _, l := range q.labels[n-q.reveal:] {
		name += l
	}
	if q.leak {
		return name, q.qtype
	}
	return name, mdns.TypeA
}

// step takes the answer to a minimised query; done with res when it ends
// the resolution (NXDOMAIN for an ancestor of qname).
func (q *qmin) step(cl *classified) (bool, classified) {
	switch cl.kind {
	case kNXDomain:
		return true, classified{kind: kNXDomain, last: q.qname, soa: cl.soa}
	case kNoData, kAnswer:
		q.reveal++
	case kReferral:
	default:
		q.on = false // a CNAME or the like: ask the full name
	}
	return false, classified{}
}
