package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// JUnit XML, as the Jenkins junit-10 schema describes it and as GitHub,
// GitLab and Jenkins read it. Each document section is one <testsuite>
// ("rfc862 tcp") and each spec one <testcase> named by its ID. A failure
// the baseline expects is written as <skipped>, so a CI that reads the
// JUnit file agrees with the run's exit code.

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
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
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
// Text that XML 1.0 cannot hold is escaped Go-style, so the output always
// parses.
func WriteJUnit(w io.Writer, r *Run) error {
	if r == nil {
		return ErrNilRun
	}
	doc := junitSuites{
		Name: x(strings.TrimSpace("protospec " + r.Protocol + " " + r.Target.Name)),
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
	for _, sec := range r.Sections() {
		suite := junitSuite{
			Name:       x(sectionName(sec)),
			Timestamp:  timestamp,
			Package:    x(r.Protocol),
			Properties: props,
		}
		var total time.Duration
		for _, sp := range sec.Specs {
			if sp.Duration > 0 {
				total += sp.Duration
			}
			c := junitCase{
				Name:      x(sp.ID),
				Classname: x(classname(r, sp)),
				Time:      seconds(sp.Duration),
			}
			switch {
			case sp.Known && sp.Unmet():
				c.Skipped = &junitProblem{
					Message: "known deviation (baseline): " + x(orDefault(headline(sp.Message), sp.State)),
				}
				c.SystemOut = &junitText{x(problemText(sp))}
				suite.Skipped++
			case sp.State == StatePassed || sp.State == StateSupported:
			case sp.Unmet() && !r.Fails(sp) && sp.State != StateUnsupported:
				// A failure at a level --fail-on leaves out: reported,
				// and no failure for the CI, which agrees with the exit
				// code.
				c.Skipped = &junitProblem{
					Message: "failed at a level the run does not fail on (" + x(levelName(sp.Level)) + "): " + x(orDefault(headline(sp.Message), sp.State)),
				}
				c.SystemOut = &junitText{x(problemText(sp))}
				suite.Skipped++
			case sp.State == StateUnsupported && !r.Fails(sp):
				// An option the target does not take is no failure:
				// the case passes and says so.
				c.SystemOut = &junitText{x("not supported (MAY): " + problemText(sp))}
			case sp.State == StateSkipped:
				c.Skipped = &junitProblem{Message: x(headline(sp.Message))}
				suite.Skipped++
			case sp.Unjudged():
				// Could not be judged: an error for the CI, which
				// agrees with the exit code, never a pass.
				c.Error = &junitProblem{
					Message: x(sp.State + ": " + orDefault(headline(sp.Message), "could not be judged")),
					Type:    x(levelName(sp.Level)),
					Text:    x(problemText(sp)),
				}
				suite.Errors++
			case sp.State == StateError:
				c.Error = &junitProblem{
					Message: x(orDefault(headline(sp.Message), "error")),
					Type:    x(levelName(sp.Level)),
					Text:    x(problemText(sp)),
				}
				suite.Errors++
			default:
				c.Failure = &junitProblem{
					Message: x(orDefault(headline(sp.Message), sp.State)),
					Type:    x(levelName(sp.Level)),
					Text:    x(problemText(sp)),
				}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, c)
		}
		suite.Tests = len(suite.Cases)
		suite.Time = seconds(total)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Suites = append(doc.Suites, suite)
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

// classname is "<protocol>.<doc>.<section>", the grouping CI tools show.
func classname(r *Run, sp Spec) string {
	proto := sp.Protocol
	if proto == "" {
		proto = r.Protocol
	}
	var parts []string
	for _, p := range []string{proto, sp.Doc, sp.Section} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// problemText is the body of a failure: the whole message, where it
// happened, and the transcript.
func problemText(sp Spec) string {
	var b strings.Builder
	if sp.Title != "" {
		fmt.Fprintf(&b, "%s %s\n\n", levelName(sp.Level), sp.Title)
	}
	if sp.Sentence != "" {
		fmt.Fprintf(&b, "%s %s: %q\n\n", sp.Doc, sp.Section, sp.Sentence)
	}
	b.WriteString(strings.TrimRight(sp.Message, "\n"))
	b.WriteString("\n")
	if sp.Location != "" {
		fmt.Fprintf(&b, "\nat %s\n", sp.Location)
	}
	if len(sp.Transcript) > 0 {
		b.WriteString("\ntranscript:\n")
		for _, l := range transcriptText(sp.Transcript) {
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
