package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

// failT is the GinkgoTestingT of the binary: Ginkgo calls Fail when a spec
// failed; the result model, not this flag, decides the exit code.
type failT struct{ failed bool }

func (f *failT) Fail() { f.failed = true }

func protocolArg(args []string) (spec.Protocol, error) {
	p, ok := spec.LookupProtocol(args[0])
	if !ok {
		var names []string
		for _, p := range spec.Protocols() {
			names = append(names, p.Name)
		}
		return spec.Protocol{}, usageErr("unknown protocol %q (known: %s)", args[0], strings.Join(names, ", "))
	}
	return p, nil
}

type runFlags struct {
	target      string
	labelFilter string
	focus       []string
	reportDir   string
	baseline    string
	step        time.Duration
	timeout     time.Duration
	verbose     bool
	quiet       bool
	workDir     string
	pcapDir     string
	failOn      []string
	features    []string
	tls         tlsFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:     "run PROTOCOL",
		Short:   "Run a protocol's conformance suite against a target and write reports",
		Example: suiteExamples("run", func(p spec.Protocol) []string { return p.Examples }),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := protocolArg(args)
			if err != nil {
				return err
			}
			return runSuite(cmd.OutOrStdout(), p.Name, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.target, "target", "t", "reference", "reference, a launcher name (see protospec targets), or an address")
	fl.StringVar(&f.labelFilter, "label-filter", "", "run only specs matching this Ginkgo label filter, e.g. 'rfc862 && must'")
	fl.StringSliceVar(&f.focus, "focus", nil, "run only specs whose ID or title matches this regular expression (repeatable)")
	fl.StringVar(&f.reportDir, "report-dir", "protospec-report", "where to write report.json, junit.xml, report.md and report.html")
	fl.StringVar(&f.baseline, "baseline", "", "file of known deviations (one spec ID per line), or 'builtin' for the launcher's own")
	fl.DurationVar(&f.step, "timeout", spec.DefaultStepTimeout, "deadline of each network step (connect, send, wait for a reply)")
	fl.DurationVar(&f.timeout, "run-timeout", 30*time.Minute, "deadline of the whole run")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print every spec as it runs")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary")
	fl.StringVar(&f.pcapDir, "pcap-dir", "", "write each spec's traffic as <DIR>/<spec ID>.pcapng and link it from the report")
	fl.StringArrayVar(&f.features, "feature", nil, "an optional feature the server at --target offers (repeatable; without it their specs are skipped): "+strings.Join(optionalFeatures(), ", "))
	fl.StringSliceVar(&f.failOn, "fail-on", []string{"must", "should", "fixture"}, "requirement levels whose failures fail the run: must, should, may (a MAY the target does not support), fixture (protospec's fixture contract)")
	fl.StringVar(&f.workDir, "work-dir", "", "where a launcher writes its config and logs (default: a temporary directory, removed afterwards)")
	f.tls.add(cmd)
	return cmd
}

func runSuite(out io.Writer, protocol string, f runFlags) error {
	if f.step <= 0 || f.timeout <= 0 {
		return usageErr("--timeout and --run-timeout must be positive")
	}
	var base *reports.Baseline
	if f.baseline != "" && f.baseline != "builtin" {
		b, err := reports.LoadBaseline(f.baseline)
		if err != nil {
			return usageErr("%v", err)
		}
		base = b
	}
	if f.baseline == "builtin" {
		b, err := builtinBaseline(f.target, protocol)
		if err != nil {
			return err
		}
		base = b
	}
	if err := f.tls.check(protocol); err != nil {
		return err
	}
	fx, err := tlsfixture.New()
	if err != nil {
		return usageErr("the run's TLS fixture: %v", err)
	}
	tlsConfig, err := f.tls.config(fx)
	if err != nil {
		return err
	}
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return err
	}
	if f.labelFilter != "" {
		if _, err := spec.ParseLabelFilter(f.labelFilter); err != nil {
			return usageErr("%v", err)
		}
	}
	if err := os.MkdirAll(f.reportDir, 0o755); err != nil {
		return usageErr("report directory: %v", err)
	}
	if f.pcapDir != "" {
		if err := os.MkdirAll(f.pcapDir, 0o755); err != nil {
			return usageErr("pcap directory: %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	params, teardown, err := spec.Prepare(ctx, protocol)
	defer teardown()
	if err != nil {
		cancel()
		return usageErr("preparing the %s suite: %v", protocol, err)
	}
	target, err := targets.Open(ctx, f.target, targets.Options{Protocol: protocol, WorkDir: f.workDir, Params: params, TLS: fx, Features: f.features})
	cancel()
	if err != nil {
		return usageErr("target %s: %v", f.target, strings.TrimPrefix(err.Error(), "targets: "))
	}
	defer target.Close()
	if err := f.tls.checkTarget(protocol, target); err != nil {
		return err
	}

	cfg := spec.Config{Target: target, StepTimeout: f.step, PcapDir: f.pcapDir, TLS: tlsConfig, OverTLS: f.tls.over}
	// A dead target would pass every spec that accepts a refusal.
	pctx, pcancel := context.WithTimeout(context.Background(), time.Minute)
	err = spec.Preflight(pctx, protocol, cfg)
	pcancel()
	if err != nil {
		return usageErr("liveness preflight: %v", err)
	}
	var run *reports.Run
	execute := func(con io.Writer) error {
		live := newLiveConsole(con, f.verbose, f.quiet)
		var err error
		run, err = spec.Execute(&failT{}, spec.RunOptions{
			Protocol:    protocol,
			Config:      cfg,
			LabelFilter: f.labelFilter,
			Focus:       f.focus,
			Timeout:     f.timeout,
			Quiet:       true,
			OnStart:     live.start,
			OnSpec:      live.spec,
		})
		live.done()
		return err
	}
	// Ginkgo's own console (its banner counts the other protocols'
	// specs, its failure texts ignore the baseline) stays off stdout:
	// protospec prints the run's progress and verdict itself.
	err = silenceStdout(out, execute)
	if err != nil {
		return usageErr("%v", err)
	}
	if len(run.Specs) == 0 {
		return usageErr("no %s spec matches the filters given (see protospec list %s)", protocol, protocol)
	}
	run.FailOn = failOn
	if base != nil {
		base.Apply(run)
	}
	relativeAttachments(run, f.reportDir)
	if err := reports.WriteAll(f.reportDir, run); err != nil {
		return usageErr("writing reports: %v", err)
	}
	printSummary(out, run, base, f.reportDir, f.verbose, f.quiet)
	if !run.OK() {
		return errFailures
	}
	if n := len(run.Unjudged()); n > 0 {
		return usageErr("%d specs could not be judged (inconclusive or not run): see %s", n, filepath.Join(f.reportDir, "report.md"))
	}
	return nil
}

// parseFailOn checks the levels of --fail-on and returns them in upper
// case, as the result model writes levels.
func parseFailOn(levels []string) ([]string, error) {
	var out []string
	for _, l := range levels {
		lvl := spec.Level(strings.ToUpper(strings.TrimSpace(l)))
		if !slices.Contains(spec.Levels, lvl) {
			return nil, usageErr("--fail-on: unknown level %q (levels: must, should, may, fixture)", l)
		}
		out = append(out, string(lvl))
	}
	return out, nil
}

// relativeAttachments makes the attachments' paths relative to the
// report directory, so the report links them wherever it is moved with
// them.
func relativeAttachments(run *reports.Run, dir string) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	for i := range run.Specs {
		for j, a := range run.Specs[i].Attachments {
			abs, err := filepath.Abs(a.Path)
			if err != nil {
				continue
			}
			if rel, err := filepath.Rel(absDir, abs); err == nil {
				run.Specs[i].Attachments[j].Path = filepath.ToSlash(rel)
			}
		}
	}
}

func builtinBaseline(target, protocol string) (*reports.Baseline, error) {
	l, ok := targets.Lookup(target)
	if !ok {
		return nil, usageErr("--baseline builtin needs a launcher target, not %q", target)
	}
	bp, ok := l.(targets.BaselineProvider)
	if !ok {
		return nil, usageErr("launcher %s ships no baseline", target)
	}
	text, ok := bp.Baseline(protocol)
	if !ok {
		return nil, usageErr("launcher %s ships no baseline for %s", target, protocol)
	}
	b, err := reports.ParseBaseline(strings.NewReader(text))
	if err != nil {
		return nil, usageErr("builtin baseline of %s: %v", target, err)
	}
	b.Name = "builtin:" + target
	return b, nil
}

// printSummary prints what the run decided: the failures that fail it
// (every failure with verbose), a table per level, and one closing line
// that agrees with the exit code. Quiet prints the closing line alone.
func printSummary(w io.Writer, run *reports.Run, base *reports.Baseline, dir string, verbose, quiet bool) {
	color := colorOn(w)
	s := run.Summarize()
	unexpected := map[string]bool{}
	for _, sp := range run.Unexpected() {
		unexpected[sp.ID] = true
	}
	if !quiet {
		for _, sp := range run.Specs {
			if unexpected[sp.ID] || verbose && (sp.Failing() || sp.Unjudged()) {
				printFailure(w, sp, unexpected[sp.ID], color)
			}
		}
		fmt.Fprintf(w, "\nprotospec %s against %s: %d specs\n", run.Protocol, run.Target.Name, s.Total)
		known := map[string]int{}
		for _, sp := range run.Specs {
			if sp.Known && sp.Failing() {
				known[sp.Level]++
			}
		}
		for _, lvl := range []string{reports.LevelMust, reports.LevelShould, reports.LevelFixture} {
			if c := s.ByLevel[lvl]; c != nil {
				fmt.Fprintf(w, "  %-7s %3d passed  %3d failed  %3d skipped", lvl, c.Passed, c.Failed-known[lvl], c.Skipped)
				if known[lvl] > 0 {
					fmt.Fprintf(w, "  %3d known", known[lvl])
				}
				if c.Inconclusive > 0 {
					fmt.Fprintf(w, "  %3d inconclusive or not run", c.Inconclusive)
				}
				fmt.Fprintln(w)
			}
		}
		if c := s.ByLevel[reports.LevelMay]; c != nil {
			fmt.Fprintf(w, "  %-7s %3d supported  %3d not supported  %3d skipped\n", reports.LevelMay, c.Passed, c.Failed, c.Skipped)
		}
		for _, sp := range run.Specs {
			if sp.State == reports.StateInconclusive && !verbose {
				fmt.Fprintf(w, "  %-13s %s %s\n", "inconclusive", sp.Level, sp.ID)
			}
		}
		if base != nil {
			if unused := base.Unused(run); len(unused) > 0 {
				fmt.Fprintf(w, "  baseline entries that matched no failure (prune them?): %s\n", strings.Join(unused, ", "))
			}
		}
		for _, n := range run.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
		fmt.Fprintf(w, "reports: %s\n", filepath.Join(dir, "report.html"))
	}
	fmt.Fprintln(w, closingLine(run, base, color))
}

// printFailure prints one failing (or unjudged) spec with what it
// checks and why it failed.
func printFailure(w io.Writer, sp reports.Spec, fails, color bool) {
	mark := strings.ToUpper(sp.Status())
	switch {
	case fails:
		mark = paint(color, ansiRed+ansiBold, "FAIL")
	case sp.Known:
		mark = paint(color, ansiYellow, "known")
	case sp.Unjudged():
		mark = paint(color, ansiYellow, string(sp.State))
	default:
		mark = "failed (below --fail-on)"
	}
	head := fmt.Sprintf("%s %s %s", mark, sp.Level, sp.ID)
	if sp.Title != "" {
		head += ": " + sp.Title
	}
	fmt.Fprintf(w, "\n%s\n", head)
	if sp.Sentence != "" {
		fmt.Fprintf(w, "  -> %s\n", sp.Sentence)
	}
	if sp.URL != "" {
		fmt.Fprintf(w, "     %s\n", sp.URL)
	}
	if sp.Known && sp.KnownReason != "" {
		fmt.Fprintf(w, "  known (%s): %s\n", sp.KnownBy, sp.KnownReason)
	}
	// The failure message opens with the spec and its sentence, which
	// the lines above have shown.
	lines := strings.Split(strings.TrimSpace(sp.Message), "\n")
	for len(lines) > 0 {
		l := strings.TrimSpace(lines[0])
		if strings.HasPrefix(l, sp.Level+" "+sp.ID+":") || sp.Sentence != "" && strings.Contains(l, sp.Sentence) {
			lines = lines[1:]
			continue
		}
		break
	}
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("... (%d more lines in the report)", len(lines)-20))
	}
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			fmt.Fprintf(w, "  %s\n", strings.TrimRight(l, " "))
		}
	}
	if sp.Location != "" {
		fmt.Fprintf(w, "  at %s\n", sp.Location)
	}
}

// closingLine is the run's last line, the one CI systems and people read:
// the counts (known deviations apart) and the verdict the exit code
// gives.
func closingLine(run *reports.Run, base *reports.Baseline, color bool) string {
	s := run.Summarize()
	known, below := 0, 0
	unexpected := len(run.Unexpected())
	for _, sp := range run.Specs {
		switch {
		case !sp.Failing():
		case sp.Known:
			known++
		case !run.Fails(sp):
			below++
		}
	}
	parts := []string{fmt.Sprintf("%d passed", s.Passed+s.Supported), fmt.Sprintf("%d failed", unexpected)}
	if known > 0 {
		parts = append(parts, fmt.Sprintf("%d known", known))
	}
	if below > 0 {
		parts = append(parts, fmt.Sprintf("%d failed below --fail-on", below))
	}
	parts = append(parts, fmt.Sprintf("%d skipped", s.Skipped))
	if s.Unsupported > 0 {
		parts = append(parts, fmt.Sprintf("%d not supported", s.Unsupported))
	}
	if s.Inconclusive > 0 {
		parts = append(parts, fmt.Sprintf("%d inconclusive", s.Inconclusive))
	}
	if s.NotRun > 0 {
		parts = append(parts, fmt.Sprintf("%d not run", s.NotRun))
	}
	verdict := paint(color, ansiGreen+ansiBold, "PASS")
	switch {
	case !run.OK():
		verdict = paint(color, ansiRed+ansiBold, "FAIL")
	case len(run.Unjudged()) > 0:
		verdict = paint(color, ansiYellow+ansiBold, "INCONCLUSIVE")
	}
	against := run.Target.Name
	if base != nil && base.Name != "" {
		against += " (baseline " + base.Name + ")"
	}
	return strings.Join(parts, ", ") + " — " + verdict + " against " + against
}

// liveConsole shows a run while it goes: a progress bar on a terminal,
// a line per spec with verbose, nothing otherwise.
type liveConsole struct {
	w              io.Writer
	line           *statusLine
	verbose, color bool
	total, n       int
	failed, passed int
}

func newLiveConsole(w io.Writer, verbose, quiet bool) *liveConsole {
	return &liveConsole{w: w, line: newStatusLine(w, !quiet), verbose: verbose && !quiet, color: colorOn(w)}
}

func (c *liveConsole) start(total int) { c.total = total }

func (c *liveConsole) spec(sp reports.Spec) {
	c.n++
	switch {
	case sp.Failing():
		c.failed++
	case sp.State == reports.StatePassed || sp.State == reports.StateSupported:
		c.passed++
	}
	if c.verbose {
		st := string(sp.State)
		switch {
		case sp.Failing():
			st = paint(c.color, ansiRed, st)
		case sp.State == reports.StatePassed || sp.State == reports.StateSupported:
			st = paint(c.color, ansiGreen, st)
		}
		c.line.Println(fmt.Sprintf("%-13s %-7s %s (%s)", st, sp.Level, sp.ID, sp.Duration.Round(time.Millisecond)))
	}
	c.line.Set(fmt.Sprintf("%s %d/%d  %d passed  %d failed  %s", bar(c.n, c.total, 20), c.n, c.total, c.passed, c.failed, sp.ID), c.n == c.total)
}

func (c *liveConsole) done() { c.line.Clear() }

func newListCmd() *cobra.Command {
	var filter string
	var asJSON, sentences bool
	cmd := &cobra.Command{
		Use:   "list PROTOCOL",
		Short: "List a protocol's specs (ID, level, RFC section) without running them",
		Example: suiteExamples("list", func(p spec.Protocol) []string {
			return []string{p.Name, p.Name + " --label-filter must --json", p.Name + " --sentences"}
		}),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := protocolArg(args)
			if err != nil {
				return err
			}
			if filter != "" {
				if _, err := spec.ParseLabelFilter(filter); err != nil {
					return usageErr("%v", err)
				}
			}
			var run *reports.Run
			err = silenceFD(func() error {
				var err error
				run, err = spec.Execute(&failT{}, spec.RunOptions{Protocol: p.Name, LabelFilter: filter, DryRun: true, Quiet: true})
				return err
			})
			if err != nil {
				return usageErr("%v", err)
			}
			return printList(cmd.OutOrStdout(), run, asJSON, sentences)
		},
	}
	cmd.Flags().StringVar(&filter, "label-filter", "", "list only specs matching this Ginkgo label filter")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table (it always holds the sentences)")
	cmd.Flags().BoolVar(&sentences, "sentences", false, "print under each spec the document's sentence it checks")
	return cmd
}

type listed struct {
	ID       string `json:"id"`
	Level    string `json:"level"`
	Doc      string `json:"doc"`
	Section  string `json:"section"`
	Title    string `json:"title"`
	Sentence string `json:"sentence"`
}

func printList(w io.Writer, run *reports.Run, asJSON, sentences bool) error {
	var out []listed
	for _, s := range run.Specs {
		out = append(out, listed{s.ID, s.Level, s.Doc, s.Section, s.Title, s.Sentence})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if sentences {
		for _, l := range out {
			fmt.Fprintf(w, "%s  %s  %s %s\n    %s\n    %s\n", l.ID, l.Level, l.Doc, l.Section, l.Title, l.Sentence)
		}
		fmt.Fprintf(w, "%d specs\n", len(out))
		return nil
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tLEVEL\tSECTION\tTITLE")
	for _, l := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\n", l.ID, l.Level, l.Doc, l.Section, l.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d specs\n", len(out))
	return nil
}

// silenceStdout runs fn with file descriptor 1 pointed at /dev/null
// (Ginkgo's reporter writes to the process's stdout directly), giving fn
// a writer to the console: out itself, or a copy of descriptor 1 when out
// is the process's stdout.
func silenceStdout(out io.Writer, fn func(io.Writer) error) error {
	if out != io.Writer(os.Stdout) {
		// Output captured by the caller (tests): descriptor 1 still
		// goes quiet, the caller's writer gets the console.
		return silenceFD(func() error { return fn(out) })
	}
	saved, err := unix.Dup(1)
	if err != nil {
		return fn(out)
	}
	con := os.NewFile(uintptr(saved), "stdout")
	defer con.Close()
	return silenceFD(func() error { return fn(con) })
}

// silenceFD runs fn with descriptor 1 on /dev/null.
func silenceFD(fn func() error) error {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return fn()
	}
	defer null.Close()
	saved, err := unix.Dup(1)
	if err != nil {
		return fn()
	}
	defer unix.Close(saved)
	if err := unix.Dup2(int(null.Fd()), 1); err != nil {
		return fn()
	}
	defer unix.Dup2(saved, 1)
	return fn()
}
