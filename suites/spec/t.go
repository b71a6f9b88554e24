package spec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// Config is what an entry point sets before the specs run.
type Config struct {
	Target targets.Target
	// StepTimeout bounds each network step (a dial, a write, a read that
	// waits for a reply). Zero means DefaultStepTimeout.
	StepTimeout time.Duration
	// MaxRead bounds what one read helper accepts. Zero means DefaultMaxRead.
	MaxRead int
	// PcapDir, when set, is where each spec's transcript is written as a
	// capture (<PcapDir>/<ID with / as _>.pcapng) by CaptureWriter, and
	// attached to the spec's report.
	PcapDir string
}

// CaptureWriter writes a spec's transcript as a capture file at path. The
// entry point that knows how (cmd/protospec, through package pcap) sets
// it; while it is nil, Config.PcapDir does nothing.
var CaptureWriter func(path, specID string, tr Transcript) error

// CaptureEntry is the name of the report entry that carries a spec's
// capture file, a reports.Attachment.
const CaptureEntry = "capture"

// Defaults of Config.
const (
	DefaultStepTimeout = 5 * time.Second
	DefaultMaxRead     = 1 << 20
)

var (
	cfgMu   sync.RWMutex
	current Config
)

// Use sets the target and limits the specs of this process run against.
func Use(c Config) {
	if c.StepTimeout <= 0 {
		c.StepTimeout = DefaultStepTimeout
	}
	if c.MaxRead <= 0 {
		c.MaxRead = DefaultMaxRead
	}
	cfgMu.Lock()
	current = c
	cfgMu.Unlock()
}

func config() Config {
	cfgMu.RLock()
	defer cfgMu.RUnlock()
	return current
}

// T is the handle a spec uses: it reaches the target, records every byte
// sent and received, and fails or skips the spec with messages that say
// which requirement, what was sent and what came back.
type T struct {
	Meta
	ctx   context.Context
	cfg   Config
	start time.Time
	rec   *recorder

	mu    sync.Mutex
	conns []closer
	nconn int
}

type closer interface{ closeQuietly() }

func newT(ctx context.Context, m Meta) *T {
	return &T{Meta: m, ctx: ctx, cfg: config(), start: time.Now(), rec: &recorder{start: time.Now()}}
}

// finish closes what the spec left open and attaches its transcript.
func (t *T) finish() {
	t.mu.Lock()
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for _, c := range conns {
		c.closeQuietly()
	}
	if tr := t.rec.transcript(); len(tr.Events) > 0 {
		ginkgo.AddReportEntry(TranscriptEntry, tr, ginkgo.ReportEntryVisibilityFailureOrVerbose)
		t.writeCapture(tr)
	}
}

// writeCapture writes the transcript as a capture when Config.PcapDir is
// set, and attaches the file to the spec's report.
func (t *T) writeCapture(tr Transcript) {
	if t.cfg.PcapDir == "" || CaptureWriter == nil {
		return
	}
	id := t.ID.String()
	path := filepath.Join(t.cfg.PcapDir, strings.ReplaceAll(id, "/", "_")+".pcapng")
	if err := CaptureWriter(path, id, tr); err != nil {
		ginkgo.AddReportEntry(TranscriptEntry, Transcript{Events: []Event{{Dir: dirNote, Data: []byte("writing the capture: " + err.Error())}}}, ginkgo.ReportEntryVisibilityNever)
		return
	}
	ginkgo.AddReportEntry(CaptureEntry, reports.Attachment{Name: "capture", Path: path, MediaType: "application/x-pcapng"}, ginkgo.ReportEntryVisibilityNever)
}

// Context is the spec's context: done when the spec times out or the run
// is interrupted.
func (t *T) Context() context.Context { return t.ctx }

// StepTimeout is the deadline of one network step.
func (t *T) StepTimeout() time.Duration { return t.cfg.StepTimeout }

// MaxRead is the default size limit of one read helper.
func (t *T) MaxRead() int { return t.cfg.MaxRead }

// Target is the target under test.
func (t *T) Target() targets.Target {
	if t.cfg.Target == nil {
		ginkgo.Fail("spec: no target: the entry point did not call spec.Use")
	}
	return t.cfg.Target
}

// Endpoint returns the address of a service, or skips the spec with the
// target's reason when it does not offer the service.
func (t *T) Endpoint(service string) targets.Endpoint {
	ep, err := t.Target().Endpoint(service)
	if err != nil {
		if errors.Is(err, targets.ErrNotOffered) {
			ginkgo.Skip("not applicable: " + err.Error())
		}
		t.Failf("cannot find %s on target %s: %v", service, t.Target().Name(), err)
	}
	return ep
}

// Require skips the spec unless the target offers feature.
func (t *T) Require(feature string) {
	if err := t.Target().Feature(feature); err != nil {
		ginkgo.Skip("not applicable: " + err.Error())
	}
}

// Skipf skips the spec with a reason.
func (t *T) Skipf(format string, args ...any) {
	ginkgo.Skip(fmt.Sprintf(format, args...))
}

// Note adds a line to the transcript.
func (t *T) Note(format string, args ...any) {
	t.rec.add(event{conn: "", dir: dirNote, data: []byte(fmt.Sprintf(format, args...))})
}

// Check fails the spec when err is not nil. The failure names the
// requirement and shows err's text, which the verifiers make say what was
// expected and what came back, then the last bytes each connection sent.
func (t *T) Check(err error) {
	if err == nil {
		return
	}
	ginkgo.Fail(t.failureText(err.Error()), 1)
}

// Mismatch fails the spec with the one form every failure takes: what the
// requirement expects, and what came back (actual is a format).
func (t *T) Mismatch(expected, actual string, args ...any) {
	ginkgo.Fail(t.failureText(Errorf(expected, actual, args...).Error()), 1)
}

// Failf fails the spec with a formatted message.
func (t *T) Failf(format string, args ...any) {
	ginkgo.Fail(t.failureText(fmt.Sprintf(format, args...)), 1)
}

func (t *T) failureText(msg string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", t.Level, t.ID, t.Title)
	if t.Sentence.Text != "" {
		fmt.Fprintf(&b, "  %s: %q\n", t.Cite(), t.Sentence.Text)
	}
	b.WriteString(strings.TrimRight(msg, "\n"))
	if last := t.rec.lastSends(3); last != "" {
		b.WriteString("\n" + last)
	}
	return b.String()
}

func (t *T) track(c closer) {
	t.mu.Lock()
	t.conns = append(t.conns, c)
	t.mu.Unlock()
}

func (t *T) connName(network string, ep targets.Endpoint) string {
	t.mu.Lock()
	t.nconn++
	n := t.nconn
	t.mu.Unlock()
	return fmt.Sprintf("%s#%d %s", network, n, ep.Addr)
}

// deadline is the earlier of now+d and the spec's own deadline.
func (t *T) deadline(d time.Duration) time.Time {
	dl := time.Now().Add(d)
	if sd, ok := t.ctx.Deadline(); ok && sd.Before(dl) {
		dl = sd
	}
	return dl
}

// Dial connects to a TCP service of the target. A service the target does
// not offer skips the spec; a failed connection fails it.
func (t *T) Dial(service string) *Conn {
	c, err := t.TryDial(service)
	if err != nil {
		t.Failf("%v", err)
	}
	return c
}

// TryDial is Dial that returns the connection error instead of failing,
// for specs about connection handling itself.
func (t *T) TryDial(service string) (*Conn, error) {
	ep := t.Endpoint(service)
	if ep.Network != "tcp" {
		return nil, fmt.Errorf("spec: %s is %s, not a TCP service", service, ep.Network)
	}
	name := t.connName("tcp", ep)
	ctx, cancel := context.WithDeadline(t.ctx, t.deadline(t.cfg.StepTimeout))
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		t.rec.add(event{conn: name, dir: dirNote, data: []byte("connect failed: " + err.Error())})
		return nil, fmt.Errorf("could not connect to %s at %s: %v", service, ep.Addr, unwrapOp(err))
	}
	local, remote := nc.LocalAddr().String(), nc.RemoteAddr().String()
	t.rec.add(event{conn: name, local: local, remote: remote, dir: dirOpen, data: []byte(local + " -> " + remote)})
	c := &Conn{t: t, nc: nc, name: name, service: service, local: local, remote: remote}
	t.track(c)
	return c, nil
}

// DialPacket opens a UDP socket for a UDP service of the target. The
// socket is not connected: replies from any address are read, so a spec
// can tell a reply from the wrong port from no reply at all.
func (t *T) DialPacket(service string) *PacketConn {
	ep := t.Endpoint(service)
	if ep.Network != "udp" {
		t.Failf("spec: %s is %s, not a UDP service", service, ep.Network)
	}
	raddr, err := net.ResolveUDPAddr("udp", ep.Addr)
	if err != nil {
		t.Failf("cannot resolve %s address %s: %v", service, ep.Addr, err)
	}
	local := "127.0.0.1:0"
	if raddr.IP.To4() == nil {
		local = "[::1]:0"
	}
	pc, err := net.ListenPacket("udp", local)
	if err != nil {
		t.Failf("cannot open a UDP socket: %v", err)
	}
	name := t.connName("udp", ep)
	local = pc.LocalAddr().String()
	t.rec.add(event{conn: name, local: local, remote: raddr.String(), dir: dirOpen, data: []byte(local + " -> " + raddr.String())})
	p := &PacketConn{t: t, pc: pc, remote: raddr, local: local, name: name, service: service}
	t.track(p)
	return p
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
