package dnsfuzz

import (
	"testing"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/dns"
)

// TestBenignSet checks the common set: every rule gives its reason, the
// choice among error RCODEs is accepted, a different answer set is not.
func TestBenignSet(t *testing.T) {
	rules, used, err := engine.ResolveBenign(contract.Name, engine.BenignAll, []string{"reference", "nsd"})
	if err != nil || len(used) != 1 || used[0] != engine.BenignCommon {
		t.Fatalf("builtin: %v, %v", used, err)
	}
	for _, r := range rules {
		if r.Why == "" {
			t.Errorf("%s (%s) gives no reason", r.Source, r.Line)
		}
	}
	accepts := func(d engine.Disagreement) bool {
		for _, r := range rules {
			if r.Matches(d) {
				return true
			}
		}
		return false
	}
	if !accepts(engine.Disagreement{A: "reference", B: "nsd", Kind: "class", ValA: "FORMERR", ValB: "NOTIMP"}) {
		t.Error("FORMERR against NOTIMP not accepted")
	}
	if !accepts(engine.Disagreement{A: "reference", B: "knot", Kind: "count", ValA: "1", ValB: "0", Last: "none", Extra: "FORMERR"}) {
		t.Error("a dropped malformed query not accepted")
	}
	for _, d := range []engine.Disagreement{
		{A: "reference", B: "nsd", Kind: "detail", ValA: "NOERROR [a]", ValB: "NOERROR [b]", Both: "NOERROR"},
		{A: "reference", B: "nsd", Kind: "class", ValA: "NOERROR", ValB: "SERVFAIL"},
		{A: "reference", B: "nsd", Kind: "count", ValA: "1", ValB: "0", Last: "none", Extra: "NOERROR"},
	} {
		if accepts(d) {
			t.Errorf("%s accepted", d)
		}
	}
}
