package dns

import (
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
)

func fixtureZone(t *testing.T) *Zone {
	t.Helper()
	z, err := LoadZone(fixture.Origin, strings.NewReader(fixture.Zones[0].Text()))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestJournalIncremental(t *testing.T) {
	z := fixtureZone(t)
	j, err := FixtureJournal()
	if err != nil {
		t.Fatal(err)
	}
	if err := z.SetJournal(j); err != nil {
		t.Fatal(err)
	}
	if got := z.incremental(fixture.SOASerial - 3); got != nil {
		t.Errorf("a serial older than the journal gave %d records, want none (a full transfer)", len(got))
	}
	var serials []uint32
	for _, rr := range z.incremental(fixture.SOASerial - 2) {
		if soa, ok := rr.(*mdns.SOA); ok {
			serials = append(serials, soa.Serial)
		}
	}
	c := uint32(fixture.SOASerial)
	want := []uint32{c, c - 2, c - 1, c - 1, c, c}
	if len(serials) != len(want) {
		t.Fatalf("SOA serials %v, want %v", serials, want)
	}
	for i := range want {
		if serials[i] != want[i] {
			t.Fatalf("SOA serials %v, want %v", serials, want)
		}
	}
}

func TestSetJournalRefusesBrokenHistory(t *testing.T) {
	a, _ := mdns.NewRR("x.test. 60 IN A 127.0.0.1")
	out, _ := mdns.NewRR("x.example. 60 IN A 127.0.0.1")
	c := uint32(fixture.SOASerial)
	for name, diffs := range map[string][]Diff{
		"gap":         {{From: c - 3, To: c - 2}, {From: c - 1, To: c}},
		"not current": {{From: c - 2, To: c - 1}},
		"out of zone": {{From: c - 1, To: c, Added: []mdns.RR{a, out}}},
	} {
		if err := fixtureZone(t).SetJournal(diffs); err == nil {
			t.Errorf("%s: SetJournal accepted it", name)
		}
	}
}
