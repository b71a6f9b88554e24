package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"sort"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate renders the HTML report. html/template escapes every value
// for its context, so spec data (messages, transcripts) stays inert text.
var htmlTemplate = template.Must(template.New("report.html").Parse(htmlSource))

// WriteHTML writes r as one self-contained HTML page: inline style and a
// small inline script to filter by state and level, and no reference to
// anything outside the page except relative links to attachments.
func WriteHTML(w io.Writer, r *Run) error {
	if r == nil {
		return ErrNilRun
	}
	if err := htmlTemplate.Execute(w, newHTMLView(r)); err != nil {
		return fmt.Errorf("reports: rendering html: %w", err)
	}
	return nil
}

type htmlView struct {
	Run                               *Run
	Title, Verdict, Started, Duration string
	Tool                              string
	OK                                bool
	Summary                           Summary
	Endpoints                         []htmlEndpoint
	Notes                             []string
	Bar                               []htmlBar
	Levels, States                    []string
	Matrix                            []htmlRow
	Sections                          []htmlSection
	// Failures are the failing specs the baseline does not list, by
	// section, shown first; Changes is the "since the baseline" panel of
	// a run judged against one.
	Failures []htmlSection
	Changes  *htmlChanges
	// Bench is the rendered load-run section, when the run has one.
	Bench template.HTML
}

type htmlEndpoint struct{ Service, Addr string }

type htmlBar struct {
	Class   string
	Count   int
	Percent string
}

type htmlRow struct {
	Name, Anchor string
	Cells        []htmlCell
}

type htmlCell struct {
	Passed, Failed, Skipped, known, unexpected int
	Empty                                      bool
	Class                                      string
}

type htmlSection struct {
	Name, Anchor, Count string
	Specs               []htmlSpec
}

type htmlSpec struct {
	ID, Level, Title, Status, Duration string
	// Class is Status as a CSS class ("not-supported"); Sentence is the
	// requirement as the document words it, Cite where it is, URL its
	// link (empty for a document that is not an RFC).
	Class, Sentence, Cite, URL, Inferred string
	Reason, Location, Message            string
	// Declared is where the spec is declared (file:line).
	Declared string
	// Anchor is the element id of the spec's copy in its section
	// (SpecAnchor), which a matrix links to; the copy among the failures
	// at the top has none.
	Anchor      string
	Known       *htmlKnown
	Open, Empty bool
	Events      []htmlEvent
	Attachments []htmlAttachment
}

type htmlKnown struct{ Entry, Reason string }

type htmlEvent struct{ Dir, Text, Decoded string }

type htmlChanges struct {
	Name                            string
	Empty                           bool
	NewFailures, NowPass, NotJudged []htmlChange
	Unmatched                       int
}

type htmlChange struct{ ID, State, Class, Entry, Reason string }

type htmlAttachment struct {
	Name, Path string
	Link       bool
}

func newHTMLView(r *Run) *htmlView {
	c := func(s string) string { return escapeControl(s, false) }
	sum := r.Summarize()
	v := &htmlView{
		Run:      sanitizedRun(r),
		Title:    c(fmt.Sprintf("protospec %s report: %s", orDefault(r.Protocol, "run"), orDefault(r.Target.Name, "unknown target"))),
		Duration: fmtDuration(r.Duration),
		Tool:     c(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version)),
		OK:       r.OK(),
		Summary:  sum,
		States:   []string{StatePassed, StateFailed, StateError, StatusKnown, StateSkipped, StateSupported, StateUnsupported, StateInconclusive, StateNotRun},
	}
	if r.Tool.Go != "" {
		v.Tool += " (" + c(r.Tool.Go) + ")"
	}
	if r.Bench != nil {
		v.Bench = benchHTML(r.Bench)
	}
	if !r.Started.IsZero() {
		v.Started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	switch unexpected := len(r.Unexpected()); {
	case sum.Failed+sum.Errors == 0 && unexpected == 0:
		v.Verdict = "PASS"
	case v.OK:
		v.Verdict = "PASS (failures are known deviations or at levels that do not fail the run)"
	case unexpected == 1:
		v.Verdict = "FAIL: 1 unexpected failure"
	default:
		v.Verdict = fmt.Sprintf("FAIL: %d unexpected failures", unexpected)
	}
	if n := len(r.Unjudged()); n > 0 && len(r.Unexpected()) == 0 {
		v.OK = false
		v.Verdict = fmt.Sprintf("NOT JUDGED: %d specs inconclusive or not run", n)
	}
	services := make([]string, 0, len(r.Target.Endpoints))
	for s := range r.Target.Endpoints {
		services = append(services, s)
	}
	sort.Strings(services)
	for _, s := range services {
		v.Endpoints = append(v.Endpoints, htmlEndpoint{c(s), c(r.Target.Endpoints[s])})
	}
	for _, n := range r.Notes {
		v.Notes = append(v.Notes, c(n))
	}
	if sum.Total > 0 {
		for _, b := range []struct {
			class string
			n     int
		}{
			{StatePassed, sum.Passed},
			{StateFailed, sum.Failed},
			{StateError, sum.Errors},
			{StatusKnown, sum.Known},
			{StateSkipped, sum.Skipped},
			{StateInconclusive, sum.Inconclusive},
			{strings.ReplaceAll(StateNotRun, " ", "-"), sum.NotRun},
		} {
			n := b.n
			switch b.class {
			case StateFailed, StateError:
				n = countStatus(r, b.class) // known ones have their own bar
			}
			if n > 0 {
				v.Bar = append(v.Bar, htmlBar{b.class, n, fmt.Sprintf("%.2f", 100*float64(n)/float64(sum.Total))})
			}
		}
	}
	levels := levelOrder(sum)
	for _, l := range levels {
		v.Levels = append(v.Levels, c(levelName(l)))
	}
	total := htmlRow{Name: "all sections", Cells: make([]htmlCell, len(levels))}
	for i, sec := range r.Sections() {
		anchor := fmt.Sprintf("sec-%d", i+1)
		row := htmlRow{Name: c(sectionName(sec)), Anchor: anchor, Cells: make([]htmlCell, len(levels))}
		hs := htmlSection{Name: row.Name, Anchor: anchor}
		if n := len(sec.Specs); n == 1 {
			hs.Count = "1 spec"
		} else {
			hs.Count = fmt.Sprintf("%d specs", n)
		}
		for _, sp := range sec.Specs {
			li := 0
			for j, l := range levels {
				if l == sp.Level {
					li = j
				}
			}
			row.Cells[li].add(sp)
			total.Cells[li].add(sp)
			h := newHTMLSpec(r, sp)
			h.Anchor = SpecAnchor(sp.ID)
			hs.Specs = append(hs.Specs, h)
			h.Anchor = ""
			if sp.Failing() && !sp.Known {
				if len(v.Failures) == 0 || v.Failures[len(v.Failures)-1].Anchor != anchor {
					v.Failures = append(v.Failures, htmlSection{Name: hs.Name, Anchor: anchor})
				}
				h.Open = true
				f := &v.Failures[len(v.Failures)-1]
				f.Specs = append(f.Specs, h)
			}
		}
		v.Matrix = append(v.Matrix, row)
		v.Sections = append(v.Sections, hs)
	}
	for i := range v.Failures {
		if n := len(v.Failures[i].Specs); n == 1 {
			v.Failures[i].Count = "1 failure"
		} else {
			v.Failures[i].Count = fmt.Sprintf("%d failures", n)
		}
	}
	if r.Baseline != "" {
		v.Changes = newHTMLChanges(r)
	}
	v.Matrix = append(v.Matrix, total)
	for i := range v.Matrix {
		for j := range v.Matrix[i].Cells {
			v.Matrix[i].Cells[j].finish()
		}
	}
	return v
}

func (cell *htmlCell) add(sp Spec) {
	switch {
	case sp.State == StatePassed || sp.State == StateSupported:
		cell.Passed++
	case sp.State == StateUnsupported && !sp.Known:
		// Not supported is no deviation: counted, never marked bad.
		cell.Failed++
	case sp.State == StateSkipped:
		cell.Skipped++
	case sp.Unjudged():
		// Neither passed nor failed: the cell shows it as a warning.
		cell.Skipped++
		cell.known++
	default:
		cell.Failed++
		if sp.Known {
			cell.known++
		} else {
			cell.unexpected++
		}
	}
}

func (cell *htmlCell) finish() {
	switch {
	case cell.Passed+cell.Failed+cell.Skipped == 0:
		cell.Empty, cell.Class = true, "empty"
	case cell.unexpected > 0:
		cell.Class = "bad"
	case cell.known > 0:
		cell.Class = "warn"
	case cell.Passed > 0:
		cell.Class = "good"
	default:
		cell.Class = "skip"
	}
}

func newHTMLChanges(r *Run) *htmlChanges {
	c := func(s string) string { return escapeControl(s, false) }
	ch := BaselineChanges(r)
	out := &htmlChanges{Name: c(r.Baseline), Empty: ch.Empty(), Unmatched: len(r.BaselineUnmatched)}
	conv := func(in []BaselineSpec) []htmlChange {
		var l []htmlChange
		for _, b := range in {
			l = append(l, htmlChange{ID: c(b.ID), State: c(b.State), Class: strings.ReplaceAll(c(b.State), " ", "-"), Entry: c(b.Entry), Reason: c(b.Reason)})
		}
		return l
	}
	out.NewFailures, out.NowPass, out.NotJudged = conv(ch.NewFailures), conv(ch.NowPass), conv(ch.NotJudged)
	return out
}

func newHTMLSpec(r *Run, sp Spec) htmlSpec {
	c := func(s string) string { return escapeControl(s, false) }
	h := htmlSpec{
		ID:       c(sp.ID),
		Level:    c(levelName(sp.Level)),
		Title:    c(sp.Title),
		Status:   sp.Status(),
		Class:    strings.ReplaceAll(sp.Status(), " ", "-"),
		Sentence: c(sp.Sentence),
		Inferred: c(sp.Inferred),
		Duration: fmtDuration(sp.Duration),
		Location: c(sp.Location),
		Declared: c(fileLine(sp)),
		Message:  c(strings.TrimRight(sp.Message, "\n")),
	}
	if sp.Sentence != "" {
		h.Cite = c(sp.Cite())
		if u := sp.Link(); u != "" && relativeOrWeb(u) {
			h.URL = u
		}
	}
	if sp.State == StateSkipped || sp.Unjudged() {
		h.Reason = headline(sp.Message)
	}
	if sp.Known && sp.Unmet() {
		h.Known = &htmlKnown{Entry: c(sp.KnownBy), Reason: c(sp.KnownReason)}
		h.Reason = headline(sp.KnownReason)
	}
	evs := decodedEvents(specProtocol(r, sp), sp.Transcript)
	for i, l := range transcriptText(evs) {
		dir := evs[i].Dir
		switch dir {
		case DirSend, DirRecv, DirOpen, DirClose, DirNote:
		default:
			dir = "other"
		}
		h.Events = append(h.Events, htmlEvent{Dir: dir, Text: l, Decoded: c(evs[i].Decoded)})
	}
	for _, a := range sp.Attachments {
		h.Attachments = append(h.Attachments, htmlAttachment{
			Name: c(orDefault(a.Name, a.Path)),
			Path: c(a.Path),
			Link: relativeLink(a.Path),
		})
	}
	h.Empty = h.Location == "" && h.Message == "" && len(h.Events) == 0 && len(h.Attachments) == 0
	return h
}

// relativeOrWeb reports whether u is an https link to the RFC Editor,
// the only place outside its directory the page links to.
func relativeOrWeb(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && pu.Scheme == "https" && pu.Host == "www.rfc-editor.org"
}

// relativeLink reports whether p can be linked from the report as a path
// relative to it: no scheme, no host, not absolute. Anything else is shown
// as text, so the page never points outside its directory.
func relativeLink(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || strings.ContainsAny(p, "\x00\r\n") {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.Opaque == ""
}

// sanitizedRun returns a copy of r's header fields with text made safe for
// the page.
func sanitizedRun(r *Run) *Run {
	c := func(s string) string { return escapeControl(s, false) }
	return &Run{
		Kind:     c(r.Kind),
		Protocol: c(r.Protocol),
		Filter:   c(r.Filter),
		Baseline: c(r.Baseline),
		Target: Target{
			Name:    c(r.Target.Name),
			Kind:    c(r.Target.Kind),
			Version: c(r.Target.Version),
		},
	}
}

func countStatus(r *Run, status string) int {
	n := 0
	for _, sp := range r.Specs {
		if sp.Status() == status {
			n++
		}
	}
	return n
}
