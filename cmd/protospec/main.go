// Command protospec tells whether an Internet application-protocol server
// is correct, robust and fast: it runs protospec's conformance suites against
// the embedded reference implementations, third-party servers it launches
// itself, or any address, and writes JSON, JUnit, Markdown and HTML reports.
//
//	protospec run echo                          # against the embedded reference
//	protospec run echo --target xinetd --baseline builtin
//	protospec list echo --label-filter 'rfc862 && must'
//	protospec serve echo --addr 127.0.0.1:7000
//	protospec report diff old/report.json new/report.json
//
// Exit codes of run: 0 every spec passed or failed as the baseline expects,
// 1 failures, 2 the run could not be done (bad flags, unknown protocol,
// target did not start).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	// Every protocol's rooms and every launcher register themselves.
	_ "github.com/protospec/protospec/protocols"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailures = 1
	exitUsage    = 2
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// usageErr marks an error as "could not run" (exit 2).
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// errFailures is returned by a command whose work was done but found
// failures (exit 1); the command has already said what failed.
var errFailures = &exitError{code: exitFailures, err: errors.New("failures")}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code != exitFailures {
			fmt.Fprintln(os.Stderr, "protospec: "+ee.err.Error())
		}
		return ee.code
	}
	// Cobra's own errors: unknown command or flag, wrong argument count.
	fmt.Fprintln(os.Stderr, "protospec: "+err.Error())
	return exitUsage
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "protospec",
		Short:         "Conformance, fuzzing, replay and load for application-protocol servers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&noColor, "no-color", false, "no colour on the console (also when NO_COLOR is set; there is none off a terminal)")
	root.AddCommand(newRunCmd(), newListCmd(), newServeCmd(), newTargetsCmd(), newReportCmd(), newFixturesCmd())
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	return root
}

// extraCommands are the subcommands that live in files of their own
// (pcap, replay, record, fuzz, bench), added by those files' init.
var extraCommands []func() *cobra.Command
