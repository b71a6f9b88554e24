package loadgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// Query is one DNS question of a load run.
type Query struct {
	Name string
	Type uint16
	wire []byte // the whole query with ID 0
}

// ParseQueries reads queries in dnsperf's format: one "name type" per
// line ("www.example.com A"; the type defaults to A), blank lines and lines
// starting with ';' or '#' ignored.
func ParseQueries(r io.Reader) ([]Query, error) {
	var out []Query
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == ';' || text[0] == '#' {
			continue
		}
		f := strings.Fields(text)
		typ := "A"
		if len(f) > 1 {
			typ = f[1]
		}
		if len(f) > 2 {
			return nil, fmt.Errorf("loadgen: queries line %d: %q is not \"name type\"", line, text)
		}
		q, err := NewQuery(f[0], typ)
		if err != nil {
			return nil, fmt.Errorf("loadgen: queries line %d: %v", line, err)
		}
		out = append(out, q)
		if len(out) > 1<<20 {
			return nil, errors.New("loadgen: more than 1048576 queries")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("loadgen: reading queries: %v", err)
	}
	if len(out) == 0 {
		return nil, errors.New("loadgen: no queries")
	}
	return out, nil
}

// LoadQueries reads a dnsperf query file.
func LoadQueries(path string) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseQueries(f)
}

// NewQuery builds the query for name and a type mnemonic ("AAAA",
// "TYPE65"), with RD set as dnsperf sets it.
func NewQuery(name, typ string) (Query, error) {
	t, ok := mdns.StringToType[strings.ToUpper(typ)]
	if !ok {
		var n uint16
		if _, err := fmt.Sscanf(strings.ToUpper(typ), "TYPE%d", &n); err != nil || n == 0 {
			return Query{}, fmt.Errorf("unknown type %q", typ)
		}
		t = n
	}
	fq := mdns.Fqdn(name)
	if _, ok := mdns.IsDomainName(fq); !ok {
		return Query{}, fmt.Errorf("bad name %q", name)
	}
	buf := make([]byte, 12, 12+len(fq)+6)
	buf[2] = 0x01 // RD
	buf[5] = 1    // QDCOUNT
	nb := make([]byte, 256)
	n, err := mdns.PackDomainName(fq, nb, 0, nil, false)
	if err != nil {
		return Query{}, fmt.Errorf("bad name %q: %v", name, err)
	}
	buf = append(buf, nb[:n]...)
	buf = binary.BigEndian.AppendUint16(buf, t)
	buf = binary.BigEndian.AppendUint16(buf, mdns.ClassINET)
	return Query{Name: fq, Type: t, wire: buf}, nil
}

// DefaultQueries are names of the protospec DNS fixture (zone test.).
var DefaultQueries = []string{"www.test A", "www.test AAAA", "mail.test A", "test MX", "txt.test TXT", "alias.test A", "ns1.test A", "test NS"}

// DNSOptions configure the DNS client.
type DNSOptions struct {
	Addr string
	// Network is "udp" (default) or "tcp".
	Network string
	Queries []Query
	// Accept tells which RCODEs are successes; default NOERROR and
	// NXDOMAIN.
	Accept func(rcode int) bool
}

// DNS is the DNS load client. Over UDP each connection is one connected
// socket with queries in flight matched by ID; over TCP, queries are
// pipelined on each connection with two-byte length framing (RFC 7766) and
// answers may come in any order. Every answer must carry the ID, opcode and
// question of its query with QR set; its RCODE is checked against Accept.
type DNS struct {
	addr    string
	tcp     bool
	queries []Query
	accept  func(int) bool
}

// NewDNS returns the DNS client.
func NewDNS(o DNSOptions) (*DNS, error) {
	if o.Addr == "" {
		return nil, errors.New("loadgen: dns needs an address")
	}
	p := &DNS{addr: o.Addr, queries: o.Queries, accept: o.Accept}
	switch o.Network {
	case "", "udp":
	case "tcp":
		p.tcp = true
	default:
		return nil, fmt.Errorf("loadgen: dns network %q (want udp or tcp)", o.Network)
	}
	if len(p.queries) == 0 {
		for _, l := range DefaultQueries {
			f := strings.Fields(l)
			q, err := NewQuery(f[0], f[1])
			if err != nil {
				return nil, err
			}
			p.queries = append(p.queries, q)
		}
	}
	if p.accept == nil {
		p.accept = func(rc int) bool { return rc == mdns.RcodeSuccess || rc == mdns.RcodeNameError }
	}
	return p, nil
}

// Name implements Protocol.
func (p *DNS) Name() string { return "dns" }

var dialSeq atomic.Uint32

// Dial implements Protocol.
func (p *DNS) Dial(_ context.Context, timeout time.Duration) (Conn, error) {
	start := int(dialSeq.Add(1)*7919) % len(p.queries)
	ids := newIDTable()
	if p.tcp {
		s, err := dialStream(p.addr, timeout)
		if err != nil {
			return nil, err
		}
		return &dnsTCPConn{stream: s, p: p, ids: ids, n: start}, nil
	}
	c, err := net.DialTimeout("udp", p.addr, timeout)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UDPConn)
	// Room for bursts of answers: the default buffer drops them at high
	// rates with many queries in flight.
	uc.SetReadBuffer(1 << 20)
	return newDNSUDPConn(uc, p, ids, start, timeout), nil
}

// idTable tracks the queries in flight on one connection by message ID.
// IDs are handed out in turn over a table sized to the work in flight, so
// an ID comes back into use only after the whole table has been cycled.
type idTable struct {
	slots []idSlot
	mask  uint16
	next  uint16
	order fifo // ids in send order (pending.idx), for timeouts
}

type idSlot struct {
	at   int64
	q    int32
	live bool
}

func newIDTable() *idTable {
	const size = 4096
	return &idTable{slots: make([]idSlot, size), mask: size - 1}
}

// take allocates an ID for query q sent at at.
func (t *idTable) take(at int64, q int) (uint16, bool) {
	for i := 0; i <= int(t.mask); i++ {
		id := t.next & t.mask
		t.next++
		if !t.slots[id].live {
			t.slots[id] = idSlot{at: at, q: int32(q), live: true}
			t.order.push(pending{at: at, idx: int32(id)})
			return id, true
		}
	}
	return 0, false
}

// oldest returns the oldest query in flight, discarding answered ones.
func (t *idTable) oldest() (pending, bool) {
	for t.order.len() > 0 {
		p := t.order.front()
		s := &t.slots[p.idx]
		if s.live && s.at == p.at {
			return p, true
		}
		t.order.pop()
	}
	return pending{}, false
}

// answer frees the slot of id and returns it, or false if id is not in
// flight (a late or stray answer).
func (t *idTable) answer(id uint16) (idSlot, bool) {
	if id > t.mask {
		return idSlot{}, false
	}
	s := t.slots[id]
	if !s.live {
		return idSlot{}, false
	}
	t.slots[id].live = false
	return s, true
}

func (t *idTable) expire(p pending) { t.slots[p.idx].live = false }

// check validates msg as the answer to query q.
func (p *DNS) check(msg []byte, q int32) error {
	if len(msg) < 12 {
		return &Error{Kind: KindBadResponse, Err: fmt.Errorf("%d-byte message", len(msg))}
	}
	if msg[2]&0x80 == 0 {
		return &Error{Kind: KindBadResponse, Err: errors.New("QR is not set")}
	}
	if op := msg[2] >> 3 & 0xf; op != 0 {
		return &Error{Kind: KindBadResponse, Err: fmt.Errorf("opcode %d, not QUERY", op)}
	}
	rcode := int(msg[3] & 0xf)
	want := p.queries[q].wire[12:]
	qd := binary.BigEndian.Uint16(msg[4:])
	switch {
	case qd == 0 && rcode != 0:
		// RFC 1035 lets an error answer (FORMERR) omit the question.
	case qd != 1:
		return &Error{Kind: KindBadResponse, Err: fmt.Errorf("QDCOUNT %d", qd)}
	case len(msg) < 12+len(want) || !questionEqual(msg[12:12+len(want)], want):
		return &Error{Kind: KindBadResponse, Err: fmt.Errorf("question does not match the query's %s %s", p.queries[q].Name, mdns.TypeToString[p.queries[q].Type])}
	}
	if !p.accept(rcode) {
		return &Error{Kind: KindStatus, Err: fmt.Errorf("rcode %s", mdns.RcodeToString[rcode])}
	}
	return nil
}

// questionEqual compares two wire questions, ASCII letters in any case.
func questionEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// dnsUDPConn sends its queries with sendmmsg and reads answers with
// recvmmsg (through x/net/ipv4's batches, on Go's poller), so that a burst
// of answers costs one system call and the queries they free go out in
// one more.
type dnsUDPConn struct {
	c       *net.UDPConn
	pc      *ipv4.PacketConn
	p       *DNS
	ids     *idTable
	n       int
	timeout int64
	slack   int64
	rdl     int64
	wdl     int64
	rmsgs   []ipv4.Message // answers read by the last batch: rmsgs[ri:rn] unprocessed
	ri, rn  int
	wmsgs   []ipv4.Message // queries queued: wmsgs[:wq]
	wq      int
}

const (
	udpBatch   = 32
	udpMaxRecv = 4096 // queries carry no EDNS: answers are at most 512 bytes
)

func newDNSUDPConn(c *net.UDPConn, p *DNS, ids *idTable, start int, timeout time.Duration) *dnsUDPConn {
	u := &dnsUDPConn{c: c, pc: ipv4.NewPacketConn(c), p: p, ids: ids, n: start, timeout: int64(timeout), slack: int64(timeout) / 4,
		rmsgs: make([]ipv4.Message, udpBatch), wmsgs: make([]ipv4.Message, udpBatch)}
	for i := range u.rmsgs {
		u.rmsgs[i].Buffers = [][]byte{make([]byte, udpMaxRecv)}
		u.wmsgs[i].Buffers = [][]byte{make([]byte, 0, 512)}
	}
	return u
}

// hasBuffered reports answers already read and not yet returned: the
// engine holds its writes until they are, to send them in one batch.
func (c *dnsUDPConn) hasBuffered() bool { return c.ri < c.rn }

func (c *dnsUDPConn) Send(at int64) error {
	qi := c.n
	c.n++
	if c.n == len(c.p.queries) {
		c.n = 0
	}
	id, ok := c.ids.take(at, qi)
	if !ok {
		return &Error{Kind: KindOther, Fatal: true, Err: errors.New("no free message ID")}
	}
	m := &c.wmsgs[c.wq]
	m.Buffers[0] = append(m.Buffers[0][:0], c.p.queries[qi].wire...)
	binary.BigEndian.PutUint16(m.Buffers[0], id)
	c.wq++
	if c.wq == len(c.wmsgs) {
		return c.Flush()
	}
	return nil
}

func (c *dnsUDPConn) Flush() error {
	if c.wq == 0 {
		return nil
	}
	now := Now()
	if c.wdl == 0 || c.wdl < now+c.timeout-c.slack {
		c.wdl = now + c.timeout
		if err := c.c.SetWriteDeadline(clockTime(c.wdl)); err != nil {
			return err
		}
	}
	for sent := 0; sent < c.wq; {
		n, err := c.pc.WriteBatch(c.wmsgs[sent:c.wq], 0)
		if err != nil {
			c.wq = 0
			if errors.Is(err, syscall.ECONNREFUSED) {
				return &Error{Kind: KindRefused, Fatal: true, Err: err}
			}
			return err
		}
		sent += n
	}
	c.wq = 0
	return nil
}

func (c *dnsUDPConn) Reusable() bool { return true }
func (c *dnsUDPConn) Close() error   { return c.c.Close() }

func (c *dnsUDPConn) Recv(wake int64) (int64, error) {
	for {
		front, ok := c.ids.oldest()
		if !ok {
			return 0, errNothingPending
		}
		deadline := front.at + c.timeout
		if Now() >= deadline {
			c.ids.expire(front)
			return front.at, &Error{Kind: KindTimeout, Err: errors.New("no answer within the timeout")}
		}
		d := deadline
		if wake > 0 && wake < d {
			d = wake
		}
		if c.rdl == 0 || c.rdl > d || c.rdl < d-c.slack {
			if err := c.c.SetReadDeadline(clockTime(d)); err != nil {
				return front.at, err
			}
			c.rdl = d
		}
		if c.ri < c.rn {
			m := &c.rmsgs[c.ri]
			c.ri++
			msg := m.Buffers[0][:m.N]
			if len(msg) < 2 {
				continue // cannot be matched to a query
			}
			s, ok := c.ids.answer(binary.BigEndian.Uint16(msg))
			if !ok {
				continue // late (after its timeout) or stray
			}
			return s.at, c.p.check(msg, s.q)
		}
		n, err := c.pc.ReadBatch(c.rmsgs, 0)
		c.ri, c.rn = 0, max(n, 0)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				if wake > 0 && Now() >= wake && Now() < deadline {
					return 0, ErrWake
				}
				c.rdl = 0
				continue
			case errors.Is(err, syscall.ECONNREFUSED):
				c.ids.expire(front)
				return front.at, &Error{Kind: KindRefused, Err: err}
			}
			return front.at, err
		}
	}
}

type dnsTCPConn struct {
	*stream
	p   *DNS
	ids *idTable
	n   int
}

func (c *dnsTCPConn) Send(at int64) error {
	qi := c.n
	c.n++
	if c.n == len(c.p.queries) {
		c.n = 0
	}
	id, ok := c.ids.take(at, qi)
	if !ok {
		return &Error{Kind: KindOther, Fatal: true, Err: errors.New("no free message ID")}
	}
	w := c.p.queries[qi].wire
	c.wbuf = binary.BigEndian.AppendUint16(c.wbuf, uint16(len(w)))
	off := len(c.wbuf)
	c.wbuf = append(c.wbuf, w...)
	binary.BigEndian.PutUint16(c.wbuf[off:], id)
	return nil
}

func (c *dnsTCPConn) Flush() error   { return c.flush() }
func (c *dnsTCPConn) Reusable() bool { return true }
func (c *dnsTCPConn) Close() error   { return c.close() }

func (c *dnsTCPConn) Recv(wake int64) (int64, error) {
	for {
		front, ok := c.ids.oldest()
		if !ok {
			return 0, errNothingPending
		}
		if buf := c.buffered(); len(buf) >= 2 {
			n := int(binary.BigEndian.Uint16(buf))
			if len(buf) >= 2+n {
				msg := buf[2 : 2+n]
				c.consume(2 + n)
				if n < 2 {
					return front.at, badResponse("%d-byte DNS message", n)
				}
				s, ok := c.ids.answer(binary.BigEndian.Uint16(msg))
				if !ok {
					return front.at, badResponse("answer with ID %d, which no query in flight has", binary.BigEndian.Uint16(msg))
				}
				return s.at, c.p.check(msg, s.q)
			}
		}
		err := c.fill(front.at, wake)
		switch {
		case err == nil, err == errWaitAgain:
		case err == ErrWake:
			return 0, err
		case errors.Is(err, io.EOF) && len(c.buffered()) > 0:
			return front.at, badResponse("connection closed in the middle of a message")
		default:
			return front.at, err
		}
	}
}
