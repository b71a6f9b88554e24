package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

// serveParams are the params of each protocol's reference server.
var serveParams = paramSource{
	What: "reference server",
	Names: func() []string {
		var out []string
		for _, n := range (reference.Launcher{}).Protocols() {
			if p, ok := reference.Lookup(n); ok && p.Serve != nil {
				out = append(out, n)
			}
		}
		return out
	},
	Params: func(name string) []protocol.Param {
		p, _ := reference.Lookup(name)
		return p.Params
	},
}

// serveShorthands are serve flags of earlier releases, each setting the
// reference server param of its name.
var serveShorthands = []paramFlag{{Name: "service"}, {Name: "root"}, {Name: "hierarchy", Bool: true},
	{Name: "tls", Bool: true}, {Name: "cert"}, {Name: "key"}, {Name: "ca-out"}}

func newServeCmd() *cobra.Command {
	var addr, cpuprofile string
	var quiet bool
	var params, examples []string
	for _, n := range serveParams.Names() {
		p, _ := reference.Lookup(n)
		for _, ex := range p.Examples {
			examples = append(examples, "  protospec serve "+n+" "+ex)
		}
	}
	cmd := &cobra.Command{
		Use:   "serve PROTOCOL",
		Short: "Run a reference implementation until interrupted",
		Long: `Run the reference implementation of a protocol (` + strings.Join(serveParams.Names(), ", ") + `) on --addr until
interrupted, for a client or a suite run against it. Once it listens it prints the
"protospec run ... --target ..." line that tests what it serves, then one access-log
line per request, query, datagram or connection on stderr (-q: none).

` + paramsHelp(serveParams),
		Example: strings.Join(examples, "\n"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if p, ok := reference.Lookup(args[0]); !ok || p.Serve == nil {
				return usageErr("serve: no reference implementation of %q to serve (known: %s)", args[0], strings.Join(serveParams.Names(), ", "))
			}
			p, err := collectParams(cmd.Flags(), params, serveShorthands, serveParams, args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if cpuprofile != "" {
				f, err := os.Create(cpuprofile)
				if err != nil {
					return usageErr("%v", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return usageErr("%v", err)
				}
				defer pprof.StopCPUProfile()
			}
			log := cmd.ErrOrStderr()
			opts := reference.ServeOptions{Addr: addr, Params: p, Log: log, Serving: func(s reference.Serving) {
				if s.Untestable != "" {
					fmt.Fprintf(log, "no suite run tests this server: %s\n", s.Untestable)
					return
				}
				fmt.Fprintf(log, "test it with: %s\n", runLine(args[0], s))
			}}
			if !quiet {
				opts.AccessLog = log
			}
			err = reference.Serve(ctx, args[0], opts)
			if err != nil {
				return usageErr("serve %s: %v", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "address to listen on")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no access log (one line per request, query or connection on stderr)")
	addParamFlags(cmd.Flags(), &params, serveParams, serveShorthands)
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the server to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	return cmd
}

// runLine is the `protospec run` command line that tests what serve
// serves: an address target naming each endpoint, or a bare address when
// one address serves every TCP service of the contract (and, where the
// contract can probe them, its UDP services, which a bare address finds).
func runLine(proto string, s reference.Serving) string {
	c, _ := protocol.Lookup(proto)
	var keys []string
	known := map[string]bool{}
	for _, svc := range c.Services {
		if _, ok := s.Endpoints[svc.Key()]; ok && !known[svc.Key()] {
			keys = append(keys, svc.Key())
		}
		known[svc.Key()] = true
	}
	var extra []string
	for k := range s.Endpoints {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	keys = append(keys, extra...)

	// bare[transport] is the one address of every tcp (or tls) service of
	// the contract, when they share one.
	bare := map[string]string{}
	for _, tr := range []string{"tcp", "tls"} {
		addr, ok := "", true
		for _, svc := range c.Services {
			if svc.Transport != tr {
				continue
			}
			ep, has := s.Endpoints[svc.Key()]
			if !has || addr != "" && ep.Addr != addr || (ep.Security == dial.TLS) != (tr == "tls") {
				ok = false
				break
			}
			addr = ep.Addr
		}
		if ok && addr != "" {
			bare[tr] = addr
		}
	}
	var parts []string
	if a := bare["tcp"]; a != "" {
		parts = append(parts, a)
	}
	overTLS := false
	if a := bare["tls"]; a != "" {
		parts, overTLS = append(parts, "tls://"+a), true
	}
	for _, k := range keys {
		ep := s.Endpoints[k]
		name, transport, _ := strings.Cut(k, "/")
		if known[k] && (bare[transport] != "" || transport == "udp" && ep.Addr == bare["tcp"] && c.Probe != nil) {
			continue
		}
		scheme := ""
		switch {
		case ep.Network == "udp":
			scheme = "udp://"
		case ep.Security == dial.TLS:
			scheme, overTLS = "tls://", true
		case ep.Security == dial.StartTLS:
			scheme = "starttls://"
		}
		parts = append(parts, name+"="+scheme+ep.Addr)
	}
	args := []string{"protospec", "run", proto}
	if overTLS {
		args = append(args, "--tls")
	}
	args = append(args, "--target", shellQuote(strings.Join(parts, ",")))
	for _, f := range s.Features {
		args = append(args, "--feature", shellQuote(f))
	}
	for _, f := range s.Flags {
		args = append(args, shellQuote(f))
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds more than letters,
// digits and -_./:=@ (a list of endpoints is quoted too, as the README
// shows them).
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@", r)) {
			safe = false
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newTargetsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "targets",
		Short: "List the launchers, whether their server is installed, and the protocols they serve",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "TARGET\tPROTOCOLS\tSTATUS\tBASELINE")
			for _, l := range targets.Launchers() {
				status := "ready"
				if err := l.Available(); err != nil {
					status = "missing: " + err.Error()
					if errors.Is(err, targets.ErrMissingBinary) {
						status = "missing (" + l.Requirement() + ")"
					}
				}
				base := "-"
				if bp, ok := l.(targets.BaselineProvider); ok {
					var with []string
					for _, p := range l.Protocols() {
						if _, ok := bp.Baseline(p); ok {
							with = append(with, p)
						}
					}
					if len(with) > 0 {
						base = "builtin (" + strings.Join(with, ", ") + ")"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Name(), strings.Join(l.Protocols(), ", "), status, base)
			}
			fmt.Fprintln(tw, "ADDRESS\t(any)\t[service[/transport]=][tcp://|udp://|tls://|starttls://]host:port[,...]\t-")
			return tw.Flush()
		},
	}
}

func newFixturesCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "fixtures PROTOCOL",
		Short:   "Export what a server must serve for a protocol's suite (docroot, zones, mailboxes)",
		Example: fixtureExamples(),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "tls" {
				return exportTLSFixture(cmd.OutOrStdout(), out)
			}
			c, ok := protocol.Lookup(args[0])
			if !ok {
				return usageErr("unknown protocol %q (known: %s, tls)", args[0], strings.Join(protocol.Names(), ", "))
			}
			if c.Fixture == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s needs no fixtures: its specs send everything they check\n", c.Name)
				return nil
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return usageErr("%v", err)
			}
			if err := c.Fixture(out); err != nil {
				return usageErr("exporting %s fixtures: %v", c.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote the %s fixtures to %s\n", c.Name, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "protospec-fixtures", "directory to write into")
	return cmd
}

// exportTLSFixture is `fixtures tls`: a new CA and a leaf for localhost,
// 127.0.0.1 and ::1, for a user's server to serve (cert.pem, key.pem) and
// for `run --ca` to trust (ca.pem).
func exportTLSFixture(w io.Writer, dir string) error {
	fx, err := tlsfixture.New()
	if err != nil {
		return usageErr("%v", err)
	}
	p, err := fx.WriteDir(dir)
	if err != nil {
		return usageErr("%v", err)
	}
	fmt.Fprintf(w, "wrote the TLS fixture to %s: serve %s with %s; run with --ca %s\n", dir, p.Cert, p.Key, p.CA)
	return nil
}
