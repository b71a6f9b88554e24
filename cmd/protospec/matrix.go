package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

type matrixFlags struct {
	targets    []string
	from       []string
	all        bool
	out        string
	tls        bool
	runTimeout time.Duration
	jobs       int
	quiet      bool
}

func init() { extraCommands = append(extraCommands, newMatrixCmd) }

func newMatrixCmd() *cobra.Command {
	var f matrixFlags
	cmd := &cobra.Command{
		Use:   "matrix PROTOCOL",
		Short: "Run a suite against several targets and render every result side by side",
		Long: `matrix runs PROTOCOL's suite against several targets — by default the
reference and every installed launcher that serves the protocol — and writes
one self-contained site into --out: index.html (a grid of specs by targets,
grouped by RFC section, each cell linking to the spec's transcript in that
target's report, with filters by level, document, outcome and target),
matrix.md and matrix.json, and each target's own reports under runs/.

Each run is a child process ("protospec run PROTOCOL --target T"), judged
against the launcher's builtin baseline where it ships one, so known
deviations show as known. --from adds the report directory of a run made
before (CI passes the reports it already has) instead of running it.`,
		Example: suiteExamples("matrix", func(p spec.Protocol) []string { return []string{p.Name + " --out matrix-" + p.Name} }) +
			"\n  protospec matrix PROTOCOL --target reference --target LAUNCHER --target 127.0.0.1:PORT --out DIR" +
			"\n  protospec matrix PROTOCOL --from REPORT-DIR --from REPORT-DIR --out DIR",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := protocolArg(args)
			if err != nil {
				return err
			}
			return runMatrix(cmd.OutOrStdout(), cmd.ErrOrStderr(), p.Name, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.targets, "target", "t", nil, "a target to run (repeatable): reference, a launcher name, or an address (default: the reference and every installed launcher of the protocol, unless --from is given)")
	fl.StringArrayVar(&f.from, "from", nil, "the report directory of an earlier run to include (repeatable)")
	fl.BoolVar(&f.all, "all", false, "run the reference and every installed launcher as well as --target and --from")
	fl.StringVar(&f.out, "out", "protospec-matrix", "where to write the site (index.html, matrix.md, matrix.json, runs/)")
	fl.BoolVar(&f.tls, "tls", false, "run the specs over the protocol's TLS services (a target without them shows as not run)")
	fl.DurationVar(&f.runTimeout, "run-timeout", 30*time.Minute, "deadline of each target's run")
	fl.IntVar(&f.jobs, "jobs", 2, "runs at a time")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the closing line")
	return cmd
}

// matrixTargets is the reference and every launcher that serves protocol
// and can start here; a family of variants (mutant:NAME) is left out.
func matrixTargets(protocol string, stderr io.Writer, quiet bool) []string {
	var out []string
	for _, l := range targets.Launchers() {
		if !targets.Serves(l, protocol) {
			continue
		}
		if _, variants := l.(targets.VariantLauncher); variants {
			continue
		}
		if err := l.Available(); err != nil {
			if !quiet {
				fmt.Fprintf(stderr, "matrix: leaving out %s: %v\n", l.Name(), err)
			}
			continue
		}
		out = append(out, l.Name())
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func runMatrix(stdout, stderr io.Writer, protocol string, f matrixFlags) error {
	if f.runTimeout <= 0 || f.jobs < 1 {
		return usageErr("--run-timeout and --jobs must be positive")
	}
	names := f.targets
	if f.all || (len(names) == 0 && len(f.from) == 0) {
		names = append(matrixTargets(protocol, stderr, f.quiet), names...)
	}
	var inputs []reports.MatrixRun
	for _, dir := range f.from {
		in := reports.MatrixRun{Name: filepath.Base(dir)}
		r, err := reports.ReadFile(filepath.Join(dir, reports.FileJSON))
		switch {
		case err != nil:
			in.Err = err.Error()
		case r.Protocol != protocol:
			in.Err = fmt.Sprintf("%s is a %s report, not %s", dir, r.Protocol, protocol)
		default:
			in.Run, in.Name = r, r.Target.Name
			if rel, err := relativeTo(f.out, dir); err == nil {
				in.Dir = rel
			}
		}
		inputs = append(inputs, in)
	}
	if len(names)+len(inputs) == 0 {
		return usageErr("matrix %s: no target to run and no --from report", protocol)
	}
	self, err := os.Executable()
	if err != nil {
		return usageErr("matrix: finding the protospec binary: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(f.out, "runs"), 0o755); err != nil {
		return usageErr("matrix: %v", err)
	}
	ran := make([]reports.MatrixRun, len(names))
	sem := make(chan struct{}, f.jobs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, name := range names {
		dir := fmt.Sprintf("runs/%02d-%s", i+1, strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			in := matrixChild(self, protocol, name, filepath.Join(f.out, dir), f)
			if in.Run != nil {
				in.Dir = dir
			}
			ran[i] = in
			if !f.quiet {
				mu.Lock()
				status := "ran"
				if in.Err != "" {
					status = "did not run: " + in.Err
				}
				fmt.Fprintf(stderr, "matrix: %s %s in %s\n", name, status, time.Since(start).Round(100*time.Millisecond))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	inputs = append(ran, inputs...)
	m := reports.NewMatrix(protocol, inputs)
	if err := reports.WriteMatrixSite(f.out, m); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	didNot := 0
	for _, c := range m.Columns {
		if c.Error != "" {
			didNot++
		}
	}
	fmt.Fprintf(stdout, "matrix %s: %d specs, %d targets (%d did not run), %d rows where they differ — %s\n",
		protocol, m.Rows(), len(m.Columns), didNot, m.Differing(), filepath.Join(f.out, reports.FileMatrixHTML))
	if didNot == len(m.Columns) {
		return &exitError{code: exitUsage, err: errors.New("matrix: no target ran")}
	}
	return nil
}

// matrixChild runs one target's suite in a child process (Ginkgo runs once
// per process) and reads back its report. Exit 1 (failures) is a result;
// a run without a report is a column that did not run, with the reason.
func matrixChild(self, protocol, target, dir string, f matrixFlags) reports.MatrixRun {
	in := reports.MatrixRun{Name: target}
	args := []string{"run", protocol, "--target", target, "--report-dir", dir, "--quiet", "--no-color", "--run-timeout", f.runTimeout.String()}
	if l, ok := targets.Lookup(target); ok {
		if bp, ok := l.(targets.BaselineProvider); ok {
			if _, ok := bp.Baseline(protocol); ok {
				args = append(args, "--baseline", "builtin")
			}
		}
	}
	if f.tls {
		args = append(args, "--tls")
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.runTimeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, args...)
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == exitFailures) {
		in.Err = fmt.Sprintf("%v: %s", err, childTail(outBuf.String()))
		return in
	}
	r, rerr := reports.ReadFile(filepath.Join(dir, reports.FileJSON))
	if rerr != nil {
		in.Err = rerr.Error()
		return in
	}
	in.Run = r
	return in
}

func childTail(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// relativeTo is dir as a path relative to base, for the site's links.
func relativeTo(base, dir string) (string, error) {
	ab, err := filepath.Abs(base)
	if err != nil {
		return "", err
	}
	ad, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return filepath.Rel(ab, ad)
}
