package dns

import (
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc9156_2 = spec.Section("dns", "rfc9156", "2", "Description of QNAME Minimisation")
	rfc9156_3 = spec.Section("dns", "rfc9156", "3", "Algorithm to Perform QNAME Minimisation")
)

// qminAbstract is RFC 9156's own statement of the technique, the one
// sentence of it this suite quotes.
const qminAbstract = `RFC 9156, abstract: "This document describes a technique called "QNAME minimisation" to improve DNS privacy, where the DNS resolver no longer always sends the full original QNAME and original QTYPE to the upstream name server."`

// qminCase is a deep name below a delegated zone, with two empty
// non-terminals on the way: x.y.z.child.<scenario> TXT, where child. is
// served by fake server 1 and the scenario zone (and the root) by server 0.
type qminCase struct {
	sc    *scenario
	child *fakeZone
	qname string
	m     *mdns.Msg
}

func resolveDeep(t *spec.T, leaf string, qtype uint16) *qminCase {
	requireIterative(t)
	sc := newScenario(t)
	child := sc.delegate("child", 60, modeAnswer)
	sc.addTo(child, `x.y.z 300 IN TXT "deep"`)
	qc := &qminCase{sc: sc, child: child, qname: leaf + "." + child.origin}
	qc.m = sc.resolve(qc.qname, qtype)
	return qc
}

// parentQueries are the queries server 0 (root and scenario zone) got for
// names at or below the scenario's origin.
func (qc *qminCase) parentQueries() []seenQuery {
	return qc.sc.f.queries(func(q seenQuery) bool {
		return q.Server == 0 && mdns.IsSubDomain(qc.sc.origin, strings.ToLower(q.Name))
	})
}

// minimised reports whether a query names a proper ancestor of the query
// name (below the root): a query the resolver made up while minimising.
func (qc *qminCase) minimised(q seenQuery) bool {
	n := strings.ToLower(q.Name)
	return n != qc.qname && n != "." && mdns.IsSubDomain(n, qc.qname)
}

// requireAnswered fails the spec unless the deep TXT resolved: no qmin
// spec passes on a resolver that never answered.
func (qc *qminCase) requireAnswered(t *spec.T) {
	if !txtAnswer(qc.m, qc.qname, "deep") {
		t.Mismatch(qc.qname+` TXT "deep", resolved through the empty non-terminals`, "%s", summary(qc.m))
	}
}

func txtAnswer(m *mdns.Msg, name, want string) bool {
	for _, rr := range m.Answer {
		if v, ok := rr.(*mdns.TXT); ok && strings.EqualFold(v.Hdr.Name, name) && strings.Join(v.Txt, "") == want {
			return true
		}
	}
	return false
}

func describeQueries(qs []seenQuery) string {
	var b strings.Builder
	for i, q := range qs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", q.Name, typeName(q.Type))
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

var _ = Describe("RFC 9156 QNAME minimisation", func() {
	rfc9156_2.It("parent-not-told-full-name", spec.MAY, "does not send the full query name to the servers of the parent zone", spec.Inferred(qminAbstract, "QNAME minimisation is a privacy option a resolver may leave off: MAY"), func(t *spec.T) {
		qc := resolveDeep(t, "x.y.z", mdns.TypeTXT)
		qc.requireAnswered(t)
		parent := qc.parentQueries()
		if len(parent) == 0 {
			t.Failf("the parent zone's server saw no query at all: the spec cannot judge what the resolver told it")
		}
		for _, q := range parent {
			if n := strings.ToLower(q.Name); n != qc.child.origin && mdns.IsSubDomain(qc.child.origin, n) {
				t.Mismatch("queries to the parent's server naming at most "+qc.child.origin+" (QNAME minimisation supported)", "it was asked %s", describeQueries(parent))
			}
		}
		t.Note("the parent's server was asked: %s", describeQueries(parent))
	})

	rfc9156_2.It("one-label-more", spec.SHOULD, "reveals one label more than the zone it asks, in each minimised query", spec.Inferred(qminAbstract+` A minimised query names the zone's child one label down, never more of the original name.`, "binds resolvers that minimise; the RFC's algorithm adds one label at a time: SHOULD"), func(t *spec.T) {
		qc := resolveDeep(t, "x.y.z", mdns.TypeTXT)
		qc.requireAnswered(t)
		all := qc.sc.f.queries(func(q seenQuery) bool { return mdns.IsSubDomain(qc.sc.origin, strings.ToLower(q.Name)) })
		var mini []seenQuery
		for _, q := range all {
			if qc.minimised(q) {
				mini = append(mini, q)
			}
		}
		if len(mini) == 0 {
			t.Skipf("not applicable: the resolver does not minimise (asked %s)", describeQueries(all))
		}
		// Server 1 serves child. alone and knew nothing before this
		// spec: its first query names at most one label below child.,
		// and each next one at most one label more than the one before.
		prev := mdns.CountLabel(qc.child.origin)
		var seen1 []seenQuery
		for _, q := range all {
			if q.Server != 1 || !mdns.IsSubDomain(strings.ToLower(q.Name), qc.qname) {
				continue
			}
			seen1 = append(seen1, q)
			n := mdns.CountLabel(q.Name)
			if n > prev+1 {
				t.Mismatch("each query to the child zone's server naming one label more than the one before", "%s %s after %d labels; the child's server was asked: %s", q.Name, typeName(q.Type), prev, describeQueries(seen1))
			}
			prev = max(prev, n)
		}
	})

	rfc9156_2.It("minimised-qtype", spec.SHOULD, "hides the original QTYPE (TXT) in minimised queries, asking A or NS instead", spec.Inferred(qminAbstract, "binds resolvers that minimise; the RFC's example method asks A (NS is allowed): SHOULD").SharedBecause("the QTYPE half of the sentence"), func(t *spec.T) {
		qc := resolveDeep(t, "x.y.z", mdns.TypeTXT)
		qc.requireAnswered(t)
		all := qc.sc.f.queries(func(q seenQuery) bool { return mdns.IsSubDomain(qc.sc.origin, strings.ToLower(q.Name)) })
		var mini []seenQuery
		for _, q := range all {
			if qc.minimised(q) {
				mini = append(mini, q)
			}
		}
		if len(mini) == 0 {
			t.Skipf("not applicable: the resolver does not minimise (asked %s)", describeQueries(all))
		}
		for _, q := range mini {
			if q.Type != mdns.TypeA && q.Type != mdns.TypeNS && q.Type != mdns.TypeAAAA {
				t.Mismatch("minimised queries of QTYPE A or NS", "%s %s; minimised queries: %s", q.Name, typeName(q.Type), describeQueries(mini))
			}
		}
	})

	rfc9156_3.It("through-empty-non-terminals", spec.MUST, "resolves a name below two empty non-terminals of a delegated zone", spec.Inferred(qminAbstract+` A minimising resolver meets the empty non-terminals z. and y.z. (NOERROR, no data) and goes on.`, "resolving a name that exists is what a resolver is for, minimising or not: MUST").SharedBecause("the empty non-terminal case"), func(t *spec.T) {
		qc := resolveDeep(t, "x.y.z", mdns.TypeTXT)
		t.Check(checkRcode(qc.m, mdns.RcodeSuccess))
		qc.requireAnswered(t)
	})

	rfc9156_3.It("nxdomain-below-missing", spec.MUST, "answers NXDOMAIN for a name below a name that does not exist", spec.Inferred(qminAbstract+` A minimising resolver that gets NXDOMAIN for a shorter name has its answer: nothing exists below it.`, "any resolver answers a name that does not exist with NXDOMAIN: MUST").SharedBecause("the NXDOMAIN case"), func(t *spec.T) {
		qc := resolveDeep(t, "a.b.gone", mdns.TypeTXT)
		t.Check(checkRcode(qc.m, mdns.RcodeNameError))
	})

	rfc9156_3.It("nxdomain-stops-descent", spec.MAY, "asks nothing below a name its server said NXDOMAIN for", spec.Inferred(qminAbstract+` A minimising resolver that gets NXDOMAIN for a shorter name has its answer and need not reveal the rest of the name.`, "a resolver may go on with the full name to get past servers that answer NXDOMAIN for empty non-terminals (unbound's relaxed mode does): MAY").SharedBecause("the NXDOMAIN case, as privacy"), func(t *spec.T) {
		qc := resolveDeep(t, "a.b.gone", mdns.TypeTXT)
		t.Check(checkRcode(qc.m, mdns.RcodeNameError))
		gone := "gone." + qc.child.origin
		var below []seenQuery
		asked := false
		for _, q := range qc.sc.f.queries(func(q seenQuery) bool { return q.Server == 1 }) {
			n := strings.ToLower(q.Name)
			if n == gone {
				asked = true
			} else if asked && mdns.IsSubDomain(gone, n) {
				below = append(below, q)
			}
		}
		if !asked {
			t.Skipf("not applicable: the resolver does not minimise (it never asked %s alone)", gone)
		}
		if len(below) > 0 {
			t.Mismatch("no query below "+gone+" once its server said NXDOMAIN for it", "%s", describeQueries(below))
		}
	})
})
