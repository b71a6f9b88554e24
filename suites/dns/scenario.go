package dns

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/suites/spec"
)

// scenario is one resolver spec's corner of the fake upstream: a zone of
// its own, "<label>.example.", served by the fake root, that it fills with
// records, delegates from and bends with rules; it counts what the
// resolver asks.
type scenario struct {
	t      *spec.T
	f      *fake
	origin string
	zone   *fakeZone
}

// Scenario SOA timers: a 60-second negative TTL unless a spec asks for
// another.
const scenarioNegTTL = 60

// newScenario starts a spec's scenario; it skips the spec when the target
// offers no resolver service and fails it when the fake is not running.
func newScenario(t *spec.T) *scenario {
	t.Endpoint(ServiceResolverUDP)
	f := currentFake()
	if f == nil {
		t.Failf("the fake upstream is not running: the dns protocol's Setup did not run")
	}
	label := fmt.Sprintf("s%d-%s", f.nextSeq(), randomLabel(4))
	sc := &scenario{t: t, f: f, origin: label + "." + fakeTLD}
	sc.zone = sc.newZone(sc.origin, scenarioNegTTL, map[int]serverMode{0: modeAnswer})
	t.Note("fake upstream: zone %s on %s", sc.origin, f.root().addr)
	return sc
}

// newZone registers a zone with an SOA and apex NS records naming each of
// its servers (ns<i>.<origin>, with addresses).
func (sc *scenario) newZone(origin string, negTTL uint32, servers map[int]serverMode) *fakeZone {
	z := &fakeZone{origin: strings.ToLower(origin), servers: servers, records: map[string]map[uint16][]mdns.RR{}}
	z.soa = mustRR(fmt.Sprintf("%s 3600 IN SOA ns0.%s hostmaster.%s 1 1800 900 604800 %d", origin, origin, origin, negTTL)).(*mdns.SOA)
	z.add(z.soa)
	for idx := range servers {
		ns := fmt.Sprintf("ns%d.%s", idx, z.origin)
		z.add(mustRR(fmt.Sprintf("%s 3600 IN NS %s", z.origin, ns)))
		z.add(mustRR(fmt.Sprintf("%s 3600 IN A %s", ns, sc.f.addr(idx))))
		z.nsNames = append(z.nsNames, ns)
	}
	sc.f.addZone(z)
	return z
}

// name returns label.<scenario origin>.
func (sc *scenario) name(label string) string {
	if label == "" || label == "@" {
		return sc.origin
	}
	return label + "." + sc.origin
}

// add adds records, written relative to the scenario's origin
// ("www 300 IN A 192.0.2.1"), to the scenario's zone.
func (sc *scenario) add(records ...string) {
	sc.addTo(sc.zone, records...)
}

func (sc *scenario) addTo(z *fakeZone, records ...string) {
	var rrs []mdns.RR
	for _, s := range records {
		zp := mdns.NewZoneParser(strings.NewReader(s+"\n"), z.origin, "")
		rr, ok := zp.Next()
		if !ok || zp.Err() != nil {
			sc.t.Failf("spec bug: bad record %q: %v", s, zp.Err())
		}
		rrs = append(rrs, rr)
	}
	sc.f.addRecords(z, rrs...)
}

// delegate creates the child zone "<label>.<origin>" served by further
// fake servers (one per mode, server indexes 1..), with NS records and
// glue in the scenario's zone.
func (sc *scenario) delegate(label string, negTTL uint32, modes ...serverMode) *fakeZone {
	if len(modes) >= fakeServers {
		sc.t.Failf("spec bug: %d servers asked, the fake has %d", len(modes), fakeServers-1)
	}
	servers := map[int]serverMode{}
	for i, m := range modes {
		servers[i+1] = m
	}
	child := sc.name(label)
	z := sc.newZone(child, negTTL, servers)
	var recs []mdns.RR
	for idx := range servers {
		ns := fmt.Sprintf("ns%d.%s", idx, z.origin)
		recs = append(recs, mustRR(fmt.Sprintf("%s 3600 IN NS %s", z.origin, ns)),
			mustRR(fmt.Sprintf("%s 3600 IN A %s", ns, sc.f.addr(idx))))
	}
	sc.f.addRecords(sc.zone, recs...)
	return z
}

// rule takes over the fake's answers for name.
func (sc *scenario) rule(name string, r fakeRule) { sc.f.setRule(name, r) }

// seen returns the queries the fake received for name (any case) and
// qtype (0: any type).
func (sc *scenario) seen(name string, qtype uint16) []seenQuery {
	return sc.f.queries(func(q seenQuery) bool {
		return strings.EqualFold(q.Name, name) && (qtype == 0 || q.Type == qtype)
	})
}

// resolve asks the resolver for name/qtype over UDP and returns the
// response, checked to be a response to the query.
//
// A truncated response is no answer: as a stub would (RFC 7766 5), the
// query is asked again over TCP, so that no spec judges an absence (no
// answer records, no SOA) on a TC=1 reply that holds nothing.
func (sc *scenario) resolve(name string, qtype uint16) *mdns.Msg {
	q := recQuery(name, qtype)
	m := udp(sc.t, ServiceResolverUDP, q)
	sc.t.Check(checkReplyID(q, m))
	if m.Truncated {
		sc.t.Note("the resolver answered TC=1; asking it over TCP")
		return sc.resolveTCP(name, qtype)
	}
	return m
}

// resolveTCP asks over TCP.
func (sc *scenario) resolveTCP(name string, qtype uint16) *mdns.Msg {
	q := recQuery(name, qtype)
	m := tcp(sc.t, ServiceResolverTCP, q)
	sc.t.Check(checkReplyID(q, m))
	return m
}

// resolveSlow asks over UDP, waiting up to d for an answer (resolvers may
// spend several seconds on silent servers before they give up).
func (sc *scenario) resolveSlow(name string, qtype uint16, d time.Duration) *mdns.Msg {
	q := recQuery(name, qtype)
	p := sc.t.DialPacket(ServiceResolverUDP)
	pb := mustPack(sc.t, q)
	deadline := time.Now().Add(sc.t.Scaled(d))
	// A reply with another ID is no answer, and no reason to ask again
	// at once: the query is sent again only when a retransmit interval
	// passes without the answer, so a responder that answers every
	// query with the wrong ID gets a few queries, not a flood.
	interval := sc.t.StepTimeout() / spec.Retransmits
	for time.Now().Before(deadline) {
		p.Send(pb)
		resend := time.Now().Add(interval)
		if resend.After(deadline) {
			resend = deadline
		}
		for wait := time.Until(resend); wait > 0; wait = time.Until(resend) {
			b, err := p.ReplyWithin(wait, 65535)
			if spec.IsTimeout(err) {
				break
			}
			sc.t.Check(err)
			m := unpack(sc.t, b)
			if m.Id == q.Id {
				return m
			}
		}
	}
	sc.t.Mismatch(fmt.Sprintf("an answer for %s %s within %v", name, typeName(qtype), d), "no answer")
	return nil
}

func checkReplyID(q, m *mdns.Msg) error {
	if m.Id != q.Id || !m.Response {
		return spec.Errorf(fmt.Sprintf("a response with ID %d", q.Id), "%s", summary(m))
	}
	return nil
}

// requireIterative skips specs that need a resolver that iterates.
func requireIterative(t *spec.T) { t.Require(FeatureIterative) }

// forged returns a copy of the normal answer whose A records all say addr.
func forgedAnswer(e *fakeExchange, addr string) *mdns.Msg {
	m := new(mdns.Msg)
	m.Id = e.q.Id
	m.Response = true
	m.Authoritative = true
	m.RecursionDesired = e.q.RecursionDesired
	m.Question = e.q.Question[:1]
	m.Answer = []mdns.RR{mustRR(fmt.Sprintf("%s 3600 IN A %s", e.q.Question[0].Name, addr))}
	if o := e.q.IsEdns0(); o != nil {
		m.SetEdns0(1232, false)
	}
	return m
}

// loopbackAddr parses an address known to be valid.
func loopbackAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
