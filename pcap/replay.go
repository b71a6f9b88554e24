package pcap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
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
	// Pace waits between client messages as long as the capture did
	// (at most MaxPause).
	Pace     bool
	MaxPause time.Duration
	// Params are the protocols' replay settings by name (see
	// ReplayParams): the service echo flows go to, HTTP header fields not
	// compared, the TTL drift DNS allows...
	Params map[string]string
	// Ignore names parts left out of the comparison (see IgnoreKeys).
	Ignore []string
	// StepTimeout bounds each connect, write and wait (default 5s).
	StepTimeout time.Duration
	// MaxResponse bounds what one response may be (default 4 MiB).
	MaxResponse int
	// Source names the capture in the report.
	Source string
	// Dialer reaches the target (source address, TLS configuration with
	// the run's CA); nil is a plain dialer. Its Timeout is StepTimeout.
	Dialer *dial.Dialer
	// OverTLS sends TCP flows to the service's TLS counterpart
	// ("http/tcp" flows to "http/tls"), as `replay --tls` asks.
	OverTLS bool
}

// Replayer is how a protocol's flows are replayed to a target and the
// answers compared with the recorded ones; every field is optional.
type Replayer struct {
	// Service is the target's service (without the transport) the flows
	// go to; default: the contract's first service.
	Service func(p *ReplayParams) string
	// Params are the settings the replay takes (--param k=v).
	Params []protocol.Param
	// IgnoreKeys are the parts ReplayOptions.Ignore may leave out.
	IgnoreKeys []string
	// Answers reports whether a datagram from the target answers q (and
	// is not a late answer to an earlier try or query).
	Answers func(q *Message, got []byte) bool
	// Interim reports whether m is a provisional answer after which the
	// final one is still awaited.
	Interim func(m *Message) bool
	// Compare returns the comparison of a replayed answer got with the
	// recorded want to q ("" when they agree), or an error when the
	// params are wrong; without it the bytes are compared.
	Compare func(p *ReplayParams) (func(q, want *Message, got []byte) string, error)
	// Session, if set, is given each replayed TCP connection (d is the
	// replay's dialer, local and remote the connection's addresses): a
	// protocol whose control connection opens others (FTP's data
	// connections) makes them live there, rewriting a client message
	// that names an endpoint of the capture's.
	Session func(d dial.Dialer, local, remote net.Addr) ReplaySession
}

// ReplaySession is one replayed TCP connection as a Replayer's Session
// sees it.
type ReplaySession interface {
	// Send returns the bytes to send for the client message q (nil:
	// q.Raw as recorded).
	Send(q *Message) []byte
	// Answer is told of the final answer to q.
	Answer(q, m *Message)
	// Close ends what the session started.
	Close()
}

// ReplayParams are the settings a protocol's replay reads.
type ReplayParams struct {
	params map[string]string
	ignore []string
	decl   []protocol.Param
}

// Get returns the param's value, or its declared default.
func (p *ReplayParams) Get(name string) string {
	if v, ok := p.params[name]; ok {
		return v
	}
	for _, d := range p.decl {
		if d.Name == name {
			return d.Default
		}
	}
	return ""
}

// Ignores reports whether the part named key is left out.
func (p *ReplayParams) Ignores(key string) bool { return contains(p.ignore, key) }

// IgnoreKeys lists what ReplayOptions.Ignore accepts, over every protocol.
func IgnoreKeys() []string {
	var out []string
	for _, p := range all() {
		if p.Replay != nil {
			out = append(out, p.Replay.IgnoreKeys...)
		}
	}
	return out
}

// ReplayParamsDeclared lists the params the protocols' replays take, each
// name once.
func ReplayParamsDeclared() []protocol.Param {
	var out []protocol.Param
	seen := map[string]bool{}
	for _, p := range all() {
		if p.Replay == nil {
			continue
		}
		for _, d := range p.Replay.Params {
			if !seen[d.Name] {
				seen[d.Name] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// Validate reports an Ignore key or a param no protocol knows, or a param
// value a protocol rejects.
func (o *ReplayOptions) Validate() error {
	keys := IgnoreKeys()
	for _, k := range o.Ignore {
		if !contains(keys, k) {
			return fmt.Errorf("unknown part %q to ignore (known: %s)", k, strings.Join(keys, ", "))
		}
	}
	var names []string
	for _, d := range ReplayParamsDeclared() {
		names = append(names, d.Name)
	}
	for k := range o.Params {
		if !contains(names, k) {
			return fmt.Errorf("unknown replay param %q (known: %s)", k, strings.Join(names, ", "))
		}
	}
	for _, p := range all() {
		if _, err := o.comparer(p); err != nil {
			return err
		}
	}
	return nil
}

// params returns the settings of one protocol's replay.
func (o *ReplayOptions) params(p Protocol) *ReplayParams {
	rp := &ReplayParams{params: o.Params, ignore: o.Ignore}
	if p.Replay != nil {
		rp.decl = p.Replay.Params
	}
	return rp
}

// comparer returns the protocol's comparison of answers.
func (o *ReplayOptions) comparer(p Protocol) (func(q, want *Message, got []byte) string, error) {
	if p.Replay == nil || p.Replay.Compare == nil {
		return diffBytes, nil
	}
	f, err := p.Replay.Compare(o.params(p))
	if err != nil {
		return nil, fmt.Errorf("%s replay: %v", p.Name, err)
	}
	return f, nil
}

func diffBytes(_, want *Message, got []byte) string {
	if bytes.Equal(want.Raw, got) {
		return ""
	}
	return fmt.Sprintf("recorded: %s\nreplayed: %s", Excerpt(want.Raw, 200), Excerpt(got, 200))
}

// replayProto is one protocol during a replay.
type replayProto struct {
	p       Protocol
	r       Replayer
	service string
	compare func(q, want *Message, got []byte) string
}

func (o *ReplayOptions) replayProto(name string) (*replayProto, error) {
	p, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("no dissector for %q", name)
	}
	rp := &replayProto{p: p}
	if p.Replay != nil {
		rp.r = *p.Replay
	}
	cmp, err := o.comparer(p)
	if err != nil {
		return nil, err
	}
	rp.compare = cmp
	if rp.r.Service != nil {
		rp.service = rp.r.Service(o.params(p))
	} else if c, ok := protocol.Lookup(name); ok && len(c.Services) > 0 {
		rp.service = c.Services[0].Name
	}
	if rp.service == "" {
		return nil, fmt.Errorf("%s names no service to replay to", name)
	}
	return rp, nil
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
	if o.MaxResponse <= 0 {
		o.MaxResponse = 4 << 20
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
	how := map[string]*replayProto{}
	var protos []string
	for _, c := range convs {
		if c.Flow.Proto == "" {
			continue
		}
		proto := c.Flow.Proto
		tgt, seen := opened[proto]
		err := openErr[proto]
		if !seen && err == nil {
			how[proto], err = o.replayProto(proto)
			if err == nil {
				tgt, err = o.Open(proto)
			}
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
		rp := &flowReplayer{o: &o, start: t0, how: how[proto]}
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

// flowReplayer replays one flow and keeps its transcript.
type flowReplayer struct {
	o      *ReplayOptions
	how    *replayProto
	start  time.Time
	events []reports.Event
	conn   string
}

func (r *flowReplayer) note(dir string, data []byte, text string) {
	if len(r.events) >= 1000 {
		return
	}
	e := reports.Event{At: time.Since(r.start), Conn: r.conn, Dir: dir, Len: len(data)}
	if data != nil {
		e.Data = reports.EscapeBytes(data[:min(len(data), 256)])
		e.Truncated = len(data) > 256
	} else {
		e.Data = text
	}
	r.events = append(r.events, e)
}

func (r *flowReplayer) pace(ctx context.Context, prev, next time.Time) {
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

func (r *flowReplayer) flow(ctx context.Context, tgt targets.Target, c *Conversation) error {
	client, server := split(c)
	if len(client) == 0 {
		return errSkip{"the capture holds no client message for this flow"}
	}
	for _, m := range client {
		if m.Truncated || m.Incomplete {
			return errSkip{fmt.Sprintf("client message #%d was not captured whole: it cannot be re-sent", m.N)}
		}
	}
	service := r.how.service + "/" + c.Flow.Transport
	if r.o.OverTLS {
		service = protocol.OverTLS(service)
	}
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

// dialer is the replay's dialer with the step deadline.
func (r *flowReplayer) dialer() dial.Dialer {
	var d dial.Dialer
	if r.o.Dialer != nil {
		d = *r.o.Dialer
	}
	d.Timeout = r.o.StepTimeout
	return d
}

func (r *flowReplayer) udp(ctx context.Context, ep targets.Endpoint, c *Conversation, client []*Message, answers map[int][]*Message) error {
	d := r.dialer()
	pc, raddr, err := d.ListenPacket(ep)
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
				if r.how.r.Answers != nil && !r.how.r.Answers(q, buf[:n]) {
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
		if err := r.compare(q, want[len(want)-1], got); err != nil {
			return err
		}
	}
	return nil
}

func (r *flowReplayer) tcp(ctx context.Context, ep targets.Endpoint, c *Conversation, client []*Message, answers map[int][]*Message) error {
	d := r.dialer()
	nc, err := d.Dial(ctx, ep)
	if err != nil {
		return fmt.Errorf("connecting to %s: %v", ep, err)
	}
	defer nc.Close()
	r.note(reports.DirOpen, nil, nc.LocalAddr().String()+" -> "+nc.RemoteAddr().String())
	var sess ReplaySession
	if r.how.r.Session != nil {
		sess = r.how.r.Session(d, nc.LocalAddr(), nc.RemoteAddr())
		defer sess.Close()
	}
	// The target's bytes are framed by the same dissectors that read the
	// capture.
	var got []*Message
	f := &Flow{ID: c.Flow.ID, Proto: c.Flow.Proto, Transport: "tcp"}
	e := NewEmitter(f, true, r.o.MaxResponse, func(m *Message) {
		if m.Side == Server {
			got = append(got, m)
		}
	})
	diss := r.how.p.New(e, false)
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
		data := q.Raw
		if sess != nil {
			if b := sess.Send(q); b != nil {
				data = b
			}
		}
		r.note(reports.DirSend, data, "")
		_ = nc.SetWriteDeadline(time.Now().Add(r.o.StepTimeout))
		if _, err := nc.Write(data); err != nil {
			return fmt.Errorf("sending message #%d %s: %v", q.N, q.Summary, err)
		}
		diss.Data(Client, time.Now(), data)
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
			if last != nil && (r.how.r.Interim == nil || !r.how.r.Interim(last) || r.how.r.Interim(final)) {
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
				diss.Data(Server, time.Now(), buf[:n])
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
				diss.End(Server, time.Now(), !errors.Is(err, io.EOF))
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
		if sess != nil {
			sess.Answer(q, m)
		}
		if err := r.compare(q, final, m.Raw); err != nil {
			return err
		}
	}
	return nil
}

// compare says how the replayed answer differs from the recorded one.
func (r *flowReplayer) compare(q, want *Message, got []byte) error {
	diff := r.how.compare(q, want, got)
	if diff == "" {
		return nil
	}
	return fmt.Errorf("answer to client message #%d %s differs\n%s", q.N, q.Summary, diff)
}
