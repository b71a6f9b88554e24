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
	paths       []string
	method      string
	noKeepAlive bool
	pipeline    int
	queries     string
	tcp         bool
	reportDir   string
	asJSON      bool
	quiet       bool
	cpuProfile  string
	workDir     string
	threads     int
}

// benchProtocols are the protocols bench has a load client for, with the
// service each one loads.
var benchProtocols = map[string]string{"echo": "uppercase", "http1": "http", "dns": "dns"}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench PROTOCOL",
		Short: "Load a target with validated requests; report throughput, errors and latency percentiles",
		Long: `Load a target with one protocol's requests (echo, http1, dns) and measure it.

Closed loop by default: each connection keeps --pipeline requests in flight.
With --rate the run is open loop: requests are scheduled at that rate and
latency counts from when each one was meant to be sent, so a stall shows in
every request that waited behind it. Every response is validated; failures
are counted by kind. Exit status: 0 done, 1 a response failed validation
(bad_response, unexpected_status) or none succeeded, 2 could not run.`,
		Example: `  protospec bench http1 --target nginx --connections 32 --duration 10s --paths /hello.txt,/data/1k.bin
  protospec bench http1 --target 127.0.0.1:8080 --rate 5000 --warmup 2s --report-dir bench-report
  protospec bench dns --target nsd --connections 4 --pipeline 64 --queries queries.txt --json
  protospec bench echo --target reference --requests 100000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("duration") && f.requests > 0 {
				f.duration = 0
			}
			return runBench(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.target, "target", "t", "reference", "reference, a launcher name (see `protospec targets`), or an address")
	fl.DurationVarP(&f.duration, "duration", "d", 10*time.Second, "how long to measure, after the warm-up")
	fl.Int64VarP(&f.requests, "requests", "n", 0, "stop after this many requests (with --duration, whichever comes first)")
	fl.IntVarP(&f.connections, "connections", "c", 16, "connections (UDP sockets for dns)")
	fl.Float64VarP(&f.rate, "rate", "R", 0, "open loop: requests per second in total (0: closed loop)")
	fl.DurationVar(&f.warmup, "warmup", 0, "load before measuring, not recorded")
	fl.DurationVar(&f.timeout, "timeout", loadgen.DefaultTimeout, "how long a request may stay unanswered")
	fl.StringSliceVar(&f.paths, "paths", nil, "http1: request targets sent in turn, each PATH or 'METHOD PATH' (default /)")
	fl.StringVar(&f.method, "method", "GET", "http1: method of the paths that name none")
	fl.BoolVar(&f.noKeepAlive, "no-keepalive", false, "http1: one request per connection (Connection: close)")
	fl.IntVarP(&f.pipeline, "pipeline", "p", 1, "requests in flight per connection (HTTP pipelining depth, DNS queries outstanding)")
	fl.StringVarP(&f.queries, "queries", "q", "", "dns: query file in dnsperf's format, one 'name type' per line (default: names of the test. fixture)")
	fl.BoolVar(&f.tcp, "tcp", false, "dns: query over TCP instead of UDP")
	fl.StringVar(&f.reportDir, "report-dir", "", "also write report.json, junit.xml, report.md and report.html (with charts) there")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON on stdout")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	fl.IntVar(&f.threads, "threads", defaultThreads(), "OS threads running the load (GOMAXPROCS); the default leaves half the cores to a server on this machine")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fl.StringVar(&f.workDir, "work-dir", "", "where a launcher writes its config and logs")
	fl.MarkHidden("cpuprofile")
	return cmd
}

func runBench(out, errOut io.Writer, protocol string, f benchFlags) error {
	svc, ok := benchProtocols[protocol]
	if !ok {
		return usageErr("bench has no load client for %q (it has echo, http1, dns)", protocol)
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
	if protocol != "http1" && (len(f.paths) > 0 || f.noKeepAlive || f.method != "GET") {
		return usageErr("--paths, --method and --no-keepalive are for http1")
	}
	if protocol != "dns" && (f.queries != "" || f.tcp) {
		return usageErr("--queries and --tcp are for dns")
	}
	var queries []loadgen.Query
	if f.queries != "" {
		q, err := loadgen.LoadQueries(f.queries)
		if err != nil {
			return usageErr("%v", err)
		}
		queries = q
	}
	transport := "tcp"
	if protocol == "dns" && !f.tcp {
		transport = "udp"
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	octx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	target, err := targets.Open(octx, f.target, targets.Options{Protocol: protocol, WorkDir: f.workDir})
	cancel()
	if err != nil {
		return usageErr("target %s: %v", f.target, strings.TrimPrefix(err.Error(), "targets: "))
	}
	defer target.Close()
	ep, err := target.Endpoint(svc + "/" + transport)
	if err != nil {
		return usageErr("target %s: %v", f.target, err)
	}

	var proto loadgen.Protocol
	var workload, options []string
	switch protocol {
	case "echo":
		proto, err = loadgen.NewEcho(loadgen.EchoOptions{Addr: ep.Addr})
		workload = []string{"uppercase lines"}
	case "http1":
		proto, err = loadgen.NewHTTP1(loadgen.HTTP1Options{Addr: ep.Addr, Requests: f.paths, Method: f.method, NoKeepAlive: f.noKeepAlive})
		for _, p := range f.paths {
			if len(strings.Fields(p)) == 1 {
				p = f.method + " " + p
			}
			workload = append(workload, p)
		}
		if len(workload) == 0 {
			workload = []string{f.method + " /"}
		}
		if f.noKeepAlive {
			options = append(options, "no keep-alive")
		} else {
			options = append(options, "keep-alive")
		}
	case "dns":
		proto, err = loadgen.NewDNS(loadgen.DNSOptions{Addr: ep.Addr, Network: transport, Queries: queries})
		if f.queries != "" {
			workload = []string{fmt.Sprintf("%s (%d queries)", filepath.Base(f.queries), len(queries))}
		} else {
			workload = loadgen.DefaultQueries
		}
		options = append(options, transport)
	}
	if err != nil {
		return usageErr("%v", err)
	}

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
	if !f.quiet {
		cfg.Progress = func(p loadgen.Progress) {
			phase := "load"
			if p.Warmup {
				phase = "warm-up"
			}
			fmt.Fprintf(errOut, "%6.1fs %-7s %10.0f req/s  %d ok  %d errors\n", p.Elapsed.Seconds(), phase, p.Rate, p.Completed, p.Errors)
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
		Protocol: protocol,
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
		fmt.Fprintf(out, "protospec bench %s against %s (%s)\n", protocol, target.Name(), ep)
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
