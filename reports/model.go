// Package reports holds protospec's run-result model and the writers that
// render it: JSON (the model itself), JUnit XML, Markdown and a self-contained
// HTML page. Every kind of run (a conformance run, a capture replay, an
// offline capture check, a fuzz campaign) produces one Run, so every report a
// user reads comes from the same data.
//
//	run, err := reports.ReadFile("protospec-report/report.json")
//	if err != nil { ... }
//	err = reports.WriteAll("out", run) // report.json, junit.xml, report.md, report.html
package reports

import (
	"sort"
	"strings"
	"time"
)

// SchemaVersion names the version of the JSON model. It changes when a field
// changes meaning or is removed; adding a field keeps the version.
const SchemaVersion = "protospec.run/v1"

// Kinds of run.
const (
	KindConformance = "conformance"
	KindReplay      = "replay"
	KindCheck       = "check"
	KindFuzz        = "fuzz"
	KindBench       = "bench"
	// KindStress is a hostile-client battery (`protospec stress`): one
	// spec per attack, its Figures the attack's measurements.
	KindStress = "stress"
)

// Requirement levels, from the RFC's own words (RFC 2119).
const (
	LevelMust   = "MUST"
	LevelShould = "SHOULD"
	LevelMay    = "MAY"
	// LevelFixture is the contract of protospec's own fixture (the
	// /session cookie, /form), which no RFC demands.
	LevelFixture = "FIXTURE"
)

// DefaultFailOn is the levels whose failures fail a run unless the user
// chooses others: a MAY reports whether an option is supported and fails
// nothing by default.
var DefaultFailOn = []string{LevelMust, LevelShould, LevelFixture}

// States of a spec result.
const (
	StatePassed  = "passed"
	StateFailed  = "failed"
	StateSkipped = "skipped"
	// StateError is a spec that could not be judged: it panicked, was
	// interrupted or timed out in the suite's own code.
	StateError = "error"
	// StateSupported and StateUnsupported are the results of a MAY spec:
	// whether the target implements the optional behaviour. Neither is a
	// failure; Run.OK counts "not supported" only when asked to.
	StateSupported   = "supported"
	StateUnsupported = "not supported"
	// StateInconclusive is a spec that would have passed on a refusal (a
	// close, a reset, silence) that the requirement allows, but the
	// target, probed right after on a fresh connection, could not answer
	// a valid request either: a dead server refuses everything, so the
	// pass was not earned. It is neither passed nor failed, and one at a
	// level of the run's FailOn keeps the run from passing (see Judged).
	StateInconclusive = "inconclusive"
	// StateNotRun is a spec the run did not reach: it was cut short by
	// its deadline or interrupted.
	StateNotRun = "not run"
)

// Run is the result of one run of protospec against one target.
type Run struct {
	Schema   string        `json:"schema"`
	Tool     Tool          `json:"tool"`
	Kind     string        `json:"kind"`
	Protocol string        `json:"protocol"`
	Target   Target        `json:"target"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	// Filter is the label filter the run was made with, if any.
	Filter string `json:"filter,omitempty"`
	// Baseline names the file of known deviations the run was judged
	// against, if any; specs listed there have Known set.
	Baseline string `json:"baseline,omitempty"`
	// FailOn is the requirement levels whose failures fail the run
	// (--fail-on); empty means DefaultFailOn.
	FailOn []string `json:"fail_on,omitempty"`
	// BaselineMet lists, when the run was judged against a baseline, the
	// specs the baseline expects to fail that met their requirement in
	// this run (passed, supported) or could not be judged (skipped,
	// inconclusive, not run): what changed since the baseline was
	// written, beside the failures it does not list (Unexpected).
	BaselineMet []BaselineSpec `json:"baseline_met,omitempty"`
	// BaselineUnmatched lists the baseline's entries that match no spec
	// of the run (a filter left them out, or the suite lost the spec).
	BaselineUnmatched []string `json:"baseline_unmatched,omitempty"`
	Specs             []Spec   `json:"specs"`
	// Notes are run-level messages (a target's log excerpt, a warning).
	Notes []string `json:"notes,omitempty"`
	// Bench is the measurement of a load run (Kind "bench").
	Bench *BenchResult `json:"bench,omitempty"`
}

// Tool names the program that made the run.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Go      string `json:"go,omitempty"`
}

// Target describes what the run was pointed at.
type Target struct {
	// Name is what the user gave: "reference", "xinetd", "127.0.0.1:7000".
	Name string `json:"name"`
	// Kind is "reference", "launcher" or "address".
	Kind string `json:"kind"`
	// Version is the server's version where the launcher could tell it.
	Version string `json:"version,omitempty"`
	// Endpoints maps a service ("echo/tcp") to the address it was reached at.
	Endpoints map[string]string `json:"endpoints,omitempty"`
}

// Spec is the result of one spec: one requirement of one RFC section.
type Spec struct {
	// ID is the stable identity <proto>/<doc>/<section>/<slug>.
	ID       string `json:"id"`
	Protocol string `json:"protocol"`
	// Doc is the document the requirement comes from: "rfc862", "rfc9112",
	// or the name of a protocol protospec defines itself ("uppercase").
	Doc     string `json:"doc"`
	Section string `json:"section"`
	Level   string `json:"level"`
	Title   string `json:"title"`
	// SectionTitle is the section's heading in its document
	// ("Persistence"), when the suite names it.
	SectionTitle string `json:"section_title,omitempty"`
	// Sentence is the requirement as the document words it.
	Sentence string `json:"sentence,omitempty"`
	// SentenceSection is the section the sentence is in, when it is not
	// the spec's own (a requirement of 9.3 worded in 9.5).
	SentenceSection string `json:"sentence_section,omitempty"`
	// Inferred, when set, says why the sentence carries no RFC 2119
	// keyword (the document predates RFC 2119).
	Inferred string `json:"inferred,omitempty"`
	// URL links the sentence's section in its document
	// (https://www.rfc-editor.org/rfc/rfc9112#section-9.3); empty for a
	// document that is not an RFC. RequirementURL computes it.
	URL string `json:"url,omitempty"`
	// File and Line are where the spec is declared, relative to the
	// module root ("suites/http1/9_3_persistence.go").
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	State string `json:"state"`
	// Known is set when the spec failed (or, for a MAY, was not
	// supported) and the baseline lists it.
	Known bool `json:"known,omitempty"`
	// KnownBy is the baseline entry that expects the failure
	// ("http1/rfc9112/9.3/*"), and KnownReason the reason the baseline
	// gives for it (the comment above or beside the entry).
	KnownBy     string `json:"known_by,omitempty"`
	KnownReason string `json:"known_reason,omitempty"`
	// Message is the failure text, or the reason a spec was skipped.
	Message string `json:"message,omitempty"`
	// Location is where the failure was raised, relative to the module
	// root where it is in it ("suites/echo/rfc862.go:42").
	Location string        `json:"location,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Transcript is what the spec sent and received, in order.
	Transcript  []Event      `json:"transcript,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Figures are a measurement's numbers by name (a stress attack's
	// connections opened, the legitimate client's p99 latency).
	Figures map[string]float64 `json:"figures,omitempty"`
}

// Event is one step of a spec's conversation with the target.
type Event struct {
	// At is the time since the spec started.
	At time.Duration `json:"at_ns"`
	// Conn names the connection or socket ("tcp#1 127.0.0.1:7").
	Conn string `json:"conn,omitempty"`
	// Dir is "send", "recv", "open", "close" or "note".
	Dir string `json:"dir"`
	// Len is the number of bytes sent or received.
	Len int `json:"len,omitempty"`
	// Data is an escaped excerpt of the bytes (Go string-literal escapes),
	// or the note's text.
	Data string `json:"data,omitempty"`
	// Truncated is set when Data shows only the start of the bytes.
	Truncated bool `json:"truncated,omitempty"`
	// Decoded is the bytes as the protocol reads them (a DNS message
	// dig-style), from the decoder the protocol registered (see
	// RegisterDecoder); empty when there is none or it could not decode.
	Decoded string `json:"decoded,omitempty"`
}

// Directions of an Event.
const (
	DirSend  = "send"
	DirRecv  = "recv"
	DirOpen  = "open"
	DirClose = "close"
	DirNote  = "note"
)

// BaselineSpec is a spec the baseline expects to fail and its state in
// the run.
type BaselineSpec struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Entry is the baseline entry that lists it; Reason the entry's
	// reason.
	Entry  string `json:"entry"`
	Reason string `json:"reason,omitempty"`
}

// Attachment is a file that belongs to a spec, such as its capture.
type Attachment struct {
	Name string `json:"name"`
	// Path is relative to the report directory where possible.
	Path      string `json:"path"`
	MediaType string `json:"media_type,omitempty"`
}

// Summary counts the specs of a run.
type Summary struct {
	Total, Passed, Failed, Skipped, Errors int
	// Supported and Unsupported count the MAY specs' results.
	Supported, Unsupported int
	// Inconclusive and NotRun count the specs that could not be judged.
	Inconclusive, NotRun int
	// Known counts failures and errors the baseline expects.
	Known int
	// ByLevel counts per requirement level: passed, failed (including
	// errors), skipped.
	ByLevel map[string]*Counts
}

// Counts is a passed/failed/skipped triple; for MAY, passed counts the
// supported options and failed the options not supported. Inconclusive
// counts the specs that could not be judged (inconclusive, not run),
// which are in none of the three.
type Counts struct {
	Passed, Failed, Skipped int
	Inconclusive            int
}

// Summarize counts the specs of r.
func (r *Run) Summarize() Summary {
	s := Summary{ByLevel: map[string]*Counts{}}
	for _, sp := range r.Specs {
		s.Total++
		c := s.ByLevel[sp.Level]
		if c == nil {
			c = &Counts{}
			s.ByLevel[sp.Level] = c
		}
		switch sp.State {
		case StatePassed:
			s.Passed++
			c.Passed++
		case StateSupported:
			s.Supported++
			c.Passed++
		case StateUnsupported:
			s.Unsupported++
			c.Failed++
		case StateSkipped:
			s.Skipped++
			c.Skipped++
		case StateInconclusive:
			s.Inconclusive++
			c.Inconclusive++
		case StateNotRun:
			s.NotRun++
			c.Inconclusive++
		case StateError:
			s.Errors++
			c.Failed++
		default:
			s.Failed++
			c.Failed++
		}
		if sp.Known && sp.Unmet() {
			s.Known++
		}
	}
	return s
}

// Failing reports whether the spec failed or errored.
func (s Spec) Failing() bool { return s.State == StateFailed || s.State == StateError }

// Unjudged reports whether the spec could not be judged: inconclusive,
// or not run.
func (s Spec) Unjudged() bool { return s.State == StateInconclusive || s.State == StateNotRun }

// Unjudged returns the specs at the run's FailOn levels that could not be
// judged (inconclusive or not run): a run that has any did not show the
// target conforms, even with no failure, and must not pass.
func (r *Run) Unjudged() []Spec {
	at := r.failOn()
	var out []Spec
	for _, sp := range r.Specs {
		if sp.Unjudged() && (at[sp.Level] || sp.Level == "") {
			out = append(out, sp)
		}
	}
	return out
}

// Unmet reports whether the spec failed, errored, or is a MAY the target
// does not support: what a baseline may list.
func (s Spec) Unmet() bool { return s.Failing() || s.State == StateUnsupported }

// OK reports whether the run has no failure that the baseline does not
// expect, at the levels of r.FailOn (DefaultFailOn when it is empty).
func (r *Run) OK() bool {
	if len(r.FailOn) == 0 {
		return r.OKAt(DefaultFailOn)
	}
	return r.OKAt(r.FailOn)
}

// Unexpected returns the specs that fail the run: unmet, not expected by
// the baseline, and at one of the run's FailOn levels.
func (r *Run) Unexpected() []Spec {
	at := r.failOn()
	var out []Spec
	for _, sp := range r.Specs {
		if failsRun(sp, at) {
			out = append(out, sp)
		}
	}
	return out
}

// Fails reports whether sp, a spec of r, fails the run.
func (r *Run) Fails(sp Spec) bool { return failsRun(sp, r.failOn()) }

func (r *Run) failOn() map[string]bool {
	levels := r.FailOn
	if len(levels) == 0 {
		levels = DefaultFailOn
	}
	at := map[string]bool{}
	for _, l := range levels {
		at[strings.ToUpper(l)] = true
	}
	return at
}

func failsRun(sp Spec, at map[string]bool) bool {
	if sp.Known || !sp.Unmet() {
		return false
	}
	switch sp.Level {
	case LevelMust, LevelShould, LevelMay, LevelFixture:
		return at[sp.Level]
	}
	// No level (a capture check's rule) or one this model does not know:
	// it counts, whatever --fail-on says.
	return true
}

// OKAt reports whether the run has no unexpected failure at one of the
// levels given: a spec of another level never fails the run, and a MAY
// fails it (when "MAY" is given) by being not supported. A spec without a
// known level, such as a capture check's rule, always counts.
func (r *Run) OKAt(levels []string) bool {
	at := map[string]bool{}
	for _, l := range levels {
		at[strings.ToUpper(l)] = true
	}
	for _, sp := range r.Specs {
		if failsRun(sp, at) {
			return false
		}
	}
	return true
}

// Sections groups the specs by document and section, in a stable order
// (document, then section in natural order, then ID).
func (r *Run) Sections() []Section {
	idx := map[[2]string]int{}
	var out []Section
	for _, sp := range r.Specs {
		k := [2]string{sp.Doc, sp.Section}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Section{Doc: sp.Doc, Section: sp.Section})
		}
		if out[i].Title == "" {
			out[i].Title = sp.SectionTitle
		}
		out[i].Specs = append(out[i].Specs, sp)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Doc != out[j].Doc {
			return out[i].Doc < out[j].Doc
		}
		return NaturalLess(out[i].Section, out[j].Section)
	})
	for _, s := range out {
		sort.SliceStable(s.Specs, func(i, j int) bool { return s.Specs[i].ID < s.Specs[j].ID })
	}
	return out
}

// Section is the specs of one section of one document.
type Section struct {
	Doc, Section string
	// Title is the section's heading, when the suite names it.
	Title string
	Specs []Spec
}

// NaturalLess orders section numbers as a reader expects: "2.10" after
// "2.9", and words after numbers.
func NaturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, ra := leadingNumber(a)
		db, rb := leadingNumber(b)
		switch {
		case da >= 0 && db >= 0:
			if da != db {
				return da < db
			}
			a, b = ra, rb
		case da >= 0:
			return true
		case db >= 0:
			return false
		default:
			if a[0] != b[0] {
				return a[0] < b[0]
			}
			a, b = a[1:], b[1:]
		}
	}
	return len(a) < len(b)
}

// leadingNumber returns the decimal number at the start of s and the rest,
// or -1 when s does not start with a digit.
func leadingNumber(s string) (int, string) {
	n, i := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 9 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 0 {
		return -1, s
	}
	return n, s[i:]
}
