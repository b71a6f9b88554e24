package reports

import (
	"bufio"
	"fmt"
	"io"
	"sort"
)

// DiffResult is what changed between two runs, as sorted lists of spec IDs.
// It compares raw states: a failure the baseline expects is still a
// failure here, so a diff shows every change in behaviour.
type DiffResult struct {
	// NewFailures failed or errored in the new run and were absent or not
	// failing in the old one.
	NewFailures []string
	// Fixed failed in the old run and passed in the new one.
	Fixed []string
	// NowSkipped failed in the old run and were skipped in the new one:
	// neither fixed nor failing.
	NowSkipped []string
	// StillFailing failed in both runs.
	StillFailing []string
	// Added are in the new run only; Removed in the old run only.
	Added, Removed []string

	before, after map[string]Spec
}

// Diff compares two runs of the same suite. A nil run counts as empty.
func Diff(old, cur *Run) DiffResult {
	d := DiffResult{before: specIndex(old), after: specIndex(cur)}
	for id, n := range d.after {
		o, inOld := d.before[id]
		if !inOld {
			d.Added = append(d.Added, id)
		}
		switch {
		case n.Failing() && (!inOld || !o.Failing()):
			d.NewFailures = append(d.NewFailures, id)
		case n.Failing():
			d.StillFailing = append(d.StillFailing, id)
		case inOld && o.Failing() && n.State == StatePassed:
			d.Fixed = append(d.Fixed, id)
		case inOld && o.Failing():
			d.NowSkipped = append(d.NowSkipped, id)
		}
	}
	for id := range d.before {
		if _, ok := d.after[id]; !ok {
			d.Removed = append(d.Removed, id)
		}
	}
	for _, l := range [][]string{d.NewFailures, d.Fixed, d.NowSkipped, d.StillFailing, d.Added, d.Removed} {
		sort.Strings(l)
	}
	return d
}

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

// Regressed reports whether the new run has failures the old one did not.
// `protospec report diff` exits 1 when it does.
func (d DiffResult) Regressed() bool { return len(d.NewFailures) > 0 }

// Write prints d for a reader: each non-empty list with the states before
// and after, then a one-line verdict.
func (d DiffResult) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	state := func(m map[string]Spec, id string) string {
		sp, ok := m[id]
		switch {
		case !ok:
			return "absent"
		case sp.Known && sp.Failing():
			return sp.State + " (known)"
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
				fmt.Fprintf(bw, " %s -> %s", state(d.before, id), state(d.after, id))
			case showNew:
				fmt.Fprintf(bw, " %s", state(d.after, id))
			case showOld:
				fmt.Fprintf(bw, " was %s", state(d.before, id))
			}
			if showNew && d.after[id].Failing() {
				if h := headline(d.after[id].Message); h != "" {
					fmt.Fprintf(bw, ": %s", h)
				}
			}
			bw.WriteString("\n")
		}
		bw.WriteString("\n")
	}
	list("new failures", d.NewFailures, true, true)
	list("fixed", d.Fixed, true, true)
	list("failing before, skipped now", d.NowSkipped, true, true)
	list("still failing", d.StillFailing, false, true)
	list("added", d.Added, false, true)
	list("removed", d.Removed, true, false)
	verdict := "no regressions"
	if d.Regressed() {
		verdict = "REGRESSED"
	}
	fmt.Fprintf(bw, "%s: %d new failures, %d fixed, %d still failing, %d added, %d removed\n",
		verdict, len(d.NewFailures), len(d.Fixed), len(d.StillFailing), len(d.Added), len(d.Removed))
	return bw.Flush()
}
