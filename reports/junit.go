package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// JUnit XML, as the Jenkins junit-10 schema describes it and as Jenkins,
// GitHub (dorny/test-reporter, mikepenz/action-junit-report) and GitLab
// read it. The root and every suite are named after the protocol and the
// target ("http1 against nginx"), so that the files of two launchers in
// one CI matrix stay apart. Each document section is one <testsuite>
// ("http1 against nginx: rfc9112 9.3 Persistence") and each spec one
// <testcase> named by its ID and the target
// ("http1/rfc9112/9.3/persistent-by-default[nginx]"), with the classname
// "protospec.http1.rfc9112.9_3" (dots only between the parts, so that
// reporters that split the package from the class at the last dot see
// the section as the class) and the file and line of its declaration. A
// failure the baseline expects is written as <skipped> with the
// baseline's reason, so a CI that reads the JUnit file agrees with the
// run's exit code. A load run is one testcase carrying its figures.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Package    string          `xml:"package,attr,omitempty"`
	File       string          `xml:"file,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	// File and Line are read by GitLab, pytest-style reporters and the
	// GitHub annotation actions; the Jenkins schema has no such testcase
	// attributes and its readers ignore them.
	File      string        `xml:"file,attr,omitempty"`
	Line      string        `xml:"line,attr,omitempty"`
	Skipped   *junitProblem `xml:"skipped"`
	Error     *junitProblem `xml:"error"`
	Failure   *junitProblem `xml:"failure"`
	SystemOut *junitText    `xml:"system-out"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// WriteJUnit writes r as JUnit XML: one <testsuite> per document section,
// one <testcase> per spec. Failed specs carry a <failure>, errors an
// <error>, skipped specs and failures the baseline expects a <skipped>; a
// MAY the target does not support passes with a "not supported" output.
// A load run (r.Bench) adds a suite of one testcase, which fails when the
// run validated no response or got bad ones. Text that XML 1.0 cannot
// hold is escaped Go-style, so the output always parses.
func WriteJUnit(w io.Writer, r *Run) error {
	if r == nil {
		return ErrNilRun
	}
	name := RunName(r)
	doc := junitSuites{
		Name: x(name),
		Time: seconds(r.Duration),
	}
	props := []junitProperty{
		{"protocol", x(r.Protocol)},
		{"target", x(r.Target.Name)},
		{"target.kind", x(r.Target.Kind)},
	}
	if r.Target.Version != "" {
		props = append(props, junitProperty{"target.version", x(r.Target.Version)})
	}
	props = append(props,
		junitProperty{"kind", x(r.Kind)},
		junitProperty{"tool", x(r.Tool.Name)},
		junitProperty{"tool.version", x(r.Tool.Version)},
	)
	if r.Filter != "" {
		props = append(props, junitProperty{"filter", x(r.Filter)})
	}
	if r.Baseline != "" {
		props = append(props, junitProperty{"baseline", x(r.Baseline)})
	}
	timestamp := ""
	if !r.Started.IsZero() {
		timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	pkg := junitPackage(r.Protocol)
	if r.Bench != nil {
		doc.Suites = append(doc.Suites, benchSuite(r, name, pkg, timestamp, props))
	}
	for _, sec := range r.Sections() {
		suite := junitSuite{
			Name:       x(name + ": " + sectionName(sec)),
			Timestamp:  timestamp,
			Package:    x(pkg),
			Properties: props,
		}
		var total time.Duration
		for _, sp := range sec.Specs {
			if sp.Duration > 0 {
				total += sp.Duration
			}
			if suite.File == "" {
				suite.File = x(sp.File)
			}
			c := junitCase{
				Name:      x(caseName(r, sp)),
				Classname: x(classname(r, sp)),
				Time:      seconds(sp.Duration),
				File:      x(sp.File),
			}
			if sp.Line > 0 {
				c.Line = strconv.Itoa(sp.Line)
			}
			switch {
			case sp.Known && sp.Unmet():
				c.Skipped = &junitProblem{Message: x(knownMessage(sp))}
				c.SystemOut = &junitText{x(problemText(r, sp))}
				suite.Skipped++
			case sp.State == StatePassed || sp.State == StateSupported:
			case sp.Unmet() && !r.Fails(sp) && sp.State != StateUnsupported:
				// A failure at a level --fail-on leaves out: reported,
				// and no failure for the CI, which agrees with the exit
				// code.
				c.Skipped = &junitProblem{
					Message: "failed at a level the run does not fail on (" + x(levelName(sp.Level)) + "): " + x(orDefault(headline(sp.Message), sp.State)),
				}
				c.SystemOut = &junitText{x(problemText(r, sp))}
				suite.Skipped++
			case sp.State == StateUnsupported && !r.Fails(sp):
				// An option the target does not take is no failure:
				// the case passes and says so.
				c.SystemOut = &junitText{x("not supported (MAY): " + problemText(r, sp))}
			case sp.State == StateSkipped:
				c.Skipped = &junitProblem{Message: x(headline(sp.Message))}
				suite.Skipped++
			case sp.Unjudged():
				// Could not be judged: an error for the CI, which
				// agrees with the exit code, never a pass.
				c.Error = &junitProblem{
					Message: x(sp.State + ": " + orDefault(headline(sp.Message), "could not be judged")),
					Type:    x(levelName(sp.Level)),
					Text:    x(problemText(r, sp)),
				}
				suite.Errors++
			case sp.State == StateError:
				c.Error = &junitProblem{
					Message: x(failureMessage(sp, "error")),
					Type:    x(levelName(sp.Level)),
					Text:    x(problemText(r, sp)),
				}
				suite.Errors++
			default:
				c.Failure = &junitProblem{
					Message: x(failureMessage(sp, sp.State)),
					Type:    x(levelName(sp.Level)),
					Text:    x(problemText(r, sp)),
				}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, c)
		}
		suite.Tests = len(suite.Cases)
		suite.Time = seconds(total)
		doc.Suites = append(doc.Suites, suite)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("reports: encoding junit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// benchSuite is a load run as JUnit: one testcase with the figures, which
// fails as `protospec bench` does (no validated response, or bad ones).
func benchSuite(r *Run, name, pkg, timestamp string, props []junitProperty) junitSuite {
	b := r.Bench
	var text strings.Builder
	_ = WriteBenchText(&text, b)
	c := junitCase{
		Name:      x(fmt.Sprintf("%s, %d connections[%s]", benchModeText(b), b.Connections, orDefault(r.Target.Name, "target"))),
		Classname: x(pkg + ".bench"),
		Time:      seconds(b.Duration),
		SystemOut: &junitText{x(text.String())},
	}
	suite := junitSuite{Name: x(name), Timestamp: timestamp, Package: x(pkg), Properties: props, Time: seconds(b.Duration)}
	if why := benchFailure(b); why != "" {
		c.Failure = &junitProblem{Message: x(why), Type: "bench", Text: x(text.String())}
		suite.Failures = 1
	}
	suite.Cases = []junitCase{c}
	suite.Tests = 1
	return suite
}

// benchFailure says why a load run failed, as `protospec bench` judges
// it: no response validated, or responses that were wrong.
func benchFailure(b *BenchResult) string {
	bad := b.Errors["bad_response"] + b.Errors["unexpected_status"]
	switch {
	case b.Requests == 0:
		return "no response was validated"
	case bad > 0:
		return fmt.Sprintf("%d responses were wrong (bad responses or unexpected statuses)", bad)
	}
	return ""
}

// RunName names a run for the reports and CI: the protocol, the kind of
// run unless it is a conformance run, and the target: "http1 against
// nginx", "http1 bench against 127.0.0.1:8080".
func RunName(r *Run) string {
	name := orDefault(r.Protocol, "protospec")
	if r.Kind != "" && r.Kind != KindConformance {
		name += " " + r.Kind
	}
	return name + " against " + orDefault(r.Target.Name, "unknown target")
}

// caseName is a spec's testcase name: its ID and, in brackets as pytest
// writes a parameter, the target.
func caseName(r *Run, sp Spec) string {
	return sp.ID + "[" + orDefault(r.Target.Name, "target") + "]"
}

// junitPackage is "protospec.<protocol>".
func junitPackage(protocol string) string {
	if p := classPart(protocol); p != "" {
		return "protospec." + p
	}
	return "protospec"
}

// classname is "protospec.<protocol>.<doc>.<section>" with every part
// reduced to letters, digits and '_' ("9.3" becomes "9_3"): reporters
// split the class from the package at the last dot, and some at spaces
// or slashes.
func classname(r *Run, sp Spec) string {
	proto := sp.Protocol
	if proto == "" {
		proto = r.Protocol
	}
	parts := []string{"protospec"}
	for _, p := range []string{proto, sp.Doc, sp.Section} {
		if p = classPart(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

func classPart(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s), "_")
}

// failureMessage is the message attribute of a failure: the first line
// of the message and where the requirement is.
func failureMessage(sp Spec, def string) string {
	m := orDefault(headline(sp.Message), def)
	if sp.Sentence != "" {
		m += " (" + escapeControl(sp.Cite(), true) + ")"
	}
	return m
}

// knownMessage is the skipped message of a known deviation: the
// baseline's reason, then the failure's first line.
func knownMessage(sp Spec) string {
	m := "known deviation (baseline)"
	if sp.KnownReason != "" {
		m += ": " + escapeControl(sp.KnownReason, true)
	}
	return m + " -- " + orDefault(headline(sp.Message), sp.State)
}

// problemText is the body of a failure: the spec, the requirement it
// checks (h2spec's "-> requirement"), the whole message, where it
// happened, and the transcript.
func problemText(r *Run, sp Spec) string {
	var b strings.Builder
	if sp.Title != "" {
		fmt.Fprintf(&b, "%s %s: %s\n", levelName(sp.Level), sp.ID, sp.Title)
	}
	if req := sp.Requirement("  "); req != "" {
		b.WriteString(req)
	}
	if sp.Known && sp.Unmet() {
		b.WriteString("  known deviation (baseline")
		if sp.KnownBy != "" {
			b.WriteString(" entry " + sp.KnownBy)
		}
		b.WriteString(")")
		if sp.KnownReason != "" {
			b.WriteString(": " + sp.KnownReason)
		}
		b.WriteString("\n")
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString(strings.TrimRight(sp.Message, "\n"))
	b.WriteString("\n")
	if sp.Location != "" {
		fmt.Fprintf(&b, "\nat %s\n", sp.Location)
	}
	if len(sp.Transcript) > 0 {
		b.WriteString("\ntranscript:\n")
		for _, l := range transcriptBlock(specProtocol(r, sp), sp.Transcript) {
			b.WriteString("  ")
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	for _, a := range sp.Attachments {
		fmt.Fprintf(&b, "\nattachment %s: %s\n", a.Name, a.Path)
	}
	return b.String()
}

// x makes s safe for XML 1.0 (see escapeControl); encoding/xml does the
// markup escaping.
func x(s string) string { return escapeControl(s, false) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
