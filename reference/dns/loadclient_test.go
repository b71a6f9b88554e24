package dns

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"

	contract "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/loadgen/loadgentest"
)

func TestParseLoadQueries(t *testing.T) {
	qs, err := ParseLoadQueries(strings.NewReader("; dnsperf file\nwww.test A\n\n# comment\ntest. mx\nnoType.test\nx.test TYPE65\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		typ  uint16
	}{{"www.test.", mdns.TypeA}, {"test.", mdns.TypeMX}, {"noType.test.", mdns.TypeA}, {"x.test.", 65}}
	if len(qs) != len(want) {
		t.Fatalf("%d queries, want %d", len(qs), len(want))
	}
	for i, w := range want {
		if qs[i].Name != w.name || qs[i].Type != w.typ {
			t.Errorf("query %d = %s %d, want %s %d", i, qs[i].Name, qs[i].Type, w.name, w.typ)
		}
		var m mdns.Msg
		if err := m.Unpack(qs[i].wire); err != nil || len(m.Question) != 1 || !m.RecursionDesired || m.Question[0].Qtype != w.typ {
			t.Errorf("query %d does not unpack as one RD question: %v %v", i, err, m.Question)
		}
	}
	for _, bad := range []string{"", "; only comments\n", "www.test BOGUS\n", "a b c\n", "bad..name A\n"} {
		if _, err := ParseLoadQueries(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseLoadQueries(%q) accepted it", bad)
		}
	}
}

func startReferenceDNS(t *testing.T) (udp, tcp string) {
	t.Helper()
	var zones []*Zone
	for _, z := range fixture.Zones {
		zz, err := LoadZone(z.Origin, strings.NewReader(z.Text()))
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, zz)
	}
	s := &AuthServer{Zones: zones}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeUDP(pc)
	go s.ServeTCP(l)
	t.Cleanup(func() { s.Close() })
	return pc.LocalAddr().String(), l.Addr().String()
}

func TestLoadClientAgainstReference(t *testing.T) {
	udp, tcp := startReferenceDNS(t)
	for _, tc := range []struct {
		network, addr string
		pipeline      int
	}{{"udp", udp, 1}, {"udp", udp, 16}, {"tcp", tcp, 1}, {"tcp", tcp, 16}} {
		p, err := NewLoadClient(LoadClientOptions{Addr: tc.addr, Network: tc.network})
		if err != nil {
			t.Fatal(err)
		}
		res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Connections: 2, Pipeline: tc.pipeline, Requests: 1000})
		if res.Completed != 1000 || res.ErrorCount() != 0 {
			t.Errorf("%s pipeline %d: completed %d errors %v; want 1000 and none", tc.network, tc.pipeline, res.Completed, res.Errors)
		}
	}
	// Out of the zones: REFUSED is well-formed but not accepted.
	qs, err := ParseLoadQueries(strings.NewReader("www.example.org A\nwww.test A\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewLoadClient(LoadClientOptions{Addr: udp, Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Requests: 100})
	if res.Completed != 50 || res.Errors[loadgen.KindStatus] != 50 {
		t.Errorf("completed %d errors %v; want 50 ok and 50 unexpected_status", res.Completed, res.Errors)
	}
}

// TestLoadClientValidation runs the client against a UDP server that answers
// wrongly in turn: wrong question, no QR bit, stray IDs, silence.
func TestLoadClientValidation(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for n := 0; ; n++ {
			pc.SetReadDeadline(time.Now().Add(10 * time.Second))
			m, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := append([]byte(nil), buf[:m]...)
			q[2] |= 0x80 // QR
			switch n % 5 {
			case 0: // right
			case 1: // a question for another name
				q[13] ^= 0x01
			case 2: // QR clear
				q[2] &^= 0x80
			case 3: // silence
				continue
			case 4: // a stray answer first, then the right one
				stray := append([]byte(nil), q...)
				binary.BigEndian.PutUint16(stray, binary.BigEndian.Uint16(q)^0x0800)
				pc.WriteTo(stray, from)
			}
			pc.WriteTo(q, from)
		}
	}()
	p, err := NewLoadClient(LoadClientOptions{Addr: pc.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Requests: 50, Timeout: 200 * time.Millisecond})
	if res.Completed != 20 || res.Errors[loadgen.KindBadResponse] != 20 || res.Errors[loadgen.KindTimeout] != 10 {
		t.Errorf("completed %d errors %v; want 20 ok, 20 bad_response, 10 timeout", res.Completed, res.Errors)
	}
}

func TestQuestionEqual(t *testing.T) {
	a := []byte("\x03www\x04TeSt\x00\x00\x01\x00\x01")
	b := []byte("\x03WWW\x04test\x00\x00\x01\x00\x01")
	if !questionEqual(a, b) {
		t.Error("names differing in case only are not equal")
	}
	c := []byte("\x03www\x04test\x00\x00\x1c\x00\x01")
	if questionEqual(b, c) {
		t.Error("different types are equal")
	}
	// 0x03 and 0x23 differ only in bit 5 but are not letters.
	d := []byte("\x23www\x04test\x00\x00\x01\x00\x01")
	if questionEqual(b, d) {
		t.Error("label lengths compared case-insensitively")
	}
}

// BenchmarkLoadQueryBuild is what a UDP Send does before its syscall: take
// an ID and stamp it into a copy of the query.
func BenchmarkLoadQueryBuild(b *testing.B) {
	p, err := NewLoadClient(LoadClientOptions{Addr: "127.0.0.1:53"})
	if err != nil {
		b.Fatal(err)
	}
	ids := newIDTable()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q := i % len(p.queries)
		id, ok := ids.take(int64(i), q)
		if !ok {
			b.Fatal("no ID")
		}
		buf = append(buf[:0], p.queries[q].wire...)
		binary.BigEndian.PutUint16(buf, id)
		ids.answer(id)
		ids.oldest()
	}
}

// BenchmarkLoadValidate checks an answer against its query.
func BenchmarkLoadValidate(b *testing.B) {
	p, err := NewLoadClient(LoadClientOptions{Addr: "127.0.0.1:53"})
	if err != nil {
		b.Fatal(err)
	}
	ans := append([]byte(nil), p.queries[0].wire...)
	ans[2] |= 0x84 // QR, AA
	ans[7] = 1     // ANCOUNT
	ans = append(ans, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 127, 0, 0, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.check(ans, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlanLoad checks the registered client's params: the transport picks
// the service, a query file is read before any target starts, and bad
// values are refused.
func TestPlanLoad(t *testing.T) {
	c, err := loadgen.LookupClient(contract.Name)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "queries.txt")
	if err := os.WriteFile(file, []byte("www.test A\ntest MX\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := c.Plan(map[string]string{"queries": file, "tcp": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Service != "dns/tcp" || strings.Join(l.Workload, "|") != "queries.txt (2 queries)" || strings.Join(l.Options, "|") != "tcp" {
		t.Errorf("plan: service %q workload %q options %q", l.Service, l.Workload, l.Options)
	}
	if l, err := c.Plan(nil); err != nil || l.Service != c.Service || l.Service != "dns/udp" || len(l.Workload) != len(DefaultLoadQueries) {
		t.Errorf("default plan: %+v, %v", l, err)
	}
	for _, bad := range []map[string]string{{"tcp": "maybe"}, {"queries": filepath.Join(t.TempDir(), "missing")}} {
		if _, err := c.Plan(bad); err == nil {
			t.Errorf("Plan(%v) accepted it", bad)
		}
	}
	_, tcp := startReferenceDNS(t)
	p, err := l.Open(loadgen.TCP(tcp), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Pipeline: 4, Requests: 100}); res.Completed != 100 || res.ErrorCount() != 0 {
		t.Errorf("completed %d, errors %v; want 100 and none", res.Completed, res.Errors)
	}
}
