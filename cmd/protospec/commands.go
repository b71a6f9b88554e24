package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

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
interrupted, for a client or a suite run against it (run --target ADDRESS).

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
			err = reference.Serve(ctx, args[0], reference.ServeOptions{Addr: addr, Params: p, Log: cmd.ErrOrStderr()})
			if err != nil {
				return usageErr("serve %s: %v", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "address to listen on")
	addParamFlags(cmd.Flags(), &params, serveParams, serveShorthands)
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the server to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	return cmd
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
