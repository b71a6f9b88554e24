package pcap

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/reports"
)

// Rule is a requirement that can be judged from a capture alone, without
// a live target. Its ID has the form of a spec ID, the protocol's name
// first. A protocol's room lists its rules in Protocol.Rules; a dissector
// that finds a violation while framing records it on the message
// (Message.AddProblem) under the rule's ID.
type Rule struct {
	ID    string
	Level string
	Title string
	// Applies reports whether a message is one the rule judges.
	Applies func(m *Message) bool
	// Check, if set, returns the violation a message commits ("" none).
	Check func(m *Message) string
}

// Rules lists every registered protocol's offline checks, by protocol
// name, each protocol's in its own order.
func Rules() []Rule {
	var out []Rule
	for _, p := range all() {
		out = append(out, p.Rules...)
	}
	return out
}

// maxExamples is how many violations of one rule the report quotes.
const maxExamples = 10

type ruleResult struct {
	checked, failed int
	// unjudged counts the messages that seem to break the rule where the
	// capture has a gap (Message.Gap); gap is the first one's reason.
	unjudged int
	gap      string
	examples []string
	first    *Message
}

// Checker judges messages against the registered Rules as they come from
// Analyze.
type Checker struct {
	rules   []Rule
	results map[string]*ruleResult
}

// NewChecker returns a Checker of the rules registered now.
func NewChecker() *Checker {
	c := &Checker{rules: Rules(), results: map[string]*ruleResult{}}
	for _, r := range c.rules {
		c.results[r.ID] = &ruleResult{}
	}
	return c
}

// Message judges one message. Use it as Options.OnMessage.
func (c *Checker) Message(m *Message) {
	violated := map[string]string{}
	for _, p := range m.Problems {
		if _, ok := violated[p.Rule]; !ok {
			violated[p.Rule] = p.Text
		}
	}
	for _, r := range c.rules {
		res := c.results[r.ID]
		text, bad := violated[r.ID]
		if !bad {
			if r.Applies == nil || !r.Applies(m) {
				continue
			}
			if r.Check != nil {
				text = r.Check(m)
				bad = text != ""
			}
		}
		if bad && m.Gap != "" {
			if res.unjudged == 0 {
				res.gap = fmt.Sprintf("flow %d %s#%d %s: %s", m.Flow, m.Side, m.N, m.Summary, m.Gap)
			}
			res.unjudged++
			continue
		}
		res.checked++
		if !bad {
			continue
		}
		res.failed++
		if res.first == nil {
			res.first = m
		}
		if len(res.examples) < maxExamples {
			where := fmt.Sprintf("flow %d %s#%d", m.Flow, m.Side, m.N)
			if m.Packet > 0 {
				where += fmt.Sprintf(" (packet %d)", m.Packet)
			}
			res.examples = append(res.examples, fmt.Sprintf("%s %s: %s", where, m.Summary, text))
		}
	}
}

// Violations is how many rule violations were found.
func (c *Checker) Violations() int {
	n := 0
	for _, r := range c.results {
		n += r.failed
	}
	return n
}

// Run turns the results into a report: one spec per rule, failed when a
// message broke it, passed when some message was judged, skipped when the
// capture held none it applies to, or only ones where the capture's own
// gaps leave it not judgeable. only narrows it to one protocol.
func (c *Checker) Run(source string, sum *Summary, started time.Time, only string) *reports.Run {
	run := &reports.Run{
		Schema:   reports.SchemaVersion,
		Kind:     reports.KindCheck,
		Protocol: only,
		Started:  started.UTC(),
		Duration: time.Since(started),
		Target:   reports.Target{Name: source, Kind: "capture"},
	}
	if run.Protocol == "" {
		run.Protocol = strings.Join(RuleProtocols(), ",")
	}
	if sum != nil {
		run.Notes = append(run.Notes, fmt.Sprintf("%d packets, %d flows, %d messages, %d gaps (%d bytes) in %s", sum.Read.Packets, sum.Flows, sum.Messages, sum.Gaps, sum.GapBytes, source))
		for _, w := range sum.Warnings {
			run.Notes = append(run.Notes, "capture: "+w)
		}
	}
	for _, r := range c.rules {
		parts := strings.SplitN(r.ID, "/", 4)
		if only != "" && parts[0] != only {
			continue
		}
		res := c.results[r.ID]
		sp := reports.Spec{ID: r.ID, Protocol: parts[0], Doc: parts[1], Section: parts[2], Level: r.Level, Title: r.Title}
		switch {
		case res.failed > 0:
			sp.State = reports.StateFailed
			sp.Message = fmt.Sprintf("%s %s: %s\n%d of %d messages break it:\n  %s", r.Level, r.ID, r.Title, res.failed, res.checked, strings.Join(res.examples, "\n  "))
			if res.failed > len(res.examples) {
				sp.Message += fmt.Sprintf("\n  … and %d more", res.failed-len(res.examples))
			}
			sp.Transcript = messageEvents(res.first)
		case res.checked > 0:
			sp.State = reports.StatePassed
			sp.Message = strconv.Itoa(res.checked) + " messages checked"
			if res.unjudged > 0 {
				sp.Message += fmt.Sprintf("; %d not judgeable where the capture has gaps (first: %s)", res.unjudged, res.gap)
			}
		case res.unjudged > 0:
			sp.State = reports.StateSkipped
			sp.Message = fmt.Sprintf("not judgeable: the %d messages it applies to fall where the capture has gaps (first: %s)", res.unjudged, res.gap)
		default:
			sp.State = reports.StateSkipped
			sp.Message = "the capture holds no message this rule applies to"
		}
		run.Specs = append(run.Specs, sp)
	}
	return run
}

// messageEvents shows a message (and the one it answers) as a transcript.
func messageEvents(m *Message) []reports.Event {
	var out []reports.Event
	add := func(m *Message) {
		dir := reports.DirSend
		if m.Side == Server {
			dir = reports.DirRecv
		}
		e := reports.Event{Conn: fmt.Sprintf("flow %d", m.Flow), Dir: dir, Len: int(m.Len)}
		if m.Raw != nil {
			e.Data = reports.EscapeBytes(m.Raw[:min(len(m.Raw), 256)])
			e.Truncated = len(m.Raw) > 256 || m.Truncated
		} else {
			e.Data = m.Summary
		}
		out = append(out, e)
	}
	if m.Peer != nil {
		add(m.Peer)
	}
	add(m)
	return out
}
