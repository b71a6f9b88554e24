package dns

import (
	"fmt"
	"sort"
	"strings"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/suites/spec"
)

// Verifiers: plain funcs that compare a response with what the RFC
// demands and return an error naming the first difference, in the
// "expected: ... / actual: ..." form (CoreDNS test.Case / SortAndCheck
// style). Each accepts every reaction the RFC allows.

// rcodeName names an rcode ("NXDOMAIN", "BADVERS").
func rcodeName(rc int) string {
	if s, ok := mdns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

func opcodeName(op int) string {
	if s, ok := mdns.OpcodeToString[op]; ok {
		return s
	}
	return fmt.Sprintf("OPCODE%d", op)
}

// summary is a one-line description of a response for failure texts.
func summary(m *mdns.Msg) string {
	if m == nil {
		return "no response"
	}
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.Zero, "z"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	q := ""
	if len(m.Question) > 0 {
		q = fmt.Sprintf(" question %s %s", m.Question[0].Name, mdns.TypeToString[m.Question[0].Qtype])
	}
	return fmt.Sprintf("id %d opcode %s rcode %s flags [%s]%s answer %d authority %d additional %d%s",
		m.Id, opcodeName(m.Opcode), rcodeName(m.Rcode), strings.Join(flags, " "), q,
		len(m.Answer), len(m.Ns), len(m.Extra), sectionText(m))
}

func sectionText(m *mdns.Msg) string {
	var b strings.Builder
	for _, sec := range []struct {
		name string
		rrs  []mdns.RR
	}{{"answer", m.Answer}, {"authority", m.Ns}, {"additional", m.Extra}} {
		for i, rr := range sec.rrs {
			if i >= 6 {
				fmt.Fprintf(&b, "\n      %s: ... %d more", sec.name, len(sec.rrs)-i)
				break
			}
			fmt.Fprintf(&b, "\n      %s: %s", sec.name, rrText(rr))
		}
	}
	return b.String()
}

// rrText is a record in presentation format with a lower-case owner.
func rrText(rr mdns.RR) string {
	s := rr.String()
	owner := rr.Header().Name
	if strings.HasPrefix(s, owner) {
		s = strings.ToLower(owner) + s[len(owner):]
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

func normRR(s string) string {
	rr, err := mdns.NewRR(s)
	if err != nil {
		return s
	}
	return rrText(rr)
}

// withoutOPT drops OPT pseudo-records.
func withoutOPT(rrs []mdns.RR) []mdns.RR {
	var out []mdns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype != mdns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// checkSection compares a section with the records wanted, ignoring order.
// With subset, the section may hold more records than wanted.
func checkSection(name string, got []mdns.RR, want []string, subset bool) error {
	var g, w []string
	for _, rr := range withoutOPT(got) {
		g = append(g, rrText(rr))
	}
	for _, s := range want {
		w = append(w, normRR(s))
	}
	sort.Strings(g)
	sort.Strings(w)
	have := map[string]int{}
	for _, s := range g {
		have[s]++
	}
	for _, s := range w {
		if have[s] == 0 {
			return spec.Errorf(fmt.Sprintf("the %s section to hold %q", name, s),
				"the %s section holds %s", name, listOrNone(g))
		}
		have[s]--
	}
	if !subset && len(g) != len(w) {
		return spec.Errorf(fmt.Sprintf("the %s section to hold exactly %s", name, listOrNone(w)),
			"it holds %s", listOrNone(g))
	}
	return nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return "[" + strings.Join(s, " | ") + "]"
}

// checkRcode checks the rcode (extended rcodes included).
func checkRcode(m *mdns.Msg, accepted ...int) error {
	for _, rc := range accepted {
		if m.Rcode == rc {
			return nil
		}
	}
	var names []string
	for _, rc := range accepted {
		names = append(names, rcodeName(rc))
	}
	return spec.Errorf("rcode "+strings.Join(names, " or "), "rcode %s in: %s", rcodeName(m.Rcode), summary(m))
}

// checkAA checks the AA bit.
func checkAA(m *mdns.Msg, want bool) error {
	if m.Authoritative == want {
		return nil
	}
	return spec.Errorf(fmt.Sprintf("AA=%v", b2i(want)), "AA=%d in: %s", b2i(m.Authoritative), summary(m))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkCase checks a response against a fixture case: rcode, AA, the
// answer and authority sections exactly (order aside), and the records the
// additional section must hold.
func checkCase(m *mdns.Msg, c fixture.Case) error {
	if err := checkRcode(m, c.Rcode); err != nil {
		return err
	}
	if err := checkAA(m, c.AA); err != nil {
		return err
	}
	if m.Truncated {
		return spec.Errorf("a complete answer (TC=0)", "TC=1 in: %s", summary(m))
	}
	if err := checkSection("answer", m.Answer, c.Answer, false); err != nil {
		return err
	}
	ns := m.Ns
	if len(c.Authority) == 0 && len(c.Answer) > 0 {
		// RFC 1034 4.3.2 / RFC 2181 6.1: a positive answer may carry the
		// zone's own NS RRset in the authority section.
		ns = withoutApexNS(ns, c.Name)
	}
	if err := checkSection("authority", ns, c.Authority, false); err != nil {
		return err
	}
	return checkSection("additional", m.Extra, c.Additional, true)
}

// checkReplyHeader checks what every response to q must carry (RFC 1035
// 4.1.1): the ID, QR=1, the opcode, RD copied, Z=0 and the question.
func checkReplyHeader(q, m *mdns.Msg) error {
	switch {
	case m.Id != q.Id:
		return spec.Errorf(fmt.Sprintf("the query's ID %d", q.Id), "ID %d in: %s", m.Id, summary(m))
	case !m.Response:
		return spec.Errorf("QR=1", "QR=0 in: %s", summary(m))
	case m.Opcode != q.Opcode:
		return spec.Errorf("opcode "+opcodeName(q.Opcode), "opcode %s in: %s", opcodeName(m.Opcode), summary(m))
	case m.RecursionDesired != q.RecursionDesired:
		return spec.Errorf(fmt.Sprintf("RD=%d copied from the query", b2i(q.RecursionDesired)), "RD=%d in: %s", b2i(m.RecursionDesired), summary(m))
	case m.Zero:
		return spec.Errorf("Z=0", "Z=1 in: %s", summary(m))
	}
	return checkQuestion(q, m)
}

// checkQuestion checks that the response repeats the question exactly,
// case included (RFC 1035 4.1.2, RFC 4343 4.1). A response may omit it
// only for some errors, which callers handle.
func checkQuestion(q, m *mdns.Msg) error {
	if len(m.Question) != 1 {
		return spec.Errorf("the question "+qText(q.Question[0]), "%d questions in: %s", len(m.Question), summary(m))
	}
	if m.Question[0] != q.Question[0] {
		return spec.Errorf("the question "+qText(q.Question[0]), "question %s", qText(m.Question[0]))
	}
	return nil
}

func qText(q mdns.Question) string {
	return fmt.Sprintf("%s %s %s", q.Name, mdns.ClassToString[q.Qclass], typeName(q.Qtype))
}

func typeName(t uint16) string {
	if s, ok := mdns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// checkNoAnswerData checks that a refusal-like response carries no
// authoritative data for the question.
func checkNoAnswerData(m *mdns.Msg) error {
	if len(m.Answer) > 0 || m.Authoritative {
		return spec.Errorf("no answer records and AA=0 from a server without authority for the name",
			"%s", summary(m))
	}
	return nil
}

// answerAddrs returns the A/AAAA data in the answer section owned by name.
func answerAddrs(m *mdns.Msg, name string) []string {
	var out []string
	if m == nil {
		return nil
	}
	for _, rr := range m.Answer {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		switch v := rr.(type) {
		case *mdns.A:
			out = append(out, v.A.String())
		case *mdns.AAAA:
			out = append(out, v.AAAA.String())
		}
	}
	sort.Strings(out)
	return out
}

// checkAddrs checks the addresses the answer gives for name.
func checkAddrs(m *mdns.Msg, name string, want ...string) error {
	got := answerAddrs(m, name)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		return spec.Errorf(fmt.Sprintf("%s to resolve to %s", name, listOrNone(want)),
			"%s in: %s", listOrNone(got), summary(m))
	}
	return nil
}

// withoutApexNS drops NS records owned by name or one of its ancestors
// (the NS RRset of the zone that answers).
func withoutApexNS(rrs []mdns.RR, name string) []mdns.RR {
	var out []mdns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == mdns.TypeNS && mdns.IsSubDomain(strings.ToLower(rr.Header().Name), strings.ToLower(name)) {
			continue
		}
		out = append(out, rr)
	}
	return out
}
