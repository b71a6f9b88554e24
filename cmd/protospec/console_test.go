package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpHasNoArtefacts walks every command's flags: a backquoted word
// in a usage string would become pflag's value name ("--target protospec
// targets"), and -q means --quiet wherever it exists.
func TestHelpHasNoArtefacts(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			if strings.Contains(f.Usage, "`") {
				t.Errorf("%s --%s: a backquote in the usage becomes the value name: %q", c.CommandPath(), f.Name, f.Usage)
			}
			if f.Shorthand == "q" && f.Name != "quiet" {
				t.Errorf("%s: -q is --%s, not --quiet", c.CommandPath(), f.Name)
			}
			if f.Name == "quiet" && f.Value.Type() != "bool" {
				t.Errorf("%s --quiet is a %s, not a switch", c.CommandPath(), f.Value.Type())
			}
		}
		c.Flags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
}

// ansi matches an escape sequence.
var ansi = regexp.MustCompile("\x1b\\[")

// runTo runs the protospec binary with args (a run is one Ginkgo run
// per process), stdout into a pipe, not a terminal.
func runTo(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binary, args...).Output()
	return string(out), err
}

// TestRunConsolePiped: off a terminal a run prints no escape codes, no
// other protocol's specs, no Ginkgo banner, and one closing line that
// agrees with the verdict.
func TestRunConsolePiped(t *testing.T) {
	out, err := runTo(t, "run", "echo", "--focus", "daytime", "--report-dir", t.TempDir())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if ansi.MatchString(out) {
		t.Errorf("escape codes off a terminal:\n%q", out)
	}
	for _, bad := range []string{"Will run", "Ran ", "Skipped", "http1/", "dns/", "FAIL"} {
		if strings.Contains(out, bad) {
			t.Errorf("output has %q:\n%s", bad, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, " passed, 0 failed") || !strings.HasSuffix(last, "PASS against reference") {
		t.Errorf("closing line %q", last)
	}
	if n := strings.Count(out, " passed, "); n != 1 {
		t.Errorf("%d summary lines:\n%s", n, out)
	}
}

// TestRunConsoleQuiet: -q prints the closing line alone.
func TestRunConsoleQuiet(t *testing.T) {
	out, err := runTo(t, "run", "echo", "-q", "--focus", "daytime", "--report-dir", t.TempDir())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "PASS") {
		t.Errorf("-q printed:\n%s", out)
	}
}

// TestRunConsoleBaseline: failures that the baseline expects are counted
// as known and printed only with -v; the closing line says PASS, and the
// exit is 0. The same failures without the baseline fail the run, are
// printed, and the closing line says FAIL.
func TestRunConsoleBaseline(t *testing.T) {
	args := []string{"run", "echo", "--target", "mutant:drop-last-byte", "--timeout", "1s", "--focus", "daytime|echo/rfc862/tcp"}
	out, err := runTo(t, append(args, "--report-dir", t.TempDir())...)
	if err == nil {
		t.Fatalf("the mutant passed:\n%s", out)
	}
	var failing []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "FAIL" {
			failing = append(failing, strings.TrimSuffix(f[2], ":"))
		}
	}
	last := lastLine(out)
	if len(failing) == 0 || !strings.Contains(last, "FAIL against mutant:drop-last-byte") {
		t.Fatalf("no failure printed, or closing line %q:\n%s", last, out)
	}
	base := filepath.Join(t.TempDir(), "baseline.txt")
	if err := os.WriteFile(base, []byte(strings.Join(failing, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runTo(t, append(args, "--baseline", base, "--report-dir", t.TempDir())...)
	if err != nil {
		t.Fatalf("baseline-matched run: %v\n%s", err, out)
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("a baseline-matched run printed FAIL:\n%s", out)
	}
	if last := lastLine(out); !strings.Contains(last, "0 failed") || !strings.Contains(last, "known") || !strings.Contains(last, "PASS against") {
		t.Errorf("closing line %q", last)
	}
	out, _ = runTo(t, append(args, "--baseline", base, "-v", "--report-dir", t.TempDir())...)
	if !strings.Contains(out, "known ") {
		t.Errorf("-v does not show the known failures:\n%s", out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestNoColor: colour only on a terminal, never with NO_COLOR or
// --no-color.
func TestNoColor(t *testing.T) {
	var b bytes.Buffer
	if colorOn(&b) {
		t.Error("colour into a buffer")
	}
	t.Setenv("NO_COLOR", "1")
	if colorOn(os.Stdout) {
		t.Error("colour with NO_COLOR set")
	}
	if got := paint(false, ansiRed, "x"); got != "x" {
		t.Errorf("paint off: %q", got)
	}
}

// TestStatusLineOffTerminal: progress prints nothing into a pipe.
func TestStatusLineOffTerminal(t *testing.T) {
	var b bytes.Buffer
	s := newStatusLine(&b, true)
	s.Set("working", true)
	s.Clear()
	pw := newProgressWriter(&b, "fuzz ")
	pw.Write([]byte("fuzz x: 10 execs\nfinding 1\n"))
	pw.Close()
	if got := b.String(); got != "fuzz x: 10 execs\nfinding 1\n" {
		t.Errorf("off a terminal: %q", got)
	}
	if got := bar(5, 10, 10); got != "[=====     ]" {
		t.Errorf("bar %q", got)
	}
}
