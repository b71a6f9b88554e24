package loadgen

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
	refdns "github.com/protospec/protospec/reference/dns"
)

func TestParseQueries(t *testing.T) {
	qs, err := ParseQueries(strings.NewReader("; dnsperf file\nwww.test A\n\n# comment\ntest. mx\nnoType.test\nx.test TYPE65\n"))
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
		if _, err := ParseQueries(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseQueries(%q) accepted it", bad)
		}
	}
}

func startReferenceDNS(t *testing.T) (udp, tcp string) {
	t.Helper()
	var zones []*refdns.Zone
	for _, z := range fixture.Zones {
		zz, err := refdns.LoadZone(z.Origin, strings.NewReader(z.Text()))
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, zz)
	}
	s := &refdns.AuthServer{Zones: zones}
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

func TestDNSAgainstReference(t *testing.T) {
	udp, tcp := startReferenceDNS(t)
	for _, tc := range []struct {
		network, addr string
		pipeline      int
	}{{"udp", udp, 1}, {"udp", udp, 16}, {"tcp", tcp, 1}, {"tcp", tcp, 16}} {
		p, err := NewDNS(DNSOptions{Addr: tc.addr, Network: tc.network})
		if err != nil {
			t.Fatal(err)
		}
		res := mustRun(t, Config{Protocol: p, Connections: 2, Pipeline: tc.pipeline, Requests: 1000})
		if res.Completed != 1000 || res.ErrorCount() != 0 {
			t.Errorf("%s pipeline %d: completed %d errors %v; want 1000 and none", tc.network, tc.pipeline, res.Completed, res.Errors)
		}
	}
	// Out of the zones: REFUSED is well-formed but not accepted.
	qs, err := ParseQueries(strings.NewReader("www.example.org A\nwww.test A\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewDNS(DNSOptions{Addr: udp, Queries: qs})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, Config{Protocol: p, Requests: 100})
	if res.Completed != 50 || res.Errors[KindStatus] != 50 {
		t.Errorf("completed %d errors %v; want 50 ok and 50 unexpected_status", res.Completed, res.Errors)
	}
}

// TestDNSValidation runs the client against a UDP server that answers
// wrongly in turn: wrong question, no QR bit, stray IDs, silence.
func TestDNSValidation(t *testing.T) {
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
	p, err := NewDNS(DNSOptions{Addr: pc.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, Config{Protocol: p, Requests: 50, Timeout: 200 * time.Millisecond})
	if res.Completed != 20 || res.Errors[KindBadResponse] != 20 || res.Errors[KindTimeout] != 10 {
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
