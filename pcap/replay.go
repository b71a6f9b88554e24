package pcap

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// Conversation is one flow with its messages, as replay needs them.
type Conversation struct {
	Flow     *Flow
	Messages []*Message // in the order they were completed
}

// Collect reads a capture and returns its dissected flows with their
// messages (wire bytes kept), in the order the flows began. At most
// maxMessages messages are kept (0: 100000); flows past the limit are
// dropped and counted in the summary's warnings.
func Collect(r *Reader, o Options, maxMessages int) ([]*Conversation, *Summary, error) {
	if maxMessages <= 0 {
		maxMessages = 100000
	}
	byFlow := map[int]*Conversation{}
	kept, dropped := 0, 0
	o.KeepRaw = true
	o.OnMessage = func(m *Message) {
		c := byFlow[m.Flow]
		if c == nil {
			if kept >= maxMessages {
				dropped++
				return
			}
			c = &Conversation{}
			byFlow[m.Flow] = c
		}
		if kept >= maxMessages {
			dropped++
			return
		}
		kept++
		c.Messages = append(c.Messages, m)
	}
	var done []*Conversation
	o.OnFlow = func(f *Flow) {
		if c := byFlow[f.ID]; c != nil {
			c.Flow = f
			done = append(done, c)
			delete(byFlow, f.ID)
		}
	}
	sum, err := Analyze(r, o)
	if err != nil {
		return nil, sum, err
	}
	if dropped > 0 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("%d messages past the limit of %d were not kept", dropped, maxMessages))
		sum.NWarnings++
	}
	sort.Slice(done, func(i, j int) bool { return done[i].Flow.ID < done[j].Flow.ID })
	return done, sum, nil
}

// ReplayOptions configure Replay.
type ReplayOptions struct {
	// Open returns the target for a protocol (called once per protocol).
	Open func(proto string) (targets.Target, error)
	// EchoService is the service echo flows are replayed to ("echo":
	// echo/tcp, echo/udp; "uppercase"...).
	EchoService string
	// Pace waits between client messages as long as the capture did
	// (at most MaxPause).
	Pace     bool
	MaxPause time.Duration
	// IgnoreHeaders are HTTP header fields left out of the comparison, on
	// top of Date, Server, Age; Set-Cookie values are never compared.
	IgnoreHeaders []string
	// Ignore names further parts left out: "http.body", "dns.ttl",
	// "dns.authority", "dns.additional", "dns.flags". Records are always
	// compared as sets (their order carries no meaning, RFC 2181 5).
	Ignore []string
	// TTLDrift is how far a replayed TTL may differ from the recorded one
	// (default 60s).
	TTLDrift time.Duration
	// StepTimeout bounds each connect, write and wait (default 5s).
	StepTimeout time.Duration
	// MaxResponse bounds what one response may be (default 4 MiB).
	MaxResponse int
	// Source names the capture in the report.
	Source string
}

// IgnoreKeys lists what ReplayOptions.Ignore accepts.
var IgnoreKeys = []string{"http.body", "dns.ttl", "dns.authority", "dns.additional", "dns.flags"}

func (o *ReplayOptions) ignores(key string) bool {
	for _, k := range o.Ignore {
		if k == key {
			return true
		}
	}
	return false
}

// errSkip marks a flow that cannot be replayed (no target service).
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

// Replay re-sends the client side of every conversation to the target,
// connection by connection in the original order, and compares the
// responses with the recorded ones. The run has one spec per flow.
func Replay(ctx context.Context, convs []*Conversation, o ReplayOptions) *reports.Run {
	if o.StepTimeout <= 0 {
		o.StepTimeout = 5 * time.Second
	}
	if o.MaxPause <= 0 {
		o.MaxPause = 5 * time.Second
	}
	if o.TTLDrift <= 0 {
		o.TTLDrift = 60 * time.Second
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = 4 << 20
	}
	if o.EchoService == "" {
		o.EchoService = "echo"
	}
	started := time.Now()
	run := &reports.Run{
		Schema:  reports.SchemaVersion,
		Kind:    reports.KindReplay,
		Started: started.UTC(),
		Target:  reports.Target{Name: o.Source, Kind: "capture"},
	}
	opened := map[string]targets.Target{}
	openErr := map[string]error{}
	var protos []string
	for _, c := range convs {
		if c.Flow.Proto == "" {
			continue
		}
		proto := c.Flow.Proto
		tgt, seen := opened[proto]
		err := openErr[proto]
		if !seen && err == nil {
			tgt, err = o.Open(proto)
			if err != nil {
				openErr[proto] = err
			} else {
				opened[proto] = tgt
				protos = append(protos, proto)
				info := tgt.Info()
				run.Target = reports.Target{Name: info.Name, Kind: info.Kind, Version: info.Version, Endpoints: info.Endpoints}
			}
		}
		sp := reports.Spec{
			ID:       fmt.Sprintf("replay/%s/flow/%d-%d", proto, c.Flow.ID, c.Flow.Client.Port()),
			Protocol: proto,
			Doc:      "replay",
			Section:  "flow",
			Level:    reports.LevelMust,
			Title:    fmt.Sprintf("%s flow %d %s %s -> %s answers as recorded", c.Flow.Transport, c.Flow.ID, proto, c.Flow.Client, c.Flow.Server),
		}
		t0 := time.Now()
		rp := &replayer{o: &o, start: t0}
		if err != nil {
			sp.State, sp.Message = reports.StateSkipped, "target: "+err.Error()
		} else if ctx.Err() != nil {
			sp.State, sp.Message = reports.StateSkipped, "interrupted"
		} else {
			err = rp.flow(ctx, tgt, c)
			var skip errSkip
			switch {
			case errors.As(err, &skip):
				sp.State, sp.Message = reports.StateSkipped, skip.reason
			case err != nil:
				sp.State, sp.Message = reports.StateFailed, err.Error()
			default:
				sp.State = reports.StatePassed
			}
		}
		sp.Duration = time.Since(t0)
		sp.Transcript = rp.events
		run.Specs = append(run.Specs, sp)
	}
	for _, t := range opened {
		t.Close()
	}
	run.Protocol = strings.Join(protos, ",")
	run.Duration = time.Since(started)
	return run
}

// replayer replays one flow and keeps its transcript.
type replayer struct {
	o      *ReplayOptions
	start  time.Time
	events []reports.Event
	conn   string
}

func (r *replayer) note(dir string, data []byte, text string) {
	if len(r.events) >= 1000 {
		return
	}
	e := reports.Event{At: time.Since(r.start), Conn: r.conn, Dir: dir, Len: len(data)}
	if data != nil {
		e.Data = strconv.Quote(string(data[:min(len(data), 256)]))
		e.Truncated = len(data) > 256
	} else {
		e.Data = text
	}
	r.events = append(r.events, e)
}

func (r *replayer) pace(ctx context.Context, prev, next time.Time) {
	if !r.o.Pace || prev.IsZero() || !next.After(prev) {
		return
	}
	d := min(next.Sub(prev), r.o.MaxPause)
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

func split(c *Conversation) (client, server []*Message) {
	for _, m := range c.Messages {
		if m.Side == Client {
			client = append(client, m)
		} else {
			server = append(server, m)
		}
	}
	return client, server
}

func (r *replayer) flow(ctx context.Context, tgt targets.Target, c *Conversation) error {
	client, server := split(c)
	if len(client) == 0 {
		return errSkip{"the capture holds no client message for this flow"}
	}
	for _, m := range client {
		if m.Truncated || m.Incomplete {
			return errSkip{fmt.Sprintf("client message #%d was not captured whole: it cannot be re-sent", m.N)}
		}
	}
	service := map[string]string{ProtoHTTP1: "http", ProtoDNS: "dns", ProtoEcho: r.o.EchoService}[c.Flow.Proto] + "/" + c.Flow.Transport
	ep, err := tgt.Endpoint(service)
	if err != nil {
		return errSkip{fmt.Sprintf("target has no %s: %v", service, err)}
	}
	r.conn = ep.String()
	answers := map[int][]*Message{}
	for _, m := range server {
		if m.Answers >= 0 {
			answers[m.Answers] = append(answers[m.Answers], m)
		}
	}
	if ep.Network == "udp" {
		return r.udp(ctx, ep, c, client, answers)
	}
	return r.tcp(ctx, ep, c, client, answers)
}

func (r *replayer) udp(ctx context.Context, ep targets.Endpoint, c *Conversation, client []*Message, answers map[int][]*Message) error {
	raddr, err := net.ResolveUDPAddr("udp", ep.Addr)
	if err != nil {
		return err
	}
	local := "127.0.0.1:0"
	if raddr.IP.To4() == nil {
		local = "[::1]:0"
	}
	pc, err := net.ListenPacket("udp", local)
	if err != nil {
		return err
	}
	defer pc.Close()
	r.note(reports.DirOpen, nil, pc.LocalAddr().String()+" -> "+ep.Addr)
	buf := make([]byte, 65536)
	var prev time.Time
	for _, q := range client {
		r.pace(ctx, prev, q.Time)
		prev = q.Time
		want := answers[q.N]
		var got []byte
		for try := 0; try < 3 && got == nil; try++ {
			r.note(reports.DirSend, q.Raw, "")
			_ = pc.SetWriteDeadline(time.Now().Add(r.o.StepTimeout))
			if _, err := pc.WriteTo(q.Raw, raddr); err != nil {
				return fmt.Errorf("sending message #%d: %v", q.N, err)
			}
			if len(want) == 0 {
				break
			}
			dl := time.Now().Add(r.o.StepTimeout / 3)
			for {
				_ = pc.SetReadDeadline(dl)
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					break
				}
				if from.String() != raddr.String() {
					continue
				}
				if c.Flow.Proto == ProtoDNS && (n < 2 || len(q.Raw) < 2 || !bytes.Equal(buf[:2], q.Raw[:2])) {
					continue // a late answer to an earlier try or query
				}
				got = append([]byte(nil), buf[:n]...)
				r.note(reports.DirRecv, got, "")
				break
			}
		}
		if len(want) == 0 {
			continue
		}
		if got == nil {
			return fmt.Errorf("message #%d %s: recorded an answer, but the target sent none within %v (3 tries)", q.N, q.Summary, r.o.StepTimeout)
		}
		if err := r.compare(c.Flow.Proto, q, want[len(want)-1], got); err != nil {
			return err
		}
	}
	return nil
}

func (r *replayer) tcp(ctx context.Context, ep targets.Endpoint, c *Conversation, client []*Message, answers map[int][]*Message) error {
	d := net.Dialer{Timeout: r.o.StepTimeout}
	nc, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %v", ep.Addr, err)
	}
	defer nc.Close()
	r.note(reports.DirOpen, nil, nc.LocalAddr().String()+" -> "+nc.RemoteAddr().String())
	// The target's bytes are framed by the same dissectors that read the
	// capture.
	var got []*Message
	f := &Flow{ID: c.Flow.ID, Proto: c.Flow.Proto, Transport: "tcp"}
	e := &emitter{flow: f, out: func(m *Message) {
		if m.Side == Server {
			got = append(got, m)
		}
	}}
	opts := &Options{KeepRaw: true, MaxMessage: r.o.MaxResponse}
	diss := newDissector(c.Flow.Proto, false, e, opts)
	if diss == nil {
		return errSkip{"no dissector for " + c.Flow.Proto}
	}
	buf := make([]byte, 32<<10)
	closed := false
	total := 0
	var prev time.Time
	for _, q := range client {
		r.pace(ctx, prev, q.Time)
		prev = q.Time
		r.note(reports.DirSend, q.Raw, "")
		_ = nc.SetWriteDeadline(time.Now().Add(r.o.StepTimeout))
		if _, err := nc.Write(q.Raw); err != nil {
			return fmt.Errorf("sending message #%d %s: %v", q.N, q.Summary, err)
		}
		diss.data(Client, time.Now(), q.Raw)
		want := answers[q.N]
		if len(want) == 0 {
			continue
		}
		final := want[len(want)-1]
		// Wait for the message answering q, as many as were recorded.
		answered := func() *Message {
			var last *Message
			for _, m := range got {
				if m.Answers == q.N {
					last = m
				}
			}
			if last != nil && (last.HTTP == nil || last.HTTP.Status >= 200 || final.HTTP == nil || final.HTTP.Status < 200) {
				return last
			}
			return nil
		}
		dl := time.Now().Add(r.o.StepTimeout)
		for answered() == nil && !closed {
			_ = nc.SetReadDeadline(dl)
			n, err := nc.Read(buf)
			if n > 0 {
				total += n
				r.note(reports.DirRecv, buf[:n], "")
				diss.data(Server, time.Now(), buf[:n])
				if total > r.o.MaxResponse*4 {
					return fmt.Errorf("the target sent more than %d bytes", r.o.MaxResponse*4)
				}
			}
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				closed = true
				if errors.Is(err, io.EOF) {
					r.note(reports.DirClose, nil, "target closed (FIN)")
				} else {
					r.note(reports.DirClose, nil, "read error: "+err.Error())
				}
				diss.end(Server, time.Now(), !errors.Is(err, io.EOF))
			}
		}
		m := answered()
		if m == nil {
			why := fmt.Sprintf("no answer within %v", r.o.StepTimeout)
			if closed {
				why = "the target closed the connection first"
			}
			return fmt.Errorf("message #%d %s: recorded %s, but %s", q.N, q.Summary, final.Summary, why)
		}
		if err := r.compare(c.Flow.Proto, q, final, m.Raw); err != nil {
			return err
		}
	}
	return nil
}

// compare says how the replayed answer differs from the recorded one.
func (r *replayer) compare(proto string, q, want *Message, got []byte) error {
	var diff string
	switch proto {
	case ProtoHTTP1:
		diff = r.diffHTTP(want.Raw, got, q)
	case ProtoDNS:
		diff = r.diffDNS(want.Raw, got)
	default:
		if !bytes.Equal(want.Raw, got) {
			diff = fmt.Sprintf("recorded: %s\nreplayed: %s", excerpt(want.Raw, 200), excerpt(got, 200))
		}
	}
	if diff == "" {
		return nil
	}
	return fmt.Errorf("answer to client message #%d %s differs\n%s", q.N, q.Summary, diff)
}

// parseHTTPResponse reads one response (after any 1xx) from raw bytes.
func parseHTTPResponse(raw []byte, head bool) *Message {
	var out *Message
	f := &Flow{Proto: ProtoHTTP1}
	e := &emitter{flow: f, out: func(m *Message) {
		if m.Side == Server && m.HTTP != nil && (m.HTTP.Status >= 200 || out == nil) {
			out = m
		}
	}}
	d := newHTTPDissector(e, &Options{KeepRaw: true, MaxMessage: len(raw) + 1})
	method := "GET"
	if head {
		method = "HEAD"
	}
	d.data(Client, time.Time{}, []byte(method+" / HTTP/1.1\r\nHost: x\r\n\r\n"))
	d.data(Server, time.Time{}, raw)
	d.end(Server, time.Time{}, false)
	return out
}

// httpBody returns the body content, chunked framing removed.
func httpBody(m *Message) []byte {
	if m == nil || m.HTTP == nil || len(m.Raw) < m.HTTP.HeaderLen {
		return nil
	}
	b := m.Raw[m.HTTP.HeaderLen:]
	if !m.HTTP.Chunked {
		return b
	}
	var out []byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		n, err := parseChunkSize(strings.TrimRight(string(b[:i]), "\r"))
		b = b[i+1:]
		if err != nil || n == 0 || n > int64(len(b)) {
			break
		}
		out = append(out, b[:n]...)
		b = bytes.TrimPrefix(b[n:], []byte("\r"))
		b = bytes.TrimPrefix(b, []byte("\n"))
	}
	return out
}

func (r *replayer) diffHTTP(wantRaw, gotRaw []byte, q *Message) string {
	head := q.HTTP != nil && q.HTTP.Method == "HEAD"
	want, got := parseHTTPResponse(wantRaw, head), parseHTTPResponse(gotRaw, head)
	if want == nil || got == nil {
		if !bytes.Equal(wantRaw, gotRaw) {
			return fmt.Sprintf("recorded: %s\nreplayed: %s", excerpt(wantRaw, 200), excerpt(gotRaw, 200))
		}
		return ""
	}
	w, g := want.HTTP, got.HTTP
	if w.Status != g.Status {
		return fmt.Sprintf("status: recorded %d %s / replayed %d %s", w.Status, w.Reason, g.Status, g.Reason)
	}
	ignored := map[string]bool{"date": true, "server": true, "age": true}
	for _, h := range r.o.IgnoreHeaders {
		ignored[strings.ToLower(h)] = true
	}
	norm := func(h *HTTPInfo) map[string][]string {
		out := map[string][]string{}
		for _, f := range h.Header {
			name := strings.ToLower(f.Name)
			if ignored[name] {
				continue
			}
			v := f.Value
			if name == "set-cookie" {
				v, _, _ = strings.Cut(v, "=") // the cookie's name, not its value
			}
			if name == "content-length" && (r.o.ignores("http.body")) {
				continue
			}
			out[name] = append(out[name], v)
		}
		for _, vs := range out {
			sort.Strings(vs)
		}
		return out
	}
	wh, gh := norm(w), norm(g)
	var names []string
	for n := range wh {
		names = append(names, n)
	}
	for n := range gh {
		if _, ok := wh[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		a, b := strings.Join(wh[n], ", "), strings.Join(gh[n], ", ")
		switch {
		case wh[n] == nil:
			return fmt.Sprintf("header %s: not recorded / replayed %q (use --ignore-header %s)", n, b, n)
		case gh[n] == nil:
			return fmt.Sprintf("header %s: recorded %q / not replayed (use --ignore-header %s)", n, a, n)
		case a != b:
			return fmt.Sprintf("header %s: recorded %q / replayed %q (use --ignore-header %s)", n, a, b, n)
		}
	}
	if !r.o.ignores("http.body") {
		wb, gb := httpBody(want), httpBody(got)
		if !bytes.Equal(wb, gb) {
			i := 0
			for i < len(wb) && i < len(gb) && wb[i] == gb[i] {
				i++
			}
			return fmt.Sprintf("body (%d vs %d bytes) differs at byte %d: recorded %s / replayed %s", len(wb), len(gb), i, excerpt(wb[i:], 60), excerpt(gb[i:], 60))
		}
	}
	return ""
}

func unpackDNS(raw []byte) (*dns.Msg, error) {
	m := new(dns.Msg)
	// Over TCP the wire bytes start with the length.
	if len(raw) >= 2 && int(binary.BigEndian.Uint16(raw)) == len(raw)-2 {
		if err := m.Unpack(raw[2:]); err == nil {
			return m, nil
		}
	}
	return m, m.Unpack(raw)
}

func (r *replayer) diffDNS(wantRaw, gotRaw []byte) string {
	want, err1 := unpackDNS(wantRaw)
	got, err2 := unpackDNS(gotRaw)
	switch {
	case err1 != nil && err2 != nil:
		return ""
	case err1 != nil:
		return fmt.Sprintf("recorded a malformed message (%v), replayed %s", err1, got.MsgHdr.String())
	case err2 != nil:
		return fmt.Sprintf("replayed answer does not parse: %v", err2)
	}
	if want.Rcode != got.Rcode {
		return fmt.Sprintf("rcode: recorded %s / replayed %s", dns.RcodeToString[want.Rcode], dns.RcodeToString[got.Rcode])
	}
	if !r.o.ignores("dns.flags") {
		flags := func(m *dns.Msg) string {
			return fmt.Sprintf("qr=%v opcode=%s aa=%v tc=%v rd=%v ra=%v", m.Response, dns.OpcodeToString[m.Opcode], m.Authoritative, m.Truncated, m.RecursionDesired, m.RecursionAvailable)
		}
		if a, b := flags(want), flags(got); a != b {
			return fmt.Sprintf("flags: recorded %s / replayed %s", a, b)
		}
	}
	qs := func(m *dns.Msg) string {
		var s []string
		for _, q := range m.Question {
			s = append(s, strings.ToLower(q.String()))
		}
		return strings.Join(s, "; ")
	}
	if a, b := qs(want), qs(got); a != b {
		return fmt.Sprintf("question: recorded %s / replayed %s", a, b)
	}
	sections := []struct {
		name string
		a, b []dns.RR
		key  string
	}{{"answer", want.Answer, got.Answer, ""}, {"authority", want.Ns, got.Ns, "dns.authority"}, {"additional", want.Extra, got.Extra, "dns.additional"}}
	for _, s := range sections {
		if s.key != "" && r.o.ignores(s.key) {
			continue
		}
		if d := r.diffRRs(s.a, s.b); d != "" {
			return s.name + " section: " + d
		}
	}
	return ""
}

// diffRRs compares two sections as sets, leaving out OPT and allowing
// TTLs to differ by the drift.
func (r *replayer) diffRRs(a, b []dns.RR) string {
	type rr struct {
		key string
		ttl uint32
	}
	conv := func(rrs []dns.RR) []rr {
		var out []rr
		for _, x := range rrs {
			if x.Header().Rrtype == dns.TypeOPT {
				continue
			}
			c := dns.Copy(x)
			ttl := c.Header().Ttl
			c.Header().Ttl = 0
			out = append(out, rr{strings.ToLower(strings.ReplaceAll(c.String(), "\t", " ")), ttl})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
		return out
	}
	x, y := conv(a), conv(b)
	for i := 0; i < len(x) || i < len(y); i++ {
		switch {
		case i >= len(x):
			return fmt.Sprintf("replayed an extra record %s", y[i].key)
		case i >= len(y):
			return fmt.Sprintf("recorded %s / not replayed", x[i].key)
		case x[i].key != y[i].key:
			return fmt.Sprintf("recorded %s / replayed %s", x[i].key, y[i].key)
		}
		if r.o.ignores("dns.ttl") {
			continue
		}
		d := int64(x[i].ttl) - int64(y[i].ttl)
		if d < 0 {
			d = -d
		}
		if time.Duration(d)*time.Second > r.o.TTLDrift {
			return fmt.Sprintf("%s: TTL recorded %d / replayed %d (drift over %v)", x[i].key, x[i].ttl, y[i].ttl, r.o.TTLDrift)
		}
	}
	return ""
}
