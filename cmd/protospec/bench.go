package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

func init() { extraCommands = append(extraCommands, newBenchCmd) }

type benchFlags struct {
	target      string
	duration    time.Duration
	requests    int64
	connections int
	rate        float64
	warmup      time.Duration
	timeout     time.Duration
	pipeline    int
	params      map[string]string
	reportDir   string
	asJSON      bool
	quiet       bool
	cpuProfile  string
	workDir     string
	threads     int
	tls         tlsFlags
}

// benchParams are the params of each protocol's load client.
var benchParams = paramSource{
	What:  "load client",
	Names: loadgen.ClientNames,
	Params: func(name string) []protocol.Param {
		c, err := loadgen.LookupClient(name)
		if err != nil {
			return nil
		}
		return c.Params
	},
}

// benchShorthands are bench flags of earlier releases, each setting the
// load client param of its name.
var benchShorthands = []paramFlag{
	{Name: "paths", List: true},
	{Name: "method"},
	{Name: "no-keepalive", Bool: true},
	{Name: "queries"},
	{Name: "tcp", Bool: true},
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	var params []string
	var examples []string
	for _, n := range loadgen.ClientNames() {
		c, _ := loadgen.LookupClient(n)
		for _, ex := range c.Examples {
			examples = append(examples, "  protospec bench "+n+" "+ex)
		}
	}
	cmd := &cobra.Command{
		Use:   "bench PROTOCOL",
		Short: "Load a target with validated requests; report throughput, errors and latency percentiles",
		Long: `Load a target with one protocol's requests (` + strings.Join(loadgen.ClientNames(), ", ") + `) and measure it.

Closed loop by default: each connection keeps --pipeline requests in flight.
With --rate the run is open loop: requests are scheduled at that rate and
latency counts from when each one was meant to be sent, so a stall shows in
every request that waited behind it. Every response is validated; failures
are counted by kind. Exit status: 0 done, 1 a response failed validation
(bad_response, unexpected_status) or none succeeded, 2 could not run.

` + paramsHelp(benchParams),
		Example: strings.Join(examples, "\n"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("duration") && f.requests > 0 {
				f.duration = 0
			}
			if _, err := loadgen.LookupClient(args[0]); err != nil {
				return usageErr("bench: %v", err)
			}
			p, err := collectParams(cmd.Flags(), params, benchShorthands, benchParams, args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			f.params = p
			return runBench(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.target, "target", "t", "reference", "reference, a launcher name (see protospec targets), or an address")
	fl.DurationVarP(&f.duration, "duration", "d", 10*time.Second, "how long to measure, after the warm-up")
	fl.Int64VarP(&f.requests, "requests", "n", 0, "stop after this many requests (with --duration, whichever comes first)")
	fl.IntVarP(&f.connections, "connections", "c", 16, "connections (or UDP sockets)")
	fl.Float64VarP(&f.rate, "rate", "R", 0, "open loop: requests per second in total (0: closed loop)")
	fl.DurationVar(&f.warmup, "warmup", 0, "load before measuring, not recorded")
	fl.DurationVar(&f.timeout, "timeout", loadgen.DefaultTimeout, "how long a request may stay unanswered")
	fl.IntVarP(&f.pipeline, "pipeline", "p", 1, "requests in flight per connection (pipelining depth, queries outstanding)")
	addParamFlags(fl, &params, benchParams, benchShorthands)
	fl.StringVar(&f.reportDir, "report-dir", "", "also write report.json, junit.xml, report.md and report.html (with charts) there")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON on stdout")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the result: no progress on stderr")
	fl.IntVar(&f.threads, "threads", defaultThreads(), "OS threads running the load (GOMAXPROCS); the default leaves half the cores to a server on this machine")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fl.StringVar(&f.workDir, "work-dir", "", "where a launcher writes its config and logs")
	fl.MarkHidden("cpuprofile")
	f.tls.what = "load the protocol's TLS service (http/tls instead of http/tcp)"
	f.tls.add(cmd)
	return cmd
}

// runBench loads the target with the registered load client of protocol
// name, set up by f.params.
func runBench(out, errOut io.Writer, name string, f benchFlags) error {
	client, err := loadgen.LookupClient(name)
	if err != nil {
		return usageErr("bench: %v", err)
	}
	switch {
	case f.duration <= 0 && f.requests <= 0:
		return usageErr("set --duration or --requests")
	case f.connections < 1 || f.pipeline < 1:
		return usageErr("--connections and --pipeline must be at least 1")
	case f.threads < 1:
		return usageErr("--threads must be at least 1")
	case f.rate < 0 || f.warmup < 0 || f.timeout <= 0:
		return usageErr("--rate and --warmup must not be negative, --timeout must be positive")
	}
	load, err := client.Plan(f.params)
	if err != nil {
		return usageErr("%v", err)
	}
	fx, dialer, err := f.tls.dialer(name)
	if err != nil {
		return err
	}
	service := load.Service
	if f.tls.over {
		if service = protocol.OverTLS(service); service == load.Service {
			return usageErr("--tls: the %s load of %s is not over TCP", service, name)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	octx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	target, err := targets.Open(octx, f.target, targets.Options{Protocol: name, WorkDir: f.workDir, TLS: fx})
	cancel()
	if err != nil {
		return usageErr("target %s: %v", f.target, strings.TrimPrefix(err.Error(), "targets: "))
	}
	defer target.Close()
	ep, err := target.Endpoint(service)
	if err != nil {
		return usageErr("target %s: %v", f.target, err)
	}
	proto, err := load.Open(loadgen.Target{Endpoint: ep, Dialer: dialer}, f.timeout)
	if err != nil {
		return usageErr("%v", err)
	}
	workload, options := load.Workload, load.Options

	cfg := loadgen.Config{
		Protocol:    proto,
		Connections: f.connections,
		Pipeline:    f.pipeline,
		Rate:        f.rate,
		Duration:    f.duration,
		Requests:    f.requests,
		Warmup:      f.warmup,
		Timeout:     f.timeout,
	}
	// On a terminal the progress is one line with a bar over the
	// duration; elsewhere a line a second.
	status := newStatusLine(errOut, !f.quiet)
	if !f.quiet {
		total := f.warmup + f.duration
		cfg.Progress = func(p loadgen.Progress) {
			phase := "load"
			if p.Warmup {
				phase = "warm-up"
			}
			line := fmt.Sprintf("%6.1fs %-7s %10.0f req/s  %d ok  %d errors", p.Elapsed.Seconds(), phase, p.Rate, p.Completed, p.Errors)
			if terminal(errOut) {
				status.Set(bar(int(p.Elapsed), int(total), 20)+" "+line, true)
				return
			}
			fmt.Fprintln(errOut, line)
		}
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return usageErr("%v", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return usageErr("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(f.threads))
	started := time.Now()
	res, err := loadgen.Run(ctx, cfg)
	status.Clear()
	if err != nil {
		return usageErr("%v", err)
	}

	b := &reports.BenchResult{
		Mode:        res.Mode,
		Connections: f.connections,
		Pipeline:    f.pipeline,
		Rate:        f.rate,
		Workload:    workload,
		Options:     options,
		Warmup:      f.warmup,
		Duration:    res.Elapsed,
		Requests:    res.Completed,
		Sent:        res.Sent,
		Connects:    res.Connects,
		Throughput:  res.Throughput(),
	}
	for k, v := range res.Errors {
		if b.Errors == nil {
			b.Errors = map[string]int64{}
		}
		b.Errors[string(k)] = v
	}
	for _, s := range res.PerSecond {
		b.PerSecond = append(b.PerSecond, reports.BenchSecond{Requests: s.Completed, Errors: s.Errors})
	}
	if err := b.SetHistogram(res.Latency); err != nil {
		return usageErr("%v", err)
	}
	run := &reports.Run{
		Schema:   reports.SchemaVersion,
		Tool:     spec.Tool(),
		Kind:     reports.KindBench,
		Protocol: name,
		Target:   spec.TargetInfo(target),
		Started:  started,
		Duration: time.Since(started),
		Bench:    b,
	}
	if f.reportDir != "" {
		if err := reports.WriteAll(f.reportDir, run); err != nil {
			return usageErr("writing reports: %v", err)
		}
	}
	if f.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(b); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "protospec bench %s against %s (%s)\n", name, target.Name(), ep)
		if err := reports.WriteBenchText(out, b); err != nil {
			return err
		}
		if f.reportDir != "" {
			fmt.Fprintf(out, "reports: %s\n", filepath.Join(f.reportDir, reports.FileHTML))
		}
	}
	if res.Completed == 0 || res.Errors[loadgen.KindBadResponse] > 0 || res.Errors[loadgen.KindStatus] > 0 {
		if f.asJSON || res.Completed == 0 {
			fmt.Fprintf(errOut, "protospec: %d validated responses, %d bad responses, %d unexpected statuses\n",
				res.Completed, res.Errors[loadgen.KindBadResponse], res.Errors[loadgen.KindStatus])
		}
		return errFailures
	}
	return nil
}

// defaultThreads is half the CPUs, at least one: protospec only loads
// loopback targets, so the server shares the machine, and Go's idle
// threads spinning on the server's cores cost it more than they give
// the client (measured against nginx on two cores: 1 thread 50k req/s,
// 2 threads 39-49k).
func defaultThreads() int { return max(1, runtime.NumCPU()/2) }
