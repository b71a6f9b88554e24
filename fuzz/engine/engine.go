package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/targets"
)

// Oracles, as named in finding IDs (fuzz/<proto>/<oracle>/<n>).
const (
	OracleLiveness     = "liveness"     // a valid message no longer gets a valid answer
	OracleCrash        = "crash"        // a launched server's process died
	OracleMemory       = "memory"       // the server's memory grew past MemFactor x baseline
	OracleGrammar      = "grammar"      // an answer violates the protocol's grammar
	OracleSlow         = "slow"         // a valid message got no answer within the deadline
	OracleDifferential = "differential" // targets disagree about the same bytes
)

// TargetSpec is a target to fuzz: the name the user gave and how to start
// (and, after a crash, restart) it.
type TargetSpec struct {
	Name string
	Open func(ctx context.Context) (targets.Target, error)
	// Dialer reaches the target's endpoints (its TLS configuration trusts
	// the run's CA, or the user's); nil is a plain dialer. A zero Timeout
	// takes the Timing's Deadline.
	Dialer *dial.Dialer
	// OverTLS sends the model's TCP services to their TLS counterparts
	// ("http/tcp" to "http/tls"), as `fuzz --tls` asks.
	OverTLS bool
}

// Config is one fuzzing campaign.
type Config struct {
	Model Model
	// Targets are fuzzed with the same inputs; two or more make the run
	// differential.
	Targets []TargetSpec
	// Seed makes the run repeatable: the same seed against the same
	// (deterministic) targets sends the same inputs.
	Seed uint64
	// Duration and Execs bound the campaign; zero means no bound (one of
	// them, or ctx, must end it).
	Duration time.Duration
	Execs    int
	Timing   Timing
	// Seeds are added to the model's built-in seeds (see LoadSeeds).
	Seeds []Input
	// OutDir receives one directory per finding; empty saves nothing.
	OutDir string
	// Benign lists known, accepted differences between targets.
	Benign []BenignRule
	// Progress receives a status line every ProgressEvery (default 1s).
	Progress      io.Writer
	ProgressEvery time.Duration
	// MemFactor is the memory oracle's bound as a multiple of the RSS
	// measured after the seeds (default 4); MemSample is how often RSS is
	// read (default 500ms).
	MemFactor float64
	MemSample time.Duration
	// NoMinimize keeps findings as found. MinimizeBudget bounds the time
	// spent minimizing one finding (default 30s).
	NoMinimize     bool
	MinimizeBudget time.Duration
	// Command is the program name used in reproducer commands (default
	// "protospec").
	Command string
	// StopAfter ends the campaign once it has this many findings; 0 means
	// never.
	StopAfter int

	// inputHook sees every input executed (tests check repeatability).
	inputHook func(Input)
}

// Finding is one deduplicated failure with its reproducer.
type Finding struct {
	N      int
	ID     string // fuzz/<proto>/<oracle>/<n>
	Oracle string
	// State is the state the failing step was sent in, e.g.
	// "http/tcp kept-alive".
	State  string
	Detail string
	// Targets are the targets involved: one, or the differing pair.
	Targets []string
	Input   Input
	// Sent is the rendered bytes of each step of the confirming run.
	Sent [][]byte
	// OrigSteps and OrigBytes measure the input before minimization.
	OrigSteps, OrigBytes int
	Minimized            bool
	Flaky                bool
	Dir                  string
	Command              string
	At                   time.Duration
	Exec                 int
	events               []event
}

// Transcript is what was sent and received in the confirming run, one
// event a line, as transcript.txt holds it.
func (f *Finding) Transcript() string { return transcriptText(f.events) }

// Result is what a campaign did and found.
type Result struct {
	Protocol string
	Targets  []string
	Execs    int
	Elapsed  time.Duration
	// States counts distinct (state, answer) signatures reached.
	States   int
	Corpus   int
	Restarts int
	Findings []*Finding
	// Oracles lists the oracles that were active.
	Oracles []string
	Notes   []string
}

// ExecsPerSecond is the campaign's throughput.
func (r *Result) ExecsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Execs) / r.Elapsed.Seconds()
}

type liveTarget struct {
	spec    TargetSpec
	t       targets.Target
	watcher targets.Watcher
	baseRSS int64
	sampled time.Time
}

// failure is one oracle firing on one input.
type failure struct {
	Oracle, State, Detail string
	Targets               []string
	Diff                  *Disagreement
	Dead                  bool
	events                []event
	sent                  [][]byte
}

func (f failure) key() string {
	k := f.Oracle + "|" + f.State + "|" + strings.Join(f.Targets, ",")
	if f.Diff != nil {
		k += "|" + f.Diff.Kind + "|" + f.Diff.ValA + "|" + f.Diff.ValB
	}
	return k
}

// same reports whether g is the same failure as f for minimization: the
// same oracle on the same targets, and for differences the same kind and
// values.
func (f failure) same(g failure) bool {
	if f.Oracle != g.Oracle || strings.Join(f.Targets, ",") != strings.Join(g.Targets, ",") {
		return false
	}
	if f.Diff != nil && g.Diff != nil {
		return f.Diff.Kind == g.Diff.Kind && f.Diff.ValA == g.Diff.ValA && f.Diff.ValB == g.Diff.ValB
	}
	return true
}

type engine struct {
	cfg     Config
	m       Model
	rng     *rand.Rand
	live    []*liveTarget
	timing  Timing
	ctx     context.Context
	corpus  []Input
	states  map[string]bool
	seen    map[string]bool
	res     *Result
	start   time.Time
	hasMem  bool
	nextDir int
	// noRestart leaves dead targets dead (replay runs one input only).
	noRestart bool
}

// Run runs a campaign until its budget or ctx ends. It returns an error
// only when the campaign could not be run (a target did not start or does
// not answer the probe); findings are in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Model == nil || len(cfg.Targets) == 0 {
		return nil, errors.New("engine: a model and at least one target are needed")
	}
	if cfg.MemFactor <= 1 {
		cfg.MemFactor = 4
	}
	if cfg.MemSample <= 0 {
		cfg.MemSample = 500 * time.Millisecond
	}
	if cfg.MinimizeBudget <= 0 {
		cfg.MinimizeBudget = 10 * time.Second
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.Command == "" {
		cfg.Command = "protospec"
	}
	e := &engine{cfg: cfg, m: cfg.Model, ctx: ctx, states: map[string]bool{}, seen: map[string]bool{},
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), timing: cfg.Timing.withDefaults()}
	if len(cfg.Targets) > 1 {
		e.timing.Linger = true
		if cfg.Timing.Quiet <= 0 {
			e.timing.Quiet = 30 * time.Millisecond
		}
	}
	e.res = &Result{Protocol: e.m.Name()}
	defer e.closeAll()
	for _, ts := range cfg.Targets {
		lt := &liveTarget{spec: ts}
		if err := e.open(lt); err != nil {
			return nil, err
		}
		if err := probe(lt, e.m, e.timing); err != nil {
			return nil, fmt.Errorf("engine: target %s does not answer a valid %s message before fuzzing: %v", ts.Name, e.m.Name(), err)
		}
		e.live = append(e.live, lt)
		e.res.Targets = append(e.res.Targets, ts.Name)
	}
	e.res.Oracles = []string{OracleLiveness, OracleGrammar, OracleSlow}
	for _, lt := range e.live {
		if lt.watcher != nil {
			e.res.Oracles = append(e.res.Oracles, OracleCrash)
			break
		}
	}
	e.start = time.Now()
	e.corpus = append(e.m.Seeds(), cfg.Seeds...)
	for _, in := range e.corpus {
		if e.done() {
			break
		}
		e.runOne(in)
	}
	e.initMemory()
	if e.hasMem {
		e.res.Oracles = append(e.res.Oracles, OracleMemory)
	}
	if len(e.live) > 1 {
		e.res.Oracles = append(e.res.Oracles, OracleDifferential)
	}
	lastProgress := time.Now()
	for !e.done() {
		parent := e.corpus[e.rng.IntN(len(e.corpus))]
		child := e.mutate(parent)
		e.runOne(child)
		if e.cfg.Progress != nil && time.Since(lastProgress) >= e.cfg.ProgressEvery {
			lastProgress = time.Now()
			e.progress()
		}
	}
	e.res.Elapsed = time.Since(e.start)
	e.res.Corpus = len(e.corpus)
	e.res.States = len(e.states)
	if e.cfg.Progress != nil {
		e.progress()
	}
	return e.res, nil
}

func (e *engine) progress() {
	el := time.Since(e.start)
	fmt.Fprintf(e.cfg.Progress, "fuzz %s: %s, %d execs (%.0f/s), %d states, corpus %d, %d findings\n",
		e.m.Name(), el.Round(time.Second), e.res.Execs, float64(e.res.Execs)/max(el.Seconds(), 1e-9),
		len(e.states), len(e.corpus), len(e.res.Findings))
}

func (e *engine) done() bool {
	if e.ctx.Err() != nil {
		return true
	}
	if e.cfg.Execs > 0 && e.res.Execs >= e.cfg.Execs {
		return true
	}
	if e.cfg.Duration > 0 && time.Since(e.start) >= e.cfg.Duration {
		return true
	}
	if e.cfg.StopAfter > 0 && len(e.res.Findings) >= e.cfg.StopAfter {
		return true
	}
	return false
}

func (e *engine) open(lt *liveTarget) error {
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()
	t, err := lt.spec.Open(ctx)
	if err != nil {
		return fmt.Errorf("engine: target %s: %w", lt.spec.Name, err)
	}
	lt.t = t
	lt.watcher = nil
	if w, ok := t.(targets.Watcher); ok {
		if _, err := w.RSS(); err == nil {
			lt.watcher = w
		}
	}
	return nil
}

func (e *engine) closeAll() {
	for _, lt := range e.live {
		if lt.t != nil {
			lt.t.Close()
		}
	}
}

// restart replaces a dead target with a fresh instance.
func (e *engine) restart(lt *liveTarget) error {
	if lt.t != nil {
		lt.t.Close()
	}
	if err := e.open(lt); err != nil {
		return err
	}
	e.res.Restarts++
	if err := probe(lt, e.m, e.timing); err != nil {
		return fmt.Errorf("engine: target %s does not answer after a restart: %v", lt.spec.Name, err)
	}
	lt.baseRSS = 0
	if e.hasMem && lt.watcher != nil {
		if rss, err := lt.watcher.RSS(); err == nil {
			lt.baseRSS = rss
		}
	}
	return nil
}

func (e *engine) initMemory() {
	for _, lt := range e.live {
		if lt.watcher == nil {
			continue
		}
		if rss, err := lt.watcher.RSS(); err == nil && rss > 0 {
			lt.baseRSS = rss
			lt.sampled = time.Now()
			e.hasMem = true
		}
	}
}

// check runs in against every target and applies every oracle. Dead
// targets are restarted before it returns.
func (e *engine) check(in Input) ([]failure, []*execResult) {
	var fails []failure
	results := make([]*execResult, len(e.live))
	healthy := true
	for k, lt := range e.live {
		res := execute(lt, e.m, in, e.timing)
		results[k] = res
		sent := sentOf(res)
		last := ""
		if n := len(res.Steps); n > 0 {
			last = res.Steps[n-1].State
		}
		if v := res.Violation; v != nil {
			fails = append(fails, failure{Oracle: v.Oracle, State: res.Steps[v.Step].State, Detail: v.Detail,
				Targets: []string{lt.spec.Name}, events: res.Events, sent: sent})
		}
		if f := e.health(lt, last); f != nil {
			f.events, f.sent = res.Events, sent
			fails = append(fails, *f)
			healthy = false
		}
	}
	if healthy {
		for k := 1; k < len(e.live); k++ {
			d := compare(e.m, e.live[0].spec.Name, e.live[k].spec.Name, results[0], results[k])
			if d != nil && !benign(e.cfg.Benign, *d) {
				fails = append(fails, failure{Oracle: OracleDifferential, State: d.State, Detail: d.String(),
					Targets: []string{d.A, d.B}, Diff: d, events: append(append([]event(nil), results[0].Events...), results[k].Events...),
					sent: sentOf(results[0])})
			}
		}
	}
	for _, f := range fails {
		if !f.Dead || e.noRestart {
			continue
		}
		for _, lt := range e.live {
			if lt.spec.Name == f.Targets[0] {
				if err := e.restart(lt); err != nil {
					e.res.Notes = append(e.res.Notes, err.Error())
				}
			}
		}
	}
	return fails, results
}

// health applies the crash, liveness and memory oracles after an input.
func (e *engine) health(lt *liveTarget, state string) *failure {
	if lt.watcher != nil {
		if err := lt.watcher.Alive(); err != nil {
			return &failure{Oracle: OracleCrash, State: state, Detail: err.Error(), Targets: []string{lt.spec.Name}, Dead: true}
		}
	}
	if err := probe(lt, e.m, e.timing); err != nil {
		if lt.watcher != nil {
			if aerr := lt.watcher.Alive(); aerr != nil {
				return &failure{Oracle: OracleCrash, State: state, Detail: aerr.Error(), Targets: []string{lt.spec.Name}, Dead: true}
			}
		}
		return &failure{Oracle: OracleLiveness, State: state, Targets: []string{lt.spec.Name}, Dead: true,
			Detail: "after this input a valid message gets no valid answer: " + err.Error()}
	}
	if e.hasMem && lt.watcher != nil && lt.baseRSS > 0 && time.Since(lt.sampled) >= e.cfg.MemSample {
		lt.sampled = time.Now()
		if rss, err := lt.watcher.RSS(); err == nil {
			limit := int64(float64(lt.baseRSS) * e.cfg.MemFactor)
			if rss > limit && rss-lt.baseRSS > 64<<20 {
				f := &failure{Oracle: OracleMemory, State: state, Targets: []string{lt.spec.Name}, Dead: true,
					Detail: fmt.Sprintf("resident memory %d MiB, more than %.1f x the %d MiB measured after the seeds", rss>>20, e.cfg.MemFactor, lt.baseRSS>>20)}
				return f
			}
		}
	}
	return nil
}

func sentOf(res *execResult) [][]byte {
	var out [][]byte
	for _, ev := range res.Events {
		if ev.Dir == "send" {
			out = append(out, ev.Data)
		}
	}
	return out
}

// runOne executes one input, records what it reached, keeps it when it
// reached something new, and turns new failures into findings.
func (e *engine) runOne(in Input) {
	if e.cfg.inputHook != nil {
		e.cfg.inputHook(in)
	}
	fails, results := e.check(in)
	e.res.Execs++
	novel := false
	for _, res := range results {
		for _, s := range res.Steps {
			sig := signature(s)
			if !e.states[sig] {
				e.states[sig] = true
				novel = true
			}
		}
	}
	if novel {
		if len(e.corpus) < 4096 {
			e.corpus = append(e.corpus, in)
		} else {
			e.corpus[e.rng.IntN(len(e.corpus))] = in
		}
	}
	for _, f := range fails {
		if e.seen[f.key()] {
			continue
		}
		e.seen[f.key()] = true
		e.record(in, f)
	}
}

// signature is what "a state reached" means: the state a step was sent
// in and the classes of the answers it got.
func signature(s stepResult) string {
	var cls []string
	for i, r := range s.Resps {
		if i == 3 {
			cls = append(cls, "...")
			break
		}
		cls = append(cls, r.Class)
	}
	sig := s.State + " -> " + strings.Join(cls, ",")
	if s.Closed {
		sig += " closed"
	}
	return sig
}

func (e *engine) record(in Input, f failure) {
	fd := &Finding{Oracle: f.Oracle, State: f.State, Detail: f.Detail, Targets: f.Targets, Input: in.Clone(),
		OrigSteps: len(in.Steps), OrigBytes: in.Size(), At: time.Since(e.start), Exec: e.res.Execs,
		Sent: f.sent, events: f.events}
	if !e.cfg.NoMinimize && f.Oracle != OracleMemory {
		min, ok := e.minimize(in, f)
		fd.Flaky = !ok
		if ok {
			fd.Input = min
			fd.Minimized = min.Size() < in.Size() || len(min.Steps) < len(in.Steps)
			if g, ok := e.confirm(min, f); ok {
				fd.Detail, fd.State, fd.events, fd.Sent = g.Detail, g.State, g.events, g.sent
			}
		}
	}
	e.res.Findings = append(e.res.Findings, fd)
	fd.N = len(e.res.Findings)
	fd.ID = fmt.Sprintf("fuzz/%s/%s/%d", e.m.Name(), fd.Oracle, fd.N)
	if e.cfg.OutDir != "" {
		if err := e.save(fd); err != nil {
			e.res.Notes = append(e.res.Notes, fmt.Sprintf("saving %s: %v", fd.ID, err))
		}
	}
	if e.cfg.Progress != nil {
		fmt.Fprintf(e.cfg.Progress, "finding %s (%s, %s): %s\n", fd.ID, strings.Join(fd.Targets, " vs "), fd.State, fd.Detail)
		if fd.Command != "" {
			fmt.Fprintf(e.cfg.Progress, "  reproduce: %s\n", fd.Command)
		}
	}
}

// confirm runs in once more and returns the failure like f it causes.
func (e *engine) confirm(in Input, f failure) (failure, bool) {
	fails, _ := e.check(in)
	for _, g := range fails {
		if f.same(g) {
			return g, true
		}
	}
	return failure{}, false
}

// minimize shrinks in while it still causes f: delta debugging over the
// steps, then over each step's bytes. It reports false when in does not
// cause f again at all (a flaky finding).
func (e *engine) minimize(in Input, f failure) (Input, bool) {
	deadline := time.Now().Add(e.cfg.MinimizeBudget)
	tries := 0
	stopped := false
	repro := func(c Input) bool {
		if stopped || time.Now().After(deadline) || e.ctx.Err() != nil || tries > 2000 {
			return false
		}
		// A trial against a target that is already dead proves nothing:
		// every candidate would "reproduce". When a dead target cannot be
		// restarted (a server the user runs), minimizing stops.
		if !e.judgeable(f) {
			stopped = true
			return false
		}
		tries++
		_, ok := e.confirm(c, f)
		return ok
	}
	if !e.judgeable(f) {
		e.res.Notes = append(e.res.Notes, fmt.Sprintf("%s finding kept as found: %s cannot be restarted to minimize it", f.Oracle, strings.Join(f.Targets, ", ")))
		return in, true
	}
	if !repro(in) {
		return in, stopped
	}
	in = in.Clone()
	for i := len(in.Steps) - 1; i >= 0 && len(in.Steps) > 1; i-- {
		cand := Input{Steps: append(append([]Step(nil), in.Steps[:i]...), in.Steps[i+1:]...)}
		if repro(cand) {
			in = cand
		}
	}
	for i := range in.Steps {
		data := in.Steps[i].Data
		for chunk := len(data) / 2; chunk >= 1; chunk /= 2 {
			// Bound the tries per level: a 64 KiB message is shrunk by
			// big chunks only.
			if len(data)/chunk > 256 {
				break
			}
			for off := 0; off < len(data); {
				end := min(off+chunk, len(data))
				cand := in.Clone()
				cand.Steps[i].Data = append(append([]byte(nil), data[:off]...), data[end:]...)
				if repro(cand) {
					data = cand.Steps[i].Data
					in = cand
				} else {
					off += chunk
				}
			}
		}
	}
	return in, true
}

// judgeable reports whether every target of f answers a probe, restarting
// the dead ones where it can.
func (e *engine) judgeable(f failure) bool {
	for _, lt := range e.live {
		if !contains(f.Targets, lt.spec.Name) {
			continue
		}
		if lt.t != nil && probe(lt, e.m, e.timing) == nil {
			continue
		}
		if e.noRestart || e.restart(lt) != nil {
			return false
		}
	}
	return true
}

// mutate derives a child from parent: one step changed by one to four
// stacked mutations (grammar-aware mostly, byte-level havoc sometimes), or
// now and then a change of the input's shape.
func (e *engine) mutate(parent Input) Input {
	child := parent.Clone()
	r := e.rng
	if len(child.Steps) == 0 {
		child = e.m.Seeds()[0].Clone()
	}
	if r.IntN(10) == 0 {
		e.reshape(&child)
	}
	i := r.IntN(len(child.Steps))
	for n := 1 + r.IntN(4); n > 0; n-- {
		if r.IntN(5) == 0 || e.m.Mutate(r, &child, i) == "" {
			child.Steps[i].Data = havoc(r, child.Steps[i].Data)
		}
	}
	for k := range child.Steps {
		if len(child.Steps[k].Data) > MaxStepBytes {
			child.Steps[k].Data = child.Steps[k].Data[:MaxStepBytes]
		}
	}
	return child
}

// reshape changes the steps of an input rather than their bytes:
// repeat a step, drop one, move one to a new connection (fresh instead of
// kept alive), half-close after one, or splice in a step of another input.
func (e *engine) reshape(in *Input) {
	r := e.rng
	i := r.IntN(len(in.Steps))
	switch r.IntN(5) {
	case 0:
		if len(in.Steps) < 16 {
			st := in.Steps[i]
			st.Data = append([]byte(nil), st.Data...)
			in.Steps = append(in.Steps[:i+1], append([]Step{st}, in.Steps[i+1:]...)...)
		}
	case 1:
		if len(in.Steps) > 1 {
			in.Steps = append(in.Steps[:i], in.Steps[i+1:]...)
		}
	case 2:
		maxConn := 0
		for _, s := range in.Steps {
			maxConn = max(maxConn, s.Conn)
		}
		in.Steps[i].Conn = maxConn + 1
	case 3:
		if isTCP(in.Steps[i].Service) {
			in.Steps[i].HalfClose = !in.Steps[i].HalfClose
		}
	case 4:
		other := e.corpus[r.IntN(len(e.corpus))]
		if len(other.Steps) > 0 && len(in.Steps) < 16 {
			st := other.Steps[r.IntN(len(other.Steps))]
			st.Data = append([]byte(nil), st.Data...)
			st.Conn = in.Steps[len(in.Steps)-1].Conn
			st.Service = in.Steps[len(in.Steps)-1].Service
			in.Steps = append(in.Steps, st)
		}
	}
}

// interesting byte strings havoc inserts.
var havocTokens = [][]byte{
	[]byte("\r\n"), []byte("\n"), []byte("\r"), []byte("\x00"), []byte(" "), []byte("\t"), []byte(":"),
	[]byte("\xff"), []byte("\xc0"), []byte("%"), []byte("\r\n\r\n"), []byte("0\r\n\r\n"), []byte(";"), []byte(","),
	{0xff, 0xff}, {0, 0}, {0x7f, 0xff}, {0x80, 0}, {0xc0, 0x0c},
}

// havoc applies one byte-level mutation.
func havoc(r *rand.Rand, b []byte) []byte {
	if len(b) == 0 {
		return append(b, havocTokens[r.IntN(len(havocTokens))]...)
	}
	b = append([]byte(nil), b...)
	switch r.IntN(8) {
	case 0: // flip a bit
		i := r.IntN(len(b))
		b[i] ^= 1 << r.IntN(8)
	case 1: // random byte
		b[r.IntN(len(b))] = byte(r.IntN(256))
	case 2: // delete a range
		i := r.IntN(len(b))
		j := min(len(b), i+1+r.IntN(16))
		b = append(b[:i], b[j:]...)
	case 3: // insert a token
		i := r.IntN(len(b) + 1)
		tok := havocTokens[r.IntN(len(havocTokens))]
		b = append(b[:i], append(append([]byte(nil), tok...), b[i:]...)...)
	case 4: // duplicate a range
		i := r.IntN(len(b))
		j := min(len(b), i+1+r.IntN(32))
		k := r.IntN(len(b) + 1)
		dup := append([]byte(nil), b[i:j]...)
		b = append(b[:k], append(dup, b[k:]...)...)
	case 5: // truncate
		b = b[:r.IntN(len(b))]
	case 6: // interesting byte value
		vals := []byte{0, 1, 0x7f, 0x80, 0xff, '0', '9', 'a', 'A'}
		b[r.IntN(len(b))] = vals[r.IntN(len(vals))]
	case 7: // swap two bytes
		i, j := r.IntN(len(b)), r.IntN(len(b))
		b[i], b[j] = b[j], b[i]
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
