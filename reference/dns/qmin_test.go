package dns

import (
	"testing"

	mdns "github.com/miekg/dns"
)

func TestQminSequence(t *testing.T) {
	r := &Resolver{QNameMin: true}
	q := r.newQmin(".", "x.y.child.example.", mdns.TypeTXT)
	var got []string
	for _, kind := range []int{kNoData, kReferral, kNoData, kNoData} {
		n, qt := q.next()
		got = append(got, n+" "+mdns.TypeToString[qt])
		cl := classified{kind: kind}
		if done, _ := q.step(&cl); done {
			t.Fatal("done early")
		}
		if kind == kReferral {
			q.zone("child.example.")
		}
	}
	n, qt := q.next()
	got = append(got, n+" "+mdns.TypeToString[qt])
	want := []string{"example. A", "child.example. A", "y.child.example. A", "x.y.child.example. TXT", "x.y.child.example. TXT"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("queries %v, want %v", got, want)
		}
	}
	q = r.newQmin(".", "a.gone.example.", mdns.TypeA)
	q.next()
	cl := classified{kind: kNXDomain}
	if done, res := q.step(&cl); !done || res.kind != kNXDomain || res.last != "a.gone.example." {
		t.Fatalf("NXDOMAIN for an ancestor: done %v %+v", done, res)
	}
}
