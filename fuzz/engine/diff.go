package engine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Disagreement is one difference in how two targets took the same input.
type Disagreement struct {
	A, B string // target names
	Step int
	// Kind is "count" (a different number of answers: one target saw one
	// message where the other saw two, the request-smuggling class),
	// "class" (status class, rcode) or "detail" (answer sets).
	Kind string
	// ValA and ValB are what each target gave.
	ValA, ValB string
	State      string
}

func (d Disagreement) String() string {
	return fmt.Sprintf("%s: %s gave %s, %s gave %s (step %d, %s)", d.Kind, d.A, d.ValA, d.B, d.ValB, d.Step+1, d.State)
}

// compare finds the first disagreement between two targets' results.
func compare(m Model, a, b string, ra, rb *execResult) *Disagreement {
	detail := false
	if dc, ok := m.(DetailComparer); ok {
		detail = dc.CompareDetail()
	}
	n := min(len(ra.Steps), len(rb.Steps))
	for i := 0; i < n; i++ {
		sa, sb := ra.Steps[i], rb.Steps[i]
		if len(sa.Resps) != len(sb.Resps) {
			return &Disagreement{A: a, B: b, Step: i, Kind: "count", State: sa.State,
				ValA: fmt.Sprint(len(sa.Resps)), ValB: fmt.Sprint(len(sb.Resps))}
		}
		for j := range sa.Resps {
			if sa.Resps[j].Class != sb.Resps[j].Class {
				return &Disagreement{A: a, B: b, Step: i, Kind: "class", State: sa.State,
					ValA: sa.Resps[j].Class, ValB: sb.Resps[j].Class}
			}
			if detail && sa.Resps[j].Detail != sb.Resps[j].Detail {
				return &Disagreement{A: a, B: b, Step: i, Kind: "detail", State: sa.State,
					ValA: sa.Resps[j].Detail, ValB: sb.Resps[j].Detail}
			}
		}
	}
	return nil
}

// BenignRule is one known, accepted difference between two targets:
//
//	PAIR KIND VALUE-A VALUE-B
//
// PAIR is "a,b" (target names, either order) or "*"; KIND is count, class,
// detail or *; the values are path.Match globs ("4xx", "*", "FORMERR").
// Lines starting with # are comments.
//
//	# nginx answers 501 where the reference answers 400 to unknown codings
//	reference,nginx class 4xx 5xx
type BenignRule struct {
	A, B, Kind, ValA, ValB string
	Line                   string
}

// ParseBenign reads benign rules.
func ParseBenign(r io.Reader) ([]BenignRule, error) {
	var out []BenignRule
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("engine: benign rule line %d: want PAIR KIND VALUE-A VALUE-B, got %q", n, line)
		}
		rule := BenignRule{A: "*", B: "*", Kind: f[1], ValA: f[2], ValB: f[3], Line: line}
		if f[0] != "*" {
			a, b, ok := strings.Cut(f[0], ",")
			if !ok || a == "" || b == "" {
				return nil, fmt.Errorf("engine: benign rule line %d: pair %q is not A,B or *", n, f[0])
			}
			rule.A, rule.B = a, b
		}
		switch rule.Kind {
		case "count", "class", "detail", "*":
		default:
			return nil, fmt.Errorf("engine: benign rule line %d: kind %q is not count, class, detail or *", n, rule.Kind)
		}
		for _, p := range []string{rule.A, rule.B, rule.ValA, rule.ValB} {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("engine: benign rule line %d: bad pattern %q", n, p)
			}
		}
		out = append(out, rule)
	}
	return out, sc.Err()
}

// LoadBenign reads a benign-differences file.
func LoadBenign(file string) ([]BenignRule, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	defer f.Close()
	return ParseBenign(f)
}

func match(p, s string) bool {
	ok, _ := path.Match(p, s)
	return ok
}

// Matches reports whether the rule accepts d (in either order of the pair).
func (r BenignRule) Matches(d Disagreement) bool {
	if r.Kind != "*" && r.Kind != d.Kind {
		return false
	}
	if match(r.A, d.A) && match(r.B, d.B) && match(r.ValA, d.ValA) && match(r.ValB, d.ValB) {
		return true
	}
	return match(r.A, d.B) && match(r.B, d.A) && match(r.ValA, d.ValB) && match(r.ValB, d.ValA)
}

func benign(rules []BenignRule, d Disagreement) bool {
	for _, r := range rules {
		if r.Matches(d) {
			return true
		}
	}
	return false
}
