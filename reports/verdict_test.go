package reports

import (
	"bytes"
	"strings"
	"testing"
)

// mayRun has one MUST that passed, one SHOULD that failed and one MAY the
// target does not support.
func mayRun() *Run {
	return &Run{Schema: SchemaVersion, Kind: KindConformance, Protocol: "echo", Specs: []Spec{
		{ID: "echo/rfc862/tcp/a", Doc: "rfc862", Section: "tcp", Level: LevelMust, State: StatePassed},
		{ID: "echo/rfc862/tcp/b", Doc: "rfc862", Section: "tcp", Level: LevelShould, State: StateFailed, Message: "expected: x\n  actual: y"},
		{ID: "echo/rfc862/tcp/c", Doc: "rfc862", Section: "tcp", Level: LevelMay, State: StateUnsupported, Sentence: "it MAY do c", Message: "no c"},
		{ID: "echo/rfc862/tcp/d", Doc: "rfc862", Section: "tcp", Level: LevelMay, State: StateSupported},
	}}
}

func TestFailOnLevels(t *testing.T) {
	r := mayRun()
	for _, tc := range []struct {
		levels []string
		ok     bool
	}{
		{nil, false}, // default: must, should, fixture
		{[]string{"must"}, true},
		{[]string{"MUST", "should"}, false},
		{[]string{"must", "may"}, false},
		{[]string{"may"}, false},
	} {
		r.FailOn = tc.levels
		if got := r.OK(); got != tc.ok {
			t.Errorf("FailOn %v: OK() = %v, want %v", tc.levels, got, tc.ok)
		}
	}
	r.Specs[1].State = StatePassed
	r.FailOn = nil
	if !r.OK() {
		t.Error("a MAY that is not supported failed a run at the default levels")
	}
	r.FailOn = []string{"must", "should", "may"}
	if r.OK() || len(r.Unexpected()) != 1 {
		t.Errorf("--fail-on may: OK() = %v, unexpected %d, want false and 1", r.OK(), len(r.Unexpected()))
	}
	r.Specs[2].Known = true
	if !r.OK() {
		t.Error("a baseline-listed unsupported MAY failed the run")
	}
}

func TestMayInReports(t *testing.T) {
	r := mayRun()
	r.Specs[1].State = StatePassed
	s := r.Summarize()
	if s.Supported != 1 || s.Unsupported != 1 || s.Failed != 0 {
		t.Errorf("summary %+v: want 1 supported, 1 not supported, 0 failed", s)
	}
	var md, ju, ht bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**PASS**", "➖ not supported", "☑️ supported", "| MAY | 1 supported | 1 not supported | 0 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if err := WriteJUnit(&ju, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ju.String(), "<failure") || !strings.Contains(ju.String(), "not supported (MAY)") || !strings.Contains(ju.String(), "it MAY do c") {
		t.Errorf("junit shows a MAY as a failure, or lacks its verdict and sentence:\n%s", ju.String())
	}
	if err := WriteHTML(&ht, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`badge not-supported`, `>not supported<`, "it MAY do c"} {
		if !strings.Contains(ht.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"sentence": "it MAY do c"`) || !strings.Contains(js.String(), `"state": "not supported"`) {
		t.Errorf("json lacks the sentence or the MAY state:\n%s", js.String())
	}
}

// JUnit agrees with the exit code: a failure at a level --fail-on leaves
// out is no <failure>, and --fail-on may makes a MAY not supported one.
func TestJUnitFollowsFailOn(t *testing.T) {
	r := mayRun()
	r.FailOn = []string{"MUST"}
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<failure") || !strings.Contains(b.String(), "does not fail on (SHOULD)") {
		t.Errorf("--fail-on must: a SHOULD failure is a JUnit failure:\n%s", b.String())
	}
	r.FailOn = []string{"MUST", "SHOULD", "MAY"}
	b.Reset()
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "<failure"); n != 2 {
		t.Errorf("--fail-on must,should,may: %d failures, want 2 (the SHOULD and the MAY not supported):\n%s", n, b.String())
	}
}
