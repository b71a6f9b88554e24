package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protospec/protospec/internal/stress"
	"github.com/protospec/protospec/reports"
)

func stressCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"stress"}, args...))
	err := root.Execute()
	return out.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if err == nil {
		return exitOK
	}
	if errors.As(err, &ee) {
		return ee.code
	}
	return -1
}

// TestStressCommand runs one attack of the first battery against its
// reference for a second and reads the reports back: one spec, the
// attack's figures and the legitimate client's beside it.
func TestStressCommand(t *testing.T) {
	name := stress.Names()[0]
	bat, _ := stress.Lookup(name)
	var attack string
	for _, a := range bat.Attacks {
		if a.Name() != "connection-flood" {
			attack = a.Name()
			break
		}
	}
	dir := t.TempDir()
	out, err := stressCmd(t, name, "-q", "--attack", attack, "--duration-per-attack", "1s", "--report-dir", dir)
	if code := exitCode(err); code != exitOK && code != exitFailures {
		t.Fatalf("stress %s --attack %s: exit %d (%v)\n%s", name, attack, code, err, out)
	}
	run, err := reports.ReadFile(filepath.Join(dir, reports.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != reports.KindStress || len(run.Specs) != 1 || run.Specs[0].ID != name+"/stress/"+attack {
		t.Fatalf("report kind %q, specs %+v", run.Kind, run.Specs)
	}
	f := run.Specs[0].Figures
	if f["probes"] < 1 || f["connections_opened"] < 1 {
		t.Errorf("figures %v: want probes made and connections opened", f)
	}
	if !strings.Contains(out, attack) || !strings.Contains(out, "passed") {
		t.Errorf("output lacks the attack's line or the closing count:\n%s", out)
	}
}

// TestStressRefusals: a non-loopback address, an unknown attack and an
// unknown protocol cannot run (exit 2), before anything is attacked.
func TestStressRefusals(t *testing.T) {
	name := stress.Names()[0]
	for _, args := range [][]string{
		{name, "--target", "192.0.2.1:7", "--duration-per-attack", "1s"},
		{name, "--attack", "no-such-attack"},
		{"no-such-protocol"},
		{name, "--min-success", "2"},
	} {
		out, err := stressCmd(t, args...)
		if code := exitCode(err); code != exitUsage {
			t.Errorf("stress %v: exit %d (%v), want %d\n%s", args, code, err, exitUsage, out)
		}
	}
}
