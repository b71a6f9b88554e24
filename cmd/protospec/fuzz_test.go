package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFuzzDifferentialMutant fuzzes the reference against a mutant of it
// that turns every 200 into 404: the difference is one finding (one class,
// however many inputs hit it), listed once, which the built-in benign sets
// do not hide, and whose transcript says which target each half is from.
func TestFuzzDifferentialMutant(t *testing.T) {
	out, rep := t.TempDir(), t.TempDir()
	const mutant = "mutant:status-200-to-404"
	got, err := rootCmd(t, "fuzz", "http1", "--target", "reference", "--target", mutant, "--benign", "builtin",
		"--execs", "300", "--out", out, "--report-dir", rep, "--no-progress")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitFailures {
		t.Fatalf("fuzz against a mutant: %v, want exit %d\n%s", err, exitFailures, got)
	}
	ids := regexp.MustCompile(`(?m)^  (fuzz/http1/\w+/\d+) `).FindAllStringSubmatch(got, -1)
	seen := map[string]bool{}
	for _, m := range ids {
		if seen[m[1]] {
			t.Errorf("%s listed twice:\n%s", m[1], got)
		}
		seen[m[1]] = true
	}
	classLine := regexp.MustCompile(`(?m)^  (fuzz/http1/differential/(\d+)) \(.*(\d+) inputs\): class: reference gave 2xx, ` + regexp.QuoteMeta(mutant) + ` gave 4xx`)
	m := classLine.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no 2xx/4xx finding with its count of inputs:\n%s", got)
	}
	if n := strings.Count(got, "class: reference gave 2xx, "+mutant+" gave 4xx"); n != 1 {
		t.Errorf("the 2xx/4xx class is listed %d times:\n%s", n, got)
	}
	if !strings.Contains(got, "benign rules: ") || !strings.Contains(got, "from rfc") {
		t.Errorf("the summary does not say which benign rules were used:\n%s", got)
	}
	tr, err := os.ReadFile(filepath.Join(out, "finding-"+m[2], "transcript.txt"))
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(string(tr), "== reference =="), strings.Index(string(tr), "== "+mutant+" ==")
	if i < 0 || j < i {
		t.Errorf("transcript.txt not labelled by target:\n%s", tr)
	}
}

// TestFuzzBenignValues checks that an unknown --benign value is a usage
// error that lists the built-in sets, and a set's name is taken as such.
func TestFuzzBenignValues(t *testing.T) {
	var ee *exitError
	got, err := rootCmd(t, "fuzz", "http1", "--benign", "nope", "--execs", "1", "--no-progress",
		"--out", t.TempDir(), "--report-dir", t.TempDir())
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "builtin, apache2, nginx, rfc") {
		t.Errorf("--benign nope: %v\n%s", err, got)
	}
	got, err = rootCmd(t, "fuzz", "http1", "--benign", "nginx", "--execs", "20", "--no-progress",
		"--out", t.TempDir(), "--report-dir", t.TempDir())
	if err != nil || !strings.Contains(got, "benign rules: ") || !strings.Contains(got, "from nginx") {
		t.Errorf("--benign nginx: %v\n%s", err, got)
	}
}
