package reports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// A baseline lists a target's known deviations, one spec ID per line:
//
//	# nginx answers 400 where RFC 9112 wants 501
//	http1/rfc9112/3/unknown-method-501
//	http1/rfc9112/9.3/*        # every spec of section 9.3
//
// A '#' starts a comment, blank lines are ignored, and an ID ending in
// "/*" matches every spec whose ID starts with what comes before the '*'.
//
// The comment lines right above an entry are its reason, and so are they
// of the entries that follow it without a blank line or a comment of their
// own; a comment beside an entry is added to its reason. The reports show
// the reason next to each known deviation.

// MaxBaselineSize bounds the size of a baseline file.
const MaxBaselineSize = 4 << 20

// Baseline is a parsed baseline file.
type Baseline struct {
	// Name is recorded in Run.Baseline by Apply; LoadBaseline sets it to
	// the file's path.
	Name    string
	Entries []BaselineEntry
}

// BaselineEntry is one line of a baseline.
type BaselineEntry struct {
	// Pattern is the ID as written, possibly ending in "/*".
	Pattern string
	// Line is the 1-based line number in the file.
	Line int
	// Comment is the text after '#' on the same line, trimmed.
	Comment string
	// Reason is why the target deviates, as the file says: the comment
	// block above the entry (or above the entries it heads), then
	// Comment.
	Reason string
}

// Match reports whether the entry matches the spec ID.
func (e BaselineEntry) Match(id string) bool {
	if prefix, ok := strings.CutSuffix(e.Pattern, "*"); ok {
		return strings.HasPrefix(id, prefix)
	}
	return id == e.Pattern
}

// ParseBaseline reads a baseline. A line that is not a well-formed ID
// (spaces inside, a '*' other than a final "/*", empty path elements) or
// that repeats an earlier entry is an error naming its line.
func ParseBaseline(r io.Reader) (*Baseline, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBaselineSize+1))
	if err != nil {
		return nil, fmt.Errorf("reports: reading baseline: %w", err)
	}
	if len(data) > MaxBaselineSize {
		return nil, fmt.Errorf("reports: baseline larger than %d bytes", MaxBaselineSize)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("reports: baseline is not UTF-8 text")
	}
	b := &Baseline{}
	first := map[string]int{}
	text := strings.TrimPrefix(string(data), "\ufeff") // a byte-order mark some editors add
	var block []string                                 // the comment lines read since the last entry or blank line
	var shared string                                  // the reason of the entries of the current group
	afterEntry := false                                // the previous line was an entry
	for n, raw := range strings.Split(text, "\n") {
		n++
		line, comment, hasComment := strings.Cut(raw, "#")
		line = strings.TrimSpace(line)
		comment = strings.TrimSpace(comment)
		if line == "" {
			if !hasComment {
				block, shared, afterEntry = nil, "", false
				continue
			}
			if afterEntry {
				block = nil
			}
			if comment != "" {
				block = append(block, comment)
			}
			afterEntry = false
			continue
		}
		if err := checkPattern(line); err != nil {
			return nil, fmt.Errorf("reports: baseline line %d: %w", n, err)
		}
		if prev, dup := first[line]; dup {
			return nil, fmt.Errorf("reports: baseline line %d: %q repeats line %d", n, line, prev)
		}
		first[line] = n
		if len(block) > 0 {
			shared, block = strings.Join(block, " "), nil
		} else if !afterEntry {
			shared = ""
		}
		reason := shared
		if comment != "" {
			reason = strings.TrimSpace(reason + " " + comment)
		}
		b.Entries = append(b.Entries, BaselineEntry{Pattern: line, Line: n, Comment: comment, Reason: reason})
		afterEntry = true
	}
	return b, nil
}

// checkPattern accepts a spec ID or an ID prefix ending in "/*".
func checkPattern(p string) error {
	id := p
	if strings.HasSuffix(p, "/*") {
		id = strings.TrimSuffix(p, "/*")
		if id == "" {
			return fmt.Errorf("%q matches everything; list the specs or a protocol prefix", p)
		}
	}
	for _, r := range id {
		switch {
		case r == '*':
			return fmt.Errorf("%q: '*' is only allowed as a final \"/*\"", p)
		case r <= ' ' || r == 0x7f:
			return fmt.Errorf("%q: one spec ID per line, without spaces or control characters", p)
		}
	}
	if strings.HasPrefix(id, "/") || strings.HasSuffix(id, "/") || strings.Contains(id, "//") {
		return fmt.Errorf("%q: empty element in spec ID", p)
	}
	return nil
}

// LoadBaseline reads the baseline file at path and names it after path.
func LoadBaseline(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer f.Close()
	b, err := ParseBaseline(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b.Name = path
	return b, nil
}

// Match reports whether any entry matches the spec ID.
func (b *Baseline) Match(id string) bool {
	_, ok := b.Lookup(id)
	return ok
}

// Lookup returns the first entry that matches the spec ID.
func (b *Baseline) Lookup(id string) (BaselineEntry, bool) {
	if b == nil {
		return BaselineEntry{}, false
	}
	for _, e := range b.Entries {
		if e.Match(id) {
			return e, true
		}
	}
	return BaselineEntry{}, false
}

// Apply marks as Known every failed or errored spec of r that the baseline
// matches, with the entry and its reason (KnownBy, KnownReason), and
// records the baseline's name in r.Baseline ("baseline" when it has
// none). Specs that pass are left alone: a baseline never hides anything
// but a failure. It also records what changed since the baseline was
// written: the specs it lists that met their requirement or were not
// judged (r.BaselineMet), and the entries that match no spec of the run
// (r.BaselineUnmatched).
func (b *Baseline) Apply(r *Run) {
	if b == nil || r == nil {
		return
	}
	r.Baseline = orDefault(b.Name, "baseline")
	r.BaselineMet, r.BaselineUnmatched = nil, nil
	matched := make([]bool, len(b.Entries))
	for i := range r.Specs {
		sp := &r.Specs[i]
		for j, e := range b.Entries {
			matched[j] = matched[j] || e.Match(sp.ID)
		}
		e, ok := b.Lookup(sp.ID)
		if !ok {
			continue
		}
		if sp.Unmet() {
			sp.Known, sp.KnownBy, sp.KnownReason = true, e.Pattern, e.Reason
			continue
		}
		r.BaselineMet = append(r.BaselineMet, BaselineSpec{ID: sp.ID, State: sp.State, Entry: e.Pattern, Reason: e.Reason})
	}
	sort.Slice(r.BaselineMet, func(i, j int) bool { return r.BaselineMet[i].ID < r.BaselineMet[j].ID })
	for j, e := range b.Entries {
		if !matched[j] {
			r.BaselineUnmatched = append(r.BaselineUnmatched, e.Pattern)
		}
	}
}

// Unused lists, in file order, the entries that match no failing spec of
// r: deviations the target no longer shows, which can be pruned.
func (b *Baseline) Unused(r *Run) []string {
	if b == nil {
		return nil
	}
	var out []string
	for _, e := range b.Entries {
		used := false
		if r != nil {
			for _, sp := range r.Specs {
				if sp.Unmet() && e.Match(sp.ID) {
					used = true
					break
				}
			}
		}
		if !used {
			out = append(out, e.Pattern)
		}
	}
	return out
}

// Changes is what a run judged against a baseline shows different from
// it.
type Changes struct {
	// NewFailures fail the run: unmet, and not in the baseline.
	NewFailures []BaselineSpec
	// NowPass are in the baseline and met their requirement (passed,
	// supported); NotJudged are in it and were skipped, inconclusive or
	// not run.
	NowPass, NotJudged []BaselineSpec
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.NewFailures)+len(c.NowPass)+len(c.NotJudged) == 0
}

// BaselineChanges sorts what changed since r's baseline, from the fields
// Baseline.Apply set.
func BaselineChanges(r *Run) Changes {
	var c Changes
	for _, sp := range r.Unexpected() {
		c.NewFailures = append(c.NewFailures, BaselineSpec{ID: sp.ID, State: sp.State})
	}
	sort.Slice(c.NewFailures, func(i, j int) bool { return c.NewFailures[i].ID < c.NewFailures[j].ID })
	for _, m := range r.BaselineMet {
		if m.State == StatePassed || m.State == StateSupported {
			c.NowPass = append(c.NowPass, m)
		} else {
			c.NotJudged = append(c.NotJudged, m)
		}
	}
	return c
}
