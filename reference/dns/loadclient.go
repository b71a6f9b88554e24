package dns

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"github.com/protospec/protospec/internal/dial"
	contract "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/protocol"
)

func init() {
	loadgen.Register(contract.Name, loadgen.Client{
		Service: "dns/udp",
		Params: []protocol.Param{
			{Name: "queries", Doc: "query file in dnsperf's format, one 'name type' per line (default: names of the test. fixture)"},
			{Name: "tcp", Doc: "query over TCP (dns/tcp) instead of UDP", Default: "false"},
		},
		Examples: []string{"--target nsd --connections 4 --pipeline 64 --param queries=queries.txt --json",
			"--target 127.0.0.1:5300 --param tcp=true --pipeline 16"},
		Plan: planLoad,
	})
}

// planLoad turns bench's params into the load: the query file (read now,
// before any target starts) and the transport.
func planLoad(params map[string]string) (*loadgen.Load, error) {
	tcp, err := loadgen.BoolParam(params, "tcp")
	if err != nil {
		return nil, err
	}
	network := "udp"
	if tcp {
		network = "tcp"
	}
	l := &loadgen.Load{Service: "dns/" + network, Workload: DefaultLoadQueries, Options: []string{network}}
	var queries []LoadQuery
	if file := params["queries"]; file != "" {
		if queries, err = ReadLoadQueries(file); err != nil {
			return nil, err
		}
		l.Workload = []string{fmt.Sprintf("%s (%d queries)", filepath.Base(file), len(queries))}
	}
	l.Open = func(to loadgen.Target, _ time.Duration) (loadgen.Protocol, error) {
		p, err := NewLoadClient(LoadClientOptions{Addr: to.Endpoint.Addr, Network: network, Queries: queries, Dialer: to.Dialer})
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return l, nil
}

// LoadQuery is one DNS question of a load run.
type LoadQuery struct {
	Name string
	Type uint16
	wire []byte // the whole query with ID 0
}

// ParseLoadQueries reads queries in dnsperf's format: one "name type" per
// line ("www.example.com A"; the type defaults to A), blank lines and lines
// starting with ';' or '#' ignored.
func ParseLoadQueries(r io.Reader) ([]LoadQuery, error) {
	var out []LoadQuery
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
			return nil, fmt.Errorf("dns load client: queries line %d: %q is not \"name type\"", line, text)
		}
		q, err := NewLoadQuery(f[0], typ)
		if err != nil {
			return nil, fmt.Errorf("dns load client: queries line %d: %v", line, err)
		}
		out = append(out, q)
		if len(out) > 1<<20 {
			return nil, errors.New("dns load client: more than 1048576 queries")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dns load client: reading queries: %v", err)
	}
	if len(out) == 0 {
		return nil, errors.New("dns load client: no queries")
	}
	return out, nil
}

// ReadLoadQueries reads a dnsperf query file.
func ReadLoadQueries(path string) ([]LoadQuery, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseLoadQueries(f)
}

// NewLoadQuery builds the query for name and a type mnemonic ("AAAA",
// "TYPE65"), with RD set as dnsperf sets it.
func NewLoadQuery(name, typ string) (LoadQuery, error) {
	t, ok := mdns.StringToType[strings.ToUpper(typ)]
	if !ok {
		var n uint16
		if _, err := fmt.Sscanf(strings.ToUpper(typ), "TYPE%d", &n); err != nil || n == 0 {
			return LoadQuery{}, fmt.Errorf("unknown type %q", typ)
		}
		t = n
	}
	fq := mdns.Fqdn(name)
	if _, ok := mdns.IsDomainName(fq); !ok {
		return LoadQuery{}, fmt.Errorf("bad name %q", name)
	}
	buf := make([]byte, 12, 12+len(fq)+6)
	buf[2] = 0x01 // RD
	buf[5] = 1    // QDCOUNT
	nb := make([]byte, 256)
	n, err := mdns.PackDomainName(fq, nb, 0, nil, false)
	if err != nil {
		return LoadQuery{}, fmt.Errorf("bad name %q: %v", name, err)
	}
	buf = append(buf, nb[:n]...)
	buf = binary.BigEndian.AppendUint16(buf, t)
	buf = binary.BigEndian.AppendUint16(buf, mdns.ClassINET)
	return LoadQuery{Name: fq, Type: t, wire: buf}, nil
}

// DefaultLoadQueries are names of the protospec DNS fixture (zone test.).
var DefaultLoadQueries = []string{"www.test A", "www.test AAAA", "mail.test A", "test MX", "txt.test TXT", "alias.test A", "ns1.test A", "test NS"}

// LoadClientOptions configure the DNS load client.
type LoadClientOptions struct {
	Addr string
	// Network is "udp" (default) or "tcp".
	Network string
	Queries []LoadQuery
	// Accept tells which RCODEs are successes; default NOERROR and
	// NXDOMAIN.
	Accept func(rcode int) bool
	// Dialer reaches Addr (a source address); nil is a plain dialer.
	Dialer *dial.Dialer
}

// LoadClient is the DNS load client (`protospec bench dns`). Over UDP each connection is one connected
// socket with queries in flight matched by ID; over TCP, queries are
// pipelined on each connection with two-byte length framing (RFC 7766) and
// answers may come in any order. Every answer must carry the ID, opcode and
// question of its query with QR set; its RCODE is checked against Accept.
type LoadClient struct {
	to      loadgen.Target
	tcp     bool
	queries []LoadQuery
	accept  func(int) bool
}

// NewLoadClient returns the DNS load client.
func NewLoadClient(o LoadClientOptions) (*LoadClient, error) {
	if o.Addr == "" {
		return nil, errors.New("dns load client: no address")
	}
	p := &LoadClient{queries: o.Queries, accept: o.Accept}
	switch o.Network {
	case "", "udp":
	case "tcp":
		p.tcp = true
	default:
		return nil, fmt.Errorf("dns load client: network %q (want udp or tcp)", o.Network)
	}
	network := "udp"
	if p.tcp {
		network = "tcp"
	}
	p.to = loadgen.Target{Endpoint: dial.Endpoint{Network: network, Addr: o.Addr}, Dialer: o.Dialer}
	if len(p.queries) == 0 {
		for _, l := range DefaultLoadQueries {
			f := strings.Fields(l)
			q, err := NewLoadQuery(f[0], f[1])
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

// Name implements loadgen.Protocol.
func (p *LoadClient) Name() string { return contract.Name }

var dialSeq atomic.Uint32

// Dial implements loadgen.Protocol.
func (p *LoadClient) Dial(ctx context.Context, timeout time.Duration) (loadgen.Conn, error) {
	start := int(dialSeq.Add(1)*7919) % len(p.queries)
	ids := newIDTable()
	if p.tcp {
		s, err := loadgen.DialStream(ctx, p.to, timeout)
		if err != nil {
			return nil, err
		}
		return &loadTCPConn{Stream: s, p: p, ids: ids, n: start}, nil
	}
	uc, err := p.to.DialUDP(ctx, timeout)
	if err != nil {
		return nil, err
	}
	// Room for bursts of answers: the default buffer drops them at high
	// rates with many queries in flight.
	uc.SetReadBuffer(1 << 20)
	return newLoadUDPConn(uc, p, ids, start, timeout), nil
}

// idTable tracks the queries in flight on one connection by message ID.
// IDs are handed out in turn over a table sized to the work in flight, so
// an ID comes back into use only after the whole table has been cycled.
type idTable struct {
	slots []idSlot
	mask  uint16
	next  uint16
	order loadgen.FIFO // ids in send order (pending.Idx), for timeouts
}

type idSlot struct {
	At   int64
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
			t.slots[id] = idSlot{At: at, q: int32(q), live: true}
			t.order.Push(loadgen.Pending{At: at, Idx: int32(id)})
			return id, true
		}
	}
	return 0, false
}

// oldest returns the oldest query in flight, discarding answered ones.
func (t *idTable) oldest() (loadgen.Pending, bool) {
	for t.order.Len() > 0 {
		p := t.order.Front()
		s := &t.slots[p.Idx]
		if s.live && s.At == p.At {
			return p, true
		}
		t.order.Pop()
	}
	return loadgen.Pending{}, false
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

func (t *idTable) expire(p loadgen.Pending) { t.slots[p.Idx].live = false }

// check validates msg as the answer to query q.
func (p *LoadClient) check(msg []byte, q int32) error {
	if len(msg) < 12 {
		return &loadgen.Error{Kind: loadgen.KindBadResponse, Err: fmt.Errorf("%d-byte message", len(msg))}
	}
	if msg[2]&0x80 == 0 {
		return &loadgen.Error{Kind: loadgen.KindBadResponse, Err: errors.New("QR is not set")}
	}
	if op := msg[2] >> 3 & 0xf; op != 0 {
		return &loadgen.Error{Kind: loadgen.KindBadResponse, Err: fmt.Errorf("opcode %d, not QUERY", op)}
	}
	rcode := int(msg[3] & 0xf)
	want := p.queries[q].wire[12:]
	qd := binary.BigEndian.Uint16(msg[4:])
	switch {
	case qd == 0 && rcode != 0:
		// RFC 1035 lets an error answer (FORMERR) omit the question.
	case qd != 1:
		return &loadgen.Error{Kind: loadgen.KindBadResponse, Err: fmt.Errorf("QDCOUNT %d", qd)}
	case len(msg) < 12+len(want) || !questionEqual(msg[12:12+len(want)], want):
		return &loadgen.Error{Kind: loadgen.KindBadResponse, Err: fmt.Errorf("question does not match the query's %s %s", p.queries[q].Name, mdns.TypeToString[p.queries[q].Type])}
	}
	if !p.accept(rcode) {
		return &loadgen.Error{Kind: loadgen.KindStatus, Err: fmt.Errorf("rcode %s", mdns.RcodeToString[rcode])}
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

// loadUDPConn sends its queries with sendmmsg and reads answers with
// recvmmsg (through x/net/ipv4's batches, on Go's poller), so that a burst
// of answers costs one system call and the queries they free go out in
// one more.
type loadUDPConn struct {
	c       *net.UDPConn
	pc      *ipv4.PacketConn
	p       *LoadClient
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
	loadUDPBatch   = 32
	loadUDPMaxRecv = 4096 // queries carry no EDNS: answers are at most 512 bytes
)

func newLoadUDPConn(c *net.UDPConn, p *LoadClient, ids *idTable, start int, timeout time.Duration) *loadUDPConn {
	u := &loadUDPConn{c: c, pc: ipv4.NewPacketConn(c), p: p, ids: ids, n: start, timeout: int64(timeout), slack: int64(timeout) / 4,
		rmsgs: make([]ipv4.Message, loadUDPBatch), wmsgs: make([]ipv4.Message, loadUDPBatch)}
	for i := range u.rmsgs {
		u.rmsgs[i].Buffers = [][]byte{make([]byte, loadUDPMaxRecv)}
		u.wmsgs[i].Buffers = [][]byte{make([]byte, 0, 512)}
	}
	return u
}

// HasBuffered reports answers already read and not yet returned: the
// engine holds its writes until they are, to send them in one batch.
func (c *loadUDPConn) HasBuffered() bool { return c.ri < c.rn }

func (c *loadUDPConn) Send(at int64) error {
	qi := c.n
	c.n++
	if c.n == len(c.p.queries) {
		c.n = 0
	}
	id, ok := c.ids.take(at, qi)
	if !ok {
		return &loadgen.Error{Kind: loadgen.KindOther, Fatal: true, Err: errors.New("no free message ID")}
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

func (c *loadUDPConn) Flush() error {
	if c.wq == 0 {
		return nil
	}
	now := loadgen.Now()
	if c.wdl == 0 || c.wdl < now+c.timeout-c.slack {
		c.wdl = now + c.timeout
		if err := c.c.SetWriteDeadline(loadgen.ClockTime(c.wdl)); err != nil {
			return err
		}
	}
	for sent := 0; sent < c.wq; {
		n, err := c.pc.WriteBatch(c.wmsgs[sent:c.wq], 0)
		if err != nil {
			c.wq = 0
			if errors.Is(err, syscall.ECONNREFUSED) {
				return &loadgen.Error{Kind: loadgen.KindRefused, Fatal: true, Err: err}
			}
			return err
		}
		sent += n
	}
	c.wq = 0
	return nil
}

func (c *loadUDPConn) Reusable() bool { return true }
func (c *loadUDPConn) Close() error   { return c.c.Close() }

func (c *loadUDPConn) Recv(wake int64) (int64, error) {
	for {
		front, ok := c.ids.oldest()
		if !ok {
			return 0, loadgen.ErrNothingPending
		}
		deadline := front.At + c.timeout
		if loadgen.Now() >= deadline {
			c.ids.expire(front)
			return front.At, &loadgen.Error{Kind: loadgen.KindTimeout, Err: errors.New("no answer within the timeout")}
		}
		d := deadline
		if wake > 0 && wake < d {
			d = wake
		}
		if c.rdl == 0 || c.rdl > d || c.rdl < d-c.slack {
			if err := c.c.SetReadDeadline(loadgen.ClockTime(d)); err != nil {
				return front.At, err
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
			return s.At, c.p.check(msg, s.q)
		}
		n, err := c.pc.ReadBatch(c.rmsgs, 0)
		c.ri, c.rn = 0, max(n, 0)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				if wake > 0 && loadgen.Now() >= wake && loadgen.Now() < deadline {
					return 0, loadgen.ErrWake
				}
				c.rdl = 0
				continue
			case errors.Is(err, syscall.ECONNREFUSED):
				c.ids.expire(front)
				return front.At, &loadgen.Error{Kind: loadgen.KindRefused, Err: err}
			}
			return front.At, err
		}
	}
}

type loadTCPConn struct {
	*loadgen.Stream
	p   *LoadClient
	ids *idTable
	n   int
}

func (c *loadTCPConn) Send(at int64) error {
	qi := c.n
	c.n++
	if c.n == len(c.p.queries) {
		c.n = 0
	}
	id, ok := c.ids.take(at, qi)
	if !ok {
		return &loadgen.Error{Kind: loadgen.KindOther, Fatal: true, Err: errors.New("no free message ID")}
	}
	w := c.p.queries[qi].wire
	c.Out = binary.BigEndian.AppendUint16(c.Out, uint16(len(w)))
	off := len(c.Out)
	c.Out = append(c.Out, w...)
	binary.BigEndian.PutUint16(c.Out[off:], id)
	return nil
}

func (c *loadTCPConn) Reusable() bool { return true }

func (c *loadTCPConn) Recv(wake int64) (int64, error) {
	for {
		front, ok := c.ids.oldest()
		if !ok {
			return 0, loadgen.ErrNothingPending
		}
		if buf := c.Buffered(); len(buf) >= 2 {
			n := int(binary.BigEndian.Uint16(buf))
			if len(buf) >= 2+n {
				msg := buf[2 : 2+n]
				c.Consume(2 + n)
				if n < 2 {
					return front.At, loadgen.BadResponse("%d-byte DNS message", n)
				}
				s, ok := c.ids.answer(binary.BigEndian.Uint16(msg))
				if !ok {
					return front.At, loadgen.BadResponse("answer with ID %d, which no query in flight has", binary.BigEndian.Uint16(msg))
				}
				return s.At, c.p.check(msg, s.q)
			}
		}
		err := c.Fill(front.At, wake)
		switch {
		case err == nil, err == loadgen.ErrWaitAgain:
		case err == loadgen.ErrWake:
			return 0, err
		case errors.Is(err, io.EOF) && len(c.Buffered()) > 0:
			return front.At, loadgen.BadResponse("connection closed in the middle of a message")
		default:
			return front.At, err
		}
	}
}
