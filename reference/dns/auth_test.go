package dns

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
)

// fixtureZones loads the fixture's zones. It asks of t only what the
// testing shim of the libFuzzer build has too, so FuzzPacketCache can call it.
func fixtureZones(t interface {
	Helper()
	Fatalf(format string, args ...any)
}) []*Zone {
	t.Helper()
	var zs []*Zone
	for _, fz := range fixture.Zones {
		z, err := LoadZone(fz.Origin, strings.NewReader(fz.Text()))
		if err != nil {
			t.Fatalf("load %s: %v", fz.Origin, err)
		}
		zs = append(zs, z)
	}
	return zs
}

// startAuth serves the fixture on fresh loopback UDP and TCP sockets.
func startAuth(t testing.TB, s *AuthServer) (udp, tcp string) {
	t.Helper()
	if s.Zones == nil {
		s.Zones = fixtureZones(t)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeUDP(pc)
	go s.ServeTCP(ln)
	t.Cleanup(func() { s.Close() })
	return pc.LocalAddr().String(), ln.Addr().String()
}

func exchange(t testing.TB, netw, addr string, m *mdns.Msg) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: netw, Timeout: 2 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s exchange %v: %v", netw, m.Question, err)
	}
	return r
}

// rawUDP sends raw bytes and returns the raw answer, or nil after wait.
func rawUDP(t testing.TB, addr string, q []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func strs(rrs []mdns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == mdns.TypeOPT {
			continue
		}
		out = append(out, strings.ToLower(rr.String()))
	}
	sort.Strings(out)
	return out
}

func norm(ss []string) []string {
	var out []string
	for _, s := range ss {
		rr, err := mdns.NewRR(s)
		if err != nil {
			panic(err)
		}
		out = append(out, strings.ToLower(rr.String()))
	}
	sort.Strings(out)
	return out
}

func sameSet(got, want []string) bool {
	return strings.Join(got, "\n") == strings.Join(want, "\n")
}

func contains(got, want []string) bool {
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}

func TestFixtureCases(t *testing.T) {
	udp, tcp := startAuth(t, &AuthServer{})
	for _, c := range fixture.Cases {
		for _, netw := range []string{"udp", "tcp"} {
			name := fmt.Sprintf("%s/%s/%s", netw, c.Name, mdns.TypeToString[c.Type])
			t.Run(name, func(t *testing.T) {
				m := new(mdns.Msg)
				m.SetQuestion(c.Name, c.Type)
				m.RecursionDesired = false
				m.SetEdns0(1232, false)
				addr := udp
				if netw == "tcp" {
					addr = tcp
				}
				r := exchange(t, netw, addr, m)
				if r.Rcode != c.Rcode || r.Authoritative != c.AA || r.RecursionAvailable || r.Truncated {
					t.Fatalf("rcode %s aa %v ra %v tc %v; want %s aa %v\n%v", mdns.RcodeToString[r.Rcode], r.Authoritative,
						r.RecursionAvailable, r.Truncated, mdns.RcodeToString[c.Rcode], c.AA, r)
				}
				if !sameSet(strs(r.Answer), norm(c.Answer)) {
					t.Fatalf("answer\n%v\nwant\n%v", strs(r.Answer), norm(c.Answer))
				}
				if !sameSet(strs(r.Ns), norm(c.Authority)) {
					t.Fatalf("authority\n%v\nwant\n%v", strs(r.Ns), norm(c.Authority))
				}
				if !contains(strs(r.Extra), norm(c.Additional)) {
					t.Fatalf("additional\n%v\nwant\n%v", strs(r.Extra), norm(c.Additional))
				}
				if r.Question[0].Name != c.Name {
					t.Fatalf("question %q, want %q", r.Question[0].Name, c.Name)
				}
			})
		}
	}
}

func TestCasePreserved(t *testing.T) {
	udp, _ := startAuth(t, &AuthServer{})
	m := new(mdns.Msg)
	m.SetQuestion("wWw.TeSt.", mdns.TypeA)
	r := exchange(t, "udp", udp, m)
	if r.Question[0].Name != "wWw.TeSt." || len(r.Answer) != 1 || r.Answer[0].Header().Name != "wWw.TeSt." {
		t.Fatalf("case not preserved: %v", r)
	}
	if !r.Authoritative || r.RecursionDesired != true || r.RecursionAvailable {
		t.Fatalf("flags: %v", r.MsgHdr)
	}
}

func TestTruncation(t *testing.T) {
	udp, tcp := startAuth(t, &AuthServer{})
	for _, size := range []uint16{0, 512, 1232, 4096} {
		m := new(mdns.Msg)
		m.SetQuestion(fixture.NameBig, mdns.TypeTXT)
		if size > 0 {
			m.SetEdns0(size, false)
		}
		q, _ := m.Pack()
		raw := rawUDP(t, udp, q, 2*time.Second)
		limit := 512
		if size > 0 {
			limit = min(int(size), DefaultEDNSSize)
		}
		if raw == nil || len(raw) > limit {
			t.Fatalf("size %d: answer of %d bytes, limit %d", size, len(raw), limit)
		}
		r := new(mdns.Msg)
		if err := r.Unpack(raw); err != nil {
			t.Fatal(err)
		}
		if !r.Truncated || len(r.Question) != 1 {
			t.Fatalf("size %d: TC not set or question missing: %v", size, r.MsgHdr)
		}
		// RFC 2181 9: whole RRsets only; big.test is one RRset, so none.
		if len(r.Answer) != 0 {
			t.Fatalf("size %d: partial RRset of %d records", size, len(r.Answer))
		}
		if (size > 0) != (r.IsEdns0() != nil) {
			t.Fatalf("size %d: OPT presence wrong", size)
		}
	}
	m := new(mdns.Msg)
	m.SetQuestion(fixture.NameBig, mdns.TypeTXT)
	r := exchange(t, "tcp", tcp, m)
	if r.Truncated || len(r.Answer) != fixture.BigTXTCount {
		t.Fatalf("tcp: tc %v, %d records", r.Truncated, len(r.Answer))
	}
	if b, _ := r.Pack(); len(b) < fixture.BigTXTMinBytes {
		t.Fatalf("big answer only %d bytes", len(b))
	}
}

// hdr builds a raw header.
func hdr(id uint16, flags uint16, qd, an, ns, ar uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], id)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], qd)
	binary.BigEndian.PutUint16(b[6:], an)
	binary.BigEndian.PutUint16(b[8:], ns)
	binary.BigEndian.PutUint16(b[10:], ar)
	return b
}

func packQ(t testing.TB, name string, qt uint16, edit func(*mdns.Msg)) []byte {
	m := new(mdns.Msg)
	m.SetQuestion(name, qt)
	m.Id = 0x1234
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnusualQueries(t *testing.T) {
	udp, _ := startAuth(t, &AuthServer{})
	badvers := func(m *mdns.Msg) {
		m.SetEdns0(1232, false)
		m.IsEdns0().SetVersion(1)
	}
	twoOPT := func(m *mdns.Msg) {
		m.SetEdns0(1232, false)
		m.SetEdns0(1232, false)
		m.Extra = append(m.Extra, m.Extra[0])
	}
	unknownOpt := func(m *mdns.Msg) {
		m.SetEdns0(1232, true)
		o := m.IsEdns0()
		o.Option = append(o.Option, &mdns.EDNS0_LOCAL{Code: 65001, Data: []byte("x")})
	}
	zflag := func(m *mdns.Msg) { m.Zero = true; m.AuthenticatedData = true; m.CheckingDisabled = true }
	www := packQ(t, "www.test.", mdns.TypeA, nil)
	cases := []struct {
		name    string
		q       []byte
		drop    bool
		rcode   int
		aa      bool
		answers int
		check   func(*mdns.Msg) error
	}{
		{name: "short", q: []byte{1, 2, 3}, drop: true},
		{name: "response", q: packQ(t, "www.test.", mdns.TypeA, func(m *mdns.Msg) { m.Response = true }), drop: true},
		{name: "qdcount0", q: hdr(7, 0, 0, 0, 0, 0), rcode: mdns.RcodeFormatError},
		{name: "qdcount2", q: func() []byte {
			m := new(mdns.Msg)
			m.Question = []mdns.Question{{Name: "www.test.", Qtype: 1, Qclass: 1}, {Name: "mail.test.", Qtype: 1, Qclass: 1}}
			b, _ := m.Pack()
			return b
		}(), rcode: mdns.RcodeFormatError},
		{name: "qdcount-lie", q: hdr(9, 0, 1, 0, 0, 0), rcode: mdns.RcodeFormatError},
		{name: "garbage-question", q: append(hdr(9, 0, 1, 0, 0, 0), 0xC0, 0xFF, 1, 2), rcode: mdns.RcodeFormatError},
		{name: "notify", q: packQ(t, "test.", mdns.TypeSOA, func(m *mdns.Msg) { m.Opcode = mdns.OpcodeNotify }), rcode: mdns.RcodeNotImplemented},
		{name: "update", q: packQ(t, "test.", mdns.TypeSOA, func(m *mdns.Msg) { m.Opcode = mdns.OpcodeUpdate }), rcode: mdns.RcodeNotImplemented},
		{name: "opcode15", q: packQ(t, "test.", mdns.TypeSOA, func(m *mdns.Msg) { m.Opcode = 15 }), rcode: mdns.RcodeNotImplemented},
		{name: "badvers", q: packQ(t, "www.test.", mdns.TypeA, badvers), rcode: mdns.RcodeBadVers, check: func(r *mdns.Msg) error {
			if o := r.IsEdns0(); o == nil || o.Version() != 0 || len(r.Answer) != 0 {
				return fmt.Errorf("BADVERS needs OPT version 0 and no answer: %v", r)
			}
			return nil
		}},
		{name: "two-opt", q: packQ(t, "www.test.", mdns.TypeA, twoOPT), rcode: mdns.RcodeFormatError},
		{name: "unknown-option", q: packQ(t, "www.test.", mdns.TypeA, unknownOpt), rcode: 0, aa: true, answers: 1, check: func(r *mdns.Msg) error {
			o := r.IsEdns0()
			if o == nil || len(o.Option) != 0 || !o.Do() || o.UDPSize() != DefaultEDNSSize {
				return fmt.Errorf("OPT not echoed as expected: %v", o)
			}
			return nil
		}},
		{name: "flags", q: packQ(t, "www.test.", mdns.TypeA, zflag), rcode: 0, aa: true, answers: 1, check: func(r *mdns.Msg) error {
			if r.Zero || r.AuthenticatedData || !r.CheckingDisabled || !r.RecursionDesired {
				return fmt.Errorf("flags: %v", r.MsgHdr)
			}
			return nil
		}},
		{name: "chaos", q: packQ(t, "version.bind.", mdns.TypeTXT, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassCHAOS }), rcode: mdns.RcodeRefused},
		{name: "class-any", q: packQ(t, "www.test.", mdns.TypeA, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassANY }), rcode: mdns.RcodeRefused},
		{name: "unknown-type", q: packQ(t, "www.test.", 65432, nil), rcode: 0, aa: true},
		{name: "any", q: packQ(t, "www.test.", mdns.TypeANY, nil), rcode: 0, aa: true, answers: 2},
		{name: "out-of-zone", q: packQ(t, "www.example.", mdns.TypeA, nil), rcode: mdns.RcodeRefused},
		{name: "trailing-junk", q: append(append([]byte(nil), www...), 0xde, 0xad, 0xbe, 0xef), rcode: 0, aa: true, answers: 1},
		{name: "axfr-udp", q: packQ(t, "test.", mdns.TypeAXFR, nil), rcode: mdns.RcodeFormatError},
		{name: "ixfr-udp-refused", q: packQ(t, "test.", mdns.TypeIXFR, nil), rcode: mdns.RcodeRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wait := 2 * time.Second
			if c.drop {
				wait = 200 * time.Millisecond
			}
			raw := rawUDP(t, udp, c.q, wait)
			if c.drop {
				if raw != nil {
					t.Fatalf("expected no answer, got % x", raw)
				}
				return
			}
			if raw == nil {
				t.Fatal("no answer")
			}
			if !bytes.Equal(raw[:2], c.q[:2]) {
				t.Fatalf("ID not copied")
			}
			r := new(mdns.Msg)
			if err := r.Unpack(raw); err != nil {
				t.Fatal(err)
			}
			if r.Rcode != c.rcode || r.Authoritative != c.aa || len(r.Answer) != c.answers || !r.Response || r.Zero {
				t.Fatalf("got rcode %s aa %v answers %d; want %s aa %v answers %d\n%v",
					mdns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer), mdns.RcodeToString[c.rcode], c.aa, c.answers, r)
			}
			if c.check != nil {
				if err := c.check(r); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func tcpConn(t testing.TB, addr string) net.Conn {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

func writeFrame(t testing.TB, c net.Conn, b []byte) {
	f := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(f, uint16(len(b)))
	copy(f[2:], b)
	if _, err := c.Write(f); err != nil {
		t.Fatal(err)
	}
}

func readFrame(c net.Conn) (*mdns.Msg, error) {
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	m := new(mdns.Msg)
	return m, m.Unpack(b)
}

func TestTCPPipelining(t *testing.T) {
	_, tcp := startAuth(t, &AuthServer{})
	c := tcpConn(t, tcp)
	names := []string{"www.test.", "mail.test.", "ns1.test.", "nonexistent.test."}
	var all []byte
	for i, n := range names {
		q := packQ(t, n, mdns.TypeA, func(m *mdns.Msg) { m.Id = uint16(100 + i) })
		f := make([]byte, 2+len(q))
		binary.BigEndian.PutUint16(f, uint16(len(q)))
		copy(f[2:], q)
		all = append(all, f...)
	}
	// All queries in one write: RFC 7766 6.2.1.1 pipelining.
	if _, err := c.Write(all); err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]bool{}
	for range names {
		r, err := readFrame(c)
		if err != nil {
			t.Fatal(err)
		}
		seen[r.Id] = true
	}
	for i := range names {
		if !seen[uint16(100+i)] {
			t.Fatalf("no answer to query %d", i)
		}
	}
}

func TestTCPIdleTimeoutAndLimit(t *testing.T) {
	_, tcp := startAuth(t, &AuthServer{TCPIdleTimeout: 200 * time.Millisecond, MaxTCPConns: 2})
	c1 := tcpConn(t, tcp)
	c2 := tcpConn(t, tcp)
	writeFrame(t, c1, packQ(t, "www.test.", mdns.TypeA, nil))
	if _, err := readFrame(c1); err != nil {
		t.Fatal(err)
	}
	writeFrame(t, c2, packQ(t, "www.test.", mdns.TypeA, nil))
	if _, err := readFrame(c2); err != nil {
		t.Fatal(err)
	}
	// A third connection is over the limit and is closed at once.
	c3 := tcpConn(t, tcp)
	c3.Write([]byte{0, 12})
	if _, err := readFrame(c3); err == nil {
		t.Fatal("third connection served beyond MaxTCPConns")
	}
	// Idle connections are closed by the server after the timeout.
	start := time.Now()
	if _, err := readFrame(c1); err != io.EOF && !isReset(err) {
		t.Fatalf("idle connection: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("idle close took %v", d)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "reset")
}

func TestAXFR(t *testing.T) {
	_, tcp := startAuth(t, &AuthServer{AllowTransfer: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	tr := &mdns.Transfer{DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second}
	m := new(mdns.Msg)
	m.SetAxfr("test.")
	ch, err := tr.In(m, tcp)
	if err != nil {
		t.Fatal(err)
	}
	var rrs []mdns.RR
	for env := range ch {
		if env.Error != nil {
			t.Fatal(env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	zs := fixtureZones(t)
	if len(rrs) != len(zs[0].Records())+1 {
		t.Fatalf("%d records, want %d", len(rrs), len(zs[0].Records())+1)
	}
	if rrs[0].Header().Rrtype != mdns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != mdns.TypeSOA {
		t.Fatal("AXFR must start and end with SOA")
	}
	// Not allowed: REFUSED. Not an apex: NOTAUTH.
	_, tcp2 := startAuth(t, &AuthServer{})
	r := exchange(t, "tcp", tcp2, func() *mdns.Msg { m := new(mdns.Msg); m.SetAxfr("test."); return m }())
	if r.Rcode != mdns.RcodeRefused {
		t.Fatalf("AXFR from a disallowed client: %s", mdns.RcodeToString[r.Rcode])
	}
	r = exchange(t, "tcp", tcp, func() *mdns.Msg { m := new(mdns.Msg); m.SetAxfr("www.test."); return m }())
	if r.Rcode != mdns.RcodeNotAuth {
		t.Fatalf("AXFR of a non-apex: %s", mdns.RcodeToString[r.Rcode])
	}
}

func TestRateLimit(t *testing.T) {
	udp, _ := startAuth(t, &AuthServer{RateLimit: 3})
	q := packQ(t, "www.test.", mdns.TypeA, nil)
	answered := 0
	for range 8 {
		if rawUDP(t, udp, q, 300*time.Millisecond) != nil {
			answered++
		}
	}
	if answered >= 8 || answered == 0 {
		t.Fatalf("rate limit 3/s: %d of 8 answered", answered)
	}
}

func TestLoadZoneErrors(t *testing.T) {
	cases := map[string]struct {
		text string
		err  error
	}{
		"no-soa":     {"www 60 IN A 127.0.0.1\n", ErrNoSOA},
		"out-zone":   {"@ 60 IN SOA a. b. 1 2 3 4 5\nwww.other. 60 IN A 127.0.0.1\n", ErrOutOfZone},
		"cname":      {"@ 60 IN SOA a. b. 1 2 3 4 5\nx 60 IN CNAME a.\nx 60 IN A 127.0.0.1\n", ErrCNAMEConflict},
		"syntax":     {"@ 60 IN SOA a. b. 1 2 3 4 5\nx 60 IN A not-an-address\n", ErrZoneSyntax},
		"bad-origin": {"", ErrBadOrigin},
	}
	for name, c := range cases {
		origin := "z."
		if name == "bad-origin" {
			origin = strings.Repeat("a", 70) + "."
		}
		_, err := LoadZone(origin, strings.NewReader(c.text))
		if err == nil || !strings.Contains(err.Error(), c.err.Error()) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
}

// BenchmarkAuthAnswer measures the answer path from a packed query to a
// packed response for www.test. A.
func BenchmarkAuthAnswer(b *testing.B) {
	s := &AuthServer{Zones: fixtureZones(b)}
	q := packQ(b, "www.test.", mdns.TypeA, func(m *mdns.Msg) { m.SetEdns0(1232, false) })
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	b.ReportAllocs()
	for b.Loop() {
		if out := s.handle(q, client, false); len(out) != 1 {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkAuthUDP measures a full query round trip over loopback UDP.
func BenchmarkAuthUDP(b *testing.B) {
	udp, _ := startAuth(b, &AuthServer{})
	c, err := net.Dial("udp", udp)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	q := packQ(b, "www.test.", mdns.TypeA, nil)
	buf := make([]byte, 2048)
	b.ReportAllocs()
	for b.Loop() {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(q); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
