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
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

func newServeCmd() *cobra.Command {
	var addr, service, root, cpuprofile string
	var params []string
	var hierarchy bool
	var st serveTLS
	cmd := &cobra.Command{
		Use:   "serve PROTOCOL",
		Short: "Run a reference implementation until interrupted",
		Example: `  protospec serve echo --addr 127.0.0.1:7000                 # uppercase on TCP and UDP
  protospec serve echo --addr 127.0.0.1:7007 --service echo
  protospec serve http1 --addr 127.0.0.1:8080 --root ./docroot
  protospec serve http1 --addr 127.0.0.1:8443 --tls --ca-out ./tls   # run --tls --target tls://127.0.0.1:8443 --ca ./tls/ca.pem
  protospec serve dns --addr 127.0.0.1:5300 --hierarchy      # dig @127.0.0.10 -p 5300 gaia.cs.umass.edu
  protospec serve dns --addr 127.0.0.1:5300 --param udp-workers=4   # goroutines per UDP socket (default 1)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := map[string]string{}
			for _, kv := range params {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageErr("--param %q is not KEY=VALUE", kv)
				}
				p[k] = v
			}
			if service != "" {
				p["service"] = service
			}
			if root != "" {
				p["root"] = root
			}
			if hierarchy {
				p["hierarchy"] = "true"
			}
			st.params(p)
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
			err := reference.Serve(ctx, args[0], reference.ServeOptions{Addr: addr, Params: p, Log: cmd.ErrOrStderr()})
			if err != nil {
				return usageErr("serve %s: %v", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "address to listen on")
	cmd.Flags().StringVar(&service, "service", "", "which service of the protocol to serve (echo: uppercase, echo, discard, daytime, chargen)")
	cmd.Flags().StringVar(&root, "root", "", "http1: the docroot to serve (default: a temporary copy of the suite's fixture)")
	cmd.Flags().BoolVar(&hierarchy, "hierarchy", false, "dns: a whole root, TLD and authoritative hierarchy on loopback plus a resolver")
	cmd.Flags().StringArrayVar(&params, "param", nil, "protocol-specific KEY=VALUE setting (repeatable)")
	st.add(cmd)
	cmd.Flags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the server to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	return cmd
}

// serveTLS are serve's TLS flags, passed to the reference as the params
// tls=true, cert=, key= and ca-out=, which every reference that serves
// TLS declares in its contract (internal/http1: ParamTLS...).
type serveTLS struct {
	on               bool
	cert, key, caOut string
}

func (s *serveTLS) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&s.on, "tls", false, "serve over TLS (with --cert/--key, or a new fixture CA and leaf for localhost, 127.0.0.1 and ::1)")
	fl.StringVar(&s.cert, "cert", "", "with --tls: PEM certificate chain to serve")
	fl.StringVar(&s.key, "key", "", "with --tls: PEM private key of --cert")
	fl.StringVar(&s.caOut, "ca-out", "", "with --tls and no --cert: where to write the fixture's ca.pem, cert.pem and key.pem")
}

func (s *serveTLS) params(p map[string]string) {
	if !s.on {
		return
	}
	p["tls"] = "true"
	for k, v := range map[string]string{"cert": s.cert, "key": s.key, "ca-out": s.caOut} {
		if v != "" {
			p[k] = v
		}
	}
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

func newReportCmd() *cobra.Command {
	report := &cobra.Command{
		Use:   "report",
		Short: "Work with run results (report.json)",
	}
	diff := &cobra.Command{
		Use:     "diff OLD.json NEW.json",
		Short:   "Print new failures and fixes between two runs; exit 1 on new failures",
		Example: "  protospec report diff yesterday/report.json protospec-report/report.json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := reports.ReadFile(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			cur, err := reports.ReadFile(args[1])
			if err != nil {
				return usageErr("%v", err)
			}
			d := reports.Diff(old, cur)
			if err := d.Write(cmd.OutOrStdout()); err != nil {
				return err
			}
			if d.Regressed() {
				return errFailures
			}
			return nil
		},
	}
	var format, out string
	render := &cobra.Command{
		Use:     "render REPORT.json",
		Short:   "Render a run result again as json, junit, markdown or html",
		Example: "  protospec report render protospec-report/report.json --format markdown",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := reports.ReadFile(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			var w io.Writer = cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return usageErr("%v", err)
				}
				defer f.Close()
				w = f
			}
			if err := reports.WriteFormat(w, format, run); err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
	render.Flags().StringVar(&format, "format", "markdown", "json, junit, markdown or html")
	render.Flags().StringVarP(&out, "out", "o", "-", "output file")
	report.AddCommand(diff, render)
	return report
}

func newFixturesCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "fixtures PROTOCOL",
		Short:   "Export what a server must serve for a protocol's suite (docroot, zones, mailboxes)",
		Example: "  protospec fixtures http1 --out ./docroot\n  protospec fixtures tls --out ./tls      # ca.pem, cert.pem, key.pem",
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
