package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protospec/protospec/reports"
)

// TestMatrixCommand: `matrix echo` runs the reference in a child process
// and takes an earlier run with --from; a --from that is no report, or a
// report of another protocol, is a column that did not run, not an abort.
func TestMatrixCommand(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	earlier := filepath.Join(tmp, "echo-mutant")
	run := exec.Command(binary, "run", "echo", "--target", "mutant:drop-last-byte", "--focus", "rfc862/tcp", "--report-dir", earlier, "-q")
	if out, err := run.CombinedOutput(); run.ProcessState == nil || run.ProcessState.ExitCode() != 1 {
		t.Fatalf("the mutant's run: %v, want exit 1:\n%s", err, out)
	}
	out := filepath.Join(tmp, "site")
	r := protospec(t, "matrix", "echo", "--target", "reference", "--from", earlier, "--from", filepath.Join(t.TempDir(), "nothing"), "--out", out, "-q")
	if r.code != 0 {
		t.Fatalf("matrix exits %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "matrix echo: 55 specs, 3 targets (1 did not run)") {
		t.Errorf("closing line: %q", r.stdout)
	}
	raw, err := os.ReadFile(filepath.Join(out, reports.FileMatrixJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name": "reference"`, `"report": "runs/01-reference/report.html"`, `"report": "../echo-mutant/report.html"`, `"status": "failed"`, `no such file`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("matrix.json lacks %q", want)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, reports.FileMatrixHTML))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `href="runs/01-reference/report.html#spec-echo/`) {
		t.Error("the page does not link the reference's transcripts")
	}
	if _, err := os.Stat(filepath.Join(out, "runs/01-reference/report.html")); err != nil {
		t.Error(err)
	}
	if r := protospec(t, "matrix", "echo", "--from", filepath.Join(t.TempDir(), "nothing"), "--out", filepath.Join(t.TempDir(), "x"), "-q"); r.code != 2 {
		t.Errorf("a matrix where nothing ran exits %d, want 2", r.code)
	}
}
