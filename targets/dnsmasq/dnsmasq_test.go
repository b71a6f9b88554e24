package dnsmasq

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
	"github.com/protospec/protospec/targets"
)

// fakeAuth is a tiny authoritative server for the root (its NS only) and the fixture's test. zone, standing in for
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

// TestStartQueryClose resolves www.test. through dnsmasq from a fake
// upstream and checks that Close stops dnsmasq and removes its temporary
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
	tg, err := targets.Open(ctx, "dnsmasq", targets.Options{Protocol: "dns", Params: map[string]string{"upstream": upAddr}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	t.Logf("%s ready in %v", tg.Info().Version, time.Since(began))
	if n := up.queries.Load(); n != 0 {
		t.Errorf("readiness probe sent %d queries upstream, want none", n)
	}
	work, _ := filepath.Glob(filepath.Join(tmp, "protospec-dnsmasq-*", "dnsmasq.pid"))
	if len(work) != 1 {
		t.Fatalf("want one work dir with dnsmasq.pid in %s, found %v", tmp, work)
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
	for _, f := range []string{"dns/iterative", "dns/allowlist"} {
		if err := tg.Feature(f); !errors.Is(err, targets.ErrNotOffered) {
			t.Errorf("%s: got %v, want not offered", f, err)
		}
	}
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
	t.Logf("dnsmasq stopped in %v", time.Since(began))
	q := new(dns.Msg).SetQuestion("www.test.", dns.TypeA)
	if _, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(q, tcp.Addr); err == nil {
		t.Error("dnsmasq still answers after Close")
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

// TestNoUpstream checks that a resolver without an upstream refuses to
// start, saying why.
func TestNoUpstream(t *testing.T) {
	if err := (Launcher{}).Available(); errors.Is(err, targets.ErrMissingBinary) {
		t.Skip(err)
	}
	for _, params := range []map[string]string{nil, {"upstream": "192.0.2.1:53"}, {"upstream": "127.0.0.1"}} {
		_, err := targets.Open(context.Background(), "dnsmasq", targets.Options{Protocol: "dns", Params: params})
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
