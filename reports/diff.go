package reports

import (
	"bufio"
	"fmt"
	"io"
	"sort"
)

// DiffResult is what changed between two runs, as sorted lists of spec IDs;
// each ID is in one list at most. A failure is judged as each run judged
// it: one the new run's baseline expects (Known), or at a level its
// --fail-on leaves out, is no regression, so a run that passed its gate
// never regresses against a run with the same known deviations.
type DiffResult struct {
	// NewFailures fail the new run (unmet, not in its baseline, at one of
	// its --fail-on levels) and were absent, met or not judged in the old
	// one: the regressions.
	NewFailures []string
	// NewKnown are unmet in the new run and were not in the old one, but
	// do not fail the new run: its baseline lists them, or their level is
	// not one it fails on.
	NewKnown []string
	// Fixed were unmet in the old run (failed, error, not supported) and
	// met their requirement in the new one (passed, supported).
	Fixed []string
	// NoLongerJudged were judged in the old run (passed, failed, ...) and
	// could not be in the new one (skipped, inconclusive, not run):
	// neither fixed nor failing.
	NoLongerJudged []string
	// StillFailing are unmet in both runs, known or not.
	StillFailing []string
	// Added are in the new run only and in none of the lists above;
	// Removed are in the old run only.
	Added, Removed []string

	before, after  map[string]Spec
	oldRun, newRun *Run
}

// Diff compares two runs of the same suite. A nil run counts as empty.
func Diff(old, cur *Run) DiffResult {
	if old == nil {
		old = &Run{}
	}
	if cur == nil {
		cur = &Run{}
	}
	d := DiffResult{before: specIndex(old), after: specIndex(cur), oldRun: old, newRun: cur}
	for id, n := range d.after {
		o, inOld := d.before[id]
		switch {
		case n.Unmet() && inOld && o.Unmet():
			d.StillFailing = append(d.StillFailing, id)
		case n.Unmet() && cur.Fails(n):
			d.NewFailures = append(d.NewFailures, id)
		case n.Unmet():
			d.NewKnown = append(d.NewKnown, id)
		case !inOld:
			d.Added = append(d.Added, id)
		case o.Unmet() && met(n):
			d.Fixed = append(d.Fixed, id)
		case judged(o) && !judged(n):
			d.NoLongerJudged = append(d.NoLongerJudged, id)
		}
	}
	for id := range d.before {
		if _, ok := d.after[id]; !ok {
			d.Removed = append(d.Removed, id)
		}
	}
	for _, l := range [][]string{d.NewFailures, d.NewKnown, d.Fixed, d.NoLongerJudged, d.StillFailing, d.Added, d.Removed} {
		sort.Strings(l)
	}
	return d
}

// met reports whether the spec met its requirement: passed, or a MAY the
// target supports.
func met(s Spec) bool { return s.State == StatePassed || s.State == StateSupported }

// judged reports whether the run could judge the spec: met or unmet.
func judged(s Spec) bool { return met(s) || s.Unmet() }

func specIndex(r *Run) map[string]Spec {
	m := map[string]Spec{}
	if r == nil {
		return m
	}
	for _, sp := range r.Specs {
		if _, dup := m[sp.ID]; !dup { // the first of duplicate IDs wins
			m[sp.ID] = sp
		}
	}
	return m
}

// Regressed reports whether the new run has failures the old one did not
// have and the new run does not expect. `protospec report diff` exits 1
// when it does.
func (d DiffResult) Regressed() bool { return len(d.NewFailures) > 0 }

// Write prints d for a reader: each non-empty list with the states before
// and after, then a one-line verdict.
func (d DiffResult) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	state := func(r *Run, m map[string]Spec, id string) string {
		sp, ok := m[id]
		switch {
		case !ok:
			return "absent"
		case sp.Known && sp.Unmet():
			return sp.State + " (known)"
		case sp.Unmet() && r != nil && !r.Fails(sp):
			return sp.State + " (not failing the run)"
		}
		return sp.State
	}
	list := func(title string, ids []string, showOld, showNew bool) {
		if len(ids) == 0 {
			return
		}
		fmt.Fprintf(bw, "%s (%d):\n", title, len(ids))
		for _, id := range ids {
			sp, ok := d.after[id]
			if !ok {
				sp = d.before[id]
			}
			fmt.Fprintf(bw, "  %s", escapeControl(id, true))
			if sp.Level != "" {
				fmt.Fprintf(bw, " [%s]", escapeControl(sp.Level, true))
			}
			switch {
			case showOld && showNew:
				fmt.Fprintf(bw, " %s -> %s", state(d.oldRun, d.before, id), state(d.newRun, d.after, id))
			case showNew:
				fmt.Fprintf(bw, " %s", state(d.newRun, d.after, id))
			case showOld:
				fmt.Fprintf(bw, " was %s", state(d.oldRun, d.before, id))
			}
			if n, ok := d.after[id]; ok && showNew && n.Unmet() {
				if n.Known && n.KnownReason != "" {
					fmt.Fprintf(bw, ": %s", escapeControl(n.KnownReason, true))
				} else if h := headline(n.Message); h != "" {
					fmt.Fprintf(bw, ": %s", h)
				}
			}
			bw.WriteString("\n")
		}
		bw.WriteString("\n")
	}
	list("new failures", d.NewFailures, true, true)
	list("new known deviations (the new run does not fail on them)", d.NewKnown, true, true)
	list("fixed", d.Fixed, true, true)
	list("no longer judged", d.NoLongerJudged, true, true)
	list("still failing", d.StillFailing, false, true)
	list("added", d.Added, false, true)
	list("removed", d.Removed, true, false)
	known := 0
	for _, id := range d.StillFailing {
		if sp := d.after[id]; sp.Known || (d.newRun != nil && !d.newRun.Fails(sp)) {
			known++
		}
	}
	verdict := "no regressions"
	if d.Regressed() {
		verdict = "REGRESSED"
	}
	fmt.Fprintf(bw, "%s: %d new failures, %d new known, %d fixed, %d no longer judged, %d still failing (%d known), %d added, %d removed\n",
		verdict, len(d.NewFailures), len(d.NewKnown), len(d.Fixed), len(d.NoLongerJudged), len(d.StillFailing), known, len(d.Added), len(d.Removed))
	return bw.Flush()
}
