package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestBenignRuleFormat checks the rule language: values match the class or
// the detail, count conditions, the pair in either order and by family, and
// the comment block above a run of rules as their reason.
func TestBenignRuleFormat(t *testing.T) {
	rules, err := parseBenign("t.txt", strings.NewReader(`# unknown methods
# get 501 or 405
* class 501 405
* class 501 400

# closed after an error
a,b count * * last=4?? closed=yes
a,b count 0 * extra=4??
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 4 {
		t.Fatalf("%d rules", len(rules))
	}
	if rules[0].Why != "unknown methods get 501 or 405" || rules[1].Why != rules[0].Why || rules[2].Why != "closed after an error" {
		t.Errorf("reasons %q, %q, %q", rules[0].Why, rules[1].Why, rules[2].Why)
	}
	if rules[3].Source != "t.txt:8" {
		t.Errorf("source %q", rules[3].Source)
	}
	for _, c := range []struct {
		d    Disagreement
		rule int // -1: none
	}{
		{Disagreement{A: "x", B: "y", Kind: "class", ValA: "5xx", ValB: "4xx", DetailA: "501", DetailB: "405"}, 0},
		{Disagreement{A: "x", B: "y", Kind: "class", ValA: "4xx", ValB: "5xx", DetailA: "400", DetailB: "501"}, 1},
		{Disagreement{A: "x", B: "y", Kind: "class", ValA: "5xx", ValB: "4xx", DetailA: "500", DetailB: "400"}, -1},
		{Disagreement{A: "b#2", B: "a", Kind: "count", ValA: "1", ValB: "3", Last: "4xx", Closed: true, Extra: "2xx"}, 2},
		{Disagreement{A: "a", B: "b", Kind: "count", ValA: "1", ValB: "3", Last: "2xx", Closed: true, Extra: "2xx"}, -1},
		{Disagreement{A: "a", B: "b", Kind: "count", ValA: "0", ValB: "1", Last: "none", Extra: "4xx"}, 3},
		{Disagreement{A: "a", B: "b", Kind: "count", ValA: "0", ValB: "1", Last: "none", Extra: "2xx"}, -1},
		{Disagreement{A: "a", B: "c", Kind: "count", ValA: "0", ValB: "1", Last: "none", Extra: "4xx"}, -1},
	} {
		r, ok := benignRule(rules, c.d)
		got := -1
		for i := range rules {
			if ok && rules[i].Source == r.Source {
				got = i
			}
		}
		if got != c.rule {
			t.Errorf("%+v: rule %d, want %d", c.d, got, c.rule)
		}
	}
	for _, bad := range []string{"a,b class 4xx", "ab class 4xx 5xx", "a,b kinds 4xx 5xx", "a,b class [ 5xx",
		"* class 4xx 5xx extra=4xx", "* count 0 1 closed=maybe", "* count 0 1 color=red", "* count 0 1 extra"} {
		if _, err := ParseBenign(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseBenign(%q) accepted it", bad)
		}
	}
}

func step(conn string, closed bool, classes ...string) stepResult {
	s := stepResult{State: "line/tcp fresh", Conn: conn, Closed: closed}
	for _, c := range classes {
		s.Resps = append(s.Resps, Response{Class: c, Detail: c})
	}
	return s
}

// TestCompareClasses checks what a difference is: the first answer given
// differently (before any count), one per connection, and a class that
// leaves out the counts and the state.
func TestCompareClasses(t *testing.T) {
	m := lineModel{}
	res := func(steps ...stepResult) *execResult { return &execResult{Steps: steps} }
	// The first answers differ: a class difference, not a count one; the
	// later step on the same connection is a consequence.
	ds := compare(m, "a", "b", res(step("c0", false, "OK", "NO"), step("c0", false, "OK")), res(step("c0", true, "NO"), step("c0", false)))
	if len(ds) != 1 || ds[0].Kind != "class" || ds[0].ValA != "OK" || ds[0].ValB != "NO" {
		t.Fatalf("compare = %+v", ds)
	}
	// Same answers as far as both go: a count difference, with the class
	// of the one with fewer's last answer on the connection and its close.
	ds = compare(m, "a", "b", res(step("c0", true, "OK"), step("c0", false)), res(step("c0", false, "OK"), step("c0", false, "NO", "NO")))
	if len(ds) != 1 || ds[0].Kind != "count" || ds[0].Last != "OK" || !ds[0].Closed || ds[0].Extra != "NO" || ds[0].Step != 1 {
		t.Fatalf("compare = %+v", ds)
	}
	// Two counts of the same shape are one class; other connections are
	// compared on their own.
	d1 := compare(m, "a", "b", res(step("c0", false, "OK")), res(step("c0", false, "OK", "NO")))
	d2 := compare(m, "a", "b", res(step("c0", false, "OK"), step("c1", false, "OK")), res(step("c0", false, "OK"), step("c1", false, "OK", "NO", "NO", "NO")))
	if len(d1) != 1 || len(d2) != 1 || d1[0].Class() != d2[0].Class() {
		t.Fatalf("classes %+v and %+v", d1, d2)
	}
	if d1[0].String() == d2[0].String() {
		t.Errorf("the details should keep the counts: %s", d1[0])
	}
}

// TestResolveBenign checks --benign values: builtin takes the protocol's
// common set and the set of each target's family, a name one set, anything
// else a file.
func TestResolveBenign(t *testing.T) {
	RegisterBenign("line", fstest.MapFS{
		"rfc.txt":    {Data: []byte("* class OK NO\n")},
		"steady.txt": {Data: []byte("steady,* count * * extra=NO\n")},
		"other.txt":  {Data: []byte("other,* class * *\n")},
	})
	if got := strings.Join(BenignSetNames("line"), ","); got != "other,rfc,steady" {
		t.Errorf("BenignSetNames = %s", got)
	}
	rules, used, err := ResolveBenign("line", BenignAll, []string{"steady#2", "x"})
	if err != nil || len(rules) != 2 || strings.Join(used, ",") != "rfc,steady" {
		t.Errorf("builtin: %d rules from %v, %v", len(rules), used, err)
	}
	if rules, _, err := ResolveBenign("line", "other", nil); err != nil || len(rules) != 1 || rules[0].Source != "line/other.txt:1" {
		t.Errorf("other: %+v, %v", rules, err)
	}
	file := filepath.Join(t.TempDir(), "mine.txt")
	if err := os.WriteFile(file, []byte("# mine\na,b detail * *\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rules, _, err := ResolveBenign("line", file, nil); err != nil || len(rules) != 1 || rules[0].Why != "mine" {
		t.Errorf("file: %+v, %v", rules, err)
	}
	if _, _, err := ResolveBenign("line", "nope", nil); err == nil || !strings.Contains(err.Error(), "builtin, other, rfc, steady") {
		t.Errorf("unknown set: %v", err)
	}
	if _, _, err := ResolveBenign("line", "missing.txt", nil); err == nil {
		t.Error("a missing file is not an error")
	}
}

// TestDifferentialOneFindingPerClass runs two targets that disagree on
// every answer: hundreds of inputs make one finding of one class, counted,
// whose transcript says which target each event is from; a benign rule
// silences the class and counts what it accepted.
func TestDifferentialOneFindingPerClass(t *testing.T) {
	out := t.TempDir()
	cfg := Config{Model: lineModel{}, Targets: []TargetSpec{lineTarget("steady", "OK", 1<<20), lineTarget("other", "NO", 1<<20)},
		Seed: 5, Execs: 200, OutDir: out, MinimizeTries: 20, MinimizeBudget: 10 * time.Second,
		Timing: Timing{Deadline: 2 * time.Second, Quiet: 5 * time.Millisecond}}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var classes []*Finding
	for _, f := range res.Findings {
		if f.Oracle == OracleDifferential && strings.Contains(f.Class, "class: steady gave OK, other gave NO") {
			classes = append(classes, f)
		}
	}
	if len(classes) != 1 {
		for _, f := range res.Findings {
			t.Logf("%s: %s (%s)", f.ID, f.Detail, f.Class)
		}
		t.Fatalf("%d findings of the OK/NO class, want 1", len(classes))
	}
	f := classes[0]
	if f.Hits < 50 || len(f.States) == 0 {
		t.Errorf("the class counted %d inputs in states %v, want most of 200", f.Hits, f.States)
	}
	tr, err := os.ReadFile(filepath.Join(f.Dir, "transcript.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(tr)
	i, j := strings.Index(s, "== steady =="), strings.Index(s, "== other ==")
	if i < 0 || j < i || !strings.Contains(s[i:j], "recv  OK") || !strings.Contains(s[j:], "recv  NO") {
		t.Errorf("transcript not labelled by target:\n%s", s)
	}
	run := res.Report(toolForTest, targetForTest, time.Now())
	for _, sp := range run.Specs {
		if sp.ID != f.ID {
			continue
		}
		if !strings.Contains(sp.Message, "inputs of this class") {
			t.Errorf("report message lacks the count: %s", sp.Message)
		}
		notes := 0
		for _, ev := range sp.Transcript {
			if ev.Dir == "note" && strings.HasPrefix(ev.Data, "target ") {
				notes++
			}
		}
		if notes != 2 {
			t.Errorf("report transcript names %d targets, want 2", notes)
		}
	}

	cfg.Benign, err = ParseBenign(strings.NewReader("# the other one always says no\nother,steady class NO OK\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OutDir = ""
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Oracle == OracleDifferential && strings.Contains(f.Detail, "class:") {
			t.Errorf("benign rule did not silence %s", f.Detail)
		}
	}
	if len(res.Accepted) != 1 || res.Accepted[0].N < 50 || !strings.Contains(res.AcceptedLines(true)[0], "the other one always says no") {
		t.Errorf("accepted: %+v", res.Accepted)
	}
}

// TestMinimizeCapped checks the per-finding budget: minimization tries at
// most MinimizeTries candidates, however far from minimal it stops.
func TestMinimizeCapped(t *testing.T) {
	for _, tries := range []int{3, 1000} {
		res, err := Run(context.Background(), Config{
			Model: lineModel{}, Targets: []TargetSpec{crashTarget()},
			Seed: 1, Execs: 3000, Duration: 30 * time.Second, StopAfter: 1,
			Timing: Timing{Deadline: time.Second}, MinimizeTries: tries, MinimizeBudget: 20 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) == 0 {
			t.Fatalf("no finding in %d execs", res.Execs)
		}
		f := res.Findings[0]
		t.Logf("cap %d: %d tries, %d -> %d bytes", tries, f.Tries, f.OrigBytes, f.Input.Size())
		if f.Tries > tries || f.Tries == 0 {
			t.Errorf("cap %d: minimization tried %d candidates", tries, f.Tries)
		}
	}
}
