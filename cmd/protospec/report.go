package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

func newReportCmd() *cobra.Command {
	report := &cobra.Command{
		Use:   "report",
		Short: "Work with run results (report.json)",
	}
	var diffBaseline string
	diff := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Print what changed between two runs; exit 1 on failures the new run does not expect",
		Long: `diff compares two runs of a suite spec by spec and prints each spec that changed once:
new failures, new known deviations, fixed, no longer judged (judged before,
skipped or not run now), still failing, added and removed.

Each run's failures are judged as that run judged them: a failure its
baseline lists (a known deviation), or at a level its --fail-on leaves out,
is no regression. The exit code is 1 when the new run has a failure that
the old one did not have and that the new run does not expect, 0
otherwise, 2 when a report cannot be read. --baseline applies a baseline
file (or 'builtin', the launcher's own for the new run's target) to both
runs first, for runs made without one.`,
		Example: "  protospec report diff yesterday/report.json protospec-report/report.json\n" +
			"  protospec report diff reference/report.json nginx/report.json --baseline builtin",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := reports.ReadFile(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			cur, err := reports.ReadFile(args[1])
			if err != nil {
				return usageErr("%v", err)
			}
			if diffBaseline != "" {
				base, err := loadDiffBaseline(diffBaseline, cur)
				if err != nil {
					return err
				}
				base.Apply(old)
				base.Apply(cur)
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
	diff.Flags().StringVar(&diffBaseline, "baseline", "", "apply this baseline file, or 'builtin' (the launcher's of the new run's target), to both runs first")
	var format, out string
	render := &cobra.Command{
		Use:   "render REPORT.json",
		Short: "Render a run result again as json, junit, markdown or html",
		Example: "  protospec report render protospec-report/report.json --format markdown\n" +
			"  protospec report render protospec-report/report.json --format html -o report.html",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := reports.ReadFile(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			known := false
			for _, f := range reports.Formats {
				known = known || f == format
			}
			if !known && format != "md" {
				return usageErr("--format: unknown format %q (want json, junit, markdown or html)", format)
			}
			var w io.Writer = cmd.OutOrStdout()
			var f *os.File
			if out != "" && out != "-" {
				f, err = os.Create(out)
				if err != nil {
					return usageErr("%v", err)
				}
				w = f
			}
			err = reports.WriteFormat(w, format, run)
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
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

// loadDiffBaseline reads the baseline of `report diff --baseline`: a file,
// or "builtin", the launcher's own for the target the new run was made
// against.
func loadDiffBaseline(name string, cur *reports.Run) (*reports.Baseline, error) {
	if name != "builtin" {
		b, err := reports.LoadBaseline(name)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		return b, nil
	}
	if cur.Target.Kind != targets.KindLauncher {
		return nil, usageErr("--baseline builtin: the new run's target %q is not a launcher", cur.Target.Name)
	}
	b, err := builtinBaseline(cur.Target.Name, cur.Protocol)
	if err != nil {
		return nil, err
	}
	return b, nil
}
