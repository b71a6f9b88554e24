package spec

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/internal/dial"
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
	// TLS is the client configuration of TLS connections: the run's CA
	// pool (RootCAs: the fixture CA, or --ca FILE) or InsecureSkipVerify
	// (--insecure). Each connection gets a copy with its endpoint's
	// server name and the spec's key log. Nil means the system's roots.
	TLS *tls.Config
	// OverTLS runs the specs of TCP services over the target's TLS
	// services instead (run --tls): a spec that dials "http/tcp" reaches
	// "http/tls".
	OverTLS bool
	// Quiet keeps transcripts off the console (run -q); the reports
	// still hold them.
	Quiet bool
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
	// refused are the services seen closing, resetting or staying silent
	// (see Refused).
	refused map[string]bool
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
	t.reprobe()
	if tr := t.rec.transcript(); len(tr.Events) > 0 {
		t.writeCapture(tr)
		// The report keeps the transcript until the run ends, and shows
		// only excerpts of it: keeping the raw bytes (up to maxStored per
		// spec) would make a run against endless bodies hold gigabytes.
		vis := ginkgo.ReportEntryVisibilityFailureOrVerbose
		if t.cfg.Quiet {
			vis = ginkgo.ReportEntryVisibilityNever
		}
		ginkgo.AddReportEntry(TranscriptEntry, tr.excerpts(t.ID.Protocol), vis)
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

// Scaled is a wait a suite tuned at the default step timeout (a silence
// window, the time a server has to close, a "no early reply" wait),
// scaled by the run's --timeout: d at DefaultStepTimeout, twice d at twice
// it. A slow target or a loaded machine then gets longer windows from the
// one flag, and no spec keeps a fixed constant of its own.
func (t *T) Scaled(d time.Duration) time.Duration { return scale(d, t.cfg.StepTimeout) }

func scale(d, step time.Duration) time.Duration {
	if step <= 0 || step == DefaultStepTimeout {
		return d
	}
	return time.Duration(float64(d) * float64(step) / float64(DefaultStepTimeout))
}

// MaxRead is the default size limit of one read helper.
func (t *T) MaxRead() int { return t.cfg.MaxRead }

// Target is the target under test.
func (t *T) Target() targets.Target {
	if t.cfg.Target == nil {
		ginkgo.Fail("spec: no target: the entry point did not call spec.Use")
	}
	return t.cfg.Target
}

// Service is the service a spec that names service reaches: the same one,
// or with Config.OverTLS its TLS counterpart ("http/tcp" gives "http/tls").
func (t *T) Service(service string) string {
	if name, ok := strings.CutSuffix(service, "/tcp"); ok && t.cfg.OverTLS {
		return name + "/tls"
	}
	return service
}

// Endpoint returns the address of a service (see Service), or skips the
// spec with the target's reason when it does not offer the service.
func (t *T) Endpoint(service string) targets.Endpoint {
	service = t.Service(service)
	ep, err := t.Target().Endpoint(service)
	if err != nil {
		if errors.Is(err, targets.ErrNotOffered) {
			ginkgo.Skip("not applicable: " + err.Error())
		}
		t.Failf("cannot find %s on target %s: %v", service, t.Target().Name(), err)
	}
	return ep
}

// Dir returns a local directory of the target (targets.Directories), or
// skips the spec when the target has none by that name: an address target
// runs elsewhere and its store cannot be read.
func (t *T) Dir(name string) string {
	d, ok := t.Target().(targets.Directories)
	if !ok {
		t.Skipf("not applicable: target %s runs no server on this machine whose %s the spec could read", t.Target().Name(), name)
	}
	dir, err := d.Dir(name)
	if err != nil {
		if errors.Is(err, targets.ErrNotOffered) {
			t.Skipf("not applicable: %v", err)
		}
		t.Failf("cannot find %s of target %s: %v", name, t.Target().Name(), err)
	}
	return dir
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

// dialer is the run's dialer for this spec: the step deadline, the run's
// TLS configuration, the spec's key log, and the source address given.
func (t *T) dialer(source string) *dial.Dialer {
	return &dial.Dialer{Timeout: t.cfg.StepTimeout, Source: source, TLS: t.cfg.TLS, KeyLog: t.rec}
}

// Dialer is the run's dialer (the step deadline and the run's TLS
// configuration) for traffic that is no part of the spec's transcript,
// such as removing what a spec left on the target once it is over.
func (t *T) Dialer() *dial.Dialer {
	return &dial.Dialer{Timeout: t.cfg.StepTimeout, TLS: t.cfg.TLS}
}

// Dial connects to a TCP service of the target (over TLS when its
// endpoint is TLS). A service the target does not offer skips the spec; a
// failed connection or handshake fails it.
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
	return t.TryDialFrom(service, "")
}

// DialFrom is Dial from a chosen loopback source address ("127.0.0.66"),
// for specs about address-based access control.
func (t *T) DialFrom(service, source string) *Conn {
	c, err := t.TryDialFrom(service, source)
	if err != nil {
		t.Failf("%v", err)
	}
	return c
}

// TryDialFrom is DialFrom that returns the connection error, for a spec
// where refusing the connection is an acceptable answer.
func (t *T) TryDialFrom(service, source string) (*Conn, error) {
	ep := t.Endpoint(service)
	service = t.Service(service)
	if ep.Network != "tcp" {
		return nil, fmt.Errorf("spec: %s is %s, not a TCP service", service, ep.Network)
	}
	kind := "tcp"
	if ep.Security == dial.TLS {
		kind = "tls"
	}
	name := t.connName(kind, ep)
	from := ""
	if source != "" {
		from = " from " + source
	}
	ctx, cancel := context.WithDeadline(t.ctx, t.deadline(t.cfg.StepTimeout))
	defer cancel()
	plain := ep
	plain.Security = dial.Plain
	nc, err := t.dialer(source).Dial(ctx, plain)
	if err != nil {
		t.Refused(service)
		t.rec.add(event{conn: name, dir: dirNote, data: []byte("connect" + from + " failed: " + err.Error())})
		return nil, fmt.Errorf("could not connect to %s at %s%s: %v", service, ep.Addr, from, unwrapOp(err))
	}
	local, remote := nc.LocalAddr().String(), nc.RemoteAddr().String()
	t.rec.add(event{conn: name, local: local, remote: remote, dir: dirOpen, data: []byte(local + " -> " + remote)})
	c := &Conn{t: t, ep: ep, name: name, service: service, local: local, remote: remote}
	c.sock = &wireConn{Conn: nc, c: c}
	c.nc = c.sock
	t.track(c)
	if ep.Security == dial.TLS {
		tc, err := c.handshake(nil)
		if err != nil {
			return nil, err
		}
		c.nc = tc
	}
	return c, nil
}

// DialPacket opens a UDP socket for a UDP service of the target. The
// socket is not connected: replies from any address are read, so a spec
// can tell a reply from the wrong port from no reply at all.
func (t *T) DialPacket(service string) *PacketConn {
	return t.DialPacketFrom(service, "")
}

// DialPacketFrom is DialPacket with the socket bound to a chosen loopback
// source address.
func (t *T) DialPacketFrom(service, source string) *PacketConn {
	ep := t.Endpoint(service)
	if ep.Network != "udp" {
		t.Failf("spec: %s is %s, not a UDP service", service, ep.Network)
	}
	pc, raddr, err := t.dialer(source).ListenPacket(ep)
	if err != nil {
		t.Failf("cannot open a UDP socket for %s at %s: %v", service, ep.Addr, err)
	}
	name := t.connName("udp", ep)
	local := pc.LocalAddr().String()
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
