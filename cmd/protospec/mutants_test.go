package main

// Mutant meta-tests: every suite can fail. For each protocol the suite runs
// once against the reference, once against the mutant "none" (the proxy
// alone, which must change no verdict), and once against each of the
// protocol's mutants, each of which must fail the specs it names
// (targets/mutant).

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets/mutant"
)

// mutantRuns is how many protospec runs the meta-tests keep going at once:
// the runs mostly wait on deadlines, not on the CPU.
const mutantRuns = 10

// mutantRun is one run of the suite for the mutant meta-tests.
type mutantRun struct {
	proto, target string
	args          []string
	res           result
	err           error
}

// runDetached runs protospec with args (a run, writing its report to a
// fresh directory under dir) without a *testing.T, so that many can run
// at once from one test.
func runDetached(dir string, args ...string) (result, error) {
	rep, err := os.MkdirTemp(dir, "report-")
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(binary, append(append([]string{}, args...), "--report-dir", rep, "--quiet")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		return result{}, fmt.Errorf("protospec %s did not end within 3 minutes", strings.Join(args, " "))
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		return r, err
	}
	if strings.Contains(r.stdout+r.stderr, "panic:") || strings.Contains(r.stdout+r.stderr, "goroutine ") {
		return r, fmt.Errorf("protospec %s panicked:\n%s\n%s", strings.Join(args, " "), r.stdout, r.stderr)
	}
	if run, err := reports.ReadFile(filepath.Join(rep, "report.json")); err == nil {
		r.run = run
	}
	return r, nil
}

func states(run *reports.Run) map[string]string {
	m := map[string]string{}
	for _, s := range run.Specs {
		m[s.ID] = s.State
	}
	return m
}

func TestMutants(t *testing.T) {
	protos := mutant.Protocols()
	if len(protos) < 3 {
		t.Fatalf("mutants registered for %v only", protos)
	}
	var runs []*mutantRun
	for _, p := range protos {
		runs = append(runs, &mutantRun{proto: p, target: "reference"})
		for _, m := range mutant.Mutants(p) {
			r := &mutantRun{proto: p, target: "mutant:" + m.Name}
			if m.Name != mutant.None {
				// A mutant's broken answers make specs wait out their
				// deadline: a short one keeps the runs short.
				r.args = append(r.args, "--timeout", "1s")
				if m.Filter != "" {
					r.args = append(r.args, "--label-filter", m.Filter)
				}
			}
			runs = append(runs, r)
		}
	}
	dir := t.TempDir()
	start := time.Now()
	var wg sync.WaitGroup
	slots := make(chan struct{}, mutantRuns)
	for _, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			r.res, r.err = runDetached(dir, append([]string{"run", r.proto, "--target", r.target}, r.args...)...)
		}()
	}
	wg.Wait()
	t.Logf("%d runs in %v", len(runs), time.Since(start).Round(time.Millisecond))

	ref := map[string]*mutantRun{}
	for _, r := range runs {
		if r.target == "reference" {
			ref[r.proto] = r
		}
	}
	for _, r := range runs {
		if r.target == "reference" {
			continue
		}
		name := strings.TrimPrefix(r.target, "mutant:")
		t.Run(r.proto+"/"+name, func(t *testing.T) {
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.res.run == nil {
				t.Fatalf("no report: exit %d\n%s%s", r.res.code, r.res.stdout, r.res.stderr)
			}
			t.Logf("%s: %d specs in %v", r.target, len(r.res.run.Specs), r.res.took.Round(time.Millisecond))
			if name == mutant.None {
				checkTransparent(t, ref[r.proto], r)
				return
			}
			if r.res.code != 1 {
				t.Errorf("exit %d, want 1 (failures)\n%s", r.res.code, r.res.stdout)
			}
			m, _ := mutant.Lookup(r.proto, name)
			got := states(r.res.run)
			for _, id := range m.Kills {
				if got[id] != reports.StateFailed {
					t.Errorf("%s: %q, want failed against %s", id, got[id], r.target)
				}
			}
			for _, s := range r.res.run.Specs {
				if s.State == reports.StateError {
					t.Errorf("%s: the suite broke against %s: %s", s.ID, r.target, s.Message)
				}
			}
		})
	}
}

// checkTransparent checks that the proxy alone changes no verdict of the
// reference's run.
func checkTransparent(t *testing.T, ref, none *mutantRun) {
	t.Helper()
	if ref == nil || ref.err != nil || ref.res.run == nil {
		t.Fatalf("no reference run to compare with: %v", ref)
	}
	want, got := states(ref.res.run), states(none.res.run)
	if len(want) != len(got) {
		t.Errorf("%d specs through the proxy, %d against the reference", len(got), len(want))
	}
	var differ []string
	for id, st := range want {
		if got[id] != st {
			differ = append(differ, id)
		}
	}
	if len(differ) == 0 {
		if none.res.code != ref.res.code {
			t.Errorf("exit %d through the proxy, %d against the reference\n%s", none.res.code, ref.res.code, none.res.stdout)
		}
		return
	}
	// Ten runs share two cores: a spec whose verdict rests on timing may
	// come out otherwise once. The differing specs run again, alone, on
	// both targets; only a difference that stays is the proxy's.
	sort.Strings(differ)
	focus := make([]string, len(differ))
	for i, id := range differ {
		focus[i] = `(^|\s)` + regexp.QuoteMeta(id) + `\s`
	}
	again := func(target string) map[string]string {
		res, err := runDetached(t.TempDir(), "run", none.proto, "--target", target, "--focus", strings.Join(focus, "|"))
		if err != nil || res.run == nil {
			t.Fatalf("running %v again against %s: %v (exit %d)\n%s", differ, target, err, res.code, res.stderr)
		}
		return states(res.run)
	}
	want, got = again(ref.target), again(none.target)
	for _, id := range differ {
		if got[id] != want[id] {
			t.Errorf("%s: %q through the proxy, %q against the reference (twice)", id, got[id], want[id])
		}
	}
}

// TestMutantsDocumented checks that targets/mutant/README.md has the row
// of every mutant, as mutantRow writes it.
func TestMutantsDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "targets", "mutant", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range mutant.Protocols() {
		for _, m := range mutant.Mutants(p) {
			if row := mutantRow(p, m); !bytes.Contains(readme, []byte(row+"\n")) {
				t.Errorf("targets/mutant/README.md lacks the row of %s mutant %s:\n%s", p, m.Name, row)
			}
		}
	}
}

// mutantRow is a mutant's row in the README's table.
func mutantRow(proto string, m mutant.Mutant) string {
	kills := make([]string, len(m.Kills))
	for i, id := range m.Kills {
		kills[i] = "`" + id + "`"
	}
	if m.Name == mutant.None {
		kills = []string{"none: passes what the reference passes"}
	}
	subset := "the whole suite"
	if m.Filter != "" {
		subset = "`" + strings.ReplaceAll(m.Filter, "|", `\|`) + "`" // a pipe ends a table cell
	}
	return fmt.Sprintf("| %s | `mutant:%s` | %s | %s | %s |", proto, m.Name, m.Doc, strings.Join(kills, "<br>"), subset)
}

func TestMutantUnknown(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"mutant:nosuch", "mutant"} {
		r := protospec(t, "run", "http1", "--target", target)
		if r.code != 2 || !strings.Contains(r.stderr, "drop-content-length") {
			t.Errorf("--target %s: exit %d, want 2 and the mutants' names:\n%s", target, r.code, r.stderr)
		}
	}
}
