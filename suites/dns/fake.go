package dns

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// The fake upstream: the authoritative servers a resolver under test talks
// to. It is written here, not taken from reference/dns, so the suite does
// not lean on the reference it judges, and because the specs need to make
// it misbehave on purpose (forged answers, silence, truncation, lame
// delegations) and to count what it is asked.

// fakeServers is how many fake server addresses are bound: the root and the
// further servers that delegations point at.
const fakeServers = 8

// fakeTLD is the made-up top-level domain under which every spec works.
const fakeTLD = "example."

// Modes of a fake server for one zone.
type serverMode int

const (
	modeAnswer   serverMode = iota // authoritative answers
	modeSilent                     // drops every query
	modeRefused                    // answers REFUSED
	modeServfail                   // answers SERVFAIL
)

// fakeServer is one address of the fake upstream, UDP and TCP.
type fakeServer struct {
	idx  int
	addr netip.AddrPort
	pc   *net.UDPConn
	ln   *net.TCPListener
}

// fakeZone is a zone the fake serves: its records, its SOA and the
// servers authoritative for it, with each server's mode.
type fakeZone struct {
	origin  string // lower case FQDN
	soa     *mdns.SOA
	servers map[int]serverMode
	records map[string]map[uint16][]mdns.RR // lower-case owner
	nsNames []string                        // NS targets, lower case, for delegations
}

// seenQuery is one query the fake received.
type seenQuery struct {
	At     time.Time
	Server int
	TCP    bool
	From   netip.AddrPort
	ID     uint16
	Name   string // as received, case preserved
	Type   uint16
	RD     bool
	QR     bool
	Opcode int
	QDs    int
	EDNS   bool
}

// fakeRule lets a spec take over the answer to one name: it is called for
// every query of that name (lower case) and returns true when it has dealt
// with the query (sent something or decided to stay silent).
type fakeRule func(e *fakeExchange) bool

// fake is the running fake upstream.
type fake struct {
	port    uint16
	prefix  [3]byte // 127.A.B
	servers []*fakeServer
	// spoofAddr sends from another address with the root's port;
	// spoofPort from the root's address with another port.
	spoofAddr *net.UDPConn
	spoofPort *net.UDPConn

	mu     sync.Mutex
	zones  map[string]*fakeZone
	rules  map[string]fakeRule
	log    []seenQuery
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	seq    int
}

var (
	fakeMu  sync.Mutex
	current *fake
)

func setCurrentFake(f *fake) {
	fakeMu.Lock()
	current = f
	fakeMu.Unlock()
}

func currentFake() *fake {
	fakeMu.Lock()
	defer fakeMu.Unlock()
	return current
}

func (f *fake) root() *fakeServer { return f.servers[0] }

func (f *fake) addr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{f.prefix[0], f.prefix[1], f.prefix[2], byte(i + 1)})
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return int(time.Now().UnixNano() % int64(n))
	}
	return int(v.Int64())
}

// startFake binds the fake servers on a random 127.A.B.0/24, port 53 when
// it may, else on one free port common to all of them, and starts serving
// the root zone.
func startFake(ctx context.Context) (*fake, error) {
	var lastErr error
	for try := 0; try < 40; try++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := &fake{
			prefix: [3]byte{127, byte(100 + randInt(150)), byte(randInt(256))},
			zones:  map[string]*fakeZone{},
			rules:  map[string]fakeRule{},
			conns:  map[net.Conn]struct{}{},
		}
		port := uint16(53)
		if try >= 20 {
			port = 0 // not allowed to bind 53, or it is taken everywhere
		}
		if err := f.bind(port); err != nil {
			lastErr = err
			continue
		}
		f.initRoot()
		for _, s := range f.servers {
			f.wg.Add(2)
			go f.serveUDP(s)
			go f.serveTCP(s)
		}
		return f, nil
	}
	return nil, lastErr
}

func (f *fake) bind(port uint16) error {
	closeAll := func() {
		for _, s := range f.servers {
			s.pc.Close()
			s.ln.Close()
		}
		if f.spoofAddr != nil {
			f.spoofAddr.Close()
		}
		f.servers = nil
	}
	for i := 0; i < fakeServers; i++ {
		ap := netip.AddrPortFrom(f.addr(i), port)
		pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		if err != nil {
			closeAll()
			return err
		}
		if port == 0 {
			port = uint16(pc.LocalAddr().(*net.UDPAddr).Port)
			ap = netip.AddrPortFrom(f.addr(i), port)
		}
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
		if err != nil {
			pc.Close()
			closeAll()
			return err
		}
		f.servers = append(f.servers, &fakeServer{idx: i, addr: ap, pc: pc, ln: ln})
	}
	sa, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(f.addr(250-1), port)))
	if err != nil {
		closeAll()
		return err
	}
	f.spoofAddr = sa
	sp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(f.addr(0), 0)))
	if err != nil {
		closeAll()
		return err
	}
	f.spoofPort = sp
	f.port = port
	return nil
}

// rootNS is the name of the fake root's server.
const rootNS = "a.root-servers." + fakeTLD

func (f *fake) initRoot() {
	z := &fakeZone{origin: ".", servers: map[int]serverMode{0: modeAnswer}, records: map[string]map[uint16][]mdns.RR{}}
	z.soa = mustRR(fmt.Sprintf(". 86400 IN SOA %s hostmaster.%s 1 1800 900 604800 60", rootNS, fakeTLD)).(*mdns.SOA)
	z.add(z.soa)
	z.add(mustRR(". 86400 IN NS " + rootNS))
	z.add(mustRR(fmt.Sprintf("%s 86400 IN A %s", rootNS, f.addr(0))))
	f.zones["."] = z
}

func mustRR(s string) mdns.RR {
	rr, err := mdns.NewRR(s)
	if err != nil {
		panic("dns suite: bad record " + s + ": " + err.Error())
	}
	return rr
}

func (z *fakeZone) add(rr mdns.RR) {
	owner := strings.ToLower(rr.Header().Name)
	if z.records[owner] == nil {
		z.records[owner] = map[uint16][]mdns.RR{}
	}
	z.records[owner][rr.Header().Rrtype] = append(z.records[owner][rr.Header().Rrtype], rr)
}

// exists reports whether name owns records or is an empty non-terminal.
func (z *fakeZone) exists(name string) bool {
	if _, ok := z.records[name]; ok {
		return true
	}
	for owner := range z.records {
		if mdns.IsSubDomain(name, owner) {
			return true
		}
	}
	return false
}

// Close stops the fake.
func (f *fake) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	for _, s := range f.servers {
		s.pc.Close()
		s.ln.Close()
	}
	f.spoofAddr.Close()
	f.spoofPort.Close()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}

// fakeExchange is one query being answered, handed to rules.
type fakeExchange struct {
	f    *fake
	srv  *fakeServer
	tcp  bool
	from netip.AddrPort
	q    *mdns.Msg
	// conn is the TCP connection, writes serialized by wmu.
	conn net.Conn
	wmu  *sync.Mutex
}

// send sends m the normal way: from the server's own socket over UDP
// (truncated to what the query allows), or on the TCP connection.
func (e *fakeExchange) send(m *mdns.Msg) {
	b, err := e.pack(m)
	if err != nil {
		return
	}
	e.sendRaw(b)
}

func (e *fakeExchange) pack(m *mdns.Msg) ([]byte, error) {
	m.Compress = true
	if !e.tcp {
		limit := 512
		if o := e.q.IsEdns0(); o != nil {
			limit = max(512, min(int(o.UDPSize()), 1232))
		}
		if m.Len() > limit {
			t := m.Copy()
			t.Answer, t.Ns = nil, nil
			var opt []mdns.RR
			for _, rr := range t.Extra {
				if rr.Header().Rrtype == mdns.TypeOPT {
					opt = append(opt, rr)
				}
			}
			t.Extra = opt
			t.Truncated = true
			m = t
		}
	}
	return m.Pack()
}

func (e *fakeExchange) sendRaw(b []byte) {
	if e.tcp {
		frame := make([]byte, 2+len(b))
		binary.BigEndian.PutUint16(frame, uint16(len(b)))
		copy(frame[2:], b)
		e.wmu.Lock()
		_ = e.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = e.conn.Write(frame)
		e.wmu.Unlock()
		return
	}
	_ = e.srv.pc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = e.srv.pc.WriteToUDPAddrPort(b, e.from)
}

// sendFrom sends m over UDP from another socket (a spoofer's).
func (e *fakeExchange) sendFrom(pc *net.UDPConn, m *mdns.Msg) {
	b, err := e.pack(m)
	if err != nil {
		return
	}
	_ = pc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = pc.WriteToUDPAddrPort(b, e.from)
}

// answer is the fake's normal response to the query.
func (e *fakeExchange) answer() *mdns.Msg {
	m, _ := e.f.respond(e.srv.idx, e.q)
	return m
}

func (f *fake) serveUDP(s *fakeServer) {
	defer f.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := s.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := append([]byte(nil), buf[:n]...)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.handle(&fakeExchange{f: f, srv: s, from: from}, pkt)
		}()
	}
}

func (f *fake) serveTCP(s *fakeServer) {
	defer f.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, syscall.EMFILE) {
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			c.Close()
			return
		}
		f.conns[c] = struct{}{}
		f.wg.Add(1)
		f.mu.Unlock()
		go func() {
			defer f.wg.Done()
			defer func() {
				f.mu.Lock()
				delete(f.conns, c)
				f.mu.Unlock()
				c.Close()
			}()
			from, _ := netip.ParseAddrPort(c.RemoteAddr().String())
			var wmu sync.Mutex
			var hdr [2]byte
			for {
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadFull(c, hdr[:]); err != nil {
					return
				}
				msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
				f.handle(&fakeExchange{f: f, srv: s, tcp: true, from: from, conn: c, wmu: &wmu}, msg)
			}
		}()
	}
}

// handle logs a query and answers it: a spec's rule first, else the
// server's normal behaviour.
func (f *fake) handle(e *fakeExchange, pkt []byte) {
	q := new(mdns.Msg)
	if err := q.Unpack(pkt); err != nil || len(q.Question) == 0 {
		return
	}
	e.q = q
	sq := seenQuery{At: time.Now(), Server: e.srv.idx, TCP: e.tcp, From: e.from, ID: q.Id,
		Name: q.Question[0].Name, Type: q.Question[0].Qtype, RD: q.RecursionDesired, QR: q.Response,
		Opcode: q.Opcode, QDs: len(q.Question), EDNS: q.IsEdns0() != nil}
	name := strings.ToLower(q.Question[0].Name)
	f.mu.Lock()
	if len(f.log) < 1<<16 {
		f.log = append(f.log, sq)
	}
	rule := f.rules[name]
	f.mu.Unlock()
	if q.Response {
		return
	}
	if rule != nil && rule(e) {
		return
	}
	m, drop := f.respond(e.srv.idx, q)
	if drop {
		return
	}
	e.send(m)
}

// respond computes the normal response of server idx to q, or drop.
func (f *fake) respond(idx int, q *mdns.Msg) (*mdns.Msg, bool) {
	m := new(mdns.Msg)
	m.Id = q.Id
	m.Response = true
	m.Opcode = q.Opcode
	m.RecursionDesired = q.RecursionDesired
	m.Question = q.Question[:1]
	if o := q.IsEdns0(); o != nil {
		m.SetEdns0(1232, false)
	}
	if q.Opcode != mdns.OpcodeQuery || len(q.Question) != 1 {
		m.Rcode = mdns.RcodeNotImplemented
		return m, false
	}
	qq := q.Question[0]
	name := strings.ToLower(qq.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	// The deepest zone holding the name, and the deepest one this server
	// serves.
	var deepest, served *fakeZone
	for _, z := range f.zones {
		if !mdns.IsSubDomain(z.origin, name) {
			continue
		}
		if deepest == nil || mdns.CountLabel(z.origin) > mdns.CountLabel(deepest.origin) {
			deepest = z
		}
		if _, ok := z.servers[idx]; ok && (served == nil || mdns.CountLabel(z.origin) > mdns.CountLabel(served.origin)) {
			served = z
		}
	}
	if served == nil || qq.Qclass != mdns.ClassINET {
		m.Rcode = mdns.RcodeRefused
		return m, false
	}
	if deepest != served {
		// Referral to the child of served on the way to the name.
		var child *fakeZone
		for _, z := range f.zones {
			if z == served || !mdns.IsSubDomain(z.origin, name) || !mdns.IsSubDomain(served.origin, z.origin) {
				continue
			}
			if child == nil || mdns.CountLabel(z.origin) < mdns.CountLabel(child.origin) {
				child = z
			}
		}
		switch served.servers[idx] {
		case modeSilent:
			return nil, true
		case modeRefused:
			m.Rcode = mdns.RcodeRefused
			return m, false
		case modeServfail:
			m.Rcode = mdns.RcodeServerFailure
			return m, false
		}
		m.Ns = append(m.Ns, served.records[child.origin][mdns.TypeNS]...)
		for _, ns := range child.nsNames {
			m.Extra = append(m.Extra, served.records[ns][mdns.TypeA]...)
		}
		return m, false
	}
	z := served
	switch z.servers[idx] {
	case modeSilent:
		return nil, true
	case modeRefused:
		m.Rcode = mdns.RcodeRefused
		return m, false
	case modeServfail:
		m.Rcode = mdns.RcodeServerFailure
		return m, false
	}
	m.Authoritative = true
	seen := map[string]bool{}
	for hop := 0; hop < 8; hop++ {
		seen[name] = true
		if !z.exists(name) {
			m.Rcode = mdns.RcodeNameError
			m.Ns = append(m.Ns, z.negSOA())
			return m, false
		}
		node := z.records[name]
		if set := node[qq.Qtype]; len(set) > 0 {
			m.Answer = append(m.Answer, set...)
			return m, false
		}
		if cn := node[mdns.TypeCNAME]; len(cn) > 0 && qq.Qtype != mdns.TypeCNAME {
			m.Answer = append(m.Answer, cn...)
			target := strings.ToLower(cn[0].(*mdns.CNAME).Target)
			if !mdns.IsSubDomain(z.origin, target) || seen[target] || f.deeperZone(z, target) {
				return m, false
			}
			name = target
			continue
		}
		m.Ns = append(m.Ns, z.negSOA())
		return m, false
	}
	return m, false
}

// deeperZone reports whether name belongs to a zone below z.
func (f *fake) deeperZone(z *fakeZone, name string) bool {
	for _, o := range f.zones {
		if o != z && mdns.IsSubDomain(z.origin, o.origin) && mdns.IsSubDomain(o.origin, name) {
			return true
		}
	}
	return false
}

func (z *fakeZone) negSOA() mdns.RR {
	s := mdns.Copy(z.soa)
	s.Header().Ttl = min(z.soa.Hdr.Ttl, z.soa.Minttl)
	return s
}

// queries returns the logged queries that match keep.
func (f *fake) queries(keep func(seenQuery) bool) []seenQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []seenQuery
	for _, q := range f.log {
		if keep(q) {
			out = append(out, q)
		}
	}
	return out
}

func (f *fake) nextSeq() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return f.seq
}

// addZone registers a zone; the caller must not change it afterwards
// except through the fake's methods.
func (f *fake) addZone(z *fakeZone) {
	f.mu.Lock()
	f.zones[z.origin] = z
	f.mu.Unlock()
}

func (f *fake) setRule(name string, r fakeRule) {
	f.mu.Lock()
	f.rules[strings.ToLower(name)] = r
	f.mu.Unlock()
}

func (f *fake) addRecords(z *fakeZone, rrs ...mdns.RR) {
	f.mu.Lock()
	for _, rr := range rrs {
		z.add(rr)
	}
	f.mu.Unlock()
}

// randomLabel returns n random lower-case letters and digits.
func randomLabel(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randInt(len(alphabet))]
	}
	return string(b)
}
