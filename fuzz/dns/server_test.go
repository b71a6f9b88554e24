package dnsfuzz

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
	ref "github.com/protospec/protospec/reference/dns"
)

// udpLimit is the most a server may send back over UDP to query q:
// 512 bytes, or the query's advertised EDNS size if larger.
func udpLimit(q []byte) int {
	m := new(mdns.Msg)
	if m.Unpack(q) != nil {
		return 512
	}
	if o := m.IsEdns0(); o != nil {
		return max(512, int(o.UDPSize()))
	}
	return 512
}

// checkResponses verifies what a server wrote back for query q.
func checkResponses(q []byte, outs [][]byte) error {
	if len(outs) > 1 {
		return fmt.Errorf("%d UDP responses to one query", len(outs))
	}
	limit := udpLimit(q)
	for _, out := range outs {
		if len(out) > limit {
			return fmt.Errorf("response of %d bytes exceeds the requester's limit %d", len(out), limit)
		}
		r := new(mdns.Msg)
		if err := r.Unpack(out); err != nil {
			return fmt.Errorf("response does not parse: %v", err)
		}
		if !r.Response || r.Zero {
			return fmt.Errorf("bad response header: %v", r.MsgHdr)
		}
		if len(q) >= 2 && (out[0] != q[0] || out[1] != q[1]) {
			return fmt.Errorf("ID not copied")
		}
	}
	return nil
}

var (
	zonesOnce sync.Once
	zones     []*ref.Zone
)

// fixtureZones loads the fixture's zones once. It asks of t only what the
// testing shim of the libFuzzer build (scripts/libfuzzer-build.sh) also has,
// which has no testing.TB.
func fixtureZones(t interface{ Fatal(args ...any) }) []*ref.Zone {
	zonesOnce.Do(func() {
		for _, fz := range fixture.Zones {
			z, err := ref.LoadZone(fz.Origin, strings.NewReader(fz.Text()))
			if err != nil {
				t.Fatal(err)
			}
			zones = append(zones, z)
		}
	})
	return zones
}

// serveOne runs serve over an in-memory conn carrying pkt and returns what
// was written back once the server has shut down.
func serveOne(pkt []byte, serve func(net.PacketConn) error, closeFn func() error) [][]byte {
	mc := newMemConn(pkt)
	done := make(chan struct{})
	go func() { serve(mc); close(done) }()
	<-mc.consumed
	closeFn()
	<-done
	return mc.written()
}

func FuzzAuthServer(f *testing.F) {
	for _, s := range seedQueries() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		s := &ref.AuthServer{Zones: fixtureZones(t), AllowTransfer: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		outs := serveOne(q, s.ServeUDP, s.Close)
		if err := checkResponses(q, outs); err != nil {
			t.Fatalf("%v\nquery %x", err, q)
		}
	})
}

const fuzzRoot = `$TTL 86400
. IN SOA a.root. hostmaster.root. 1 3600 900 604800 300
. NS a.root.
a.root. A 127.0.0.60
fuzz.test. NS ns.fuzz.test.
ns.fuzz.test. A 127.0.0.61
`

// fuzzWorld is a real root server on 127.0.0.60 that delegates fuzz.test.
// to a fake authoritative on 127.0.0.61 whose answers are the fuzz input.
type fuzzWorld struct {
	port   uint16
	root   *ref.AuthServer
	answer atomic.Pointer[[]byte]
}

var (
	worldOnce sync.Once
	theWorld  *fuzzWorld
	worldErr  error
)

func getWorld() (*fuzzWorld, error) {
	worldOnce.Do(func() {
		z, err := ref.LoadZone(".", strings.NewReader(fuzzRoot))
		if err != nil {
			worldErr = err
			return
		}
		w := &fuzzWorld{root: &ref.AuthServer{Zones: []*ref.Zone{z}}}
		for range 50 {
			rootPC, err := net.ListenPacket("udp", "127.0.0.60:0")
			if err != nil {
				worldErr = err
				return
			}
			port := rootPC.LocalAddr().(*net.UDPAddr).Port
			fake, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 61), Port: port})
			if err != nil {
				rootPC.Close()
				continue
			}
			w.port = uint16(port)
			go w.root.ServeUDP(rootPC)
			go w.serveFake(fake)
			theWorld = w
			return
		}
		worldErr = ref.ErrNoFreePort
	})
	return theWorld, worldErr
}

// serveFake answers every query with the current fuzz input: parsed, it is
// re-addressed to the query (ID, question) so the resolver accepts it;
// unparsable, it is sent raw (ID patched), followed by a REFUSED so the
// resolver need not wait for its timeout.
func (w *fuzzWorld) serveFake(c *net.UDPConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		q := new(mdns.Msg)
		if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 {
			continue
		}
		data := []byte{}
		if p := w.answer.Load(); p != nil {
			data = *p
		}
		m := new(mdns.Msg)
		if m.Unpack(data) == nil {
			m.Id = q.Id
			m.Response = true
			m.Opcode = q.Opcode
			m.Question = q.Question
			if b, err := m.Pack(); err == nil {
				c.WriteToUDPAddrPort(b, from)
				continue
			}
		}
		raw := append([]byte(nil), data...)
		if len(raw) >= 2 {
			raw[0], raw[1] = byte(q.Id>>8), byte(q.Id)
		}
		c.WriteToUDPAddrPort(raw, from)
		refused := new(mdns.Msg)
		refused.SetRcode(q, mdns.RcodeRefused)
		if b, err := refused.Pack(); err == nil {
			c.WriteToUDPAddrPort(b, from)
		}
	}
}

func (w *fuzzWorld) resolver() *ref.Resolver {
	return &ref.Resolver{
		RootHints:  []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.60"), w.port)},
		ServerPort: w.port,
		Timeout:    30 * time.Millisecond,
		MaxQueries: 6,
	}
}

// checkBailiwick fails for a cache entry the fake server for fuzz.test.
// could have planted: anything keyed or owned outside fuzz.test., except
// what the root itself says (negative answers carrying the root's SOA).
func checkBailiwick(e ref.CacheEntry) error {
	inFuzz := func(n string) bool { return mdns.IsSubDomain("fuzz.test.", strings.ToLower(n)) }
	if inFuzz(e.Name) {
		for _, rr := range e.Records {
			if !inFuzz(rr.Header().Name) {
				return fmt.Errorf("entry %s/%d holds out-of-bailiwick %v", e.Name, e.Type, rr)
			}
		}
		return nil
	}
	for _, rr := range e.Records {
		if rr.Header().Name != "." {
			return fmt.Errorf("out-of-bailiwick entry %s/%d: %v", e.Name, e.Type, rr)
		}
	}
	return nil
}

func FuzzResolver(f *testing.F) {
	for _, s := range seedQueries() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		w, err := getWorld()
		if err != nil {
			t.Skip(err)
		}
		r := w.resolver()
		outs := serveOne(q, r.ServeUDP, r.Close)
		if err := checkResponses(q, outs); err != nil {
			t.Fatalf("%v\nquery %x", err, q)
		}
	})
}

func FuzzResolverUpstream(f *testing.F) {
	answers := []string{
		"www.fuzz.test. 60 IN A 192.0.2.1",
		"www.fuzz.test. 60 IN CNAME www.victim.",
		"www.victim. 60 IN A 6.6.6.6",
	}
	m := new(mdns.Msg)
	m.SetQuestion("www.fuzz.test.", mdns.TypeA)
	m.Authoritative = true
	for _, a := range answers {
		rr, _ := mdns.NewRR(a)
		m.Answer = append(m.Answer, rr)
	}
	ns, _ := mdns.NewRR("victim. 60 IN NS ns.fuzz.test.")
	glue, _ := mdns.NewRR("ns.fuzz.test. 60 IN A 6.6.6.7")
	m.Ns, m.Extra = []mdns.RR{ns}, []mdns.RR{glue}
	b, _ := m.Pack()
	f.Add(b, uint16(mdns.TypeA))
	ref2 := new(mdns.Msg)
	ref2.SetQuestion("www.fuzz.test.", mdns.TypeA)
	child, _ := mdns.NewRR("sub.fuzz.test. 60 IN NS ns.sub.fuzz.test.")
	cglue, _ := mdns.NewRR("ns.sub.fuzz.test. 60 IN A 127.0.0.61")
	soa, _ := mdns.NewRR("fuzz.test. 60 IN SOA ns.fuzz.test. h.fuzz.test. 1 2 3 4 5")
	ref2.Ns, ref2.Extra = []mdns.RR{child}, []mdns.RR{cglue}
	b2, _ := ref2.Pack()
	f.Add(b2, uint16(mdns.TypeA))
	nx := new(mdns.Msg)
	nx.SetQuestion("www.fuzz.test.", mdns.TypeA)
	nx.Rcode = mdns.RcodeNameError
	nx.Ns = []mdns.RR{soa}
	b3, _ := nx.Pack()
	f.Add(b3, uint16(mdns.TypeMX))
	m.Answer = m.Answer[1:] // CNAME out of the zone plus its target's A
	b4, _ := m.Pack()
	f.Add(b4, uint16(mdns.TypeA))
	f.Add([]byte("garbage"), uint16(1))
	f.Fuzz(func(t *testing.T, answer []byte, qtype uint16) {
		w, err := getWorld()
		if err != nil {
			t.Skip(err)
		}
		w.answer.Store(&answer)
		r := w.resolver()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = r.Resolve(ctx, "www.fuzz.test.", qtype)
		_, _ = r.Resolve(ctx, "a.sub.fuzz.test.", qtype)
		for _, e := range r.CacheEntries() {
			if err := checkBailiwick(e); err != nil {
				t.Fatalf("%v\nanswer %x", err, answer)
			}
		}
	})
}
