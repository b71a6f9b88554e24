package stress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// Options configure a stress run. Zero fields take the defaults below.
type Options struct {
	// Protocol is the protocol's contract Name; its battery is used.
	Protocol string
	Target   targets.Target
	// Attacks names the attacks to run; empty runs them all.
	Attacks []string
	// Duration is how long each attack lasts (default 10 s).
	Duration time.Duration
	// Conns bounds the connections an attack holds at once (default
	// 2000), Bytes what it sends (default 512 MiB), Step each network
	// step (default 2 s).
	Conns int
	Bytes int64
	Step  time.Duration
	// ProbeEvery is how often the legitimate client starts an exchange
	// during an attack (default 100 ms; at most 8 wait at once), each
	// within MaxLatency.
	ProbeEvery time.Duration
	// MaxLatency bounds the 99th percentile of the legitimate client's
	// served exchanges (default 1 s); MinSuccess is the share of its
	// exchanges that must be served (default 0.9).
	MaxLatency time.Duration
	MinSuccess float64
	// MaxRSSGrowth bounds how much the server's resident memory may grow
	// during an attack, where it can be measured (default 256 MiB).
	MaxRSSGrowth int64
	// Recover is how long the server has after an attack ends to serve
	// the legitimate client again (default 5 s).
	Recover time.Duration
	// PID, when set, is the process of a server the user runs (an address
	// target) whose RSS and descriptors are measured.
	PID int
	// AllowRemote lets the run attack a non-loopback address, and then
	// only the address the user gave as the target.
	AllowRemote bool
	// Log receives one line per attack as it starts and ends; nil
	// discards them.
	Log io.Writer
}

func (o *Options) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.Duration, 10*time.Second)
	set(&o.Step, 2*time.Second)
	set(&o.ProbeEvery, 100*time.Millisecond)
	set(&o.MaxLatency, 2*time.Second)
	set(&o.Recover, 5*time.Second)
	if o.Conns <= 0 {
		o.Conns = 2000
	}
	if o.Bytes <= 0 {
		o.Bytes = 512 << 20
	}
	if o.MinSuccess <= 0 {
		o.MinSuccess = 0.9
	}
	if o.MaxRSSGrowth <= 0 {
		o.MaxRSSGrowth = 256 << 20
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// attackSource is the loopback address attacks dial from when the target
// is on 127.0.0.0/8, so that a server's per-client limits see the
// attacker and the legitimate client (127.0.0.1) as two clients, as they
// would be.
const attackSource = "127.0.0.13"

// ErrNotLoopback is returned by Run for a target endpoint that is not a
// loopback address, unless Options.AllowRemote is set and the target is
// the address the user gave.
var ErrNotLoopback = errors.New("stress: target is not a loopback address")

// Run mounts the selected attacks of the protocol's battery on the target
// one after the other and returns one spec per attack. It returns an
// error when the run cannot be made at all: no battery, an unknown attack,
// a target refused by the loopback rule, or a target that does not serve
// its legitimate client before the first attack.
func Run(ctx context.Context, o Options) (*reports.Run, error) {
	o.defaults()
	bat, err := Lookup(o.Protocol)
	if err != nil {
		return nil, err
	}
	attacks, err := bat.Select(o.Attacks)
	if err != nil {
		return nil, err
	}
	probe := bat.Probe
	if probe == nil {
		if c, ok := protocol.Lookup(o.Protocol); ok {
			probe = c.Probe
		}
	}
	if probe == nil {
		return nil, fmt.Errorf("stress: %s has no legitimate client (no probe)", o.Protocol)
	}
	info := o.Target.Info()
	m := meterOf(o.Target, info)
	if o.PID > 0 {
		m = meter{pid: o.PID, How: fmt.Sprintf("RSS and open descriptors of process %d (--pid)", o.PID)}
	}
	run := &reports.Run{
		Schema:   reports.SchemaVersion,
		Kind:     reports.KindStress,
		Protocol: o.Protocol,
		Target:   reports.Target{Name: info.Name, Kind: info.Kind, Version: info.Version, Endpoints: info.Endpoints},
		Started:  time.Now(),
		Notes:    []string{"resources: " + m.How},
	}
	// Preflight: every service an attack's legitimate client uses must
	// answer once before anything is attacked, else nothing can be judged.
	checked := map[string]bool{}
	for _, a := range attacks {
		for _, svc := range []string{a.Service(), probeService(a)} {
			ep, err := o.Target.Endpoint(svc)
			if err != nil {
				continue // the attack is skipped with the reason
			}
			if err := allowed(ep, info, o.AllowRemote); err != nil {
				return nil, err
			}
		}
		svc := probeService(a)
		ep, err := o.Target.Endpoint(svc)
		if err != nil || checked[svc] {
			continue
		}
		checked[svc] = true
		if err := probeOnce(ctx, probe, svc, ep.Addr, o.Recover); err != nil {
			return nil, fmt.Errorf("stress: the target does not serve %s before any attack: %w", svc, err)
		}
	}
	for _, a := range attacks {
		if ctx.Err() != nil {
			run.Specs = append(run.Specs, specOf(o.Protocol, a, o, reports.StateSkipped, "not run: the run was interrupted", nil))
			continue
		}
		fmt.Fprintf(o.Log, "stress %s: %s for %s ...\n", o.Protocol, a.Name(), o.Duration)
		sp := runAttack(ctx, a, probe, m, o)
		fmt.Fprintf(o.Log, "stress %s: %s %s\n", o.Protocol, a.Name(), sp.State)
		run.Specs = append(run.Specs, sp)
	}
	run.Duration = time.Since(run.Started)
	return run, nil
}

func probeService(a Attack) string {
	if p, ok := a.(Probed); ok && p.ProbeService() != "" {
		return p.ProbeService()
	}
	return a.Service()
}

// probeOnce tries the legitimate exchange until it succeeds or within
// passes, one try a step.
func probeOnce(ctx context.Context, probe func(context.Context, string, string) error, svc, addr string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, min(time.Second, within))
		err = probe(pctx, svc, addr)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// CheckTarget applies the loopback rule to a --target value before it is
// opened (opening an address target connects to it): a launcher's name
// passes (launchers listen on loopback), an address passes when every
// endpoint is a loopback address, or when remote is set.
func CheckTarget(spec string, remote bool) error {
	spec = strings.TrimSpace(spec)
	if _, ok := targets.Lookup(spec); ok || spec == "" {
		return nil
	}
	eps, _, err := targets.ParseAddress(spec)
	if err != nil {
		return nil // not an address: Open says what it is
	}
	for _, ep := range eps {
		if err := allowed(ep, targets.Info{Kind: targets.KindAddress}, remote); err != nil {
			return err
		}
	}
	return nil
}

// allowed applies the loopback rule to an endpoint of the target.
func allowed(ep dial.Endpoint, info targets.Info, remote bool) error {
	host, _, err := net.SplitHostPort(ep.Addr)
	if err != nil {
		return fmt.Errorf("stress: endpoint %s: %w", ep, err)
	}
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return nil
	}
	if remote && info.Kind == targets.KindAddress {
		return nil
	}
	return fmt.Errorf("%w: %s (attacks go only to 127.0.0.0/8 and ::1; --allow-remote attacks the address you give and nothing else)", ErrNotLoopback, ep.Addr)
}

// meterOf picks how the target's resources are measured.
func meterOf(t targets.Target, info targets.Info) meter {
	if p, ok := t.(interface{ PID() int }); ok && p.PID() > 0 {
		return meter{pgid: p.PID(), How: fmt.Sprintf("RSS and open descriptors of the launched server's process group %d", p.PID())}
	}
	if info.Kind == targets.KindReference {
		return meter{self: true, How: "the reference runs inside protospec: RSS is protospec's own (attacker included), descriptors are not measured"}
	}
	return meter{How: "not measured: protospec did not start the server"}
}

// probes records the legitimate client's exchanges during an attack.
type probes struct {
	mu       sync.Mutex
	ok, fail int
	lat      []time.Duration
	firstErr error
}

// run starts a probe every o.ProbeEvery until ctx is done, up to
// maxInFlight at once, so that a server that stalls its clients is
// sampled as often as one that answers at once.
func (p *probes) run(ctx context.Context, probe func(context.Context, string, string) error, svc, addr string, o Options) {
	const maxInFlight = 8
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	everyTick(ctx, o.ProbeEvery, func() {
		select {
		case sem <- struct{}{}:
		default:
			return // maxInFlight probes are waiting already
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p.one(ctx, probe, svc, addr, o.MaxLatency)
		}()
	})
}

// one makes one probe within bound and records it.
func (p *probes) one(ctx context.Context, probe func(context.Context, string, string) error, svc, addr string, bound time.Duration) {
	pctx, cancel := context.WithTimeout(ctx, bound)
	start := time.Now()
	err := probe(pctx, svc, addr)
	d := time.Since(start)
	cancel()
	if err != nil && ended(ctx) {
		return // the attack ended under the probe: not the server's doing
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.fail++
		if p.firstErr == nil {
			p.firstErr = err
		}
		return
	}
	p.ok++
	p.lat = append(p.lat, d)
}

// ended reports whether ctx is done or past its deadline: a deadline
// seen by a socket may come a moment before ctx's own timer fires.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func (p *probes) quantile(q float64) time.Duration {
	if len(p.lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), p.lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// runAttack mounts one attack while the legitimate client probes, and
// judges it.
func runAttack(ctx context.Context, a Attack, probe func(context.Context, string, string) error, m meter, o Options) reports.Spec {
	start := time.Now()
	ep, err := o.Target.Endpoint(a.Service())
	if err != nil {
		return specOf(o.Protocol, a, o, reports.StateSkipped, err.Error(), nil)
	}
	psvc := probeService(a)
	pep, err := o.Target.Endpoint(psvc)
	if err != nil {
		return specOf(o.Protocol, a, o, reports.StateSkipped, err.Error(), nil)
	}
	if err := probeOnce(ctx, probe, psvc, pep.Addr, o.Recover); err != nil {
		sp := specOf(o.Protocol, a, o, reports.StateError, fmt.Sprintf("not judged: the target did not serve %s before the attack: %v", psvc, err), nil)
		sp.Duration = time.Since(start)
		return sp
	}
	d := &dial.Dialer{Timeout: o.Step}
	if host, _, err := net.SplitHostPort(ep.Addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() && ip.IsLoopback() {
			d.Source = attackSource
		}
	}
	b := Budget{Duration: o.Duration, Conns: o.Conns, Bytes: o.Bytes, Step: o.Step, Dialer: d}
	if m.self {
		// The in-process reference spends a descriptor on its side of
		// every connection too, and the legitimate client needs some:
		// this process's fd limit must not be what the attack measures.
		b.Conns = max(1, min(b.Conns, (fdRoom()-100)/2))
	}

	before := m.sample()
	peak := before
	actx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var pr probes
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pr.run(actx, probe, psvc, pep.Addr, o) }()
	var pmu sync.Mutex
	go func() {
		defer wg.Done()
		everyTick(actx, 200*time.Millisecond, func() {
			s := m.sample()
			pmu.Lock()
			peak.RSS, peak.FDs = max(peak.RSS, s.RSS), max(peak.FDs, s.FDs)
			pmu.Unlock()
		})
	}()
	fig, aerr := a.Run(actx, ep, b)
	cancel()
	wg.Wait()
	after := m.sample()
	if fig == nil {
		fig = Figures{}
	}

	// Verdict.
	var why []string
	total := pr.ok + pr.fail
	ratio := 0.0
	if total > 0 {
		ratio = float64(pr.ok) / float64(total)
	}
	p50, p99 := pr.quantile(0.5), pr.quantile(0.99)
	var pmax time.Duration
	for _, l := range pr.lat {
		pmax = max(pmax, l)
	}
	fig["probes"] = float64(total)
	fig["probes_served"] = float64(pr.ok)
	fig["probe_success_ratio"] = ratio
	fig["probe_p50_ms"] = ms(p50)
	fig["probe_p99_ms"] = ms(p99)
	fig["probe_max_ms"] = ms(pmax)
	if before.RSS >= 0 {
		fig["rss_before_bytes"] = float64(before.RSS)
		fig["rss_peak_bytes"] = float64(peak.RSS)
		fig["rss_after_bytes"] = float64(after.RSS)
	}
	if before.FDs >= 0 {
		fig["fds_before"] = float64(before.FDs)
		fig["fds_peak"] = float64(peak.FDs)
		fig["fds_after"] = float64(after.FDs)
	}
	state := reports.StatePassed
	switch {
	case aerr != nil:
		state = reports.StateError
		why = append(why, "the attack could not be mounted: "+aerr.Error())
	case total == 0:
		state = reports.StateError
		why = append(why, "no probe of the legitimate client completed during the attack")
	}
	if state == reports.StatePassed {
		if ratio < o.MinSuccess {
			why = append(why, fmt.Sprintf("the legitimate client was served %d of %d times (%.0f%%, want at least %.0f%%); first failure: %v",
				pr.ok, total, 100*ratio, 100*o.MinSuccess, pr.firstErr))
		}
		if pr.ok > 0 && p99 > o.MaxLatency {
			why = append(why, fmt.Sprintf("the legitimate client's p99 latency was %s, above %s", p99.Round(time.Millisecond), o.MaxLatency))
		}
		if before.RSS > 0 && peak.RSS-before.RSS > o.MaxRSSGrowth {
			why = append(why, fmt.Sprintf("the server's memory grew by %d MiB (from %d to %d MiB), above %d MiB",
				(peak.RSS-before.RSS)>>20, before.RSS>>20, peak.RSS>>20, o.MaxRSSGrowth>>20))
		}
		if w, ok := o.Target.(targets.Watcher); ok {
			if err := w.Alive(); err != nil {
				why = append(why, "the server died: "+err.Error())
			}
		}
		if j, ok := a.(Judged); ok {
			if err := j.Judge(fig); err != nil {
				why = append(why, err.Error())
			}
		}
		rctx, rcancel := context.WithTimeout(ctx, o.Recover)
		rstart := time.Now()
		rerr := probeOnce(rctx, probe, psvc, pep.Addr, o.Recover)
		rcancel()
		fig["recovery_ms"] = ms(time.Since(rstart))
		if rerr != nil {
			why = append(why, fmt.Sprintf("the legitimate client was not served within %s after the attack ended: %v", o.Recover, rerr))
		}
		if len(why) > 0 {
			state = reports.StateFailed
		}
	}
	msg := strings.Join(why, "\n")
	if msg == "" {
		msg = fmt.Sprintf("the legitimate client was served %d of %d times during the attack, p99 %s", pr.ok, total, p99.Round(time.Millisecond))
		if pr.firstErr != nil {
			msg += fmt.Sprintf("; first failure: %v", pr.firstErr)
		}
	}
	sp := specOf(o.Protocol, a, o, state, msg+"\n\n"+figureText(fig), fig)
	sp.Duration = time.Since(start)
	return sp
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// specOf is an attack's result in the run model: ID <p>/stress/<attack>,
// level SHOULD (no RFC demands it; a server should keep serving others),
// the verdict rule as its sentence.
func specOf(proto string, a Attack, o Options, state, msg string, fig Figures) reports.Spec {
	return reports.Spec{
		ID:       proto + "/stress/" + a.Name(),
		Protocol: proto,
		Doc:      "stress",
		Section:  a.Name(),
		Level:    reports.LevelShould,
		Title:    a.Name() + " on " + a.Service() + ": " + a.Doc(),
		Sentence: Rule(o),
		State:    state,
		Message:  msg,
		Figures:  fig,
	}
}

// Rule is the verdict rule every attack is judged by under o.
func Rule(o Options) string {
	o.defaults()
	return fmt.Sprintf("While the attack lasts, a legitimate client probing every %s is served at least %.0f%% of the time with a p99 latency of at most %s; "+
		"afterwards it is served within %s; a launched server stays up, and its memory grows by at most %d MiB.",
		o.ProbeEvery, 100*o.MinSuccess, o.MaxLatency, o.Recover, o.MaxRSSGrowth>>20)
}

// figureText lists figures one per line, in name order.
func figureText(f Figures) string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%-22s %s\n", n, FormatFigure(n, f[n]))
	}
	return b.String()
}

// FormatFigure renders a figure for people: bytes in MiB, ratios with
// two decimals, counts as integers.
func FormatFigure(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "_bytes") && v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case strings.HasSuffix(name, "_ms"):
		return fmt.Sprintf("%.1f ms", v)
	case v != float64(int64(v)):
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%d", int64(v))
}
