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
		"e": StatePassed, "f": StateFailed, "g": StateError, "k": StateSkipped,
	})
	cur := runOf(map[string]string{
		"a": StateFailed, "b": StatePassed, "c": StateFailed, "d": StateSkipped,
		"e": StatePassed, "g": StateFailed, "h": StateError, "i": StatePassed, "k": StateFailed,
	})
	// Known does not hide a change of behaviour.
	for i := range cur.Specs {
		if cur.Specs[i].ID == "k" {
			cur.Specs[i].Known = true
		}
	}
	d := Diff(old, cur)
	want := map[string][]string{
		"NewFailures":  {"a", "h", "k"},
		"Fixed":        {"b"},
		"NowSkipped":   {"d"},
		"StillFailing": {"c", "g"},
		"Added":        {"h", "i"},
		"Removed":      {"f"},
	}
	got := map[string][]string{
		"NewFailures": d.NewFailures, "Fixed": d.Fixed, "NowSkipped": d.NowSkipped,
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
		"new failures (3):\n  a [MUST] passed -> failed: msg for a\n  h [MUST] absent -> error: msg for h\n  k [MUST] skipped -> failed (known): msg for k\n",
		"fixed (1):\n  b [MUST] failed -> passed\n",
		"failing before, skipped now (1):\n  d [MUST] failed -> skipped\n",
		"still failing (2):\n  c [MUST] failed: msg for c\n",
		"removed (1):\n  f [MUST] was failed\n",
		"REGRESSED: 3 new failures, 1 fixed, 2 still failing, 2 added, 1 removed\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("Write output lacks %q:\n%s", s, out)
		}
	}
}

func TestDiffNoRegression(t *testing.T) {
	r := testRun()
	d := Diff(r, testRun())
	if d.Regressed() || len(d.NewFailures)+len(d.Fixed)+len(d.Added)+len(d.Removed)+len(d.NowSkipped) != 0 {
		t.Errorf("a run differs from itself: %+v", d)
	}
	if len(d.StillFailing) != testCounts.failed+testCounts.errors {
		t.Errorf("StillFailing = %v", d.StillFailing)
	}
	var b bytes.Buffer
	if err := d.Write(&b); err != nil || !strings.HasSuffix(b.String(), "no regressions: 0 new failures, 0 fixed, 4 still failing, 0 added, 0 removed\n") {
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

func TestDiffNil(t *testing.T) {
	d := Diff(nil, nil)
	if d.Regressed() {
		t.Error("nil runs regressed")
	}
	d = Diff(nil, testRun())
	if !d.Regressed() || len(d.Added) != testCounts.total || len(d.NewFailures) != 4 {
		t.Errorf("Diff(nil, run) = %+v", d)
	}
	var zero DiffResult
	if err := zero.Write(&bytes.Buffer{}); err != nil {
		t.Error(err)
	}
}
