package http1fuzz

import (
	"slices"
	"strings"
	"testing"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
	_ "github.com/protospec/protospec/targets/apache2"
	_ "github.com/protospec/protospec/targets/nginx"
)

// TestBenignSets checks the built-in sets: the common one and one per
// server family, each named after a launcher, every rule with its reason.
func TestBenignSets(t *testing.T) {
	names := engine.BenignSetNames(contract.Name)
	for _, want := range []string{engine.BenignCommon, "nginx", "apache2"} {
		if !slices.Contains(names, want) {
			t.Errorf("sets %v lack %s", names, want)
		}
	}
	for _, n := range names {
		if _, ok := targets.Lookup(n); !ok && n != engine.BenignCommon {
			t.Errorf("set %s is named after no launcher", n)
		}
		rules, _, err := engine.ResolveBenign(contract.Name, n, nil)
		if err != nil || len(rules) == 0 {
			t.Fatalf("set %s: %d rules, %v", n, len(rules), err)
		}
		for _, r := range rules {
			if r.Why == "" {
				t.Errorf("%s (%s) gives no reason", r.Source, r.Line)
			}
		}
	}
}

// TestBenignAcceptsKnownOnly checks what --benign builtin accepts for a
// run against nginx: the RFC-permitted and fixture differences, but not
// one server serving a request the other reads as a body (the smuggling
// class), not a 2xx against a 5xx, and nothing for a target of no family.
func TestBenignAcceptsKnownOnly(t *testing.T) {
	rules, used, err := engine.ResolveBenign(contract.Name, engine.BenignAll, []string{"reference", "nginx"})
	if err != nil || strings.Join(used, ",") != "rfc,nginx" {
		t.Fatalf("builtin: %v, %v", used, err)
	}
	accepts := func(d engine.Disagreement) bool {
		for _, r := range rules {
			if r.Matches(d) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		d    engine.Disagreement
		want bool
	}{
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "class", ValA: "4xx", ValB: "0.9", DetailA: "400", DetailB: "0.9"}, true},
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "class", ValA: "5xx", ValB: "4xx", DetailA: "501", DetailB: "405"}, true},
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "class", ValA: "2xx", ValB: "4xx", DetailA: "200", DetailB: "404"}, true},
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "count", ValA: "0", ValB: "1", Last: "none", Extra: "4xx"}, true},
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "count", ValA: "1", ValB: "3", Last: "4xx", Closed: true, Extra: "2xx"}, true},
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "count", ValA: "1", ValB: "2", Last: "2xx", Extra: "2xx"}, false},
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "class", ValA: "2xx", ValB: "5xx", DetailA: "200", DetailB: "500"}, false},
		{engine.Disagreement{A: "reference", B: "nginx", Kind: "class", ValA: "4xx", ValB: "2xx", DetailA: "400", DetailB: "200"}, false},
		{engine.Disagreement{A: "reference", B: "mutant:status-200-to-404", Kind: "class", ValA: "2xx", ValB: "4xx", DetailA: "200", DetailB: "404"}, false},
	} {
		if got := accepts(c.d); got != c.want {
			t.Errorf("%s: accepted %v, want %v", c.d, got, c.want)
		}
	}
}
