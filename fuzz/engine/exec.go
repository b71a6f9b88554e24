package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
)

// maxRecv bounds what is read from one connection during one input.
const maxRecv = 4 << 20

// Timing says how long the executor waits for answers.
type Timing struct {
	// Deadline bounds every step: connecting, sending, and waiting for the
	// answers a valid message is owed (the slow oracle).
	Deadline time.Duration
	// Quiet is how long to wait for an answer nobody can be sure of (to
	// garbage, an incomplete message), counted from the last byte received.
	Quiet time.Duration
	// Linger keeps reading for Quiet after the expected answers came, to
	// count extra ones (differential mode).
	Linger bool
}

func (t Timing) withDefaults() Timing {
	if t.Deadline <= 0 {
		t.Deadline = 2 * time.Second
	}
	if t.Quiet <= 0 {
		t.Quiet = 10 * time.Millisecond
	}
	return t
}

// event is one thing that happened on the wire during an input.
type event struct {
	// Target is the name of the target the event happened with.
	Target string
	At     time.Duration
	Conn   string // "tcp#1", "udp#2"
	Dir    string // open, send, recv, close, note
	// Local and Remote are set on open.
	Local, Remote string
	Data          []byte
}

// stepResult is what one step got.
type stepResult struct {
	State string
	// Conn is the step's connection within the input ("http/tcp#0").
	Conn   string
	Resps  []Response
	Expect int
	Sure   bool
	Closed bool
	Note   string
}

// violation is a grammar or slow oracle failure seen while executing.
type violation struct {
	Oracle string
	Step   int
	Detail string
}

// execResult is the outcome of one input against one target.
type execResult struct {
	Steps     []stepResult
	Events    []event
	Violation *violation
	Vars      map[string]string
	DialErr   error
}

type liveConn struct {
	name    string
	service string
	c       net.Conn
	udp     bool
	sess    Session
	buf     []byte
	closed  bool
	broken  bool
	steps   int
	pending int
	allSure bool
	total   int
}

type executor struct {
	m      Model
	t      *liveTarget
	timing Timing
	start  time.Time
	res    *execResult
	nconn  int
	tmp    []byte
}

// execute runs in against t with fresh connections.
func execute(t *liveTarget, m Model, in Input, timing Timing) *execResult {
	x := &executor{m: m, t: t, timing: timing.withDefaults(), start: time.Now(),
		res: &execResult{Vars: map[string]string{}}, tmp: make([]byte, 64<<10)}
	conns := map[string]*liveConn{}
	defer func() {
		for _, c := range conns {
			if tc := dial.TCPConn(c.c); tc != nil {
				// Reset rather than linger in TIME_WAIT: a campaign opens
				// thousands of connections a minute on loopback.
				_ = tc.SetLinger(0)
			}
			c.c.Close()
		}
	}()
	for i, st := range in.Steps {
		key := fmt.Sprintf("%s#%d", st.Service, st.Conn)
		c := conns[key]
		if c == nil {
			var err error
			c, err = x.dial(st.Service)
			if err != nil {
				x.res.Steps = append(x.res.Steps, stepResult{State: stateName(st, 0, !isTCP(st.Service)), Conn: key, Note: err.Error()})
				if x.res.DialErr == nil {
					x.res.DialErr = err
				}
				continue
			}
			conns[key] = c
		}
		x.step(i, st, c, key)
	}
	return x.res
}

func (x *executor) ev(conn, dir string, data []byte) {
	x.res.Events = append(x.res.Events, event{Target: x.t.spec.Name, At: time.Since(x.start), Conn: conn, Dir: dir, Data: data})
}

func (x *executor) dial(service string) (*liveConn, error) {
	reach := service
	if x.t.spec.OverTLS {
		reach = protocol.OverTLS(service)
	}
	ep, err := x.t.t.Endpoint(reach)
	if err != nil {
		return nil, err
	}
	var d dial.Dialer
	if x.t.spec.Dialer != nil {
		d = *x.t.spec.Dialer
	}
	if d.Timeout <= 0 {
		d.Timeout = x.timing.Deadline
	}
	c, err := d.Connect(context.Background(), ep)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", ep, unwrapOp(err))
	}
	x.nconn++
	lc := &liveConn{name: fmt.Sprintf("%s#%d", ep.Network, x.nconn), service: service, c: c,
		udp: ep.Network == "udp", sess: x.m.NewSession(service), allSure: true}
	x.res.Events = append(x.res.Events, event{Target: x.t.spec.Name, At: time.Since(x.start), Conn: lc.name, Dir: "open",
		Local: c.LocalAddr().String(), Remote: c.RemoteAddr().String(),
		Data: []byte(c.LocalAddr().String() + " -> " + c.RemoteAddr().String())})
	return lc, nil
}

// stateName names the state a step is sent in, for deduplication and the
// "states reached" count.
func stateName(st Step, prior int, udp bool) string {
	var s string
	switch {
	case udp && prior == 0:
		s = "query"
	case udp:
		s = "again"
	case prior == 0:
		s = "fresh"
	default:
		s = "kept-alive"
	}
	if st.Use != "" {
		s += "+" + st.Use
	}
	if st.HalfClose {
		s += "+half-close"
	}
	return st.Service + " " + s
}

func (x *executor) violate(oracle string, step int, format string, args ...any) {
	if x.res.Violation == nil {
		x.res.Violation = &violation{Oracle: oracle, Step: step, Detail: fmt.Sprintf(format, args...)}
	}
}

func (x *executor) step(i int, st Step, c *liveConn, key string) {
	sr := stepResult{State: stateName(st, c.steps, c.udp), Conn: key}
	c.steps++
	data := x.m.Render(st, x.res.Vars)
	sr.Expect, sr.Sure = c.sess.Sent(data)
	c.pending += sr.Expect
	if !sr.Sure {
		c.allSure = false
	}
	hard := time.Now().Add(x.timing.Deadline)
	_ = c.c.SetWriteDeadline(hard)
	x.ev(c.name, "send", data)
	if _, err := c.c.Write(data); err != nil {
		sr.Note = "send: " + unwrapOp(err).Error()
	}
	if st.HalfClose && !c.udp {
		dial.CloseWrite(c.c)
	}
	last := time.Now()
	for !c.closed && !c.broken {
		var until time.Time
		switch {
		case c.pending > 0 && c.allSure:
			until = hard
		case c.pending > 0:
			until = minTime(hard, last.Add(5*x.timing.Quiet))
		case sr.Expect == 0 || x.timing.Linger:
			until = minTime(hard, last.Add(x.timing.Quiet))
		}
		if until.IsZero() {
			break
		}
		if !time.Now().Before(until) {
			if c.pending > 0 && c.allSure && !time.Now().Before(hard) {
				x.violate("slow", i, "no complete answer within %v to a valid message (%d owed)", x.timing.Deadline, c.pending)
			}
			break
		}
		_ = c.c.SetReadDeadline(until)
		n, err := c.c.Read(x.tmp)
		if n > 0 {
			got := append([]byte(nil), x.tmp[:n]...)
			x.ev(c.name, "recv", got)
			last = time.Now()
			c.total += n
			if c.udp {
				x.parse(i, &sr, c, got, true)
			} else {
				c.buf = append(c.buf, got...)
				x.parse(i, &sr, c, nil, false)
			}
			if c.total > maxRecv {
				sr.Note = fmt.Sprintf("stopped reading after %d bytes", c.total)
				c.broken = true
			}
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if c.udp {
				// ICMP port unreachable: nobody listens; the probe judges.
				sr.Note = "recv: " + unwrapOp(err).Error()
				break
			}
			c.closed = true
			sr.Closed = true
			if !errors.Is(err, io.EOF) {
				// A reset may have thrown away bytes the server sent: what
				// is left cannot be judged.
				sr.Note = "recv: " + unwrapOp(err).Error()
				x.ev(c.name, "close", []byte("reset"))
			} else {
				x.ev(c.name, "close", nil)
				if !c.broken {
					x.parse(i, &sr, c, nil, false)
				}
			}
		}
	}
	x.res.Steps = append(x.res.Steps, sr)
}

// parse frames what c has received. For UDP, dgram is one whole datagram.
func (x *executor) parse(i int, sr *stepResult, c *liveConn, dgram []byte, udp bool) {
	buf := c.buf
	if udp {
		buf = dgram
	}
	resps, used, err := c.sess.Parse(buf, udp || c.closed)
	if !udp {
		c.buf = c.buf[used:]
	}
	c.pending = max(0, c.pending-len(resps))
	sr.Resps = append(sr.Resps, resps...)
	for _, r := range resps {
		for k, v := range r.Vars {
			x.res.Vars[k] = v
		}
	}
	if err != nil {
		x.violate("grammar", i, "%v", err)
		c.broken = true
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// unwrapOp drops the net.OpError wrapping whose text repeats the addresses.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var se *os.SyscallError
		if errors.As(op.Err, &se) {
			return se.Err
		}
		return op.Err
	}
	return err
}

// isRefused reports a connection refused, a sure sign nobody listens.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// probe checks that t still answers the model's valid probe. It retries
// once, so a single lost datagram or a connection limit hit by the input
// just before does not count as death.
func probe(t *liveTarget, m Model, timing Timing) error {
	timing.Linger = false
	var err error
	for try := 0; try < 2; try++ {
		if try > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		err = probeOnce(t, m, timing)
		if err == nil || isRefused(err) {
			return err
		}
	}
	return err
}

func probeOnce(t *liveTarget, m Model, timing Timing) error {
	res := execute(t, m, m.Probe(), timing)
	if res.DialErr != nil {
		return res.DialErr
	}
	if v := res.Violation; v != nil {
		return fmt.Errorf("%s: %s", v.Oracle, v.Detail)
	}
	for i, s := range res.Steps {
		if len(s.Resps) == 0 {
			why := "no answer"
			if s.Closed {
				why = "connection closed without an answer"
			}
			if s.Note != "" {
				why += " (" + s.Note + ")"
			}
			return fmt.Errorf("probe step %d (%s): %s within %v", i+1, s.State, why, timing.withDefaults().Deadline)
		}
	}
	return nil
}

// describe summarizes a step's answers in one line for reports.
func (s stepResult) describe() string {
	var parts []string
	for _, r := range s.Resps {
		d := r.Class
		if r.Detail != "" && r.Detail != r.Class {
			d = r.Detail
		}
		parts = append(parts, d)
	}
	out := fmt.Sprintf("%d answer(s) [%s]", len(s.Resps), strings.Join(parts, ", "))
	if s.Closed {
		out += ", closed"
	}
	return out
}
