package unbound

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/fixture/dns"
	refdns "github.com/protospec/protospec/reference/dns"
	"github.com/protospec/protospec/targets"
)

// fakeAuth is a tiny authoritative server for the root (its NS only, for
// unbound's priming query) and the fixture's test. zone, standing in for
// the suite's upstream.
type fakeAuth struct {
	rrs     []dns.RR
	queries atomic.Int32
}

func (f *fakeAuth) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	f.queries.Add(1)
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

// startUpstream serves the fake authoritative server over UDP and TCP on
// one free loopback port.
func startUpstream(t *testing.T) (*fakeAuth, string) {
	t.Helper()
	rrs, err := fixture.Zones[0].RRs()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAuth{rrs: rrs}
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

// TestStartQueryClose resolves www.test. through unbound from a fake
// upstream and checks that Close stops unbound and removes its temporary
// directory.
func TestStartQueryClose(t *testing.T) {
	if err := (Launcher{}).Available(); errors.Is(err, targets.ErrMissingBinary) {
		t.Skip(err)
	}
	up, upAddr := startUpstream(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	began := time.Now()
	tg, err := targets.Open(ctx, "unbound", targets.Options{Protocol: "dns", Params: map[string]string{"upstream": upAddr, "server-port": "53"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	t.Logf("%s ready in %v", tg.Info().Version, time.Since(began))
	if n := up.queries.Load(); n != 0 {
		t.Errorf("readiness probe sent %d queries upstream, want none", n)
	}
	work, _ := filepath.Glob(filepath.Join(tmp, "protospec-unbound-*", "unbound.conf"))
	if len(work) != 1 {
		t.Fatalf("want one work dir with unbound.conf in %s, found %v", tmp, work)
	}

	for _, netw := range []string{"udp", "tcp"} {
		ep, err := tg.Endpoint("resolver/" + netw)
		if err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg).SetQuestion("www.test.", dns.TypeA)
		r, _, err := (&dns.Client{Net: netw, Timeout: 3 * time.Second}).Exchange(m, ep.Addr)
		if err != nil {
			t.Fatalf("%s: %v", netw, err)
		}
		if r.Rcode != dns.RcodeSuccess || !r.RecursionAvailable || len(r.Answer) != 1 {
			t.Fatalf("%s: www.test. A: want one recursive answer, got\n%v", netw, r)
		}
		if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "127.0.0.1" {
			t.Fatalf("%s: www.test. A answered %v, want 127.0.0.1", netw, r.Answer[0])
		}
	}
	if up.queries.Load() == 0 {
		t.Error("the upstream was never asked")
	}
	for _, f := range []string{"dns/iterative", "dns/allowlist", "dns/tcp-pipelining"} {
		if err := tg.Feature(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	udp, _ := tg.Endpoint("resolver/udp")
	outsiderRefused(t, udp.Addr)
	if _, err := tg.Endpoint("dns/udp"); !errors.Is(err, targets.ErrNotOffered) {
		t.Errorf("dns/udp: got %v, want not offered", err)
	}
	tcp, _ := tg.Endpoint("resolver/tcp")
	pipelining(t, tcp.Addr)

	w, ok := tg.(targets.Watcher)
	if !ok {
		t.Fatal("the target is not a targets.Watcher")
	}
	if err := w.Alive(); err != nil {
		t.Fatal(err)
	}
	if rss, err := w.RSS(); err != nil || rss <= 0 {
		t.Errorf("RSS: %d, %v", rss, err)
	}

	pgid := tg.(*targets.Static).Proc.PID()
	if len(groupLeft(pgid)) == 0 {
		t.Fatalf("no process found in the server's group %d", pgid)
	}
	began = time.Now()
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("unbound stopped in %v", time.Since(began))
	q := new(dns.Msg).SetQuestion("www.test.", dns.TypeA)
	if _, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(q, tcp.Addr); err == nil {
		t.Error("unbound still answers after Close")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("Close left %v in %s", left, tmp)
	}
	if w.Alive() == nil {
		t.Error("Alive after Close")
	}
	if left := groupLeft(pgid); len(left) > 0 {
		t.Errorf("processes %v of the server's group survive Close", left)
	}
}

// TestIterativeNeedsPort53 checks that unbound does not claim to iterate
// when the suite's further servers are not on port 53.
func TestIterativeNeedsPort53(t *testing.T) {
	if err := (Launcher{}).Available(); errors.Is(err, targets.ErrMissingBinary) {
		t.Skip(err)
	}
	_, upAddr := startUpstream(t)
	_, port, _ := net.SplitHostPort(upAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg, err := targets.Open(ctx, "unbound", targets.Options{Protocol: "dns", Params: map[string]string{"upstream": upAddr, "server-port": port}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if err := tg.Feature("dns/iterative"); !errors.Is(err, targets.ErrNotOffered) {
		t.Errorf("dns/iterative with server-port %s: got %v, want not offered", port, err)
	}
}

// outsiderRefused checks that a query from the suite's outsider address
// is refused or ignored, the behaviour dns/allowlist claims.
func outsiderRefused(t *testing.T, addr string) {
	t.Helper()
	c := &dns.Client{Timeout: time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(outsider)}}}
	r, _, err := c.Exchange(new(dns.Msg).SetQuestion("www.test.", dns.TypeA), addr)
	if err == nil && r.Rcode != dns.RcodeRefused {
		t.Errorf("query from %s: rcode %s, want REFUSED or no answer", outsider, dns.RcodeToString[r.Rcode])
	}
}

// TestNoUpstream checks that a resolver without an upstream refuses to
// start, saying why.
func TestNoUpstream(t *testing.T) {
	if err := (Launcher{}).Available(); errors.Is(err, targets.ErrMissingBinary) {
		t.Skip(err)
	}
	for _, params := range []map[string]string{nil, {"upstream": "192.0.2.1:53"}, {"upstream": "127.0.0.1"}} {
		_, err := targets.Open(context.Background(), "unbound", targets.Options{Protocol: "dns", Params: params})
		if err == nil {
			t.Fatalf("%v: started", params)
		}
		if params == nil && !errors.Is(err, ErrNoUpstream) {
			t.Errorf("no upstream: got %v, want ErrNoUpstream", err)
		}
	}
}

// pipelining sends ten queries for distinct names in one TCP write and
// wants ten answers, the behaviour the dns/tcp-pipelining feature claims.
func pipelining(t *testing.T, addr string) {
	t.Helper()
	c, err := dns.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	names := []string{"www.test.", "mail.test.", "txt.test.", "ns1.test.", "nonexistent.test."}
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

// TestIteratesHierarchy walks reference/dns's loopback hierarchy (root,
// TLDs, second-level zones, all on port 53 of their own addresses) through
// unbound: what "dns/iterative" claims. It needs port 53, so root.
func TestIteratesHierarchy(t *testing.T) {
	if err := (Launcher{}).Available(); errors.Is(err, targets.ErrMissingBinary) {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := refdns.StartHierarchy(ctx, refdns.HierarchyConfig{Port: 53})
	if err != nil {
		t.Skipf("the hierarchy needs port 53 of 127.0.0.10-18: %v", err)
	}
	defer h.Close()
	tg, err := targets.Open(ctx, "unbound", targets.Options{Protocol: "dns", Params: map[string]string{"upstream": h.Root.String(), "server-port": "53"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ep, _ := tg.Endpoint("resolver/udp")
	c := &dns.Client{Timeout: 3 * time.Second}
	for _, tc := range []struct {
		name  string
		rcode int
		want  string
	}{
		{refdns.GaiaName, dns.RcodeSuccess, refdns.GaiaAddr},
		{"alias.test.", dns.RcodeSuccess, "127.0.0.1"},
		{"nonexistent.test.", dns.RcodeNameError, ""},
	} {
		r, _, err := c.Exchange(new(dns.Msg).SetQuestion(tc.name, dns.TypeA), ep.Addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got string
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok {
				got = a.A.String()
			}
		}
		if r.Rcode != tc.rcode || got != tc.want {
			t.Errorf("%s A: rcode %s, address %q; want %s, %q", tc.name, dns.RcodeToString[r.Rcode], got, dns.RcodeToString[tc.rcode], tc.want)
		}
	}
}

// groupLeft lists the processes still in process group pgid.
func groupLeft(pgid int) []string {
	ents, _ := os.ReadDir("/proc")
	var left []string
	for _, e := range ents {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name's closing parenthesis: state,
		// ppid, pgrp.
		i := bytes.LastIndexByte(stat, ')')
		if f := strings.Fields(string(stat[i+1:])); i > 0 && len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			left = append(left, e.Name())
		}
	}
	return left
}
