package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protospec/protospec/reports"
)

func reportCmd(args ...string) (string, int) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"report"}, args...))
	err := root.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return out.String(), exitOK
	case errors.As(err, &ee):
		return out.String() + ee.Error(), ee.code
	}
	return out.String() + err.Error(), exitUsage
}

// launcherRun is a run against a launcher whose failures are exactly the
// deviations its builtin baseline lists, judged against it when base is
// set, as `run --baseline builtin` leaves it.
func launcherRun(t *testing.T, launcher, protocol string, base bool) *reports.Run {
	t.Helper()
	b, err := builtinBaseline(launcher, protocol)
	if err != nil {
		t.Skipf("no builtin baseline: %v", err)
	}
	r := &reports.Run{Schema: reports.SchemaVersion, Kind: reports.KindConformance, Protocol: protocol,
		Target: reports.Target{Name: launcher, Kind: "launcher"}}
	for i, e := range b.Entries {
		id := e.Pattern
		if prefix, ok := strings.CutSuffix(id, "*"); ok {
			id = prefix + "x"
		}
		r.Specs = append(r.Specs, reports.Spec{ID: id, Level: reports.LevelMust, State: reports.StateFailed, Message: "deviation"})
		if i == 0 {
			r.Specs = append(r.Specs, reports.Spec{ID: protocol + "/rfc1/1/passes", Level: reports.LevelMust, State: reports.StatePassed})
		}
	}
	if base {
		b.Apply(r)
		if !r.OK() {
			t.Fatal("the run does not pass its gate")
		}
	}
	return r
}

func writeRun(t *testing.T, r *reports.Run) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := reports.WriteJSON(f, r); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReportDiffBaseline is the acceptance of `report diff`: a run that
// passed its baseline gate exits 0 against itself and against a run with
// the same known deviations; each ID is printed once; a new failure
// outside the baseline exits 1.
func TestReportDiffBaseline(t *testing.T) {
	run := writeRun(t, launcherRun(t, "xinetd", "echo", true))
	same := writeRun(t, launcherRun(t, "xinetd", "echo", true))
	for name, pair := range map[string][2]string{"itself": {run, run}, "same known deviations": {run, same}} {
		out, code := reportCmd("diff", pair[0], pair[1])
		if code != exitOK || strings.Contains(out, "REGRESSED") || !strings.Contains(out, "no regressions: 0 new failures") {
			t.Errorf("%s: exit %d\n%s", name, code, out)
		}
	}

	// A run made without the baseline, diffed against one of the
	// reference that passed everything: its failures are new, unless the
	// diff is given the baseline.
	ref := launcherRun(t, "xinetd", "echo", false)
	for i := range ref.Specs {
		ref.Specs[i].State = reports.StatePassed
	}
	ref.Target = reports.Target{Name: "reference", Kind: "reference"}
	refPath, bare := writeRun(t, ref), writeRun(t, launcherRun(t, "xinetd", "echo", false))
	if out, code := reportCmd("diff", refPath, bare); code != exitFailures || !strings.Contains(out, "REGRESSED") {
		t.Errorf("new failures without a baseline: exit %d\n%s", code, out)
	}
	out, code := reportCmd("diff", refPath, bare, "--baseline", "builtin")
	if code != exitOK || !strings.Contains(out, "new known deviations") {
		t.Errorf("--baseline builtin: exit %d\n%s", code, out)
	}
	for _, sp := range launcherRun(t, "xinetd", "echo", false).Specs {
		if n := strings.Count(out, "  "+sp.ID+" "); sp.State == reports.StateFailed && n != 1 {
			t.Errorf("%s printed %d times:\n%s", sp.ID, n, out)
		}
	}

	worse := launcherRun(t, "xinetd", "echo", true)
	worse.Specs = append(worse.Specs, reports.Spec{ID: "echo/rfc862/tcp/brand-new", Level: reports.LevelMust, State: reports.StateFailed, Message: "broke"})
	if out, code := reportCmd("diff", run, writeRun(t, worse)); code != exitFailures || !strings.Contains(out, "new failures (1):\n  echo/rfc862/tcp/brand-new") {
		t.Errorf("a new failure: exit %d\n%s", code, out)
	}
	if _, code := reportCmd("diff", run, filepath.Join(t.TempDir(), "missing.json")); code != exitUsage {
		t.Errorf("a missing report: exit %d, want %d", code, exitUsage)
	}
	if out, code := reportCmd("diff", refPath, refPath, "--baseline", "builtin"); code != exitUsage {
		t.Errorf("--baseline builtin for a reference run: exit %d\n%s", code, out)
	}
}

// TestReportRender renders a report.json in every format: the known
// deviations carry the baseline's reason, the JUnit names the target.
func TestReportRender(t *testing.T) {
	path := writeRun(t, launcherRun(t, "xinetd", "echo", true))
	out, code := reportCmd("render", path, "--format", "markdown")
	if code != exitOK || !strings.Contains(out, "**Known deviation** (baseline entry") || !strings.Contains(out, "## Since the baseline") {
		t.Errorf("markdown: exit %d\n%s", code, out)
	}
	junit := filepath.Join(t.TempDir(), "junit.xml")
	if _, code := reportCmd("render", path, "--format", "junit", "-o", junit); code != exitOK {
		t.Fatalf("junit: exit %d", code)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Name string `xml:"name,attr"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Name != "echo against xinetd" {
		t.Errorf("junit root %q, %v", doc.Name, err)
	}
	for _, f := range []string{"json", "html", "md"} {
		if _, code := reportCmd("render", path, "--format", f); code != exitOK {
			t.Errorf("--format %s: exit %d", f, code)
		}
	}
	if out, code := reportCmd("render", path, "--format", "pdf"); code != exitUsage || !strings.Contains(out, "unknown format") {
		t.Errorf("--format pdf: exit %d\n%s", code, out)
	}
}
