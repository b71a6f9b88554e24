package pcap

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/reports"
)

// Rule is a requirement that can be judged from a capture alone, without
// a live target. Its ID has the form of a spec ID.
type Rule struct {
	ID    string
	Level string
	Title string
	// applies reports whether a message is one the rule judges.
	applies func(m *Message) bool
	// check, if set, returns the violation a message commits ("" none).
	check func(m *Message) string
}

// Rules of the DNS checks.
const (
	ruleDNSParses   = "dns/rfc1035/4.1.1/counts-consistent"
	ruleDNSQR       = "dns/rfc1035/4.1.1/qr-bit"
	ruleDNSID       = "dns/rfc1035/4.1.1/response-id-matches-query"
	ruleDNSOpcode   = "dns/rfc1035/4.1.1/opcode-copied"
	ruleDNSQuestion = "dns/rfc1035/7.3/question-echoed"
	ruleDNSUDPSize  = "dns/rfc1035/4.2.1/udp-512-without-edns"
	ruleDNSTCP      = "dns/rfc1035/4.2.2/tcp-message-complete"
)

func isHTTP(m *Message) bool     { return m.HTTP != nil }
func isRequest(m *Message) bool  { return m.HTTP != nil && m.Side == Client }
func isResponse(m *Message) bool { return m.HTTP != nil && m.Side == Server }
func isDNS(m *Message) bool      { return m.DNS != nil }
func isDNSResponse(m *Message) bool {
	return m.DNS != nil && m.Side == Server && m.DNS.Msg != nil && m.DNS.Msg.Response
}

// Rules lists every offline check, HTTP/1 first, then DNS.
var Rules = []Rule{
	{ID: ruleRequestLine, Level: reports.LevelMust, Title: "a request-line is method SP request-target SP HTTP-version", applies: isRequest},
	{ID: ruleHost, Level: reports.LevelMust, Title: "an HTTP/1.1 request has a Host header field", applies: func(m *Message) bool { return isRequest(m) && m.HTTP.Version == "HTTP/1.1" }},
	{ID: ruleStatusLine, Level: reports.LevelMust, Title: "a status-line is HTTP-version SP 3DIGIT SP reason-phrase", applies: isResponse},
	{ID: ruleFieldLine, Level: reports.LevelMust, Title: "a field line is a token, a colon and a value", applies: isHTTP},
	{ID: ruleNoSpaceColon, Level: reports.LevelMust, Title: "no whitespace between a field name and the colon", applies: isHTTP},
	{ID: ruleNoObsFold, Level: reports.LevelMust, Title: "a sender does not fold field lines (obs-fold)", applies: isHTTP},
	{ID: ruleCLWithTE, Level: reports.LevelMust, Title: "no Content-Length in a message with Transfer-Encoding", applies: isHTTP},
	{ID: ruleRequestChunked, Level: reports.LevelMust, Title: "a request's Transfer-Encoding ends in chunked", applies: isRequest},
	{ID: ruleValidCL, Level: reports.LevelMust, Title: "Content-Length is one valid decimal length", applies: isHTTP},
	{ID: ruleBodyComplete, Level: reports.LevelMust, Title: "the body is as long as Content-Length says", applies: func(m *Message) bool { return isHTTP(m) && m.HTTP.ContentLength > 0 && !m.HTTP.NoBody }},
	{ID: ruleChunked, Level: reports.LevelMust, Title: "a chunked body follows the chunked coding's syntax", applies: func(m *Message) bool { return isHTTP(m) && m.HTTP.Chunked }},
	{ID: ruleNoBodyAfter, Level: reports.LevelMust, Title: "a response to HEAD, and a 1xx, 204 or 304 response, has no body", applies: func(m *Message) bool { return isResponse(m) }},
	{ID: ruleResponseRequest, Level: reports.LevelMust, Title: "every response answers a request, in order", applies: isResponse},
	{ID: ruleCL1xx204, Level: reports.LevelMust, Title: "no Content-Length in a 1xx or 204 response", applies: func(m *Message) bool {
		return isResponse(m) && (m.HTTP.Status == 204 || (m.HTTP.Status >= 100 && m.HTTP.Status < 200))
	}},

	{ID: ruleDNSParses, Level: reports.LevelMust, Title: "a DNS message holds the records its header counts", applies: isDNS, check: func(m *Message) string {
		if m.DNS.Err != "" && !m.Incomplete {
			return "does not parse: " + m.DNS.Err
		}
		return ""
	}},
	{ID: ruleDNSQR, Level: reports.LevelMust, Title: "queries have QR=0 and responses QR=1", applies: func(m *Message) bool { return isDNS(m) && len(m.Raw) >= 4 }, check: func(m *Message) string {
		if m.Side == Client && m.DNS.Response {
			return "a message from the client has QR=1"
		}
		if m.Side == Server && !m.DNS.Response {
			return "a message from the server has QR=0"
		}
		return ""
	}},
	{ID: ruleDNSID, Level: reports.LevelMust, Title: "a response carries the ID of a query it answers", applies: isDNSResponse, check: func(m *Message) string {
		if m.peer == nil {
			return fmt.Sprintf("response ID %d matches no query of the flow", m.DNS.ID)
		}
		return ""
	}},
	{ID: ruleDNSOpcode, Level: reports.LevelMust, Title: "a response copies the query's OPCODE", applies: func(m *Message) bool { return isDNSResponse(m) && m.peer != nil && m.peer.DNS != nil }, check: func(m *Message) string {
		if m.DNS.Opcode != m.peer.DNS.Opcode {
			return fmt.Sprintf("query OPCODE %s, response OPCODE %s", m.peer.DNS.Opcode, m.DNS.Opcode)
		}
		return ""
	}},
	{ID: ruleDNSQuestion, Level: reports.LevelMust, Title: "a response echoes the query's question", applies: func(m *Message) bool {
		return isDNSResponse(m) && m.peer != nil && m.peer.DNS != nil && m.peer.DNS.Question != ""
	}, check: func(m *Message) string {
		q, r := m.peer.DNS.Question, m.DNS.Question
		if r == "" && m.DNS.Msg.Rcode != dns.RcodeSuccess {
			return "" // FORMERR, NOTIMP...: the question may be left out
		}
		if !strings.EqualFold(q, r) {
			return fmt.Sprintf("query asked %q, response answers %q", q, r)
		}
		return ""
	}},
	{ID: ruleDNSUDPSize, Level: reports.LevelMust, Title: "a UDP response is at most 512 bytes unless the query had EDNS", applies: func(m *Message) bool {
		return isDNSResponse(m) && m.DNS.UDP && m.peer != nil && m.peer.DNS != nil && m.peer.DNS.Msg != nil
	}, check: func(m *Message) string {
		if m.Len > 512 && m.peer.DNS.Msg.IsEdns0() == nil {
			return fmt.Sprintf("%d-byte UDP response to a query without EDNS", m.Len)
		}
		return ""
	}},
	{ID: ruleDNSTCP, Level: reports.LevelMust, Title: "a DNS message over TCP is whole behind its length", applies: func(m *Message) bool { return isDNS(m) && !m.DNS.UDP }, check: func(m *Message) string {
		if m.Incomplete && !m.Truncated {
			return fmt.Sprintf("the connection ended %d bytes into a message", m.Len)
		}
		return ""
	}},
}

// maxExamples is how many violations of one rule the report quotes.
const maxExamples = 10

type ruleResult struct {
	checked, failed int
	examples        []string
	first           *Message
}

// Checker judges messages against Rules as they come from Analyze.
type Checker struct {
	results map[string]*ruleResult
	index   map[string]int
}

// NewChecker returns a Checker.
func NewChecker() *Checker {
	c := &Checker{results: map[string]*ruleResult{}, index: map[string]int{}}
	for i, r := range Rules {
		c.results[r.ID] = &ruleResult{}
		c.index[r.ID] = i
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
	for _, r := range Rules {
		res := c.results[r.ID]
		text, bad := violated[r.ID]
		if !bad {
			if r.applies == nil || !r.applies(m) {
				continue
			}
			if r.check != nil {
				text = r.check(m)
				bad = text != ""
			}
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
// capture held none it applies to. only narrows it to one protocol.
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
		run.Protocol = strings.Join([]string{ProtoHTTP1, ProtoDNS}, ",")
	}
	if sum != nil {
		run.Notes = append(run.Notes, fmt.Sprintf("%d packets, %d flows, %d messages, %d gaps (%d bytes) in %s", sum.Read.Packets, sum.Flows, sum.Messages, sum.Gaps, sum.GapBytes, source))
		for _, w := range sum.Warnings {
			run.Notes = append(run.Notes, "capture: "+w)
		}
	}
	for _, r := range Rules {
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
			e.Data = strconv.Quote(string(m.Raw[:min(len(m.Raw), 256)]))
			e.Truncated = len(m.Raw) > 256 || m.Truncated
		} else {
			e.Data = m.Summary
		}
		out = append(out, e)
	}
	if m.peer != nil {
		add(m.peer)
	}
	add(m)
	return out
}
