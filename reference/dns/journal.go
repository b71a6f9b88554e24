package dns

import (
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
)

// Diff is one update in a zone's journal: the version with serial From
// became the version with serial To by deleting and adding records (SOA
// records left out).
type Diff struct {
	From, To       uint32
	Deleted, Added []mdns.RR
}

// SetJournal gives z the history it answers IXFR from (RFC 1995 4): diffs
// oldest first, each starting at the serial the one before ends at, the
// last ending at the zone's current serial. Call it before serving.
func (z *Zone) SetJournal(diffs []Diff) error {
	for i, d := range diffs {
		if i > 0 && d.From != diffs[i-1].To {
			return fmt.Errorf("dns: journal of %s: change %d starts at serial %d, the one before ends at %d", z.Origin, i+1, d.From, diffs[i-1].To)
		}
		for _, rr := range append(append([]mdns.RR(nil), d.Deleted...), d.Added...) {
			if rr.Header().Rrtype == mdns.TypeSOA || !mdns.IsSubDomain(z.Origin, strings.ToLower(rr.Header().Name)) {
				return fmt.Errorf("dns: journal of %s: change %d holds %s", z.Origin, i+1, rr.Header().Name)
			}
		}
	}
	if n := len(diffs); n > 0 && diffs[n-1].To != z.SOA.Serial {
		return fmt.Errorf("dns: journal of %s ends at serial %d, the zone's is %d", z.Origin, diffs[n-1].To, z.SOA.Serial)
	}
	z.journal = diffs
	return nil
}

// FixtureJournal parses internal/dns's Journal of test.
func FixtureJournal() ([]Diff, error) {
	parse := func(ss []string) ([]mdns.RR, error) {
		var out []mdns.RR
		for _, s := range ss {
			rr, err := mdns.NewRR(s)
			if err != nil {
				return nil, fmt.Errorf("dns: fixture journal: %w", err)
			}
			out = append(out, rr)
		}
		return out, nil
	}
	var diffs []Diff
	for _, c := range fixture.Journal {
		del, err := parse(c.Deleted)
		if err != nil {
			return nil, err
		}
		add, err := parse(c.Added)
		if err != nil {
			return nil, err
		}
		diffs = append(diffs, Diff{From: c.From, To: c.To, Deleted: del, Added: add})
	}
	return diffs, nil
}

// incremental returns the records of an incremental IXFR answer (RFC 1995
// 4) to a client at serial, or nil when the journal does not reach back
// to it: the current SOA, then per change the SOA of its old version, the
// deleted records, the SOA of its new version and the added records, and
// the current SOA again.
func (z *Zone) incremental(serial uint32) []mdns.RR {
	start := -1
	for i, d := range z.journal {
		if d.From == serial {
			start = i
			break
		}
	}
	if start < 0 {
		return nil
	}
	soaAt := func(serial uint32) mdns.RR {
		s := mdns.Copy(z.SOA).(*mdns.SOA)
		s.Serial = serial
		return s
	}
	out := []mdns.RR{z.SOA}
	for _, d := range z.journal[start:] {
		out = append(out, soaAt(d.From))
		out = append(out, d.Deleted...)
		out = append(out, soaAt(d.To))
		out = append(out, d.Added...)
	}
	return append(out, z.SOA)
}
