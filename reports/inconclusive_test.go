package reports

import (
	"bytes"
	"strings"
	"testing"
)

// A spec that could not be judged is neither passed nor failed, shows in
// every report, and keeps the run from passing.
func TestInconclusiveAndNotRun(t *testing.T) {
	r := &Run{Schema: SchemaVersion, Kind: KindConformance, Protocol: "p", Specs: []Spec{
		{ID: "p/d/1/a", Level: LevelMust, State: StatePassed},
		{ID: "p/d/1/b", Level: LevelMust, State: StateInconclusive, Message: "the target did not answer the probe"},
		{ID: "p/d/1/c", Level: LevelShould, State: StateNotRun, Message: "the run did not reach this spec"},
	}}
	s := r.Summarize()
	if s.Passed != 1 || s.Inconclusive != 1 || s.NotRun != 1 || s.Failed != 0 || s.ByLevel[LevelMust].Inconclusive != 1 {
		t.Errorf("summary %+v", s)
	}
	if got := len(r.Unjudged()); got != 2 {
		t.Errorf("Unjudged: %d specs, want 2", got)
	}
	var js, md, html, junit bytes.Buffer
	for _, w := range []struct {
		write func() error
		out   *bytes.Buffer
		want  string
	}{
		{func() error { return WriteJSON(&js, r) }, &js, `"inconclusive"`},
		{func() error { return WriteMarkdown(&md, r) }, &md, "inconclusive"},
		{func() error { return WriteHTML(&html, r) }, &html, "inconclusive"},
		{func() error { return WriteJUnit(&junit, r) }, &junit, "inconclusive: the target did not answer"},
	} {
		if err := w.write(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(w.out.String(), w.want) {
			t.Errorf("report does not show %q", w.want)
		}
	}
	if !strings.Contains(md.String(), "NOT JUDGED") || !strings.Contains(md.String(), "not run") {
		t.Errorf("markdown verdict:\n%s", md.String()[:200])
	}
	if _, err := ReadJSON(bytes.NewReader(js.Bytes())); err != nil {
		t.Errorf("reading the JSON back: %v", err)
	}
}
