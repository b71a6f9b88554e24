package dns

import (
	"fmt"
	"io"
	"sort"
	"strings"

	mdns "github.com/miekg/dns"
)

// MaxZoneRecords bounds the number of records LoadZone accepts, so a hostile
// or broken zone file cannot exhaust memory.
const MaxZoneRecords = 1 << 20

// Zone is one loaded authoritative zone: its records indexed by lower-case
// owner name and type, the names that exist (empty non-terminals included)
// and its delegation points. A Zone is read-only after loading and safe for
// concurrent use.
type Zone struct {
	// Origin is the zone's apex, lower case and fully qualified.
	Origin string
	// SOA is the zone's start of authority record.
	SOA *mdns.SOA

	records map[string]map[uint16][]mdns.RR
	exists  map[string]bool // every owner name and every ancestor up to the apex
	cuts    map[string]bool // names below the apex that own an NS RRset
	order   []mdns.RR       // file order, for AXFR
	journal []Diff          // history for IXFR, oldest first (SetJournal)
}

// LoadZone reads a master file (RFC 1035 section 5) for origin from r.
// $INCLUDE is not allowed. It fails on records outside the zone, a missing
// SOA at the apex, CNAME next to other data, or more than MaxZoneRecords.
func LoadZone(origin string, r io.Reader) (*Zone, error) {
	origin = mdns.Fqdn(origin)
	if _, ok := mdns.IsDomainName(origin); !ok {
		return nil, fmt.Errorf("%w: %q", ErrBadOrigin, origin)
	}
	zp := mdns.NewZoneParser(r, origin, "")
	var rrs []mdns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if len(rrs) >= MaxZoneRecords {
			return nil, ErrZoneTooLarge
		}
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrZoneSyntax, err)
	}
	return NewZone(origin, rrs)
}

// NewZone builds a Zone from records already in memory, with the checks of
// LoadZone.
func NewZone(origin string, rrs []mdns.RR) (*Zone, error) {
	origin = strings.ToLower(mdns.Fqdn(origin))
	z := &Zone{
		Origin:  origin,
		records: make(map[string]map[uint16][]mdns.RR),
		exists:  make(map[string]bool),
		cuts:    make(map[string]bool),
	}
	if len(rrs) > MaxZoneRecords {
		return nil, ErrZoneTooLarge
	}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class != mdns.ClassINET {
			return nil, fmt.Errorf("%w: %s", ErrNotIN, h.Name)
		}
		owner := strings.ToLower(h.Name)
		if !mdns.IsSubDomain(origin, owner) {
			return nil, fmt.Errorf("%w: %s not in %s", ErrOutOfZone, h.Name, origin)
		}
		if soa, ok := rr.(*mdns.SOA); ok {
			if owner != origin {
				return nil, fmt.Errorf("%w: SOA at %s", ErrOutOfZone, h.Name)
			}
			if z.SOA != nil {
				continue // RFC 1035 5.2: exactly one SOA; keep the first
			}
			z.SOA = soa
		}
		byType := z.records[owner]
		if byType == nil {
			byType = make(map[uint16][]mdns.RR)
			z.records[owner] = byType
		}
		if isDuplicate(byType[h.Rrtype], rr) {
			continue
		}
		byType[h.Rrtype] = append(byType[h.Rrtype], rr)
		if h.Rrtype != mdns.TypeSOA || len(z.order) == 0 {
			z.order = append(z.order, rr)
		}
		if h.Rrtype == mdns.TypeNS && owner != origin {
			z.cuts[owner] = true
		}
		for n := owner; ; {
			z.exists[n] = true
			if n == origin {
				break
			}
			n = parent(n)
		}
	}
	if z.SOA == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSOA, origin)
	}
	// RFC 2181 10.1: "An alias name (label of a CNAME record) may, if DNSSEC
	// is in use, appear in the list of names ... otherwise it MUST NOT
	// have any other data." Enforce it at load time.
	for owner, byType := range z.records {
		if _, ok := byType[mdns.TypeCNAME]; ok {
			if len(byType) > 1 || len(byType[mdns.TypeCNAME]) > 1 {
				return nil, fmt.Errorf("%w: %s", ErrCNAMEConflict, owner)
			}
		}
	}
	// AXFR order: SOA first, then the rest sorted by name for stable output.
	rest := make([]mdns.RR, 0, len(z.order))
	for _, rr := range z.order {
		if rr.Header().Rrtype != mdns.TypeSOA {
			rest = append(rest, rr)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool {
		return strings.ToLower(rest[i].Header().Name) < strings.ToLower(rest[j].Header().Name)
	})
	z.order = append([]mdns.RR{z.SOA}, rest...)
	return z, nil
}

func isDuplicate(set []mdns.RR, rr mdns.RR) bool {
	for _, x := range set {
		if mdns.IsDuplicate(x, rr) {
			return true
		}
	}
	return false
}

// Records returns the zone's records, SOA first, in AXFR order.
func (z *Zone) Records() []mdns.RR { return z.order }

// NegativeTTL is the TTL of the SOA in negative answers: RFC 2308 section 3,
// "the minimum of the MINIMUM field of the SOA record and the TTL of the SOA
// itself".
func (z *Zone) NegativeTTL() uint32 {
	return min(z.SOA.Hdr.Ttl, z.SOA.Minttl)
}

// negativeSOA is a copy of the SOA with the negative TTL.
func (z *Zone) negativeSOA() mdns.RR {
	soa := mdns.Copy(z.SOA)
	soa.Header().Ttl = z.NegativeTTL()
	return soa
}

// parent drops the leftmost label of a lower-case FQDN; the root's parent is
// the root.
func parent(name string) string {
	if name == "." {
		return "."
	}
	i, _ := mdns.NextLabel(name, 0)
	if i >= len(name) {
		return "."
	}
	return name[i:]
}

// rrset returns the records of type t at the lower-case owner name.
func (z *Zone) rrset(owner string, t uint16) []mdns.RR {
	return z.records[owner][t]
}

// cutAbove returns the highest delegation point at or above name (and below
// the apex), or "".
func (z *Zone) cutAbove(name string) string {
	if len(z.cuts) == 0 {
		return ""
	}
	found := ""
	for n := name; n != z.Origin && n != "."; n = parent(n) {
		if z.cuts[n] {
			found = n
		}
	}
	return found
}
