package nsd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/fixture/dns"
	"github.com/protospec/protospec/targets"
)

// TestStartQueryClose starts nsd, asks it what the fixture says it serves,
// and checks that Close stops it and removes its temporary directory.
func TestStartQueryClose(t *testing.T) {
	if err := (Launcher{}).Available(); errors.Is(err, targets.ErrMissingBinary) {
		t.Skip(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	began := time.Now()
	tg, err := targets.Open(ctx, "nsd", targets.Options{Protocol: "dns"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	t.Logf("%s ready in %v", tg.Info().Version, time.Since(began))
	work, _ := filepath.Glob(filepath.Join(tmp, "protospec-nsd-*", "nsd.conf"))
	if len(work) != 1 {
		t.Fatalf("want one work dir with nsd.conf in %s, found %v", tmp, work)
	}

	for _, netw := range []string{"udp", "tcp"} {
		ep, err := tg.Endpoint("dns/" + netw)
		if err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg).SetQuestion("www.test.", dns.TypeA)
		r, _, err := (&dns.Client{Net: netw, Timeout: 2 * time.Second}).Exchange(m, ep.Addr)
		if err != nil {
			t.Fatalf("%s: %v", netw, err)
		}
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
			t.Fatalf("%s: www.test. A: want one authoritative answer, got\n%v", netw, r)
		}
		if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "127.0.0.1" {
			t.Fatalf("%s: www.test. A answered %v, want 127.0.0.1", netw, r.Answer[0])
		}
	}
	ptr := new(dns.Msg).SetQuestion("1.0.0.127.in-addr.arpa.", dns.TypePTR)
	ep, _ := tg.Endpoint("dns/udp")
	if r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(ptr, ep.Addr); err != nil || len(r.Answer) != 1 {
		t.Fatalf("reverse zone not served: %v %v", err, r)
	}
	tcp, _ := tg.Endpoint("dns/tcp")
	for _, f := range []string{"dns/axfr", "dns/axfr-acl", "dns/tcp-pipelining"} {
		if err := tg.Feature(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	axfr(t, tcp.Addr)
	pipelining(t, tcp.Addr)
	if _, err := tg.Endpoint("resolver/udp"); !errors.Is(err, targets.ErrNotOffered) {
		t.Errorf("resolver/udp: got %v, want not offered", err)
	}

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
	t.Logf("nsd stopped in %v", time.Since(began))
	soa := new(dns.Msg).SetQuestion("test.", dns.TypeSOA)
	if _, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(soa, tcp.Addr); err == nil {
		t.Error("nsd still answers after Close")
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

// axfr checks that a zone transfer of test. from 127.0.0.1 is allowed and
// complete (SOA first and last, the fixture's records between), and that
// one from the suite's outsider address is refused.
func axfr(t *testing.T, addr string) {
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
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
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

// pipelining sends ten queries in one TCP write and wants ten answers, the
// behaviour the launcher's dns/tcp-pipelining feature claims.
func pipelining(t *testing.T, addr string) {
	t.Helper()
	c, err := dns.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var batch []byte
	ids := map[uint16]bool{}
	for i := 0; i < 10; i++ {
		m := new(dns.Msg).SetQuestion("www.test.", dns.TypeA)
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
	for range 10 {
		r, err := c.ReadMsg()
		if err != nil {
			t.Fatalf("pipelining: after %d answers: %v", 10-len(ids), err)
		}
		if !ids[r.Id] {
			t.Fatalf("pipelining: unexpected answer id %d", r.Id)
		}
		delete(ids, r.Id)
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
