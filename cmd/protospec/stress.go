package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/internal/stress"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

func init() { extraCommands = append(extraCommands, newStressCmd) }

type stressFlags struct {
	target      string
	attacks     []string
	opts        stress.Options
	reportDir   string
	baseline    string
	workDir     string
	quiet       bool
	list        bool
	allowRemote bool
}

func newStressCmd() *cobra.Command {
	var f stressFlags
	var examples []string
	for _, n := range stress.Names() {
		b, _ := stress.Lookup(n)
		examples = append(examples, "  protospec stress "+n)
		for _, ex := range b.Examples {
			examples = append(examples, "  protospec stress "+n+" "+ex)
		}
	}
	cmd := &cobra.Command{
		Use:   "stress PROTOCOL",
		Short: "Mount a battery of hostile-client attacks on a target and judge whether it keeps serving others",
		Long: `Mount one protocol's hostile-client attacks (` + strings.Join(stress.Names(), ", ") + `) on a target, one
after the other, each for --duration-per-attack and within --max-connections
and --max-bytes, while a legitimate client probes the target throughout.

` + stress.Rule(stress.Options{}) + `

The bounds above are the defaults (--max-latency, --min-success, --max-rss-growth).
Attacks go only to loopback addresses (127.0.0.0/8, ::1) unless --allow-remote is
given, and then only to the address given as --target. Each attack is one spec
of the run's reports, its figures (connections, bytes, probe latencies, the
server's RSS and descriptors when protospec launched it) beside it.
Exit status: 0 every attack passed, 1 an attack failed, 2 could not run.`,
		Example: strings.Join(examples, "\n"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStress(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.target, "target", "t", "reference", "reference, a launcher name (see protospec targets), or an address")
	fl.StringArrayVar(&f.attacks, "attack", nil, "run only this attack (repeatable; see --list)")
	fl.BoolVar(&f.list, "list", false, "list the protocol's attacks and exit")
	fl.DurationVar(&f.opts.Duration, "duration-per-attack", 10*time.Second, "how long each attack lasts")
	fl.IntVar(&f.opts.Conns, "max-connections", 2000, "most connections an attack holds at once (also bounded by this process's fd limit)")
	fl.Int64Var(&f.opts.Bytes, "max-bytes", 512<<20, "most bytes an attack sends")
	fl.DurationVar(&f.opts.Step, "timeout", 2*time.Second, "deadline of each network step of an attack")
	fl.DurationVar(&f.opts.MaxLatency, "max-latency", 2*time.Second, "bound of the legitimate client's p99 latency during an attack")
	fl.Float64Var(&f.opts.MinSuccess, "min-success", 0.9, "share of the legitimate client's exchanges that must be served during an attack")
	fl.Int64Var(&f.opts.MaxRSSGrowth, "max-rss-growth", 256<<20, "bytes a measured server's memory may grow by during an attack")
	fl.IntVar(&f.opts.PID, "pid", 0, "process id of the server at an address --target, to measure its RSS and descriptors")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow a --target address that is not loopback (only that address is attacked)")
	fl.StringVar(&f.reportDir, "report-dir", "", "also write report.json, junit.xml, report.md and report.html there")
	fl.StringVar(&f.baseline, "baseline", "", "file of attacks expected to fail (one spec ID per line, PROTOCOL/stress/ATTACK): they are reported, and do not fail the run")
	fl.StringVar(&f.workDir, "work-dir", "", "where a launcher writes its config and logs")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the summary")
	return cmd
}

func runStress(out, errOut io.Writer, name string, f stressFlags) error {
	bat, err := stress.Lookup(name)
	if err != nil {
		return usageErr("stress: %v", strings.TrimPrefix(err.Error(), "protocol: "))
	}
	if f.list {
		tw := newTable(out)
		fmt.Fprintln(tw, "ATTACK\tSERVICE\tWHAT IT DOES")
		for _, a := range bat.Attacks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name(), a.Service(), a.Doc())
		}
		return tw.Flush()
	}
	if _, err := bat.Select(f.attacks); err != nil {
		return usageErr("%v", err)
	}
	var base *reports.Baseline
	if f.baseline != "" {
		if base, err = reports.LoadBaseline(f.baseline); err != nil {
			return usageErr("%v", err)
		}
	}
	if f.opts.Duration <= 0 || f.opts.Step <= 0 || f.opts.MaxLatency <= 0 || f.opts.Conns < 1 || f.opts.Bytes < 1 ||
		f.opts.MinSuccess <= 0 || f.opts.MinSuccess > 1 || f.opts.MaxRSSGrowth < 1 {
		return usageErr("stress: durations, --max-connections, --max-bytes and --max-rss-growth must be positive, --min-success in (0, 1]")
	}
	if err := stress.CheckTarget(f.target, f.allowRemote); err != nil {
		return usageErr("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	octx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	params, teardown, err := spec.Prepare(octx, name)
	defer teardown()
	if err != nil {
		cancel()
		return usageErr("preparing %s: %v", name, err)
	}
	target, err := targets.Open(octx, f.target, targets.Options{Protocol: name, WorkDir: f.workDir, Params: params})
	cancel()
	if err != nil {
		return usageErr("target %s: %v", f.target, strings.TrimPrefix(err.Error(), "targets: "))
	}
	defer target.Close()

	o := f.opts
	o.Protocol, o.Target, o.Attacks, o.AllowRemote = name, target, f.attacks, f.allowRemote
	if !f.quiet {
		o.Log = errOut
	}
	run, err := stress.Run(ctx, o)
	if err != nil {
		return usageErr("%v", err)
	}
	run.Tool = spec.Tool()
	run.Target = spec.TargetInfo(target)
	if base != nil {
		base.Apply(run)
	}
	if f.reportDir != "" {
		if err := reports.WriteAll(f.reportDir, run); err != nil {
			return usageErr("writing reports: %v", err)
		}
	}
	printStress(out, run, f.reportDir)
	if base != nil {
		if unused := base.Unused(run); len(unused) > 0 {
			fmt.Fprintf(out, "  baseline entries that matched no failure (the server holds now: prune them): %s\n", strings.Join(unused, ", "))
		}
	}
	if !run.OK() {
		return errFailures
	}
	if s := run.Summarize(); s.Passed == 0 && s.Known == 0 {
		return usageErr("stress %s: no attack could be judged (%d skipped)", name, s.Skipped)
	}
	return nil
}

// printStress prints one line per attack with its verdict and the
// figures that matter most, then the closing count line.
func printStress(w io.Writer, run *reports.Run, dir string) {
	fmt.Fprintf(w, "protospec stress %s against %s\n", run.Protocol, run.Target.Name)
	tw := newTable(w)
	fmt.Fprintln(tw, "ATTACK\tVERDICT\tSERVED\tP99\tRSS PEAK\tFDS PEAK\tFIGURES")
	for _, sp := range run.Specs {
		f := sp.Figures
		served, p99, rss, fds := "-", "-", "-", "-"
		if _, ok := f["probes"]; ok {
			served = fmt.Sprintf("%d/%d", int64(f["probes_served"]), int64(f["probes"]))
			p99 = stress.FormatFigure("probe_p99_ms", f["probe_p99_ms"])
		}
		if v, ok := f["rss_peak_bytes"]; ok {
			rss = stress.FormatFigure("rss_peak_bytes", v)
		}
		if v, ok := f["fds_peak"]; ok {
			fds = stress.FormatFigure("fds_peak", v)
		}
		var extra []string
		for _, k := range []string{"connections_opened", "closed_by_server", "bytes_sent", "body_bytes_sent", "requests_sent", "messages_sent", "datagrams_sent", "amplification"} {
			if v, ok := f[k]; ok {
				extra = append(extra, k+"="+stress.FormatFigure(k, v))
			}
		}
		verdict := strings.ToUpper(sp.State)
		if sp.Known {
			verdict = "KNOWN"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", sp.Section, verdict, served, p99, rss, fds, strings.Join(extra, " "))
	}
	tw.Flush()
	for _, sp := range run.Specs {
		if sp.State != reports.StatePassed {
			msg, _, _ := strings.Cut(sp.Message, "\n\n")
			known := ""
			if sp.Known {
				known = " (expected: in the baseline)"
			}
			fmt.Fprintf(w, "  %s%s: %s\n", sp.Section, known, strings.ReplaceAll(msg, "\n", "\n    "))
		}
	}
	for _, n := range run.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if dir != "" {
		fmt.Fprintf(w, "reports: %s\n", filepath.Join(dir, reports.FileHTML))
	}
	s := run.Summarize()
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.Passed, s.Failed+s.Errors, s.Skipped)
}
