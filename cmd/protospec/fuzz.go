package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

func init() { extraCommands = append(extraCommands, newFuzzCmd) }

type fuzzFlags struct {
	targets    []string
	duration   time.Duration
	execs      int
	seed       uint64
	out        string
	seeds      string
	benign     []string
	reportDir  string
	timeout    time.Duration
	settle     time.Duration
	quiet      bool
	memFactor  float64
	noMinimize bool
	minTries   int
	minTime    time.Duration
	parallel   int
	stopAfter  int
	silent     bool
	tls        tlsFlags
}

func newFuzzCmd() *cobra.Command {
	var f fuzzFlags
	cmd := &cobra.Command{
		Use:   "fuzz PROTOCOL",
		Short: "Fuzz a live server (stateful, grammar-aware), or two or more side by side (differential)",
		Long: `fuzz sends mutated, stateful message sequences to a target and reports inputs
after which it stops answering (liveness), its process dies (crash), its memory
grows without bound (memory), it answers outside the protocol's grammar
(grammar) or too late (slow). With several --target flags the same inputs go
to every target and disagreements about the same bytes are reported
(differential: one server sees one request where another sees two), unless a
benign rule accepts them (--benign builtin: the protocol's known, RFC-permitted
differences, and those of each target's server family). Findings are one per
class (a difference's normalised signature: the same 4xx-against-HTTP/0.9 in ten
states is one finding, with the number of inputs that hit it); the first input
of each class is minimized (within --minimize-tries and --minimize-time) and
saved under --out with a one-line replay command.

PROTOCOL is one of the protocols with a fuzzing model: ` + strings.Join(engine.ModelNames(), ", ") + `.`,
		Example: `  protospec fuzz PROTOCOL --duration 60s
  protospec fuzz PROTOCOL --target LAUNCHER --duration 60s --out fuzz-out
  protospec fuzz PROTOCOL --target reference --target LAUNCHER --benign builtin --execs 20000
  protospec fuzz PROTOCOL --target reference --target LAUNCHER --benign rfc --benign mine.txt
  protospec fuzz PROTOCOL --target 127.0.0.1:5300,udp://127.0.0.1:5300 --seed 42
  protospec fuzz PROTOCOL --tls --target tls://127.0.0.1:8443 --ca ca.pem --execs 2000
  protospec fuzz replay fuzz-out/finding-1 --target LAUNCHER`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFuzz(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.targets, "target", "t", nil, "target to fuzz: reference (default), a launcher, or an address; repeat for differential mode")
	fl.DurationVar(&f.duration, "duration", 0, "time budget (default 60s when --execs is not given)")
	fl.IntVar(&f.execs, "execs", 0, "exec budget: number of inputs to run")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed against the same target sends the same inputs")
	fl.StringVar(&f.out, "out", "protospec-fuzz", "directory for findings (finding-N/: raw step files, finding.json, transcript.txt by target, finding.pcapng)")
	fl.StringVar(&f.seeds, "seeds", "", "directory of extra seeds: raw message files, or saved finding directories")
	fl.StringArrayVar(&f.benign, "benign", nil, "known, accepted differences between targets: builtin (the protocol's and the targets' families' sets), a set's name, or a file of 'PAIR KIND VALUE-A VALUE-B [CONDITION...]' lines; repeatable")
	fl.StringVar(&f.reportDir, "report-dir", "protospec-report", "where to write report.json, junit.xml, report.md and report.html")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Second, "deadline of each step: a valid message unanswered by then is a slow finding")
	fl.DurationVar(&f.settle, "settle", 0, "how long to wait for answers nobody can count on (default 10ms, 30ms with several targets)")
	fl.Float64Var(&f.memFactor, "mem-factor", 4, "memory oracle: a launched server's RSS above this multiple of its baseline is a finding")
	fl.BoolVar(&f.noMinimize, "no-minimize", false, "save findings as found, without delta debugging")
	fl.IntVar(&f.minTries, "minimize-tries", 100, "candidate inputs tried at most when minimizing one finding")
	fl.DurationVar(&f.minTime, "minimize-time", 3*time.Second, "time spent at most minimizing one finding")
	fl.IntVar(&f.parallel, "parallel", 32, "inputs in flight at once on each target, with at most twice as many connections (1: one after the other, as against an address)")
	fl.IntVar(&f.stopAfter, "stop-after", 0, "stop after this many findings (0: run the whole budget)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary: no progress on stderr")
	fl.BoolVar(&f.silent, "no-progress", false, "no progress on stderr (the summary is still printed)")
	f.tls.what = "fuzz the protocol's TLS services (http/tls instead of http/tcp)"
	f.tls.add(cmd)
	cmd.AddCommand(newFuzzReplayCmd())
	return cmd
}

// fuzzTargets builds the engine's target list; infos collects what each
// target said about itself when it was last opened. Launched targets
// serve fx's leaf and are reached with d, over their TLS services when
// overTLS.
func fuzzTargets(protocol string, names []string, params map[string]string, fx *tlsfixture.Fixture, d *dial.Dialer, overTLS bool) ([]engine.TargetSpec, func() []targets.Info) {
	var mu sync.Mutex
	infos := make([]targets.Info, len(names))
	seen := map[string]int{}
	var out []engine.TargetSpec
	for i, n := range names {
		label := n
		if seen[n]++; seen[n] > 1 {
			label = fmt.Sprintf("%s#%d", n, seen[n])
		}
		out = append(out, engine.TargetSpec{Name: label, Dialer: d, OverTLS: overTLS, Open: func(ctx context.Context) (targets.Target, error) {
			t, err := targets.Open(ctx, n, targets.Options{Protocol: protocol, Params: params, TLS: fx})
			if err != nil {
				return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "targets: "))
			}
			mu.Lock()
			infos[i] = t.Info()
			infos[i].Name = label
			mu.Unlock()
			return t, nil
		}})
	}
	return out, func() []targets.Info {
		mu.Lock()
		defer mu.Unlock()
		return append([]targets.Info(nil), infos...)
	}
}

// prepare runs the protocol suite's Setup when the suite is linked in.
func prepare(ctx context.Context, protocol string) (map[string]string, func(), error) {
	if _, ok := spec.LookupProtocol(protocol); !ok {
		return nil, func() {}, nil
	}
	return spec.Prepare(ctx, protocol)
}

func runFuzz(stdout, stderr io.Writer, protocol string, f fuzzFlags) error {
	m, err := engine.LookupModel(protocol)
	if err != nil {
		return usageErr("%v", err)
	}
	if f.execs < 0 || f.duration < 0 || f.timeout <= 0 || f.minTries <= 0 || f.minTime <= 0 || f.parallel <= 0 {
		return usageErr("--execs, --duration, --timeout, --minimize-tries, --minimize-time and --parallel must be positive")
	}
	if f.execs == 0 && f.duration == 0 {
		f.duration = 60 * time.Second
	}
	fx, dialer, err := f.tls.dialer(protocol)
	if err != nil {
		return err
	}
	if len(f.targets) == 0 {
		f.targets = []string{"reference"}
	}
	cfg := engine.Config{Model: m, Seed: f.seed, Duration: f.duration, Execs: f.execs, OutDir: f.out,
		Timing: engine.Timing{Deadline: f.timeout, Quiet: f.settle}, MemFactor: f.memFactor,
		NoMinimize: f.noMinimize, MinimizeTries: f.minTries, MinimizeBudget: f.minTime, Parallel: f.parallel,
		StopAfter: f.stopAfter, Command: "protospec"}
	var pw *progressWriter
	if !f.silent && !f.quiet {
		// On a terminal the status lines rewrite one line.
		pw = newProgressWriter(stderr, "fuzz ")
		cfg.Progress = pw
	}
	if f.seeds != "" {
		if cfg.Seeds, err = engine.LoadSeeds(f.seeds, m); err != nil {
			return usageErr("%v", err)
		}
	}
	if err := os.MkdirAll(f.reportDir, 0o755); err != nil {
		return usageErr("report directory: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	params, teardown, err := prepare(pctx, protocol)
	cancel()
	defer teardown()
	if err != nil {
		return usageErr("preparing %s: %v", protocol, err)
	}
	var infos func() []targets.Info
	cfg.Targets, infos = fuzzTargets(protocol, f.targets, params, fx, dialer, f.tls.over)
	var labels, benignUsed []string
	for _, t := range cfg.Targets {
		labels = append(labels, t.Name)
	}
	for _, v := range f.benign {
		rules, used, err := engine.ResolveBenign(protocol, v, labels)
		if err != nil {
			return usageErr("%v", strings.TrimPrefix(err.Error(), "engine: "))
		}
		cfg.Benign = append(cfg.Benign, rules...)
		benignUsed = append(benignUsed, used...)
	}
	started := time.Now()
	res, err := engine.Run(ctx, cfg)
	if pw != nil {
		pw.Close()
	}
	if err != nil {
		return usageErr("%v", strings.TrimPrefix(err.Error(), "engine: "))
	}
	run := res.Report(spec.Tool(), fuzzReportTarget(infos()), started)
	if err := reports.WriteAll(f.reportDir, run); err != nil {
		return usageErr("writing reports: %v", err)
	}
	fmt.Fprintf(stdout, "\nprotospec fuzz %s against %s: %d execs in %v (%.0f execs/s, %v of it minimizing), %d states, %d findings\n",
		protocol, strings.Join(res.Targets, " vs "), res.Execs, res.Elapsed.Round(time.Millisecond), res.ExecsPerSecond(),
		res.Minimizing.Round(time.Millisecond), res.States, len(res.Findings))
	if len(f.benign) > 0 {
		fmt.Fprintf(stdout, "  benign rules: %d from %s\n", len(cfg.Benign), strings.Join(benignUsed, ", "))
	}
	for _, fd := range res.Findings {
		hits := ""
		if fd.Hits > 1 {
			hits = fmt.Sprintf(", %d inputs", fd.Hits)
		}
		fmt.Fprintf(stdout, "  %s (%s%s): %s\n", fd.ID, strings.Join(fd.States, ", "), hits, fd.Detail)
		if fd.Command != "" {
			fmt.Fprintf(stdout, "    %s\n", fd.Command)
		}
	}
	for _, l := range res.AcceptedLines(false) {
		fmt.Fprintf(stdout, "  %s\n", l)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "  note: %s\n", n)
	}
	fmt.Fprintf(stdout, "reports: %s\n", filepath.Join(f.reportDir, "report.html"))
	if len(res.Findings) > 0 {
		return errFailures
	}
	return nil
}

func fuzzReportTarget(infos []targets.Info) reports.Target {
	if len(infos) == 1 {
		i := infos[0]
		return reports.Target{Name: i.Name, Kind: i.Kind, Version: i.Version, Endpoints: i.Endpoints}
	}
	t := reports.Target{Kind: "differential", Endpoints: map[string]string{}}
	var names, versions []string
	for _, i := range infos {
		names = append(names, i.Name)
		if i.Version != "" {
			versions = append(versions, i.Name+": "+i.Version)
		}
		for svc, ep := range i.Endpoints {
			t.Endpoints[i.Name+" "+svc] = ep
		}
	}
	t.Name = strings.Join(names, " vs ")
	t.Version = strings.Join(versions, "; ")
	return t
}

func newFuzzReplayCmd() *cobra.Command {
	var names []string
	var timeout time.Duration
	var tf tlsFlags
	cmd := &cobra.Command{
		Use:   "replay FINDING-DIR",
		Short: "Send a saved finding's messages to fresh targets; exit 1 when it still reproduces",
		Example: `  protospec fuzz replay protospec-fuzz/finding-1 --target nginx
  protospec fuzz replay protospec-fuzz/finding-2 --target reference --target nginx`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return replayFinding(cmd, args[0], names, timeout, &tf)
		},
	}
	tf.what = "replay over the protocol's TLS services (http/tls instead of http/tcp)"
	tf.add(cmd)
	cmd.Flags().StringArrayVarP(&names, "target", "t", nil, "target(s) to replay against (default: those of the finding)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Second, "deadline of each step")
	return cmd
}

// isFinding reports whether path is a directory saved by the fuzzer.
func isFinding(path string) bool {
	_, err := os.Stat(filepath.Join(path, "finding.json"))
	return err == nil
}

// replayFinding sends a saved finding's messages to fresh targets (those
// of the finding when names is empty) and exits 1 when it reproduces. Both
// `protospec replay DIR` and `protospec fuzz replay DIR` come here.
func replayFinding(cmd *cobra.Command, dir string, names []string, timeout time.Duration, tf *tlsFlags) error {
	sv, err := engine.LoadFinding(dir)
	if err != nil {
		return usageErr("%v", err)
	}
	if len(names) == 0 {
		for _, t := range sv.Targets {
			names = append(names, strings.SplitN(t, "#", 2)[0])
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	params, teardown, err := prepare(pctx, sv.Model)
	cancel()
	defer teardown()
	if err != nil {
		return usageErr("preparing %s: %v", sv.Model, err)
	}
	fx, dialer, err := tf.dialer(sv.Model)
	if err != nil {
		return err
	}
	tgts, _ := fuzzTargets(sv.Model, names, params, fx, dialer, tf.over)
	rr, err := engine.Replay(ctx, dir, tgts, engine.Timing{Deadline: timeout})
	if err != nil {
		return usageErr("%v", strings.TrimPrefix(err.Error(), "engine: "))
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "%s (%s, %s): %s\n", sv.ID, sv.Oracle, sv.State, sv.Detail)
	for _, o := range rr.Observations {
		fmt.Fprintf(out, "  now: %s on %s (%s): %s\n", o.Oracle, strings.Join(o.Targets, " vs "), o.State, o.Detail)
	}
	if rr.Reproduced {
		fmt.Fprintf(out, "reproduced: %s fires again\n", sv.Oracle)
		if rr.Transcript != "" {
			fmt.Fprint(out, rr.Transcript)
		}
		return errFailures
	}
	fmt.Fprintln(out, "not reproduced")
	return nil
}
