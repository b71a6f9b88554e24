package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// matrixRuns: the same three specs against a reference that passes them,
// a server with one failure, one known deviation and one unsupported MAY,
// and a target that did not run.
func matrixRuns() []MatrixRun {
	spec := func(id, sec, level, state string) Spec {
		return Spec{ID: id, Protocol: "echo", Doc: "rfc862", Section: sec, Level: level, Title: "title of " + id, Sentence: "The server MUST echo.", State: state}
	}
	ref := &Run{Protocol: "echo", Target: Target{Name: "reference", Kind: "reference"}, Specs: []Spec{
		spec("echo/rfc862/tcp/a", "tcp", LevelMust, StatePassed),
		spec("echo/rfc862/tcp/b", "tcp", LevelShould, StatePassed),
		spec("echo/rfc862/udp/c", "udp", LevelMay, StateSupported),
	}}
	srv := &Run{Protocol: "echo", Target: Target{Name: "xinetd", Kind: "launcher", Version: "2.3.15"}, Baseline: "builtin:xinetd", Specs: []Spec{
		spec("echo/rfc862/tcp/a", "tcp", LevelMust, StateFailed),
		spec("echo/rfc862/tcp/b", "tcp", LevelShould, StateFailed),
		spec("echo/rfc862/udp/c", "udp", LevelMay, StateUnsupported),
		spec("echo/rfc862/udp/d<script>", "udp", LevelMust, StateSkipped),
	}}
	srv.Specs[0].Message = "no echo\nsecond line"
	srv.Specs[1].Known, srv.Specs[1].KnownBy, srv.Specs[1].KnownReason = true, "echo/rfc862/tcp/b", "xinetd closes early"
	srv.Specs[3].Message = "no <UDP> endpoint"
	return []MatrixRun{
		{Name: "reference", Dir: "runs/01-reference", Run: ref},
		{Name: "xinetd", Dir: "runs/02-xinetd", Run: srv},
		{Name: "dead<b>", Err: "exit status 2: liveness preflight"},
	}
}

func TestMatrixGrid(t *testing.T) {
	m := NewMatrix("", matrixRuns())
	if m.Protocol != "echo" || len(m.Columns) != 3 || m.Rows() != 4 {
		t.Fatalf("protocol %q, %d columns, %d rows", m.Protocol, len(m.Columns), m.Rows())
	}
	if got := []string{m.Sections[0].Name, m.Sections[1].Name}; got[0] != "rfc862 tcp" || got[1] != "rfc862 udp" {
		t.Errorf("sections %q", got)
	}
	a := m.Sections[0].Rows[0]
	if a.Cells[0].Status != StatePassed || a.Cells[1].Status != StateFailed || a.Cells[2].Status != StatusAbsent || !a.Differs {
		t.Errorf("row a: %+v", a)
	}
	if a.Cells[1].Link != "runs/02-xinetd/report.html#spec-echo/rfc862/tcp/a" || a.Cells[1].Why != "no echo" {
		t.Errorf("cell link %q, why %q", a.Cells[1].Link, a.Cells[1].Why)
	}
	if b := m.Sections[0].Rows[1].Cells[1]; b.Status != StatusKnown || b.Why != "xinetd closes early" {
		t.Errorf("known cell %+v", b)
	}
	// d ran on one target only: nothing to differ from.
	if d := m.Sections[1].Rows[1]; d.Differs || d.Cells[0].Status != StatusAbsent {
		t.Errorf("row d: %+v", d)
	}
	if m.Differing() != 3 {
		t.Errorf("%d differing rows, want 3", m.Differing())
	}
	x := m.Columns[1]
	if x.Failed != 1 || x.Summary.Known != 1 || x.Version != "2.3.15" || x.Report != "runs/02-xinetd/report.html" || x.OK {
		t.Errorf("xinetd column %+v", x)
	}
	if !m.Columns[0].OK || m.Columns[2].Error == "" {
		t.Errorf("columns %+v", m.Columns)
	}
}

func TestMatrixHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMatrixHTML(&b, NewMatrix("echo", matrixRuns())); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<title>protospec echo matrix: 4 specs, 3 targets</title>",
		`<a href="runs/02-xinetd/report.html#spec-echo/rfc862/tcp/a">FAIL</a>`,
		`title="xinetd closes early"`,
		`did not run: exit status 2: liveness preflight`,
		`dead&lt;b&gt;`,
		`<code>echo/rfc862/udp/d&lt;script&gt;</code>`,
		`<input type="checkbox" name="level" value="MAY" checked>`,
		`<option value="rfc862">rfc862</option>`,
		`<span id="shown" class="muted">4 rows shown</span>`,
		`<tr class="row differs" data-level="MUST"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>\"", "<b>", "http://", "src=\""} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	// The spec name with "<script>" never reaches a link unescaped: its
	// anchor has the character replaced.
	if !strings.Contains(page, "#spec-echo/rfc862/udp/d_script_") {
		t.Error("the hostile spec ID's anchor is not sanitised")
	}
}

func TestMatrixHostileLinks(t *testing.T) {
	runs := matrixRuns()
	runs[1].Dir = "https://evil.example/x"
	var b bytes.Buffer
	if err := WriteMatrixHTML(&b, NewMatrix("echo", runs)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "evil.example") {
		t.Error("a report directory that is not relative is linked")
	}
}

func TestMatrixSite(t *testing.T) {
	dir := t.TempDir()
	m := NewMatrix("echo", matrixRuns())
	if err := WriteMatrixSite(dir, m); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileMatrixJSON))
	if err != nil {
		t.Fatal(err)
	}
	var back Matrix
	if err := json.Unmarshal(raw, &back); err != nil || back.Rows() != 4 || len(back.Columns) != 3 {
		t.Fatalf("matrix.json: %v, %d rows", err, back.Rows())
	}
	md, err := os.ReadFile(filepath.Join(dir, FileMatrixMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 specs, 3 targets, 3 rows where the targets differ", "| xinetd | 2.3.15 | 0 | 1 | 1 | 1 | 0 | 0/1 |", "| `echo/rfc862/tcp/b` | SHOULD | passed | known | |", "did not run: exit status 2"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("matrix.md lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, FileMatrixHTML)); err != nil {
		t.Error(err)
	}
}

func TestSpecAnchor(t *testing.T) {
	for in, want := range map[string]string{
		"http1/rfc9112/9.3/persistent": "spec-http1/rfc9112/9.3/persistent",
		`a"b <c>`:                      "spec-a_b__c_",
	} {
		if got := SpecAnchor(in); got != want {
			t.Errorf("SpecAnchor(%q) = %q, want %q", in, got, want)
		}
	}
}
