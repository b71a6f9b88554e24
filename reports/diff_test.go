package reports

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func runOf(states map[string]string) *Run {
	r := &Run{Schema: SchemaVersion}
	for id, st := range states {
		r.Specs = append(r.Specs, Spec{ID: id, State: st, Level: LevelMust, Message: "msg for " + id})
	}
	return r
}

func TestDiff(t *testing.T) {
	old := runOf(map[string]string{
		"a": StatePassed, "b": StateFailed, "c": StateFailed, "d": StateFailed,
		"e": StatePassed, "f": StateFailed, "g": StateError, "k": StateSkipped, "l": StatePassed,
	})
	cur := runOf(map[string]string{
		"a": StateFailed, "b": StatePassed, "c": StateFailed, "d": StateSkipped,
		"e": StatePassed, "g": StateFailed, "h": StateError, "i": StatePassed, "k": StateFailed, "l": StateSkipped,
	})
	// A failure the new run's baseline lists is known, not a regression.
	for i := range cur.Specs {
		if cur.Specs[i].ID == "k" {
			cur.Specs[i].Known, cur.Specs[i].KnownReason = true, "the server is lenient"
		}
	}
	d := Diff(old, cur)
	want := map[string][]string{
		"NewFailures":    {"a", "h"},
		"NewKnown":       {"k"},
		"Fixed":          {"b"},
		"NoLongerJudged": {"d", "l"},
		"StillFailing":   {"c", "g"},
		"Added":          {"i"},
		"Removed":        {"f"},
	}
	got := map[string][]string{
		"NewFailures": d.NewFailures, "NewKnown": d.NewKnown, "Fixed": d.Fixed, "NoLongerJudged": d.NoLongerJudged,
		"StillFailing": d.StillFailing, "Added": d.Added, "Removed": d.Removed,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff =\n%v\nwant\n%v", got, want)
	}
	if !d.Regressed() {
		t.Error("not Regressed")
	}

	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range []string{
		"new failures (2):\n  a [MUST] passed -> failed: msg for a\n  h [MUST] absent -> error: msg for h\n",
		"new known deviations (the new run does not fail on them) (1):\n  k [MUST] skipped -> failed (known): the server is lenient\n",
		"fixed (1):\n  b [MUST] failed -> passed\n",
		"no longer judged (2):\n  d [MUST] failed -> skipped\n  l [MUST] passed -> skipped\n",
		"still failing (2):\n  c [MUST] failed: msg for c\n",
		"added (1):\n  i [MUST] passed\n",
		"removed (1):\n  f [MUST] was failed\n",
		"REGRESSED: 2 new failures, 1 new known, 1 fixed, 2 no longer judged, 2 still failing (0 known), 1 added, 1 removed\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("Write output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "fixed (1):\n  b [MUST] failed -> passed\n  l") {
		t.Error("passed -> skipped is called fixed")
	}
	// Each ID is printed once.
	for _, id := range []string{"a", "b", "c", "d", "f", "g", "h", "i", "k", "l"} {
		if n := strings.Count(out, "\n  "+id+" ["); n != 1 {
			t.Errorf("%s printed %d times:\n%s", id, n, out)
		}
	}
}

func TestDiffNoRegression(t *testing.T) {
	r := testRun()
	d := Diff(r, testRun())
	if d.Regressed() || len(d.NewFailures)+len(d.NewKnown)+len(d.Fixed)+len(d.Added)+len(d.Removed)+len(d.NoLongerJudged) != 0 {
		t.Errorf("a run differs from itself: %+v", d)
	}
	if len(d.StillFailing) != testCounts.failed+testCounts.errors {
		t.Errorf("StillFailing = %v", d.StillFailing)
	}
	var b bytes.Buffer
	if err := d.Write(&b); err != nil || !strings.HasSuffix(b.String(), "no regressions: 0 new failures, 0 new known, 0 fixed, 0 no longer judged, 4 still failing (2 known), 0 added, 0 removed\n") {
		t.Errorf("Write = %q, %v", b.String(), err)
	}

	// Fixing everything is no regression; removing a failure neither.
	fixed := testRun()
	for i := range fixed.Specs {
		fixed.Specs[i].State = StatePassed
	}
	if d := Diff(r, fixed); d.Regressed() || len(d.Fixed) != 4 {
		t.Errorf("all fixed: %+v", d)
	}
	if d := Diff(r, &Run{}); d.Regressed() || len(d.Removed) != testCounts.total {
		t.Errorf("all removed: %+v", d)
	}
}

// TestDiffBaselineGate is the gate of a CI that compares runs: a run that
// passed against its baseline does not regress against itself, nor
// against a run with the same known deviations, nor against a run made
// without the baseline (or against another target) whose failures the
// baseline lists; a failure outside the baseline does.
func TestDiffBaselineGate(t *testing.T) {
	base, err := ParseBaseline(strings.NewReader("# lenient\np/d/1/*\n# drops it\np/d/2/b\n"))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(states map[string]string, withBaseline bool) *Run {
		r := runOf(states)
		if withBaseline {
			base.Apply(r)
		}
		return r
	}
	gated := map[string]string{"p/d/1/a": StateFailed, "p/d/1/b": StateError, "p/d/2/b": StateFailed, "p/d/3/c": StatePassed}
	run := mk(gated, true)
	if !run.OK() {
		t.Fatal("the gated run fails its gate")
	}
	same := mk(gated, true)
	reference := mk(map[string]string{"p/d/1/a": StatePassed, "p/d/1/b": StatePassed, "p/d/2/b": StatePassed, "p/d/3/c": StatePassed}, false)
	for name, tc := range map[string]struct{ old, cur *Run }{
		"itself":                    {run, run},
		"same known deviations":     {run, same},
		"the reference, then known": {reference, run},
	} {
		d := Diff(tc.old, tc.cur)
		var b bytes.Buffer
		_ = d.Write(&b)
		if d.Regressed() || strings.Contains(b.String(), "REGRESSED") {
			t.Errorf("%s: regressed:\n%s", name, b.String())
		}
	}
	worse := mk(map[string]string{"p/d/1/a": StateFailed, "p/d/1/b": StateError, "p/d/2/b": StateFailed, "p/d/3/c": StateFailed}, true)
	if d := Diff(run, worse); !d.Regressed() || !reflect.DeepEqual(d.NewFailures, []string{"p/d/3/c"}) {
		t.Errorf("a failure outside the baseline is no regression: %+v", d)
	}
}

func TestDiffNil(t *testing.T) {
	d := Diff(nil, nil)
	if d.Regressed() {
		t.Error("nil runs regressed")
	}
	d = Diff(nil, testRun())
	if !d.Regressed() || len(d.Added)+len(d.NewFailures)+len(d.NewKnown) != testCounts.total || len(d.NewFailures) != 2 || len(d.NewKnown) != 2 {
		t.Errorf("Diff(nil, run) = %+v", d)
	}
	var zero DiffResult
	if err := zero.Write(&bytes.Buffer{}); err != nil {
		t.Error(err)
	}
}
