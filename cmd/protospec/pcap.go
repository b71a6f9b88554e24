package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
)

func init() {
	extraCommands = append(extraCommands, newPcapCmd, newRecordCmd, newReplayCmd)
	spec.CaptureWriter = writeSpecCapture
}

// writeSpecCapture writes a spec's transcript as a pcapng file, each
// packet commented with the spec's ID. The server's port is the one the
// spec's protocol registers with pcap (its well-known port), so that
// tshark and Wireshark decode the conversation as the protocol it is.
// A TLS connection is written as the records its socket carried (the
// Wire events, not the application bytes the spec saw), with the spec's
// key log as a Decryption Secrets Block.
func writeSpecCapture(path, specID string, tr spec.Transcript) error {
	evs := make([]pcap.Event, 0, len(tr.Events))
	var last time.Duration
	for _, e := range tr.Events {
		last = max(last, e.At)
		if e.TLS {
			continue
		}
		evs = append(evs, pcap.Event{At: e.At, Conn: e.Conn, Dir: e.Dir, Local: e.Local, Remote: e.Remote, Data: e.Data})
	}
	return pcap.WriteTranscriptFile(path, evs, pcap.TranscriptOptions{
		Base: time.Now().Add(-last), Comment: specID,
		ServerPort: pcap.CapturePort(specID), TLSServerPort: wellKnownTLSPort(specID), KeyLog: tr.KeyLog,
	})
}

// wellKnownTLSPort is the well-known port of the first TLS service the
// spec's protocol declares (443 for HTTP), or 0.
func wellKnownTLSPort(specID string) uint16 {
	name, _, _ := strings.Cut(specID, "/")
	c, ok := protocol.Lookup(name)
	if !ok {
		return 0
	}
	for _, s := range c.Services {
		if s.Transport == "tls" {
			return s.Port
		}
	}
	return 0
}

// captureFlags are the flags every command reading a capture shares.
type captureFlags struct {
	decodeAs []string
	proto    string
}

func (c *captureFlags) add(cmd *cobra.Command) {
	names := strings.Join(pcap.Protocols(), ", ")
	cmd.Flags().StringArrayVar(&c.decodeAs, "decode-as", nil, "dissect a server port as a protocol: PORT=PROTO ("+names+", none; repeatable)")
	cmd.Flags().StringVar(&c.proto, "proto", "", "only this protocol ("+names+")")
}

func (c *captureFlags) options() (pcap.Options, error) {
	da, err := pcap.ParseDecodeAs(c.decodeAs)
	if err != nil {
		return pcap.Options{}, usageErr("%v", err)
	}
	if c.proto != "" && !contains(pcap.Protocols(), c.proto) {
		return pcap.Options{}, usageErr("--proto %q: known protocols are %s", c.proto, strings.Join(pcap.Protocols(), ", "))
	}
	return pcap.Options{DecodeAs: da, Only: c.proto}, nil
}

// captureCmd completes c as a command reading one capture: it takes the
// file as its argument and the capture flags, and runs run with the
// parsed options.
func captureCmd(c *cobra.Command, cf *captureFlags, run func(cmd *cobra.Command, path string, o pcap.Options) error) *cobra.Command {
	c.Args = cobra.ExactArgs(1)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		o, err := cf.options()
		if err != nil {
			return err
		}
		return run(cmd, args[0], o)
	}
	cf.add(c)
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// asUsage makes err, if any, a usage error (exit 2): a capture that cannot
// be opened, an output that cannot be created.
func asUsage[T any](v T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, usageErr("%v", err)
	}
	return v, nil
}

// analyze reads the capture at path with o, showing progress when stderr
// is a terminal. A capture that cannot be opened or read is a usage error.
func analyze(path string, o pcap.Options) (*pcap.Summary, error) {
	r, err := asUsage(pcap.OpenFile(path))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	done := progress(&o)
	sum, err := pcap.Analyze(r, o)
	done()
	if err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	return sum, nil
}

// addReportDir adds the --report-dir flag of the commands that judge.
func addReportDir(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "report-dir", "protospec-report", "where to write report.json, junit.xml, report.md and report.html")
	if cmd.Flags().Lookup("quiet") == nil {
		cmd.Flags().BoolP("quiet", "q", false, "print only the summary")
	}
	if cmd.Flags().Lookup("verbose") == nil {
		cmd.Flags().BoolP("verbose", "v", false, "print every failure, also those below --fail-on")
	}
}

// finishRun writes run's reports into dir, prints the capture's warnings
// (when sum is not nil) and the summary, and returns errFailures when a
// spec failed.
func finishRun(cmd *cobra.Command, run *reports.Run, dir string, sum *pcap.Summary) error {
	run.Tool = spec.Tool()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErr("report directory: %v", err)
	}
	if err := reports.WriteAll(dir, run); err != nil {
		return usageErr("writing reports: %v", err)
	}
	quiet, _ := cmd.Flags().GetBool("quiet")
	verbose, _ := cmd.Flags().GetBool("verbose")
	if sum != nil && !quiet {
		printWarnings(cmd.ErrOrStderr(), sum)
	}
	printSummary(cmd.OutOrStdout(), run, nil, dir, verbose, quiet)
	if !run.OK() {
		return errFailures
	}
	return nil
}

// closeOutput closes the file a command wrote and returns err, or else the
// error of Close.
func closeOutput(f *os.File, err error) error {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// progress reports packets per second and flows on stderr, only when
// stderr is a terminal.
func progress(o *pcap.Options) func() {
	if !isTerminal(os.Stderr) {
		return func() {}
	}
	start := time.Now()
	last := start
	shown := false
	o.OnProgress = func(p pcap.Progress) {
		now := time.Now()
		if now.Sub(last) < 200*time.Millisecond {
			return
		}
		last = now
		secs := now.Sub(start).Seconds()
		fmt.Fprintf(os.Stderr, "\r%d packets (%.0f packets/s, %.1f MB/s), %d flows, %d active   ", p.Packets, float64(p.Packets)/secs, float64(p.Bytes)/secs/1e6, p.Flows, p.Active)
		shown = true
	}
	return func() {
		if shown {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
	}
}

func printWarnings(w io.Writer, sum *pcap.Summary) {
	for _, s := range sum.Warnings {
		fmt.Fprintln(w, "warning: "+s)
	}
	if extra := sum.NWarnings - len(sum.Warnings); extra > 0 {
		fmt.Fprintf(w, "warning: … and %d more\n", extra)
	}
}

func newPcapCmd() *cobra.Command {
	long := "Read captures (pcap, pcapng, gzip): list flows, dissect, check offline, make fuzz corpora.\n\n" +
		"A flow's protocol comes from --decode-as, the server's well-known port, or its first bytes. Protocols:\n"
	for _, name := range pcap.Protocols() {
		p, _ := pcap.Lookup(name)
		long += fmt.Sprintf("  %-8s %s", name, p.Title)
		if len(p.Rules) > 0 {
			long += fmt.Sprintf(" (%d offline rules)", len(p.Rules))
		}
		long += "\n"
	}
	cmd := &cobra.Command{
		Use:   "pcap",
		Short: "Read captures (pcap, pcapng, gzip): list flows, dissect, check offline, make fuzz corpora",
		Long:  long,
	}
	cmd.AddCommand(newPcapLsCmd(), newPcapDissectCmd(), newPcapCheckCmd(), newPcapCorpusCmd(), newPcapSynthCmd())
	return cmd
}

func newPcapSynthCmd() *cobra.Command {
	var out, proto string
	var flows int
	synths := pcap.SynthProtocols()
	cmd := &cobra.Command{
		Use:     "synth --out FILE",
		Short:   "Write a synthetic pcapng of many connections of a protocol (for benchmarks and tries)",
		Example: "  protospec pcap synth --flows 50000 --out /tmp/big.pcapng",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" || flows <= 0 {
				return usageErr("--out FILE and a positive --flows are required")
			}
			p, ok := pcap.Lookup(proto)
			if !ok || p.Synth == nil {
				return usageErr("--proto %q: protocols that synthesize captures are %s", proto, strings.Join(synths, ", "))
			}
			f, err := asUsage(os.Create(out))
			if err != nil {
				return err
			}
			if err := closeOutput(f, p.Synth(f, flows)); err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
	def := ""
	if len(synths) > 0 {
		def = synths[0]
	}
	cmd.Flags().StringVar(&out, "out", "", "pcapng file to write")
	cmd.Flags().StringVar(&proto, "proto", def, "protocol of the connections ("+strings.Join(synths, ", ")+")")
	cmd.Flags().IntVar(&flows, "flows", 10000, "number of connections")
	return cmd
}

func newPcapLsCmd() *cobra.Command {
	var cf captureFlags
	var asJSON bool
	cmd := captureCmd(&cobra.Command{
		Use:     "ls FILE",
		Short:   "List the flows of a capture: protocol, endpoints, packets, bytes, messages, gaps",
		Example: "  protospec pcap ls traffic.pcapng\n  protospec pcap ls traffic.pcap.gz --decode-as 8081=PROTO --json",
	}, &cf, func(cmd *cobra.Command, path string, o pcap.Options) error {
		var flows []*pcap.Flow
		o.OnFlow = func(f *pcap.Flow) { flows = append(flows, f) }
		sum, err := analyze(path, o)
		if err != nil {
			return err
		}
		sort.Slice(flows, func(i, j int) bool { return flows[i].ID < flows[j].ID })
		out := cmd.OutOrStdout()
		if asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(struct {
				Summary *pcap.Summary `json:"summary"`
				Flows   []*pcap.Flow  `json:"flows"`
			}{sum, flows})
		}
		tw := newTable(out)
		fmt.Fprintln(tw, "FLOW\tPROTO\tCLIENT\tSERVER\tPACKETS\tBYTES C/S\tMESSAGES\tGAPS\tEND")
		for _, f := range flows {
			proto := f.Transport
			if f.Proto != "" {
				proto += "/" + f.Proto
			}
			gaps := "-"
			if f.Gaps > 0 {
				gaps = fmt.Sprintf("%d (%d B)", f.Gaps, f.GapBytes)
			}
			end := f.End
			if f.MidStream {
				end += ",mid-stream"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d/%d\t%d\t%s\t%s\n", f.ID, proto, f.Client, f.Server, f.Packets, f.Bytes[0], f.Bytes[1], f.Messages, gaps, end)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		printTotals(out, sum)
		printWarnings(cmd.ErrOrStderr(), sum)
		return nil
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func printTotals(w io.Writer, sum *pcap.Summary) {
	fmt.Fprintf(w, "%s%s: %d packets, %d flows, %d messages, %d gaps (%d bytes)", sum.Format, map[bool]string{true: "+gzip"}[sum.Compressed], sum.Read.Packets, sum.Flows, sum.Messages, sum.Gaps, sum.GapBytes)
	d := sum.Decode
	if skipped := d.NonIP + d.Fragments + d.OtherProto + d.Malformed + d.UnknownLink; skipped > 0 {
		fmt.Fprintf(w, "; not TCP/UDP: %d (non-IP %d, fragments %d, other %d, malformed %d, unknown link %d)", skipped, d.NonIP, d.Fragments, d.OtherProto, d.Malformed, d.UnknownLink)
	}
	if sum.Read.Cut > 0 {
		fmt.Fprintf(w, "; %d cut by the snap length", sum.Read.Cut)
	}
	if sum.Read.Skipped > 0 {
		fmt.Fprintf(w, "; %d records skipped", sum.Read.Skipped)
	}
	if sum.Read.Corrupt {
		fmt.Fprint(w, "; file damaged")
	}
	fmt.Fprintln(w)
}

func newPcapDissectCmd() *cobra.Command {
	var cf captureFlags
	var asJSON bool
	cmd := captureCmd(&cobra.Command{
		Use:     "dissect FILE",
		Short:   "Print the protocol messages of a capture, one line each (or JSON lines)",
		Example: "  protospec pcap dissect traffic.pcapng\n  protospec pcap dissect traffic.pcap --proto PROTO --json",
	}, &cf, func(cmd *cobra.Command, path string, o pcap.Options) error {
		out := cmd.OutOrStdout()
		enc := json.NewEncoder(out)
		var werr error
		o.OnMessage = func(m *pcap.Message) {
			if werr != nil {
				return
			}
			if asJSON {
				werr = enc.Encode(m)
			} else {
				_, werr = fmt.Fprintln(out, m.Time.Format("15:04:05.000000"), m)
			}
		}
		sum, err := analyze(path, o)
		if err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		if !asJSON {
			printTotals(out, sum)
		}
		printWarnings(cmd.ErrOrStderr(), sum)
		return nil
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per message")
	return cmd
}

func newPcapCheckCmd() *cobra.Command {
	var cf captureFlags
	var reportDir string
	cmd := captureCmd(&cobra.Command{
		Use:   "check FILE",
		Short: "Judge the captured traffic against the RFC rules that need no live target; exit 1 on violations",
		Example: `  protospec pcap check traffic.pcapng
  protospec pcap check traffic.pcap --proto PROTO --report-dir check-report`,
	}, &cf, func(cmd *cobra.Command, path string, o pcap.Options) error {
		if withRules := pcap.RuleProtocols(); cf.proto != "" && !contains(withRules, cf.proto) {
			return usageErr("pcap check has rules for %s, not %s", strings.Join(withRules, " and "), cf.proto)
		}
		started := time.Now()
		c := pcap.NewChecker()
		o.KeepRaw = true
		o.MaxMessage = 4 << 10 // enough for the transcript excerpts
		o.OnMessage = c.Message
		sum, err := analyze(path, o)
		if err != nil {
			return err
		}
		return finishRun(cmd, c.Run(path, sum, started, cf.proto), reportDir, sum)
	})
	addReportDir(cmd, &reportDir)
	return cmd
}

func newPcapCorpusCmd() *cobra.Command {
	var cf captureFlags
	var out, side string
	cmd := captureCmd(&cobra.Command{
		Use:     "corpus FILE --out DIR",
		Short:   "Write each captured message as a Go fuzz corpus file, to seed a protocol's fuzz targets (fuzz/PROTO)",
		Example: `  protospec pcap corpus traffic.pcapng --proto PROTO --side client --out fuzz/PROTO/testdata/fuzz/FuzzTarget`,
	}, &cf, func(cmd *cobra.Command, path string, o pcap.Options) error {
		if out == "" {
			return usageErr("--out DIR is required")
		}
		if side != "" && side != "client" && side != "server" {
			return usageErr("--side is client or server, not %q", side)
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return usageErr("%v", err)
		}
		cw := &pcap.CorpusWriter{Dir: out}
		var werr error
		o.KeepRaw = true
		o.OnMessage = func(m *pcap.Message) {
			if werr != nil || (side != "" && m.Side.String() != side) {
				return
			}
			werr = cw.Add(m)
		}
		sum, err := analyze(path, o)
		if err != nil {
			return err
		}
		if werr != nil {
			return usageErr("writing the corpus: %v", werr)
		}
		printWarnings(cmd.ErrOrStderr(), sum)
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %d corpus files to %s (%d duplicates, %d messages not captured whole)\n", cw.Written, out, cw.Duplicates, cw.Skipped)
		return nil
	})
	cmd.Flags().StringVar(&out, "out", "", "corpus directory (testdata/fuzz/FuzzXxx of a fuzz package)")
	cmd.Flags().StringVar(&side, "side", "", "only messages from the client or the server")
	return cmd
}

func newRecordCmd() *cobra.Command {
	var listen, upstream, out string
	var udp bool
	var duration, idle time.Duration
	var maxConns int
	cmd := &cobra.Command{
		Use:   "record --listen ADDR --upstream ADDR --out FILE",
		Short: "Proxy TCP connections (or UDP datagrams) to a server and record them as pcapng",
		Example: `  protospec record --listen 127.0.0.1:8081 --upstream 127.0.0.1:8080 --out tcp.pcapng
  protospec record --udp --listen 127.0.0.1:5353 --upstream 127.0.0.1:53 --out udp.pcapng --duration 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listen == "" || upstream == "" || out == "" {
				return usageErr("--listen, --upstream and --out are required")
			}
			f, err := asUsage(os.Create(out))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			log := cmd.ErrOrStderr()
			rec := &pcap.Recorder{Listen: listen, Upstream: upstream, UDP: udp, Out: f, IdleTimeout: idle, MaxConns: maxConns, Log: log,
				Ready: func(a net.Addr) { fmt.Fprintf(log, "recording %s -> %s into %s (Ctrl-C to stop)\n", a, upstream, out) }}
			if err := closeOutput(f, rec.Run(ctx)); err != nil {
				return usageErr("record: %v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d packets to %s\n", rec.Packets(), out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "", "address to accept clients on")
	fl.StringVar(&upstream, "upstream", "", "server to forward to")
	fl.StringVar(&out, "out", "", "pcapng file to write")
	fl.BoolVar(&udp, "udp", false, "proxy UDP datagrams instead of TCP connections")
	fl.DurationVar(&duration, "duration", 0, "stop after this long (default: until interrupted)")
	fl.DurationVar(&idle, "idle-timeout", 30*time.Second, "close connections silent for this long")
	fl.IntVar(&maxConns, "max-conns", 64, "most concurrent connections (or UDP clients)")
	return cmd
}

func newReplayCmd() *cobra.Command {
	var cf captureFlags
	var target, reportDir string
	var targetList, params, ignore []string
	var pace bool
	var step time.Duration
	var tf tlsFlags
	// Each param a protocol's replay declares is a flag of its own too
	// (--service, --ignore-header...), repeatable, the values joined by
	// commas.
	paramFlags := map[string]*[]string{}
	cmd := captureCmd(&cobra.Command{
		Use:   "replay FILE|FINDING-DIR --target T",
		Short: "Re-send a capture's client side to a target and compare the answers, or replay a fuzzer's finding",
		Example: `  protospec replay traffic.pcapng --target nginx --ignore-header etag --ignore-header last-modified
  protospec replay traffic.pcap --target 'SERVICE/udp=udp://127.0.0.1:5353,SERVICE/tcp=127.0.0.1:5353'
  protospec replay https.pcapng --tls --target nginx        # the TCP flows to the TLS service
  protospec replay protospec-fuzz/finding-1 --target nginx    # exit 1 while the finding reproduces`,
	}, &cf, func(cmd *cobra.Command, path string, o pcap.Options) error {
		if len(targetList) != 1 {
			return usageErr("replaying a capture takes one --target")
		}
		target = targetList[0]
		ro := pcap.ReplayOptions{Pace: pace, Ignore: ignore, StepTimeout: step, Source: path, Params: map[string]string{}}
		for name, v := range paramFlags {
			if len(*v) > 0 {
				ro.Params[name] = strings.Join(*v, ",")
			}
		}
		for _, kv := range params {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return usageErr("--param %q is not NAME=VALUE", kv)
			}
			ro.Params[k] = v
		}
		if err := ro.Validate(); err != nil {
			return usageErr("%v", err)
		}
		fx, dialer, err := tf.dialer(cf.proto)
		if err != nil {
			return err
		}
		ro.Dialer, ro.OverTLS = dialer, tf.over
		r, err := asUsage(pcap.OpenFile(path))
		if err != nil {
			return err
		}
		convs, sum, err := pcap.Collect(r, o, 0)
		r.Close()
		if err != nil {
			return usageErr("%s: %v", path, err)
		}
		printWarnings(cmd.ErrOrStderr(), sum)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		ro.Open = func(proto string) (targets.Target, error) {
			octx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			return targets.Open(octx, target, targets.Options{Protocol: proto, TLS: fx})
		}
		run := pcap.Replay(ctx, convs, ro)
		if len(run.Specs) == 0 {
			return usageErr("%s holds no flow of a protocol protospec can replay (%s)", path, strings.Join(pcap.Protocols(), ", "))
		}
		return finishRun(cmd, run, reportDir, nil)
	})
	fl := cmd.Flags()
	fl.StringArrayVarP(&targetList, "target", "t", nil, "reference, a launcher name, or an address (as for run); a finding may take several")
	fl.StringVar(&cf.proto, "protocol", "", "only flows of this protocol (same as --proto)")
	fl.BoolVar(&pace, "pace", false, "keep the capture's pauses between client messages (each at most 5s)")
	fl.StringArrayVar(&ignore, "ignore", nil, "part not to compare: "+strings.Join(pcap.IgnoreKeys(), ", ")+" (repeatable)")
	var known []string
	for _, d := range pcap.ReplayParamsDeclared() {
		v := new([]string)
		paramFlags[d.Name] = v
		doc := d.Doc
		if d.Default != "" {
			doc += " (default " + d.Default + ")"
		}
		fl.StringArrayVar(v, d.Name, nil, doc+"; same as --param "+d.Name+"=VALUE")
		known = append(known, d.Name)
	}
	fl.StringArrayVar(&params, "param", nil, "a protocol's replay setting NAME=VALUE (repeatable; known: "+strings.Join(known, ", ")+")")
	fl.DurationVar(&step, "timeout", 5*time.Second, "deadline of each connect, send and wait for an answer")
	addReportDir(cmd, &reportDir)
	tf.what = "replay the TCP flows to the protocol's TLS services (http/tls instead of http/tcp)"
	tf.add(cmd)
	// A directory saved by the fuzzer replays as a finding: exit 1 while it
	// still reproduces.
	replayCapture := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 1 && isFinding(args[0]) {
			return replayFinding(c, args[0], targetList, step, &tf)
		}
		return replayCapture(c, args)
	}
	return cmd
}
