package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// RunOptions configure one run of a protocol's suite.
type RunOptions struct {
	Protocol string
	Config   Config
	// LabelFilter narrows the run (Ginkgo label-filter syntax); the
	// protocol's own label is always added.
	LabelFilter string
	// Focus narrows the run to specs whose text (ID and title) matches
	// one of these regular expressions.
	Focus []string
	// DryRun declares the specs without running them, for listing.
	DryRun bool
	// Timeout bounds the whole run; zero means one hour.
	Timeout time.Duration
	// Quiet makes Ginkgo print only a summary; Verbose prints every spec.
	Quiet, Verbose bool
	// OnStart, if set, is told how many specs the run will run (those of
	// the protocol and the filters, not the other protocols' specs
	// compiled into the binary) before the first one starts.
	OnStart func(total int)
	// OnSpec, if set, is given each spec of the run as it ends, for a
	// console of the caller's own.
	OnSpec func(reports.Spec)
}

// Execute runs the suites compiled into this binary, narrowed to one
// protocol, against o.Config.Target, and returns the result. It calls
// ginkgo.RunSpecs, which a process may do only once; both entry points
// (the suites' go test bootstraps and the protospec binary) go through
// here.
func Execute(gt ginkgo.GinkgoTestingT, o RunOptions) (*reports.Run, error) {
	if _, ok := LookupProtocol(o.Protocol); !ok {
		return nil, fmt.Errorf("spec: unknown protocol %q", o.Protocol)
	}
	filter := o.Protocol
	if f := strings.TrimSpace(o.LabelFilter); f != "" {
		filter = o.Protocol + " && (" + f + ")"
	}
	match, err := ParseLabelFilter(filter)
	if err != nil {
		return nil, err
	}
	if o.Quiet {
		o.Config.Quiet = true
	}
	Use(o.Config)

	sc, rc := ginkgo.GinkgoConfiguration()
	sc.LabelFilter = filter
	if len(o.Focus) > 0 {
		sc.FocusStrings = append(sc.FocusStrings, o.Focus...)
	}
	sc.DryRun = o.DryRun
	sc.Timeout = o.Timeout
	if sc.Timeout <= 0 {
		sc.Timeout = time.Hour
	}
	rc.Succinct = o.Quiet
	rc.Verbose = o.Verbose
	rc.NoColor = rc.NoColor || o.Quiet

	started := time.Now()
	focus := compileFocus(o.Focus)
	if o.OnStart != nil {
		ginkgo.ReportBeforeSuite(func(r types.Report) {
			o.OnStart(r.PreRunStats.SpecsThatWillRun)
		})
	}
	if o.OnSpec != nil {
		ginkgo.ReportAfterEach(func(sr types.SpecReport) {
			if sr.LeafNodeType == types.NodeTypeIt && match(sr.Labels()) && focused(focus, sr.FullText()) {
				o.OnSpec(convertSpec(sr))
			}
		})
	}
	var run *reports.Run
	ginkgo.ReportAfterSuite("protospec result", func(r types.Report) {
		run = convert(r, o, match, started)
	})
	ginkgo.RunSpecs(gt, "protospec "+o.Protocol, sc, rc)
	if run == nil {
		return nil, fmt.Errorf("spec: the %s suite did not report (was RunSpecs already called in this process?)", o.Protocol)
	}
	return run, nil
}

// convert turns Ginkgo's report into the result model. Specs that the
// filter left out are not part of the run.
func convert(r types.Report, o RunOptions, match types.LabelFilter, started time.Time) *reports.Run {
	run := &reports.Run{
		Schema:   reports.SchemaVersion,
		Tool:     Tool(),
		Kind:     reports.KindConformance,
		Protocol: o.Protocol,
		Started:  started.UTC(),
		Duration: time.Since(started),
		Filter:   o.LabelFilter,
	}
	if t := o.Config.Target; t != nil {
		info := t.Info()
		run.Target = reports.Target{Name: info.Name, Kind: info.Kind, Version: info.Version, Endpoints: info.Endpoints}
	}
	focus := compileFocus(o.Focus)
	for _, sr := range r.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt || !match(sr.Labels()) || !focused(focus, sr.FullText()) {
			continue
		}
		s := convertSpec(sr)
		if sr.State == types.SpecStateSkipped && sr.Failure.Message == "" && sr.RunTime == 0 && !o.DryRun {
			// Neither skipped by the spec nor left out by a filter:
			// the run ended before it.
			s.State = reports.StateNotRun
			s.Message = "the run did not reach this spec: " + orString(cutShort(r), "it ended early")
		}
		run.Specs = append(run.Specs, s)
	}
	if why := cutShort(r); why != "" {
		run.Notes = append(run.Notes, "the run was cut short: "+why+"; the specs it did not reach are reported as not run")
	}
	return run
}

// compileFocus compiles the --focus expressions (Ginkgo has checked
// them; one it refused matches nothing here either).
func compileFocus(exprs []string) []*regexp.Regexp {
	focus := make([]*regexp.Regexp, 0, len(exprs))
	for _, f := range exprs {
		if re, err := regexp.Compile(f); err == nil {
			focus = append(focus, re)
		}
	}
	return focus
}

// focused reports whether a spec's text matches one of the --focus
// expressions (any spec, when there are none), as Ginkgo matches them.
func focused(focus []*regexp.Regexp, text string) bool {
	if len(focus) == 0 {
		return true
	}
	for _, re := range focus {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// cutShort says why the suite ended before its last spec (its deadline,
// an interrupt), or "" when it ran to the end.
func cutShort(r types.Report) string {
	var why []string
	for _, reason := range r.SpecialSuiteFailureReasons {
		switch {
		case strings.Contains(reason, "Timeout"):
			why = append(why, "the run's deadline (--run-timeout) passed")
		case strings.Contains(reason, "Interrupted"):
			why = append(why, "the run was interrupted")
		}
	}
	return strings.Join(why, ", ")
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func convertSpec(sr types.SpecReport) reports.Spec {
	idText, title, _ := strings.Cut(sr.LeafNodeText, " ")
	s := reports.Spec{ID: idText, Title: title, Duration: sr.RunTime}
	if m, ok := Lookup(idText); ok {
		s.Protocol, s.Doc, s.Section, s.Level, s.Title = m.ID.Protocol, m.ID.Doc, m.ID.Section, string(m.Level), m.Title
		s.Sentence, s.SentenceSection, s.Inferred = m.Sentence.Text, m.Sentence.Section, m.Sentence.Inferred
		s.SectionTitle, s.File, s.Line = m.SectionTitle, m.File, m.Line
		s.URL = s.Link()
	}
	switch {
	case sr.State == types.SpecStateInterrupted || strings.Contains(sr.Failure.Message, "A suite timeout occurred"):
		// Stopped by the run's deadline or an interrupt, not by its own
		// timeout: the spec could not be judged.
		s.State = reports.StateNotRun
		s.Message = strings.TrimSpace("stopped before it could be judged: " + sr.Failure.Message)
	case sr.State == types.SpecStatePassed && s.Level == reports.LevelMay:
		s.State = reports.StateSupported
	case sr.State == types.SpecStateFailed && s.Level == reports.LevelMay:
		// A MAY that does not hold is an option the target does not
		// take: a fact to report, not a failure.
		s.State = reports.StateUnsupported
		s.Message = sr.Failure.Message
	case sr.State == types.SpecStatePassed:
		s.State = reports.StatePassed
	case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
		s.State = reports.StateSkipped
		s.Message = sr.Failure.Message
	case sr.State == types.SpecStateFailed || sr.State == types.SpecStateTimedout:
		s.State = reports.StateFailed
		s.Message = sr.Failure.Message
		if sr.State == types.SpecStateTimedout && s.Message == "" {
			s.Message = "the spec ran out of time"
		}
	default: // panicked, aborted
		s.State = reports.StateError
		s.Message = strings.TrimSpace(sr.State.String() + ": " + sr.Failure.Message)
		if sr.Failure.ForwardedPanic != "" {
			s.Message += "\npanic: " + sr.Failure.ForwardedPanic
		}
	}
	for _, e := range sr.ReportEntries {
		if e.Name == InconclusiveEntry && (s.State == reports.StatePassed || s.State == reports.StateSupported) {
			s.State = reports.StateInconclusive
			s.Message = e.StringRepresentation()
			if v, ok := e.GetRawValue().(string); ok {
				s.Message = v
			}
		}
	}
	if m, ok := Lookup(idText); ok {
		s.Message = withoutHeader(s.Message, m)
	}
	if strings.HasPrefix(moduleRoot, "/") {
		// Ginkgo's own messages (a timeout, a panic) name code
		// locations with the build machine's path.
		s.Message = strings.ReplaceAll(s.Message, moduleRoot, "")
	}
	if s.Unmet() && sr.Failure.Location.FileName != "" {
		s.Location = fmt.Sprintf("%s:%d", SourcePath(sr.Failure.Location.FileName), sr.Failure.Location.LineNumber)
	}
	for _, e := range sr.ReportEntries {
		switch e.Name {
		case TranscriptEntry:
			if tr, ok := e.GetRawValue().(Transcript); ok {
				s.Transcript = append(s.Transcript, tr.Report()...)
			}
		case CaptureEntry:
			if a, ok := e.GetRawValue().(reports.Attachment); ok {
				s.Attachments = append(s.Attachments, a)
			}
		}
	}
	return s
}

// withoutHeader drops from a failure message the lines T.failureText puts
// first for the console (the spec and its sentence): the reports show them
// from the result's own fields, and the message starts with what failed.
func withoutHeader(msg string, m Meta) string {
	head := fmt.Sprintf("%s %s: %s\n", m.Level, m.ID, m.Title)
	rest, ok := strings.CutPrefix(msg, head)
	if !ok {
		return msg
	}
	if m.Sentence.Text != "" {
		if line := fmt.Sprintf("  %s: %q\n", m.Cite(), m.Sentence.Text); strings.HasPrefix(rest, line) {
			rest = rest[len(line):]
		}
	}
	return rest
}

// moduleRoot is the module's directory as this binary's file names give
// it: the build machine's path ("/home/ci/protospec/"), or the module path
// ("github.com/protospec/protospec/") when built with -trimpath.
var moduleRoot = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	root, found := strings.CutSuffix(filepath.ToSlash(file), "suites/spec/run.go")
	if !found {
		return ""
	}
	return root
}()

// SourcePath makes a source file name of this binary readable anywhere:
// relative to the module root for the module's files
// ("suites/http1/9_3_persistence.go"), from the module path on for a
// dependency's ("github.com/onsi/ginkgo/v2@v2.23.4/core_dsl.go"), and
// the last two elements of any other absolute path, so that no report
// shows the directories of the machine that built protospec.
func SourcePath(file string) string {
	f := filepath.ToSlash(file)
	switch {
	case f == "":
		return ""
	case moduleRoot != "" && strings.HasPrefix(f, moduleRoot):
		return strings.TrimPrefix(f, moduleRoot)
	}
	if _, dep, ok := strings.Cut(f, "/pkg/mod/"); ok {
		return dep
	}
	if !strings.HasPrefix(f, "/") && !filepath.IsAbs(file) {
		return f
	}
	parts := strings.Split(strings.Trim(f, "/"), "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}

// Tool describes this build of protospec.
func Tool() reports.Tool {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 && v == "devel" {
				v = "devel-" + s.Value[:12]
			}
		}
	}
	return reports.Tool{Name: "protospec", Version: v, Go: runtime.Version()}
}

// TargetInfo converts a target's description for reports.
func TargetInfo(t targets.Target) reports.Target {
	i := t.Info()
	return reports.Target{Name: i.Name, Kind: i.Kind, Version: i.Version, Endpoints: i.Endpoints}
}

// ParseLabelFilter checks a label filter's syntax.
func ParseLabelFilter(filter string) (types.LabelFilter, error) {
	f, err := types.ParseLabelFilter(filter)
	if err != nil {
		return nil, fmt.Errorf("bad label filter %q: %s", filter, oneLineGinkgoError(err))
	}
	return f, nil
}

// oneLineGinkgoError renders Ginkgo's coloured, multi-line errors as one
// plain line: the heading and the explanation, without the echo of the
// input that Ginkgo puts first.
func oneLineGinkgoError(err error) string {
	var ge types.GinkgoError
	if !errors.As(err, &ge) {
		return strings.Join(strings.Fields(markup.ReplaceAllString(err.Error(), "")), " ")
	}
	lines := strings.Split(strings.TrimSpace(ge.Message), "\n")
	last := strings.TrimSpace(markup.ReplaceAllString(lines[len(lines)-1], ""))
	return ge.Heading + ": " + last
}

// markup matches Ginkgo's formatter tags ("{{red}}") and ANSI colours.
var markup = regexp.MustCompile(`\{\{/?[a-z-]*\}\}|\x1b\[[0-9;]*m`)
