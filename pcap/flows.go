package pcap

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options configure Analyze.
type Options struct {
	// DecodeAs maps server ports to protocols, before DefaultPorts and
	// content sniffing. "none" leaves the port's flows undissected.
	DecodeAs map[uint16]string
	// Only, if set, dissects only flows of this protocol.
	Only string
	// OnMessage receives each message as it is completed.
	OnMessage func(*Message)
	// OnFlow receives each flow when it ends: closed and idle, evicted,
	// or at the end of the capture.
	OnFlow func(*Flow)
	// OnProgress, if set, is called about every ProgressEvery packets.
	OnProgress func(Progress)
	// KeepRaw keeps each message's wire bytes (Message.Raw).
	KeepRaw bool
	// MaxMessage bounds the bytes kept of one message (default 1 MiB).
	MaxMessage int
	// MaxFlows bounds the flows tracked at once (default 65536); beyond
	// it the least recently active are ended early.
	MaxFlows int
	// MaxFlowBuffer bounds the out-of-order bytes held per direction of a
	// connection (default 1 MiB), MaxBuffer those held in all (default 64
	// MiB); beyond them the holes are declared lost.
	MaxFlowBuffer, MaxBuffer int
	// IdleTimeout ends a flow silent for that long in capture time
	// (default 2 minutes; 5 seconds once it is closed).
	IdleTimeout time.Duration
}

// ProgressEvery is how many packets pass between OnProgress calls.
const ProgressEvery = 1 << 16

// Progress is what OnProgress is told.
type Progress struct {
	Packets int
	Bytes   int64
	Flows   int // flows seen so far
	Active  int // flows tracked now
}

// ParseDecodeAs parses "PORT=PROTO" settings.
func ParseDecodeAs(specs []string) (map[uint16]string, error) {
	out := map[uint16]string{}
	for _, s := range specs {
		p, proto, ok := strings.Cut(s, "=")
		port, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		proto = strings.TrimSpace(proto)
		if !ok || err != nil {
			return nil, fmt.Errorf("--decode-as %q is not PORT=PROTO", s)
		}
		if proto != "none" && !knownProto(proto) {
			return nil, fmt.Errorf("--decode-as %q: unknown protocol %q (known: %s, none)", s, proto, strings.Join(Protocols(), ", "))
		}
		out[uint16(port)] = proto
	}
	return out, nil
}

func knownProto(p string) bool {
	_, ok := Lookup(p)
	return ok
}

// Flow is one TCP connection or UDP conversation between a client and a
// server endpoint.
type Flow struct {
	ID        int            `json:"id"`
	Transport string         `json:"transport"`
	Proto     string         `json:"proto"`
	Client    netip.AddrPort `json:"client"`
	Server    netip.AddrPort `json:"server"`
	First     time.Time      `json:"first"`
	Last      time.Time      `json:"last"`
	Packets   int            `json:"packets"`
	// Bytes is the payload each side sent: [client, server].
	Bytes    [2]int64 `json:"bytes"`
	Messages int      `json:"messages"`
	// Gaps and GapBytes count holes in the reassembled streams.
	Gaps        int   `json:"gaps,omitempty"`
	GapBytes    int64 `json:"gap_bytes,omitempty"`
	Retransmits int   `json:"retransmits,omitempty"`
	OutOfOrder  int   `json:"out_of_order,omitempty"`
	// MidStream is set when the capture began after the handshake.
	MidStream bool `json:"mid_stream,omitempty"`
	// IgnoredRST counts resets whose sequence number was out of the
	// window, which end nothing.
	IgnoredRST int `json:"ignored_rst,omitempty"`
	// AfterEnd counts segments with payload that came after their
	// direction had ended (FIN or RST), which nothing reads.
	AfterEnd int `json:"after_end,omitempty"`
	// End says how the flow ended: "fin", "rst", "idle", "evicted",
	// "reused" when a new connection's SYN took its 4-tuple, or "open"
	// when the capture ended first.
	End string `json:"end"`
	// OpenedBy says, for a connection another flow announced (an FTP data
	// connection), what opened it ("flow 1: PASV #7, RETR pub/f #8").
	OpenedBy string `json:"opened_by,omitempty"`

	// link is what the announcing dissector attached (Emitter.Expect).
	link any
	udp  bool
	// expireGen numbers the flow's entries in the analyzer's expiry heap:
	// only the entry of the current number counts.
	expireGen uint32
	// flowState is what the analysis needs while the flow is tracked; a
	// flow that ended lets it go (nil), so that the flows kept by the
	// callers cost only the fields above.
	*flowState
}

// flowState is the analysis state of a tracked flow.
type flowState struct {
	sawSYN  bool
	streams [2]stream
	sinks   [2]sideSink
	diss    Dissector
	ps      *protoState // the protocol, once decided
	emit    *Emitter
	em      Emitter // what emit points to while the flow is dissected
	stats   reassemblyStats
	held    int // out-of-order bytes held
	decided bool
	// cut is set while a flow the capture (or the analysis) cut short is
	// flushed: what is incomplete then is the capture's gap.
	cut     bool
	early   []byte // client bytes seen before the protocol was known
	earlyAt []earlyChunk
}

// maxFreeStates bounds the flow states kept for reuse.
const maxFreeStates = 1024

// maxEarly bounds the client bytes kept while a flow's protocol is unknown.
const maxEarly = 4096

type earlyChunk struct {
	t time.Time
	n int
}

func (f *Flow) String() string {
	return fmt.Sprintf("%d %s %s %s -> %s", f.ID, f.Transport, f.Proto, f.Client, f.Server)
}

// sideSink adapts a flow side to the stream's sink.
type sideSink struct {
	f    *Flow
	side Side
	a    *analyzer
}

func (s *sideSink) deliver(t time.Time, b []byte) { s.a.payload(s.f, s.side, t, b) }
func (s *sideSink) lost(n int) {
	if s.f.diss != nil {
		s.f.diss.Lost(s.side, n)
	}
}
func (s *sideSink) finished(t time.Time, reset bool) {
	if s.f.diss != nil {
		s.f.diss.End(s.side, t, reset)
	}
}

// flowKey identifies a flow whichever way its packets go: its endpoints
// in a fixed order, as plain bytes that hash and compare fast. (Addresses
// read from packets have no zone.)
type flowKey struct {
	addr [2][16]byte
	port [2]uint16
	// kind holds the address family of each endpoint (kindOf) and
	// whether the flow is UDP.
	kind uint32
}

// kindOf tells an invalid address, IPv4 and IPv6 apart.
func kindOf(a netip.Addr) uint32 {
	switch {
	case a.Is4():
		return 1
	case a.Is6():
		return 2
	}
	return 0
}

func keyOf(s *Segment) flowKey {
	a, b := s.Src.Addr(), s.Dst.Addr()
	k := flowKey{addr: [2][16]byte{a.As16(), b.As16()}, port: [2]uint16{s.Src.Port(), s.Dst.Port()}}
	ka, kb := kindOf(a), kindOf(b)
	// Any order of the endpoints does, as long as it is always the same:
	// by address bytes, family, port.
	if c := bytes.Compare(k.addr[1][:], k.addr[0][:]); c < 0 || (c == 0 && (kb < ka || (kb == ka && k.port[1] < k.port[0]))) {
		k.addr[0], k.addr[1] = k.addr[1], k.addr[0]
		k.port[0], k.port[1] = k.port[1], k.port[0]
		ka, kb = kb, ka
	}
	k.kind = ka | kb<<2
	if s.UDP {
		k.kind |= 1 << 4
	}
	return k
}

// Summary is what Analyze found in a capture.
type Summary struct {
	Format     Format      `json:"format"`
	Compressed bool        `json:"compressed,omitempty"`
	Read       ReadStats   `json:"read"`
	Decode     DecodeStats `json:"decode"`
	Segments   int         `json:"segments"`
	Flows      int         `json:"flows"`
	Messages   int         `json:"messages"`
	Gaps       int         `json:"gaps"`
	GapBytes   int64       `json:"gap_bytes"`
	// Reused counts flows ended by a new connection's SYN on the same
	// 4-tuple.
	Reused int `json:"reused,omitempty"`
	// Evicted counts flows ended early to stay within MaxFlows.
	Evicted int `json:"evicted,omitempty"`
	// BufferFlushes counts the times MaxBuffer forced holes to be
	// declared.
	BufferFlushes int `json:"buffer_flushes,omitempty"`
	// PeakBuffer is the most out-of-order bytes held at once.
	PeakBuffer int       `json:"peak_buffer"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	Warnings   []string  `json:"warnings,omitempty"`
	// NWarnings counts all warnings; Warnings holds the first few.
	NWarnings int `json:"n_warnings"`
}

// expiry is an entry of the analyzer's expiry heap: the capture time
// after which gc may end the flow, at the earliest. An entry whose gen
// is not the flow's expireGen is stale and is skipped.
type expiry struct {
	at  time.Time
	f   *Flow
	gen uint32
}

// expiryHeap orders expiry entries, earliest first (container/heap).
type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	q := *h
	e := q[len(q)-1]
	q[len(q)-1] = expiry{}
	*h = q[:len(q)-1]
	return e
}

type analyzer struct {
	o     Options
	eng   *engine
	flows map[flowKey]*Flow
	// last is the flow of the last segment, found again without the map
	// while the next segments belong to it too; lastKey is its key.
	last    *Flow
	lastKey flowKey
	// expiry holds an entry for every flow tracked, by the time gc may
	// end it, and stale entries.
	expiry  expiryHeap
	sum     Summary
	held    int
	nextID  int
	packet  int
	lastGC  time.Time
	lastSeg time.Time
	// expects holds the connections dissectors announced (Expect), by
	// the endpoint that will accept them.
	expects map[netip.AddrPort]expectation
	// free holds the states of ended flows, for new ones.
	free []*flowState
}

// Analyze reads every packet of r, reassembles TCP, dissects the flows of
// the protocols it knows and returns the summary. Messages and flows go
// to the callbacks as they complete.
//
// With more than one processor (GOMAXPROCS), r is read and its packets
// decoded by a goroutine of Analyze's own, a batch ahead of the analysis;
// the callbacks still run on the goroutine that called Analyze, in the
// same order, and r is not touched once Analyze has returned.
func Analyze(r *Reader, o Options) (*Summary, error) {
	if o.MaxMessage <= 0 {
		o.MaxMessage = 1 << 20
	}
	if o.MaxFlows <= 0 {
		o.MaxFlows = 65536
	}
	if o.MaxFlowBuffer <= 0 {
		o.MaxFlowBuffer = 1 << 20
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = 64 << 20
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	a := &analyzer{o: o, eng: newEngine(), flows: map[flowKey]*Flow{}}
	a.sum.Format, a.sum.Compressed = r.Format, r.Compressed
	dec := NewDecoder()
	var err error
	if pipelined() {
		err = a.readPipelined(r, dec)
	} else {
		err = a.read(r, dec)
	}
	for _, f := range a.sortedFlows() {
		a.finish(f, "open")
	}
	a.sum.Read = r.Stats()
	a.sum.Decode = dec.Stats
	a.sum.Warnings, a.sum.NWarnings = r.Warnings()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return &a.sum, err
}

// read reads, decodes and analyzes every packet of r in turn.
func (a *analyzer) read(r *Reader, dec *Decoder) error {
	var seg Segment
	for {
		p, err := r.Next()
		if err != nil {
			return err
		}
		a.packet = p.Index
		if a.o.OnProgress != nil && p.Index%ProgressEvery == 0 {
			st := r.Stats()
			a.o.OnProgress(Progress{Packets: st.Packets, Bytes: st.Bytes, Flows: a.nextID, Active: len(a.flows)})
		}
		if a.sum.First.IsZero() || p.Timestamp.Before(a.sum.First) {
			a.sum.First = p.Timestamp
		}
		if p.Timestamp.After(a.sum.Last) {
			a.sum.Last = p.Timestamp
		}
		if !dec.Decode(p, &seg) {
			continue
		}
		a.sum.Segments++
		a.segment(&seg)
	}
}

func (a *analyzer) sortedFlows() []*Flow {
	out := make([]*Flow, 0, len(a.flows))
	for _, f := range a.flows {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (a *analyzer) segment(s *Segment) {
	// Only a later segment can bring the next collection closer.
	if s.Time.After(a.lastSeg) {
		a.lastSeg = s.Time
		if a.lastSeg.Sub(a.lastGC) > time.Second {
			a.gc(a.lastSeg)
		}
	}
	k := keyOf(s)
	f := a.last
	if f == nil || k != a.lastKey {
		f = a.flows[k]
		if f == nil {
			if len(a.flows) >= a.o.MaxFlows {
				a.evict()
			}
			f = a.newFlow(s)
			a.flows[k] = f
		}
		a.last, a.lastKey = f, k
	}
	side := Client
	if s.Src == f.Server && s.Dst == f.Client {
		side = Server
	}
	if s.SYN && !s.ACK && !s.UDP && f.reusedBy(s, side) {
		// A new connection on the 4-tuple of one that ended (or was
		// abandoned): the old flow ends here, the SYN opens another.
		end := "reused"
		if f.End == "rst" {
			end = "rst"
		} else if f.streams[0].fin && f.streams[1].fin {
			end = "fin"
		}
		a.sum.Reused++
		a.finish(f, end)
		if len(a.flows) >= a.o.MaxFlows {
			a.evict()
		}
		f = a.newFlow(s)
		a.flows[k] = f
		a.last, a.lastKey = f, k
		side = Client
	}
	f.Packets++
	if s.Time.After(f.Last) {
		f.Last = s.Time
	}
	if s.UDP {
		f.Bytes[side] += int64(len(s.Payload))
		if len(s.Payload) > 0 || s.Missing > 0 {
			if s.Missing > 0 && f.diss != nil {
				// Said first: the datagram that follows is cut short.
				f.diss.Lost(side, s.Missing)
			}
			a.payload(f, side, s.Time, s.Payload)
		}
		return
	}
	if s.SYN {
		f.sawSYN = true
	}
	st := &f.streams[side]
	if !st.started && !s.SYN && len(s.Payload) > 0 && !f.sawSYN {
		f.MidStream = true
	}
	if s.RST && st.started && !st.closed && !rstInWindow(seqDiff(s.Seq, st.next)) {
		// A reset whose sequence number is out of the window (RFC 9293
		// 3.10.7.4: a receiver ignores it): spoofed, or of an older
		// connection. It ends nothing.
		f.IgnoredRST++
		s.RST = false
	}
	if st.closed && len(s.Payload)+s.Missing > 0 {
		// Bytes after this direction ended (by FIN or RST): counted, since
		// nothing reads them.
		f.AfterEnd++
	}
	wasClosed := f.closed()
	if s.ACK {
		// The peer acknowledged bytes the capture lacks: they will not be
		// sent again, so the hole before them is lost for good. What
		// they acknowledge was sent before this segment: it goes first.
		other := &f.streams[1-side]
		before := other.bytes
		for len(other.pending) > 0 && seqDiff(s.Ack, other.pending[0].seq) > 0 {
			other.skipToPending(&f.sinks[1-side], &f.stats)
		}
		if other.bytes != before {
			f.held += other.bytes - before
			a.held += other.bytes - before
			other.checkFin(s.Time, &f.sinks[1-side])
		}
	}
	delta := st.segment(s, &f.sinks[side], &f.stats, a.o.MaxFlowBuffer)
	f.held += delta
	a.held += delta
	if s.RST {
		// A reset ends both directions.
		other := &f.streams[1-side]
		if !other.closed {
			before := other.bytes
			other.flush(&f.sinks[1-side], &f.stats)
			other.closed = true
			f.held += other.bytes - before
			a.held += other.bytes - before
			f.sinks[1-side].finished(s.Time, true)
		}
		f.End = "rst"
	}
	if !wasClosed && f.closed() {
		a.schedule(f)
	}
	a.sum.PeakBuffer = max(a.sum.PeakBuffer, a.held)
	for a.held > a.o.MaxBuffer {
		if !a.flushLargest() {
			break
		}
	}
}

// payload counts bytes and hands them to the flow's dissector, picking the
// protocol on the first payload.
func (a *analyzer) payload(f *Flow, side Side, t time.Time, b []byte) {
	if !f.udp {
		f.Bytes[side] += int64(len(b))
	}
	if !f.decided {
		if f.Proto == "" {
			var client []byte
			if side == Server {
				client = f.early
			}
			f.Proto = a.eng.sniff(f, side, b, client)
		}
		// Undecided, the client's first bytes are kept so that the
		// server's answer can still tell (an echo), then handed on.
		if f.Proto == "" && side == Client && len(f.early)+len(b) <= maxEarly {
			f.early = append(f.early, b...)
			f.earlyAt = append(f.earlyAt, earlyChunk{t, len(b)})
			return
		}
		f.decided = true
		if f.Proto != "" && (a.o.Only == "" || a.o.Only == f.Proto) {
			f.em = Emitter{flow: f, packet: &a.packet, out: a.o.OnMessage, keepRaw: a.o.KeepRaw, maxMessage: a.o.MaxMessage, expect: a.expect}
			f.emit = &f.em
			f.diss = a.newDissector(f, f.emit)
			if f.diss != nil {
				early := f.early
				for _, c := range f.earlyAt {
					f.diss.Data(Client, c.t, early[:c.n])
					early = early[c.n:]
				}
			}
		}
		f.early, f.earlyAt = nil, nil
	}
	if f.diss != nil {
		f.diss.Data(side, t, b)
	}
}

func (a *analyzer) newFlow(s *Segment) *Flow {
	a.nextID++
	f := &Flow{ID: a.nextID, Transport: "tcp", udp: s.UDP, First: s.Time, Last: s.Time, End: "open"}
	if n := len(a.free); n > 0 {
		f.flowState = a.free[n-1]
		a.free[n-1] = nil
		a.free = a.free[:n-1]
	} else {
		f.flowState = new(flowState)
	}
	if s.UDP {
		f.Transport = "udp"
	}
	client, server := s.Src, s.Dst
	switch {
	case !s.UDP && s.SYN && !s.ACK:
	case !s.UDP && s.SYN && s.ACK:
		client, server = server, client
	case a.portProto(client.Port()) != "" && a.portProto(server.Port()) == "":
		client, server = server, client
	case a.portProto(server.Port()) == "" && client.Port() < 1024 && server.Port() >= 1024:
		client, server = server, client
	}
	f.Client, f.Server = client, server
	if p := a.portProto(server.Port()); p != "" {
		f.Proto = p
		if p == "none" {
			f.Proto = ""
			f.decided = true
		}
	}
	if s.SYN {
		f.sawSYN = true
	}
	a.expected(f)
	for i := range f.sinks {
		f.sinks[i] = sideSink{f: f, side: Side(i), a: a}
	}
	a.schedule(f)
	a.sum.Flows++
	return f
}

// maxSpare bounds the dissectors kept for reuse, per protocol.
const maxSpare = 64

// newDissector returns the dissector of f's protocol, reusing one of a
// flow that ended when the protocol's dissectors are Reusable (TCP only:
// a dissector reset for TCP might not serve UDP).
func (a *analyzer) newDissector(f *Flow, e *Emitter) Dissector {
	ps := a.eng.byName[f.Proto]
	if ps == nil {
		return nil
	}
	if !f.udp {
		f.ps = ps
		if n := len(ps.spare); n > 0 {
			d := ps.spare[n-1]
			ps.spare[n-1] = nil
			ps.spare = ps.spare[:n-1]
			d.Reset(e)
			return d
		}
	}
	return ps.p.New(e, f.udp)
}

// release takes back the dissector of a TCP flow that ended.
func (a *analyzer) release(f *Flow) {
	if f.ps == nil {
		return
	}
	if r, ok := f.diss.(Reusable); ok && len(f.ps.spare) < maxSpare {
		r.Reset(nil)
		f.ps.spare = append(f.ps.spare, r)
	}
}

func (a *analyzer) portProto(port uint16) string {
	if p, ok := a.o.DecodeAs[port]; ok {
		return p
	}
	return a.eng.ports[port]
}

// finish flushes a flow's streams and dissector and hands it on.
func (a *analyzer) finish(f *Flow, end string) {
	f.cut = f.End != "fin" && f.End != "rst" && end != "fin" && end != "rst" && !(f.streams[0].fin && f.streams[1].fin)
	if !f.udp {
		for i := range f.streams {
			st := &f.streams[i]
			if !st.closed {
				st.flush(&f.sinks[i], &f.stats)
				st.closed = true
				f.sinks[i].finished(f.Last, false)
			}
		}
		if f.streams[0].fin && f.streams[1].fin && f.End == "open" {
			f.End = "fin"
		}
	} else if f.diss != nil {
		f.diss.End(Client, f.Last, false)
		f.diss.End(Server, f.Last, false)
	}
	if f.End == "open" || (end != "open" && f.End != "fin" && f.End != "rst") {
		f.End = end
	}
	a.held -= f.held
	f.held = 0
	f.Gaps, f.GapBytes = f.stats.Gaps, f.stats.GapBytes
	f.Retransmits, f.OutOfOrder = f.stats.Retransmits, f.stats.OutOfOrder
	a.sum.Gaps += f.Gaps
	a.sum.GapBytes += f.GapBytes
	a.sum.Messages += f.Messages
	delete(a.flows, keyOf(&Segment{Src: f.Client, Dst: f.Server, UDP: f.udp}))
	if a.last == f {
		a.last = nil
	}
	// Its entry in the expiry heap is stale from now on.
	f.expireGen++
	if f.diss != nil {
		a.release(f)
	}
	f.openedBy()
	f.link = nil
	st := f.flowState
	f.flowState = nil
	if len(a.free) < maxFreeStates {
		*st = flowState{}
		a.free = append(a.free, st)
	}
	if a.o.OnFlow != nil {
		a.o.OnFlow(f)
	}
}

// gap says why the capture cannot show whether m, a message of side
// about to be emitted, broke a rule ("" when it can): bytes of the flow
// were lost, the capture began mid-connection or ended (or the analysis
// gave up the flow) before the message was whole, or the capture holds
// nothing of the other direction.
func (f *Flow) gap(m *Message) string {
	if f == nil || f.flowState == nil {
		return ""
	}
	other := 1 - m.Side
	switch {
	case f.stats.Gaps > 0:
		return "bytes of the flow are missing from the capture"
	case f.MidStream:
		return "the capture began in the middle of the connection"
	case f.cut && (m.Incomplete || m.Truncated):
		return "the capture ended before the message was whole"
	case f.udp && m.Side == Server && f.Bytes[Client] == 0:
		return "the capture holds no client datagram of the flow"
	case !f.udp && !f.streams[other].started:
		return "the capture holds one direction of the connection only"
	}
	return ""
}

// rstInWindow reports whether a reset d bytes past the next expected
// sequence number of its direction is in the receive window. The window
// is not tracked: a generous one (1 MiB ahead, scaled windows) stands
// for it, and a reset just behind (after a FIN, a lost segment) counts.
func rstInWindow(d int64) bool { return d >= -1 && d <= 1<<20 }

// reusedBy reports whether s, a SYN from side, opens a new connection on
// f's 4-tuple rather than belonging to f: f ended (FIN or RST), or it
// already carried this side's bytes and s is not a retransmission of the
// SYN that opened f.
func (f *Flow) reusedBy(s *Segment, side Side) bool {
	if f.End == "rst" || f.streams[0].fin || f.streams[1].fin || f.streams[0].closed || f.streams[1].closed {
		return true
	}
	st := &f.streams[side]
	if st.syn && st.isn == s.Seq {
		return false
	}
	return st.started || f.MidStream
}

// closed reports whether gc counts the flow as closed.
func (f *Flow) closed() bool {
	return f.udp || (f.streams[0].closed && f.streams[1].closed)
}

// expired reports whether gc ends the flow at now.
func (a *analyzer) expired(f *Flow, now time.Time) bool {
	idle := now.Sub(f.Last)
	return (f.closed() && idle > 5*time.Second) || idle > a.o.IdleTimeout
}

// schedule gives f a new entry in the expiry heap at the earliest time
// after which expired can hold given its state now: its last activity
// plus the idle time it takes. Since Last only grows and a flow closes
// only once, the time can only come earlier when the flow closes, and
// schedule must be called then.
func (a *analyzer) schedule(f *Flow) {
	wait := a.o.IdleTimeout
	if f.closed() {
		wait = min(wait, 5*time.Second)
	}
	f.expireGen++
	heap.Push(&a.expiry, expiry{at: f.Last.Add(wait), f: f, gen: f.expireGen})
	if len(a.expiry) > 2*len(a.flows)+1024 {
		// Mostly stale entries (of flows ended or scheduled anew): keep
		// the current ones only.
		q := a.expiry[:0]
		for _, e := range a.expiry {
			if e.gen == e.f.expireGen {
				q = append(q, e)
			}
		}
		clear(a.expiry[len(q):])
		a.expiry = q
		heap.Init(&a.expiry)
	}
}

// gc ends flows that are closed or idle. Only the flows past the time of
// their entry in the expiry heap can be; those that are not ended are
// scheduled anew.
func (a *analyzer) gc(now time.Time) {
	a.lastGC = now
	var done, again []*Flow
	for len(a.expiry) > 0 && now.After(a.expiry[0].at) {
		e := heap.Pop(&a.expiry).(expiry)
		f := e.f
		switch {
		case e.gen != f.expireGen:
			// Stale.
		case a.expired(f, now):
			f.expireGen++
			done = append(done, f)
		default:
			again = append(again, f)
		}
	}
	for _, f := range again {
		a.schedule(f)
	}
	sort.Slice(done, func(i, j int) bool { return done[i].ID < done[j].ID })
	if checkExpiry {
		a.checkExpiry(now, done)
	}
	for _, f := range done {
		end := "idle"
		if f.End == "rst" {
			end = "rst"
		} else if f.streams[0].fin && f.streams[1].fin {
			end = "fin"
		}
		a.finish(f, end)
	}
}

// checkExpiry makes gc compare what it ends with what a look at every
// flow finds (for the tests).
var checkExpiry bool

func (a *analyzer) checkExpiry(now time.Time, done []*Flow) {
	var all []*Flow
	for _, f := range a.sortedFlows() {
		if a.expired(f, now) {
			all = append(all, f)
		}
	}
	if len(all) != len(done) {
		panic(fmt.Sprintf("pcap: gc at %v ends %d flows, %d are expired", now, len(done), len(all)))
	}
	for i := range all {
		if all[i] != done[i] {
			panic(fmt.Sprintf("pcap: gc at %v ends flow %d, flow %d is expired", now, done[i].ID, all[i].ID))
		}
	}
}

// evict ends the least recently active tenth of the flows.
func (a *analyzer) evict() {
	all := a.sortedFlows()
	sort.Slice(all, func(i, j int) bool { return all[i].Last.Before(all[j].Last) })
	n := max(len(all)/10, 1)
	for _, f := range all[:n] {
		a.sum.Evicted++
		a.finish(f, "evicted")
	}
}

// flushLargest declares the holes of the flow holding the most
// out-of-order bytes lost, to stay within MaxBuffer.
func (a *analyzer) flushLargest() bool {
	var big *Flow
	for _, f := range a.flows {
		// Among equals, the oldest flow: the same choice on every run.
		if big == nil || f.held > big.held || (f.held == big.held && f.ID < big.ID) {
			big = f
		}
	}
	if big == nil || big.held == 0 {
		return false
	}
	a.sum.BufferFlushes++
	wasClosed := big.closed()
	for i := range big.streams {
		st := &big.streams[i]
		before := st.bytes
		st.flush(&big.sinks[i], &big.stats)
		big.held += st.bytes - before
		a.held += st.bytes - before
		st.checkFin(big.Last, &big.sinks[i])
	}
	if !wasClosed && big.closed() {
		a.schedule(big)
	}
	return true
}
