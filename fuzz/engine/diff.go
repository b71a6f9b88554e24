package engine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// Disagreement is one difference in how two targets took the same input.
type Disagreement struct {
	A, B string // target names
	Step int
	// Kind is "class" (status class, rcode: the first answer the targets
	// gave differently), "detail" (answer sets, for models that compare
	// them) or "count" (the answers agree as far as both go, but one
	// target gave more: one server saw one message where another saw
	// two, the request-smuggling class).
	Kind string
	// ValA and ValB are what each target gave: the class, the detail, or
	// the number of answers.
	ValA, ValB string
	// DetailA and DetailB are the details of the differing answers of a
	// class disagreement (the HTTP status codes); benign rules may name
	// them instead of the class.
	DetailA, DetailB string
	// Extra, for a count disagreement, lists the classes of the answers
	// only the target with more gave, each once ("4xx", "2xx,4xx"); Last
	// is the class of the last answer on the connection of the target with
	// fewer ("none" when it gave none) and Closed says whether that target
	// had closed the connection.
	Extra, Last string
	Closed      bool
	// Both, for a detail disagreement, is the class both answers had.
	Both  string
	State string
}

func (d Disagreement) String() string {
	s := fmt.Sprintf("%s: %s gave %s, %s gave %s (step %d, %s)", d.Kind, d.A, d.ValA, d.B, d.ValB, d.Step+1, d.State)
	if d.Kind == "count" {
		s += fmt.Sprintf("; the extra answers: %s", d.Extra)
	}
	return s
}

// service is the service part of a state name ("http/tcp fresh").
func service(state string) string {
	s, _, _ := strings.Cut(state, " ")
	return s
}

// Class is the disagreement's normalised signature, the class findings
// are deduplicated by: the service, the pair and the kind, with the values
// for class and detail disagreements, and for count disagreements which
// target gave fewer answers (none or some), what the other's extra
// answers were, and how the one with fewer ended. The state (fresh,
// kept-alive) and the exact counts are left out: the same difference
// reached in ten states is one class.
func (d Disagreement) Class() string {
	svc := service(d.State)
	switch d.Kind {
	case "detail":
		return fmt.Sprintf("%s detail: %s and %s gave different %s answers", svc, d.A, d.B, d.Both)
	case "count":
		na, _ := strconv.Atoi(d.ValA)
		nb, _ := strconv.Atoi(d.ValB)
		fewer, more := d.A, d.B
		if na > nb {
			fewer, more = d.B, d.A
		}
		how := "after " + d.Last
		if d.Last == "none" {
			how = "without an answer"
		}
		if d.Closed {
			how += ", closed"
		}
		return fmt.Sprintf("%s count: %s gave fewer answers (%s), %s more (%s)", svc, fewer, how, more, d.Extra)
	default:
		return fmt.Sprintf("%s %s: %s gave %s, %s gave %s", svc, d.Kind, d.A, d.ValA, d.B, d.ValB)
	}
}

// compare lists the disagreements between two targets' results, one per
// connection at most: once the targets took a step on a connection
// differently, what follows on it is a consequence (one closed after
// rejecting, the other went on) and is not compared.
func compare(m Model, a, b string, ra, rb *execResult) []Disagreement {
	detail := false
	if dc, ok := m.(DetailComparer); ok {
		detail = dc.CompareDetail()
	}
	var out []Disagreement
	diverged := map[string]bool{}
	// What each target's connection did up to the step: closed, and the
	// class of its last answer.
	type track struct {
		closed bool
		last   string
	}
	ta, tb := map[string]*track{}, map[string]*track{}
	n := min(len(ra.Steps), len(rb.Steps))
	for i := 0; i < n; i++ {
		sa, sb := ra.Steps[i], rb.Steps[i]
		conn := sa.Conn
		if ta[conn] == nil {
			ta[conn], tb[conn] = &track{last: "none"}, &track{last: "none"}
		}
		for _, x := range []struct {
			t *track
			s stepResult
		}{{ta[conn], sa}, {tb[conn], sb}} {
			x.t.closed = x.t.closed || x.s.Closed
			if k := len(x.s.Resps); k > 0 {
				x.t.last = x.s.Resps[k-1].Class
			}
		}
		if diverged[conn] {
			continue
		}
		if d := compareStep(detail, sa, sb, ta[conn].closed, tb[conn].closed, ta[conn].last, tb[conn].last); d != nil {
			d.A, d.B, d.Step, d.State = a, b, i, sa.State
			out = append(out, *d)
			diverged[conn] = true
		}
	}
	return out
}

// compareStep compares one step's answers; closed and last say how each
// target's connection stood after the step (closed, and the class of its
// last answer on it, "none" when it gave none).
func compareStep(detail bool, sa, sb stepResult, closedA, closedB bool, lastA, lastB string) *Disagreement {
	na, nb := len(sa.Resps), len(sb.Resps)
	for j := 0; j < min(na, nb); j++ {
		ra, rb := sa.Resps[j], sb.Resps[j]
		if ra.Class != rb.Class {
			return &Disagreement{Kind: "class", ValA: ra.Class, ValB: rb.Class, DetailA: ra.Detail, DetailB: rb.Detail}
		}
		if detail && ra.Detail != rb.Detail {
			return &Disagreement{Kind: "detail", ValA: ra.Detail, ValB: rb.Detail, DetailA: ra.Detail, DetailB: rb.Detail, Both: ra.Class}
		}
	}
	if na == nb {
		return nil
	}
	d := &Disagreement{Kind: "count", ValA: strconv.Itoa(na), ValB: strconv.Itoa(nb)}
	long, short := sa, sb
	d.Closed, d.Last = closedB, lastB
	if na < nb {
		long, short = sb, sa
		d.Closed, d.Last = closedA, lastA
	}
	var extra []string
	for _, r := range long.Resps[len(short.Resps):] {
		if !contains(extra, r.Class) {
			extra = append(extra, r.Class)
		}
	}
	d.Extra = strings.Join(extra, ",")
	return d
}

// BenignRule is one known, accepted difference between two targets:
//
//	PAIR KIND VALUE-A VALUE-B [CONDITION...]
//
// PAIR is "a,b" (target names, either order; a name also matches the
// target's family, "nginx" matching "nginx#2") or "*"; KIND is class,
// detail, count or *; the values are path.Match globs ("4xx", "50?", "*")
// matched against what each target gave (for class, the class or the
// detail: "4xx" or "400"; for count, the number of answers). Count rules
// may add conditions about the target with fewer answers and the other's
// extra answers:
//
//	extra=GLOB   the classes of the extra answers, comma-joined ("4xx", "2xx,4xx")
//	last=GLOB    the class of the last answer of the one with fewer ("none": it gave none)
//	closed=yes   the one with fewer answers had closed the connection (or closed=no)
//
// "#" starts a comment; the comment lines above a run of rules are their
// reason, shown with the number of differences each accepted.
//
//	# nginx answers 501 where the reference answers 400 to unknown codings
//	reference,nginx class 400 501
//	# nginx rejects a bad header line at once; the reference waits for the head's end
//	reference,nginx count 0 1 extra=4xx
type BenignRule struct {
	A, B, Kind, ValA, ValB string
	// Extra, Last and Closed are the count conditions; "" is any.
	Extra, Last, Closed string
	// Why is the comment above the rule; Source is "FILE:LINE".
	Why, Source string
	Line        string
}

// ParseBenign reads benign rules.
func ParseBenign(r io.Reader) ([]BenignRule, error) { return parseBenign("benign", r) }

func parseBenign(name string, r io.Reader) ([]BenignRule, error) {
	var out []BenignRule
	sc := bufio.NewScanner(r)
	n := 0
	var why []string
	afterRule := false
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		comment := ""
		if i := strings.Index(line, "#"); i >= 0 {
			line, comment = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		}
		if line == "" {
			// A comment after rules starts the next block's reason; a
			// blank line ends a block.
			if afterRule || comment == "" {
				why, afterRule = nil, false
			}
			if comment != "" {
				why = append(why, comment)
			}
			continue
		}
		if comment != "" && !afterRule {
			why = append(why, comment)
		}
		afterRule = true
		f := strings.Fields(line)
		if len(f) < 4 {
			return nil, fmt.Errorf("engine: %s line %d: want PAIR KIND VALUE-A VALUE-B [CONDITION...], got %q", name, n, line)
		}
		rule := BenignRule{A: "*", B: "*", Kind: f[1], ValA: f[2], ValB: f[3], Line: line,
			Why: strings.Join(why, " "), Source: fmt.Sprintf("%s:%d", name, n)}
		if f[0] != "*" {
			a, b, ok := strings.Cut(f[0], ",")
			if !ok || a == "" || b == "" {
				return nil, fmt.Errorf("engine: %s line %d: pair %q is not A,B or *", name, n, f[0])
			}
			rule.A, rule.B = a, b
		}
		switch rule.Kind {
		case "count", "class", "detail", "*":
		default:
			return nil, fmt.Errorf("engine: %s line %d: kind %q is not count, class, detail or *", name, n, rule.Kind)
		}
		for _, c := range f[4:] {
			k, v, ok := strings.Cut(c, "=")
			if !ok || v == "" {
				return nil, fmt.Errorf("engine: %s line %d: condition %q is not NAME=VALUE", name, n, c)
			}
			if rule.Kind != "count" {
				return nil, fmt.Errorf("engine: %s line %d: condition %q is for count rules only", name, n, c)
			}
			switch k {
			case "extra":
				rule.Extra = v
			case "last":
				rule.Last = v
			case "closed":
				if v != "yes" && v != "no" {
					return nil, fmt.Errorf("engine: %s line %d: closed=%s is not yes or no", name, n, v)
				}
				rule.Closed = v
			default:
				return nil, fmt.Errorf("engine: %s line %d: unknown condition %q (extra, last, closed)", name, n, k)
			}
		}
		for _, p := range []string{rule.A, rule.B, rule.ValA, rule.ValB, rule.Extra, rule.Last} {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("engine: %s line %d: bad pattern %q", name, n, p)
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
	return parseBenign(file, f)
}

func match(p, s string) bool {
	ok, _ := path.Match(p, s)
	return ok
}

// family is a target's name without the "#N" that tells two targets of
// the same name apart.
func family(name string) string {
	if i := strings.LastIndexByte(name, '#'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

func matchName(p, name string) bool { return match(p, name) || match(p, family(name)) }

// Matches reports whether the rule accepts d (in either order of the pair).
func (r BenignRule) Matches(d Disagreement) bool {
	if r.Kind != "*" && r.Kind != d.Kind {
		return false
	}
	if r.Extra != "" && !match(r.Extra, d.Extra) || r.Last != "" && !match(r.Last, d.Last) {
		return false
	}
	if r.Closed != "" && (r.Closed == "yes") != d.Closed {
		return false
	}
	val := func(p, v, detail string) bool { return match(p, v) || detail != "" && match(p, detail) }
	if matchName(r.A, d.A) && matchName(r.B, d.B) && val(r.ValA, d.ValA, d.DetailA) && val(r.ValB, d.ValB, d.DetailB) {
		return true
	}
	return matchName(r.A, d.B) && matchName(r.B, d.A) && val(r.ValA, d.ValB, d.DetailB) && val(r.ValB, d.ValA, d.DetailA)
}

// benignRule returns the first rule that accepts d.
func benignRule(rules []BenignRule, d Disagreement) (BenignRule, bool) {
	for _, r := range rules {
		if r.Matches(d) {
			return r, true
		}
	}
	return BenignRule{}, false
}
