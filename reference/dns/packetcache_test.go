package dns

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func packQuery(t *testing.T, name string, qtype uint16, id uint16, edns bool) []byte {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	if edns {
		m.SetEdns0(1232, true)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A cached answer is the answer the server computes, with the asking
// query's ID; spellings differing in case are separate entries.
func TestPacketCacheAnswersAsComputed(t *testing.T) {
	s := &AuthServer{Zones: fixtureZones(t)}
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	for _, c := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{"www.test.", mdns.TypeA, false},
		{"WwW.TeSt.", mdns.TypeA, true},
		{"nothere.test.", mdns.TypeA, true},
		{"test.", mdns.TypeSOA, false},
	} {
		first := s.handle(packQuery(t, c.name, c.qtype, 1, c.edns), client, false)
		q := packQuery(t, c.name, c.qtype, 0xBEEF, c.edns)
		cached := s.handle(q, client, false)
		computed, _ := s.answerQuery(q, client, false)
		if len(first) != 1 || len(cached) != 1 || len(computed) != 1 {
			t.Fatalf("%s: %d, %d, %d answers", c.name, len(first), len(cached), len(computed))
		}
		if !bytes.Equal(cached[0], computed[0]) {
			t.Errorf("%s: cached answer differs from the computed one:\n%x\n%x", c.name, cached[0], computed[0])
		}
		r := new(mdns.Msg)
		if err := r.Unpack(cached[0]); err != nil {
			t.Fatal(err)
		}
		if r.Id != 0xBEEF || r.Question[0].Name != c.name {
			t.Errorf("%s: answer has ID %#x, question %q", c.name, r.Id, r.Question[0].Name)
		}
	}
	if n := len(s.cache.m); n != 4 {
		t.Errorf("cache holds %d answers, want 4 (one per spelling)", n)
	}
}

// Transfers depend on the client (AllowTransfer), so they are never cached;
// TCP answers are not cached either.
func TestPacketCacheSkipsTransfersAndTCP(t *testing.T) {
	s := &AuthServer{Zones: fixtureZones(t)}
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	s.handle(packQuery(t, "test.", mdns.TypeAXFR, 1, false), client, false)
	s.handle(packQuery(t, "test.", mdns.TypeIXFR, 1, false), client, false)
	s.handle(packQuery(t, "www.test.", mdns.TypeA, 1, false), client, true)
	if n := len(s.cache.m); n != 0 {
		t.Errorf("cache holds %d answers, want 0", n)
	}
	if !isTransfer(packQuery(t, "test.", mdns.TypeAXFR, 1, false)) || isTransfer(packQuery(t, "test.", mdns.TypeA, 1, false)) {
		t.Error("isTransfer misreads the question type")
	}
	if !isTransfer([]byte("\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f")) {
		t.Error("a question that runs past the message counts as cacheable")
	}
}

// The cache stays bounded: it starts afresh when full.
func TestPacketCacheBounded(t *testing.T) {
	var c packetCache
	a := packQuery(t, "www.test.", mdns.TypeA, 7, false)
	for i := range maxCachedAnswers + 10 {
		q := packQuery(t, strings.Repeat("a", 1+i%60)+".x"+string(rune('a'+i%26))+"."+strconv.Itoa(i)+".test.", mdns.TypeA, 7, false)
		c.put(q, a)
	}
	if n := len(c.m); n > maxCachedAnswers {
		t.Fatalf("cache holds %d answers, more than %d", n, maxCachedAnswers)
	}
	long := packQuery(t, strings.Repeat("a.", 300)+"test.", mdns.TypeA, 7, false)
	c.put(long, a)
	if c.get(long) != nil {
		t.Error("a query longer than maxCachedQuery was cached")
	}
}

// The batched UDP loop answers a burst of queries, each to its sender, and
// a query of nearly the largest size.
func TestBatchedUDPBurst(t *testing.T) {
	for _, workers := range []int{0, 1, 3} {
		t.Run(strconv.Itoa(workers)+"-workers", func(t *testing.T) { testBatchedUDPBurst(t, workers) })
	}
}

func testBatchedUDPBurst(t *testing.T, workers int) {
	s := &AuthServer{UDPWorkers: workers}
	udp, _ := startAuth(t, s)
	var conns []net.Conn
	for range 4 {
		c, err := net.Dial("udp", udp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	const perConn = 50
	for i, c := range conns {
		for j := range perConn {
			if _, err := c.Write(packQuery(t, "www.test.", mdns.TypeA, uint16(i*1000+j), j%2 == 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := make([]byte, 65535)
	for i, c := range conns {
		seen := map[uint16]bool{}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		for len(seen) < perConn {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("conn %d: %d of %d answers: %v", i, len(seen), perConn, err)
			}
			r := new(mdns.Msg)
			if err := r.Unpack(buf[:n]); err != nil {
				t.Fatal(err)
			}
			if int(r.Id)/1000 != i || r.Rcode != mdns.RcodeSuccess || len(r.Answer) == 0 {
				t.Fatalf("conn %d got %v", i, r)
			}
			seen[r.Id] = true
		}
	}
	// A 60,000-byte query (EDNS padding) is read whole and answered.
	m := new(mdns.Msg)
	m.SetQuestion("www.test.", mdns.TypeA)
	m.SetEdns0(1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &mdns.EDNS0_PADDING{Padding: make([]byte, 60000)})
	q, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if got := rawUDP(t, udp, q, 3*time.Second); got == nil {
		t.Fatal("no answer to a 60,000-byte query")
	}
}
