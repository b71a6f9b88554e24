package launchertest

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/internal/dial"
	fixture "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets"
)

// Authoritative starts the authoritative DNS launcher name (its
// configuration file conf in its work directory), asks it what the fixture
// says it serves over UDP and TCP, checks AXFR (refused to outsider) and
// TCP pipelining, and checks that Close stops it and removes its
// temporary directory.
func Authoritative(t *testing.T, name, conf, outsider string) {
	t.Helper()
	tmp := TempRoot(t)
	tg := Open(t, name, targets.Options{Protocol: "dns"})
	dir := WorkDir(t, tmp, name, conf)
	for _, netw := range []string{"udp", "tcp"} {
		ep, err := tg.Endpoint("dns/" + netw)
		if err != nil {
			t.Fatal(err)
		}
		r := ResolveA(t, netw, ep.Addr)
		if !r.Authoritative {
			t.Fatalf("%s: www.test. A: want an authoritative answer, got\n%v", netw, r)
		}
	}
	ptr := new(dns.Msg).SetQuestion("1.0.0.127.in-addr.arpa.", dns.TypePTR)
	ep, _ := tg.Endpoint("dns/udp")
	if r, err := fixture.Exchange(context.Background(), &dns.Client{Net: "udp", Timeout: 2 * time.Second}, ptr, ep.Addr); err != nil || len(r.Answer) != 1 {
		t.Fatalf("reverse zone not served: %v %v", err, r)
	}
	tcp, _ := tg.Endpoint("dns/tcp")
	Offered(t, tg, fixture.FeatureAXFR, fixture.FeatureAXFRACL, fixture.FeaturePipelining)
	AXFR(t, tcp.Addr, outsider)
	Pipelining(t, tcp.Addr, "www.test.")
	NotOffered(t, tg, "resolver/udp")
	CloseStops(t, tg, dir)
}

// Resolver starts the resolver launcher name with a FakeUpstream (and
// params besides), checks that its readiness probe asked the upstream
// nothing, that its work directory holds file, that it resolves www.test.
// over UDP and TCP from the upstream, serves no authoritative dns/udp and
// answers pipelined TCP queries. It returns the target, still running,
// and its work directory, for CloseStops.
func Resolver(t *testing.T, name, file string, params map[string]string) (tg targets.Target, dir string) {
	t.Helper()
	up, upAddr := FakeUpstream(t)
	tmp := TempRoot(t)
	p := map[string]string{"upstream": upAddr}
	for k, v := range params {
		p[k] = v
	}
	tg = Open(t, name, targets.Options{Protocol: "dns", Params: p})
	if n := up.Queries.Load(); n != 0 {
		t.Errorf("readiness probe sent %d queries upstream, want none", n)
	}
	dir = WorkDir(t, tmp, name, file)
	for _, netw := range []string{"udp", "tcp"} {
		ep, err := tg.Endpoint("resolver/" + netw)
		if err != nil {
			t.Fatal(err)
		}
		r := ResolveA(t, netw, ep.Addr)
		if !r.RecursionAvailable {
			t.Fatalf("%s: www.test. A: want a recursive answer, got\n%v", netw, r)
		}
	}
	if up.Queries.Load() == 0 {
		t.Error("the upstream was never asked")
	}
	NotOffered(t, tg, "dns/udp")
	tcp, _ := tg.Endpoint("resolver/tcp")
	Pipelining(t, tcp.Addr, "www.test.", "mail.test.", "txt.test.", "ns1.test.", "nonexistent.test.")
	return tg, dir
}

// NoUpstream checks that the resolver launcher name refuses to start
// without a loopback upstream, and with errNoUpstream when it has none.
func NoUpstream(t *testing.T, name string, errNoUpstream error) {
	t.Helper()
	l, ok := targets.Lookup(name)
	if !ok {
		t.Fatalf("no launcher %q registered", name)
	}
	SkipUnlessAvailable(t, l)
	for _, params := range []map[string]string{nil, {"upstream": "192.0.2.1:53"}, {"upstream": "127.0.0.1"}} {
		_, err := targets.Open(context.Background(), name, targets.Options{Protocol: "dns", Params: params})
		if err == nil {
			t.Fatalf("%v: started", params)
		}
		if params == nil && !errors.Is(err, errNoUpstream) {
			t.Errorf("no upstream: got %v, want %v", err, errNoUpstream)
		}
	}
}

// ResolveA asks addr over netw for www.test. A and wants the fixture's one
// answer, 127.0.0.1; it returns the reply for further checks.
func ResolveA(t testing.TB, netw, addr string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion("www.test.", dns.TypeA)
	r, err := fixture.Exchange(context.Background(), &dns.Client{Net: netw, Timeout: 3 * time.Second}, m, addr)
	if err != nil {
		t.Fatalf("%s: %v", netw, err)
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("%s: www.test. A: want one answer, got\n%v", netw, r)
	}
	if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "127.0.0.1" {
		t.Fatalf("%s: www.test. A answered %v, want 127.0.0.1", netw, r.Answer[0])
	}
	return r
}

// Offered checks that tg offers every feature.
func Offered(t testing.TB, tg targets.Target, features ...string) {
	t.Helper()
	for _, f := range features {
		if err := tg.Feature(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// NotOffered checks that tg offers none of names, services or features.
func NotOffered(t testing.TB, tg targets.Target, names ...string) {
	t.Helper()
	for _, n := range names {
		err := tg.Feature(n)
		if strings.Contains(n, "/udp") || strings.Contains(n, "/tcp") {
			_, err = tg.Endpoint(n)
		}
		if !errors.Is(err, targets.ErrNotOffered) {
			t.Errorf("%s: got %v, want not offered", n, err)
		}
	}
}

// AXFR checks that a zone transfer of test. from 127.0.0.1 is allowed and
// complete (SOA first and last, the fixture's records between), and that
// one from the suite's outsider address is refused.
func AXFR(t testing.TB, addr, outsider string) {
	t.Helper()
	rrs, err := transfer(addr, "127.0.0.1")
	if err != nil {
		t.Fatalf("AXFR: %v", err)
	}
	want, err := fixture.Zones[0].RRs()
	if err != nil {
		t.Fatal(err)
	}
	if len(rrs) != len(want)+1 || rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
		t.Fatalf("AXFR of test.: %d records, want %d bracketed by the SOA", len(rrs), len(want)+1)
	}
	if rrs, err := transfer(addr, outsider); err == nil {
		t.Fatalf("AXFR from %s: got %d records, want a refusal", outsider, len(rrs))
	}
}

// transfer asks addr for an AXFR of test. from the local address from.
func transfer(addr, from string) ([]dns.RR, error) {
	d := dial.Dialer{Timeout: 2 * time.Second, Source: from}
	c, err := d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: c}, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
	ch, err := tr.In(new(dns.Msg).SetAxfr("test."), addr)
	if err != nil {
		return nil, err
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			return rrs, env.Error
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs, nil
}

// Pipelining sends ten A queries (for names in turn) in one TCP write and
// wants ten answers, in any order: what the dns/tcp-pipelining feature
// claims.
func Pipelining(t testing.TB, addr string, names ...string) {
	t.Helper()
	d := dial.Dialer{Timeout: 2 * time.Second}
	nc, err := d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	c := &dns.Conn{Conn: nc}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var batch []byte
	ids := map[uint16]bool{}
	for i := 0; i < 10; i++ {
		m := new(dns.Msg).SetQuestion(names[i%len(names)], dns.TypeA)
		m.Id = uint16(1000 + i)
		ids[m.Id] = true
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, byte(len(b)>>8), byte(len(b)))
		batch = append(batch, b...)
	}
	if _, err := c.Conn.Write(batch); err != nil {
		t.Fatal(err)
	}
	var order []uint16
	for range 10 {
		r, err := c.ReadMsg()
		if err != nil {
			t.Fatalf("pipelining: after %d answers: %v", len(order), err)
		}
		if !ids[r.Id] {
			t.Fatalf("pipelining: unexpected answer id %d", r.Id)
		}
		delete(ids, r.Id)
		order = append(order, r.Id)
	}
	t.Logf("pipelined answers in order %v", order)
}

// FakeAuth is a tiny authoritative server for the root (its NS only, for
// a resolver's priming query) and the fixture's test. zone, standing in
// for the suite's upstream.
type FakeAuth struct {
	rrs []dns.RR
	// Queries counts the queries received.
	Queries atomic.Int32
}

// ServeDNS implements dns.Handler.
func (f *FakeAuth) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	f.Queries.Add(1)
	r := new(dns.Msg).SetReply(q)
	r.Authoritative = true
	switch {
	case len(q.Question) != 1:
		r.Rcode = dns.RcodeFormatError
		r.Authoritative = false
		w.WriteMsg(r)
		return
	case q.Question[0].Name == "." && q.Question[0].Qtype == dns.TypeNS:
		ns, _ := dns.NewRR(". 3600 IN NS ns1.test.")
		glue, _ := dns.NewRR("ns1.test. 3600 IN A 127.0.0.1")
		r.Answer, r.Extra = []dns.RR{ns}, []dns.RR{glue}
		w.WriteMsg(r)
		return
	case !dns.IsSubDomain(fixture.Origin, q.Question[0].Name):
		r.Rcode = dns.RcodeRefused
		r.Authoritative = false
		w.WriteMsg(r)
		return
	}
	name := strings.ToLower(q.Question[0].Name)
	exists := false
	var soa dns.RR
	for _, rr := range f.rrs {
		h := rr.Header()
		if h.Rrtype == dns.TypeSOA {
			soa = rr
		}
		if strings.ToLower(h.Name) == name {
			exists = true
			if h.Rrtype == q.Question[0].Qtype {
				r.Answer = append(r.Answer, rr)
			}
		}
	}
	if len(r.Answer) == 0 {
		r.Ns = []dns.RR{soa}
		if !exists {
			r.Rcode = dns.RcodeNameError
		}
	}
	w.WriteMsg(r)
}

// FakeUpstream serves a FakeAuth over UDP and TCP on one free loopback
// port until the test ends, and returns it and its address.
func FakeUpstream(t testing.TB) (*FakeAuth, string) {
	t.Helper()
	rrs, err := fixture.Zones[0].RRs()
	if err != nil {
		t.Fatal(err)
	}
	f := &FakeAuth{rrs: rrs}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: f}, {Listener: l, Handler: f}} {
		go srv.ActivateAndServe()
		t.Cleanup(func() { srv.Shutdown() })
	}
	return f, pc.LocalAddr().String()
}
