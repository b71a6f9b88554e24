package reports

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// A matrix puts several runs of one suite side by side: one row per spec
// (grouped by document and section, with its level and sentence), one
// column per target, each cell the spec's status against that target and
// a link to its transcript in that target's own HTML report. It is what
// `protospec matrix` renders (WriteMatrixSite): every server in one page.

// MatrixRun is one column's input: a run's report and where its report
// directory is, relative to the matrix site, for the cells' links. Err
// is set, and Run nil, for a target whose run did not produce a report
// (it is shown as a column that did not run, with the reason).
type MatrixRun struct {
	Name string
	Dir  string
	Run  *Run
	Err  string
}

// Matrix is the grid of specs by targets.
type Matrix struct {
	Protocol string          `json:"protocol"`
	Made     time.Time       `json:"made"`
	Columns  []MatrixColumn  `json:"columns"`
	Sections []MatrixSection `json:"sections"`
}

// MatrixColumn is one target: its name, kind and version as its run
// recorded them, the relative link to its report, and its counts.
type MatrixColumn struct {
	Name    string  `json:"name"`
	Kind    string  `json:"kind,omitempty"`
	Version string  `json:"version,omitempty"`
	Report  string  `json:"report,omitempty"`
	Error   string  `json:"error,omitempty"`
	OK      bool    `json:"ok"`
	Summary Summary `json:"summary"`
	// Failed counts the failures and errors its baseline does not list.
	Failed int `json:"failed"`
}

// MatrixSection is the rows of one section of one document.
type MatrixSection struct {
	Doc     string      `json:"doc"`
	Section string      `json:"section"`
	Name    string      `json:"name"`
	Rows    []MatrixRow `json:"rows"`
}

// MatrixRow is one spec across the targets.
type MatrixRow struct {
	ID       string       `json:"id"`
	Level    string       `json:"level"`
	Title    string       `json:"title"`
	Sentence string       `json:"sentence,omitempty"`
	URL      string       `json:"url,omitempty"`
	Cells    []MatrixCell `json:"cells"`
	// Differs is set when the targets that ran the spec do not all have
	// the same status.
	Differs bool `json:"differs"`
}

// MatrixCell is one spec against one target. Status is the spec's
// Status ("passed", "failed", "known", "not supported"...) or "absent"
// when the target's run has no such spec (or the target did not run).
type MatrixCell struct {
	Status string `json:"status"`
	// Why is the skip reason, the baseline's reason for a known
	// deviation, or the first line of a failure.
	Why  string `json:"why,omitempty"`
	Link string `json:"link,omitempty"`
}

// StatusAbsent is a cell whose target has no result for its spec.
const StatusAbsent = "absent"

// SpecAnchor is the fragment of a spec in an HTML report
// ("report.html#spec-http1/rfc9112/9.3/persistent"): the report opens the
// spec it names.
func SpecAnchor(id string) string {
	var b strings.Builder
	b.WriteString("spec-")
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("/._-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// NewMatrix builds the grid of the runs, in the order given. Rows are the
// union of the runs' specs, in the reports' section order.
func NewMatrix(protocol string, runs []MatrixRun) *Matrix {
	m := &Matrix{Protocol: protocol, Made: time.Now().UTC()}
	union := &Run{}
	seen := map[string]bool{}
	byTarget := make([]map[string]Spec, len(runs))
	for i, mr := range runs {
		col := MatrixColumn{Name: mr.Name, Error: mr.Err}
		byTarget[i] = map[string]Spec{}
		if mr.Run != nil {
			r := mr.Run
			if col.Name == "" {
				col.Name = r.Target.Name
			}
			if m.Protocol == "" {
				m.Protocol = r.Protocol
			}
			col.Kind, col.Version = r.Target.Kind, r.Target.Version
			col.OK = r.OK() && len(r.Unjudged()) == 0
			col.Summary = r.Summarize()
			if mr.Dir != "" {
				col.Report = filepath.ToSlash(filepath.Join(mr.Dir, FileHTML))
			}
			for _, sp := range r.Specs {
				if sp.Failing() && !sp.Known {
					col.Failed++
				}
				byTarget[i][sp.ID] = sp
				if !seen[sp.ID] {
					seen[sp.ID] = true
					union.Specs = append(union.Specs, sp)
				}
			}
		}
		m.Columns = append(m.Columns, col)
	}
	for _, sec := range union.Sections() {
		ms := MatrixSection{Doc: sec.Doc, Section: sec.Section, Name: sectionName(sec)}
		for _, sp := range sec.Specs {
			row := MatrixRow{ID: sp.ID, Level: levelName(sp.Level), Title: sp.Title, Sentence: sp.Sentence}
			if sp.Sentence != "" {
				if u := sp.Link(); relativeOrWeb(u) {
					row.URL = u
				}
			}
			first := ""
			for i, col := range m.Columns {
				cell := MatrixCell{Status: StatusAbsent}
				if got, ok := byTarget[i][sp.ID]; ok {
					cell.Status = got.Status()
					switch {
					case got.Known && got.Unmet():
						cell.Why = headline(orDefault(got.KnownReason, got.Message))
					case got.State != StatePassed && got.State != StateSupported:
						cell.Why = headline(got.Message)
					}
					if col.Report != "" {
						cell.Link = col.Report + "#" + SpecAnchor(sp.ID)
					}
					switch {
					case first == "":
						first = cell.Status
					case first != cell.Status:
						row.Differs = true
					}
				}
				row.Cells = append(row.Cells, cell)
			}
			ms.Rows = append(ms.Rows, row)
		}
		m.Sections = append(m.Sections, ms)
	}
	return m
}

// Rows counts the matrix's rows.
func (m *Matrix) Rows() int {
	n := 0
	for _, s := range m.Sections {
		n += len(s.Rows)
	}
	return n
}

// Differing counts the rows whose targets disagree.
func (m *Matrix) Differing() int {
	n := 0
	for _, s := range m.Sections {
		for _, r := range s.Rows {
			if r.Differs {
				n++
			}
		}
	}
	return n
}

//go:embed matrix.html.tmpl
var matrixSource string

var matrixTemplate = template.Must(template.New("matrix.html").Funcs(template.FuncMap{
	"class":    func(s string) string { return strings.ReplaceAll(s, " ", "-") },
	"inc":      func(n int) int { return n + 1 },
	"unjudged": func(s Summary) int { return s.Inconclusive + s.NotRun },
	"may":      func(s Summary) int { return s.Supported + s.Unsupported },
	"short": func(s string) string {
		switch s {
		case StatePassed:
			return "pass"
		case StateFailed:
			return "FAIL"
		case StatusKnown:
			return "known"
		case StateSkipped:
			return "skip"
		case StateSupported:
			return "yes"
		case StateUnsupported:
			return "no"
		case StateInconclusive:
			return "?"
		case StateNotRun:
			return "not run"
		case StateError:
			return "error"
		case StatusAbsent:
			return ""
		}
		return s
	},
}).Parse(matrixSource))

type matrixView struct {
	*Matrix
	Title, Made string
	Levels      []string
	Docs        []string
	Statuses    []string
	Total       int
}

// WriteMatrixHTML writes the matrix as one self-contained page (inline
// style and script; links only to the targets' reports, relative, and to
// the RFC Editor). Every value is escaped for its context.
func WriteMatrixHTML(w io.Writer, m *Matrix) error {
	c := func(s string) string { return escapeControl(s, false) }
	v := matrixView{Matrix: sanitizedMatrix(m), Total: m.Rows()}
	v.Title = c(fmt.Sprintf("protospec %s matrix: %d specs, %d targets", orDefault(m.Protocol, "run"), v.Total, len(m.Columns)))
	if !m.Made.IsZero() {
		v.Made = m.Made.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	levels, docs, statuses := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range v.Sections {
		docs[s.Doc] = true
		for _, r := range s.Rows {
			levels[r.Level] = true
			for _, cell := range r.Cells {
				if cell.Status != StatusAbsent {
					statuses[cell.Status] = true
				}
			}
		}
	}
	for _, l := range []string{LevelMust, LevelShould, LevelMay, LevelFixture} {
		if levels[l] {
			v.Levels = append(v.Levels, l)
			delete(levels, l)
		}
	}
	v.Levels = append(v.Levels, sortedKeys(levels)...)
	v.Docs = sortedKeys(docs)
	for _, s := range []string{StateFailed, StateError, StatusKnown, StateInconclusive, StateNotRun, StateUnsupported, StateSupported, StateSkipped, StatePassed} {
		if statuses[s] {
			v.Statuses = append(v.Statuses, s)
		}
	}
	if err := matrixTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("reports: rendering matrix: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sanitizedMatrix is a copy of m with control characters of every text
// shown escaped, as the other reports show them.
func sanitizedMatrix(m *Matrix) *Matrix {
	c := func(s string) string { return escapeControl(s, false) }
	out := *m
	out.Columns = append([]MatrixColumn(nil), m.Columns...)
	for i := range out.Columns {
		col := &out.Columns[i]
		col.Name, col.Kind, col.Version, col.Error = c(col.Name), c(col.Kind), c(col.Version), c(col.Error)
		if !relativeLink(col.Report) {
			col.Report = ""
		}
	}
	out.Sections = make([]MatrixSection, len(m.Sections))
	for i, s := range m.Sections {
		ns := MatrixSection{Doc: c(s.Doc), Section: c(s.Section), Name: c(s.Name)}
		for _, r := range s.Rows {
			nr := r
			nr.ID, nr.Level, nr.Title, nr.Sentence = c(r.ID), c(r.Level), c(r.Title), c(r.Sentence)
			nr.Cells = make([]MatrixCell, len(r.Cells))
			for j, cell := range r.Cells {
				cell.Why = c(cell.Why)
				if !relativeLink(cell.Link) {
					cell.Link = ""
				}
				nr.Cells[j] = cell
			}
			ns.Rows = append(ns.Rows, nr)
		}
		out.Sections[i] = ns
	}
	return &out
}

// WriteMatrixMarkdown writes the matrix as Markdown tables, one per
// section, with a summary table of the targets first.
func WriteMatrixMarkdown(w io.Writer, m *Matrix) error {
	bw := bufio.NewWriter(w)
	md := func(s string) string { return markdownCell(s) }
	fmt.Fprintf(bw, "# protospec %s matrix\n\n%d specs, %d targets, %d rows where the targets differ.\n\n", md(orDefault(m.Protocol, "run")), m.Rows(), len(m.Columns), m.Differing())
	fmt.Fprintf(bw, "| target | version | passed | failed | known | skipped | not judged | MAY supported |\n|---|---|---|---|---|---|---|---|\n")
	for _, col := range m.Columns {
		if col.Error != "" {
			fmt.Fprintf(bw, "| %s | | did not run: %s | | | | | |\n", md(col.Name), md(col.Error))
			continue
		}
		s := col.Summary
		fmt.Fprintf(bw, "| %s | %s | %d | %d | %d | %d | %d | %d/%d |\n", md(col.Name), md(col.Version), s.Passed, col.Failed, s.Known, s.Skipped, s.Inconclusive+s.NotRun, s.Supported, s.Supported+s.Unsupported)
	}
	for _, sec := range m.Sections {
		fmt.Fprintf(bw, "\n## %s\n\n| spec | level |", md(sec.Name))
		for _, col := range m.Columns {
			fmt.Fprintf(bw, " %s |", md(col.Name))
		}
		fmt.Fprintf(bw, "\n|---|---|%s\n", strings.Repeat("---|", len(m.Columns)))
		for _, r := range sec.Rows {
			fmt.Fprintf(bw, "| `%s` | %s |", strings.ReplaceAll(md(r.ID), "`", "'"), md(r.Level))
			for _, cell := range r.Cells {
				if cell.Status == StatusAbsent {
					bw.WriteString(" |")
					continue
				}
				fmt.Fprintf(bw, " %s |", md(cell.Status))
			}
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

// markdownCell makes s safe inside a Markdown table cell.
func markdownCell(s string) string {
	s = escapeControl(s, true)
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

// Names of the files WriteMatrixSite writes.
const (
	FileMatrixHTML     = "index.html"
	FileMatrixMarkdown = "matrix.md"
	FileMatrixJSON     = "matrix.json"
)

// WriteMatrixSite writes the matrix into dir: index.html, matrix.md and
// matrix.json, each through a temporary name and a rename. The targets'
// report directories the cells link to are the caller's to put there.
func WriteMatrixSite(dir string, m *Matrix) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	var errs []error
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{FileMatrixHTML, func(w io.Writer) error { return WriteMatrixHTML(w, m) }},
		{FileMatrixMarkdown, func(w io.Writer) error { return WriteMatrixMarkdown(w, m) }},
		{FileMatrixJSON, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(m)
		}},
	} {
		if err := writeWith(filepath.Join(dir, f.name), f.write); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
