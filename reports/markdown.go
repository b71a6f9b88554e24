package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// stateSymbol is how the Markdown report marks a spec's Status.
var stateSymbol = map[string]string{
	StatePassed:  "✅ passed",
	StateFailed:  "❌ failed",
	StateError:   "💥 error",
	StateSkipped: "⏭️ skipped",
	StatusKnown:  "⚠️ known",
	// A MAY: whether the target takes the option.
	StateSupported:   "☑️ supported",
	StateUnsupported: "➖ not supported",
	// Could not be judged: neither passed nor failed.
	StateInconclusive: "❔ inconclusive",
	StateNotRun:       "⏹️ not run",
}

// WriteMarkdown writes r as a Markdown (GitHub flavoured) report: the run,
// a summary, the failures with their messages and transcripts, then every
// spec by document section.
func WriteMarkdown(w io.Writer, r *Run) error {
	if r == nil {
		return ErrNilRun
	}
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	sum := r.Summarize()

	p("# protospec %s report: %s\n\n", mdText(orDefault(r.Protocol, "run")), mdText(orDefault(r.Target.Name, "unknown target")))
	verdict := "**PASS**: every failure is a known deviation or at a level that does not fail the run"
	switch unexpected := len(r.Unexpected()); {
	case sum.Failed+sum.Errors == 0 && unexpected == 0:
		verdict = "**PASS**: no failures"
	case unexpected == 1:
		verdict = "**FAIL**: 1 unexpected failure"
	case unexpected > 1:
		verdict = fmt.Sprintf("**FAIL**: %d unexpected failures", unexpected)
	}
	if n := len(r.Unjudged()); n > 0 && len(r.Unexpected()) == 0 {
		verdict = fmt.Sprintf("**NOT JUDGED**: %d specs inconclusive or not run", n)
	}
	p("%s\n\n", verdict)

	p("| | |\n|---|---|\n")
	target := mdText(r.Target.Name)
	if r.Target.Kind != "" {
		target += " (" + mdText(r.Target.Kind) + ")"
	}
	if r.Target.Version != "" {
		target += ", version " + mdText(r.Target.Version)
	}
	p("| Target | %s |\n", target)
	p("| Kind | %s |\n", mdText(r.Kind))
	if !r.Started.IsZero() {
		p("| Started | %s |\n", r.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	p("| Duration | %s |\n", fmtDuration(r.Duration))
	tool := mdText(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version))
	if r.Tool.Go != "" {
		tool += " (" + mdText(r.Tool.Go) + ")"
	}
	p("| Tool | %s |\n", tool)
	if r.Filter != "" {
		p("| Filter | %s |\n", mdCell(mdCode(r.Filter)))
	}
	if r.Baseline != "" {
		p("| Baseline | %s |\n", mdCell(mdCode(r.Baseline)))
	}
	if r.Bench != nil {
		p("\n")
		mdBench(bw, r.Bench)
		if len(r.Specs) == 0 {
			// A load run judges no spec: the conformance sections would
			// be empty tables.
			return bw.Flush()
		}
	}
	p("\n## Summary\n\n")
	p("| Total | Passed | Failed | Skipped | Errors | Known |\n")
	p("|------:|-------:|-------:|--------:|-------:|------:|\n")
	p("| %d | %d | %d | %d | %d | %d |\n\n", sum.Total, sum.Passed, sum.Failed, sum.Skipped, sum.Errors, sum.Known)
	p("| Level | Passed | Failed | Skipped |\n")
	p("|-------|-------:|-------:|--------:|\n")
	for _, l := range levelOrder(sum) {
		c := sum.ByLevel[l]
		if c == nil {
			c = &Counts{}
		}
		if l == LevelMay {
			p("| %s | %d supported | %d not supported | %d |\n", mdText(levelName(l)), c.Passed, c.Failed, c.Skipped)
			continue
		}
		p("| %s | %d | %d | %d |\n", mdText(levelName(l)), c.Passed, c.Failed, c.Skipped)
	}
	for _, n := range r.Notes {
		p("\n> %s\n", mdText(n))
	}

	sections := r.Sections()
	var failures, known []Spec
	for _, sec := range sections {
		for _, sp := range sec.Specs {
			switch {
			case sp.Unmet() && sp.Known:
				known = append(known, sp)
			case sp.Failing():
				failures = append(failures, sp)
			}
		}
	}
	if len(failures) > 0 {
		p("\n## Failures\n\n")
		for _, sp := range failures {
			mdProblem(bw, r, sp)
		}
	}
	if r.Baseline != "" {
		mdBaselineChanges(bw, r)
	}
	if len(known) > 0 {
		p("\n## Known deviations (baseline)\n\n")
		for _, sp := range known {
			mdProblem(bw, r, sp)
		}
	}

	p("\n## Results by section\n")
	for _, sec := range sections {
		p("\n### %s\n\n", mdText(sectionName(sec)))
		p("| State | Level | Spec | Title | Duration |\n")
		p("|-------|-------|------|-------|---------:|\n")
		for _, sp := range sec.Specs {
			title := mdText(sp.Title)
			switch {
			case sp.State == StateSkipped && sp.Message != "":
				title += " (skipped: " + mdText(headline(sp.Message)) + ")"
			case sp.Known && sp.Unmet() && sp.KnownReason != "":
				title += " (known: " + mdText(headline(sp.KnownReason)) + ")"
			}
			p("| %s | %s | %s | %s | %s |\n", stateSymbol[sp.Status()], mdText(levelName(sp.Level)),
				mdCell(mdCode(sp.ID)), title, fmtDuration(sp.Duration))
		}
	}
	return bw.Flush()
}

// mdProblem writes one failing spec: heading, the requirement with its
// link, the baseline's reason for a known deviation, message and
// transcript.
func mdProblem(w io.Writer, r *Run, sp Spec) {
	fmt.Fprintf(w, "### %s %s\n\n", stateSymbol[sp.Status()], mdCode(sp.ID))
	fmt.Fprintf(w, "**%s** %s", mdText(levelName(sp.Level)), mdText(sp.Title))
	if loc := orDefault(sp.Location, fileLine(sp)); loc != "" {
		fmt.Fprintf(w, " (at %s)", mdCode(loc))
	}
	fmt.Fprint(w, "\n\n")
	if sp.Sentence != "" {
		cite := mdText(sp.Cite())
		if u := sp.Link(); u != "" {
			cite = "[" + cite + "](" + mdURL(u) + ")"
		}
		fmt.Fprintf(w, "> %s: %s\n", cite, mdText(sp.Sentence))
		if sp.Inferred != "" {
			fmt.Fprintf(w, ">\n> (no RFC 2119 keyword: %s)\n", mdText(sp.Inferred))
		}
		fmt.Fprint(w, "\n")
	}
	if sp.Known && sp.Unmet() {
		fmt.Fprint(w, "**Known deviation**")
		if sp.KnownBy != "" {
			fmt.Fprintf(w, " (baseline entry %s)", mdCode(sp.KnownBy))
		}
		if sp.KnownReason != "" {
			fmt.Fprintf(w, ": %s", mdText(sp.KnownReason))
		}
		fmt.Fprint(w, "\n\n")
	}
	if sp.Message != "" {
		mdFence(w, "", strings.TrimRight(sp.Message, "\n"))
	}
	if len(sp.Transcript) > 0 {
		fmt.Fprint(w, "Transcript:\n\n")
		mdFence(w, "", strings.Join(transcriptBlock(specProtocol(r, sp), sp.Transcript), "\n"))
	}
	for _, a := range sp.Attachments {
		fmt.Fprintf(w, "- attachment %s: %s\n", mdText(a.Name), mdCode(a.Path))
	}
	if len(sp.Attachments) > 0 {
		fmt.Fprint(w, "\n")
	}
}

// mdBaselineChanges writes what changed since the baseline: failures it
// does not list, and the specs it lists that no longer fail.
func mdBaselineChanges(w io.Writer, r *Run) {
	ch := BaselineChanges(r)
	fmt.Fprintf(w, "\n## Since the baseline (%s)\n\n", mdCode(r.Baseline))
	if ch.Empty() {
		fmt.Fprint(w, "Nothing changed: every failure is one the baseline lists, and every spec it lists still fails.\n")
		return
	}
	list := func(title string, items []BaselineSpec) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "%s (%d):\n\n", title, len(items))
		for _, it := range items {
			fmt.Fprintf(w, "- %s %s", mdCode(it.ID), mdText(it.State))
			if it.Reason != "" {
				fmt.Fprintf(w, " (baseline: %s)", mdText(it.Reason))
			}
			fmt.Fprint(w, "\n")
		}
		fmt.Fprint(w, "\n")
	}
	list("New failures, not in the baseline", ch.NewFailures)
	list("In the baseline, passing now (prune them?)", ch.NowPass)
	list("In the baseline, not judged in this run", ch.NotJudged)
	if n := len(r.BaselineUnmatched); n > 0 {
		fmt.Fprintf(w, "%d baseline entries match no spec of this run.\n", n)
	}
}

// mdURL makes a link target safe inside (...): only an http(s) URL with
// its parentheses and spaces escaped.
func mdURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(escapeControl(u, true))
}

// fileLine is where the spec is declared, "suites/x/y.go:12", or "".
func fileLine(sp Spec) string {
	if sp.File == "" {
		return ""
	}
	if sp.Line > 0 {
		return fmt.Sprintf("%s:%d", sp.File, sp.Line)
	}
	return sp.File
}

// mdFence writes text as a fenced code block whose fence is longer than
// any run of backticks inside it.
func mdFence(w io.Writer, info, text string) {
	text = escapeControl(text, false)
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	fmt.Fprintf(w, "%s%s\n%s\n%s\n\n", fence, info, text, fence)
}

// mdCode renders s as an inline code span on one line.
func mdCode(s string) string {
	s = escapeControl(s, true)
	if s == "" {
		return ""
	}
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return ticks + s + ticks
}

// mdCell makes a rendered cell safe for a table row.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "&", `\&`, "#", `\#`, "!", `\!`,
)

// mdText renders s as literal text on one line: markup characters
// (including < and |, so that HTML and tables stay inert) are escaped.
func mdText(s string) string {
	return mdEscaper.Replace(escapeControl(s, true))
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
