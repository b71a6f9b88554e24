package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
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
	// spent minimizing one finding (default 3s) and MinimizeTries the
	// number of candidate inputs tried (default 100): a finding is worth
	// reading long before it is minimal, and the campaign goes on.
	NoMinimize     bool
	MinimizeBudget time.Duration
	MinimizeTries  int
	// Parallel is how many inputs are in flight at once on each target
	// (default 32), with at most twice as many connections open: most of
	// an input's time is spent waiting for answers that may never come
	// (a server waiting for the rest of a message). 1 runs one input after
	// the other, as the campaign does when a target is an address (a
	// server it cannot restart to find out which input killed it).
	Parallel int
	// Command is the program name used in reproducer commands (default
	// "protospec").
	Command string
	// StopAfter ends the campaign once it has this many findings; 0 means
	// never.
	StopAfter int

	// inputHook sees every input executed (tests check repeatability).
	inputHook func(Input)
}

// Finding is one class of failure with the reproducer of its first
// input.
type Finding struct {
	N      int
	ID     string // fuzz/<proto>/<oracle>/<n>
	Oracle string
	// Class is what findings are deduplicated by: for a difference its
	// normalised signature (Disagreement.Class), otherwise the oracle, the
	// target and the state.
	Class string
	// Hits counts the inputs of the campaign that fell into the class;
	// States lists the states it was seen in (at most 8).
	Hits   int
	States []string
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
	// Tries counts the candidate inputs minimization tried.
	Tries   int
	Flaky   bool
	Dir     string
	Command string
	At      time.Duration
	Exec    int
	events  []event
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
	// Accepted counts the differences each benign rule accepted, in the
	// order the rules first accepted one.
	Accepted []Accepted
	// Minimizing is the time spent minimizing findings.
	Minimizing time.Duration
	Notes      []string
}

// Accepted is a benign rule and the number of differences it accepted.
type Accepted struct {
	Rule BenignRule
	N    int
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
	// open bounds the connections open at once on the target.
	open *connLimit
	// mu guards the memory oracle's figures.
	mu      sync.Mutex
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

// class is what findings are deduplicated by: a difference's normalised
// signature, or the oracle, the state and the target of anything else.
func (f failure) class() string {
	if f.Diff != nil {
		return f.Diff.Class()
	}
	return f.Oracle + " on " + strings.Join(f.Targets, ",") + " in " + f.State
}

func (f failure) key() string { return f.Oracle + "|" + f.class() }

// same reports whether g is the same failure as f for minimization: the
// same oracle on the same targets, and for differences the same class.
func (f failure) same(g failure) bool {
	if f.Oracle != g.Oracle || strings.Join(f.Targets, ",") != strings.Join(g.Targets, ",") {
		return false
	}
	if f.Diff != nil && g.Diff != nil {
		return f.Diff.Class() == g.Diff.Class()
	}
	return true
}

type engine struct {
	cfg    Config
	m      Model
	rng    *rand.Rand
	live   []*liveTarget
	timing Timing
	ctx    context.Context
	corpus []Input
	states map[string]bool
	seen   map[string]*Finding
	res    *Result
	// minimizing is set while candidates are tried: their benign
	// differences are not counted.
	minimizing bool
	// unminimized counts the findings kept as found because minimizing
	// had used its share of the campaign.
	unminimized int
	start       time.Time
	hasMem      bool
	nextDir     int
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
		cfg.MinimizeBudget = 3 * time.Second
	}
	if cfg.MinimizeTries <= 0 {
		cfg.MinimizeTries = 100
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 32
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.Command == "" {
		cfg.Command = "protospec"
	}
	e := &engine{cfg: cfg, m: cfg.Model, ctx: ctx, states: map[string]bool{}, seen: map[string]*Finding{},
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
	for _, lt := range e.live {
		if e.cfg.Parallel > 1 && lt.t.Info().Kind == targets.KindAddress {
			// A server protospec did not start cannot be restarted: the
			// input that kills it must be the one that ran last.
			e.cfg.Parallel = 1
			e.res.Notes = append(e.res.Notes, fmt.Sprintf("inputs ran one at a time: %s is a server protospec cannot restart", lt.spec.Name))
		}
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
	seeds := append([]Input(nil), e.corpus...)
	e.pump(func() (Input, bool) {
		if len(seeds) == 0 {
			return Input{}, false
		}
		in := seeds[0]
		seeds = seeds[1:]
		return in, true
	}, nil)
	e.initMemory()
	if e.hasMem {
		e.res.Oracles = append(e.res.Oracles, OracleMemory)
	}
	if len(e.live) > 1 {
		e.res.Oracles = append(e.res.Oracles, OracleDifferential)
	}
	lastProgress := time.Now()
	e.pump(func() (Input, bool) {
		return e.mutate(e.corpus[e.rng.IntN(len(e.corpus))]), true
	}, func() {
		if e.cfg.Progress != nil && time.Since(lastProgress) >= e.cfg.ProgressEvery {
			lastProgress = time.Now()
			e.progress()
		}
	})
	e.res.Elapsed = time.Since(e.start)
	if e.unminimized > 0 {
		e.res.Notes = append(e.res.Notes, fmt.Sprintf("%d findings kept as found: minimizing had used a quarter of the campaign's time", e.unminimized))
	}
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
	if lt.open == nil {
		lt.open = newConnLimit(2 * max(1, e.cfg.Parallel))
	}
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

// executeAll runs every input against every target at once, at most
// Parallel inputs in flight per target; out[i][k] is input i on target k.
func (e *engine) executeAll(ins []Input) [][]*execResult {
	out := make([][]*execResult, len(ins))
	for i := range out {
		out[i] = make([]*execResult, len(e.live))
	}
	var wg sync.WaitGroup
	workers := max(1, min(e.cfg.Parallel, len(ins)))
	for k, lt := range e.live {
		jobs := make(chan int)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					n := lt.open.acquire(connsOf(ins[i]))
					out[i][k] = execute(lt, e.m, ins[i], e.timing)
					lt.open.release(n)
				}
			}()
		}
		go func() {
			for i := range ins {
				jobs <- i
			}
			close(jobs)
		}()
	}
	wg.Wait()
	return out
}

// connsOf counts the connections (and sockets) an input opens.
func connsOf(in Input) int {
	var seen []string
	for _, st := range in.Steps {
		if k := fmt.Sprintf("%s#%d", st.Service, st.Conn); !contains(seen, k) {
			seen = append(seen, k)
		}
	}
	return len(seen)
}

// connLimit bounds the connections open at once on one target, so that
// inputs in flight together stay under a server's limit per client (the
// references allow 128).
type connLimit struct {
	mu   sync.Mutex
	cond *sync.Cond
	free int
	max  int
}

func newConnLimit(n int) *connLimit {
	l := &connLimit{free: n, max: n}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// acquire waits until n connections (at most the limit) may be opened and
// returns how many it took.
func (l *connLimit) acquire(n int) int {
	n = max(1, min(n, l.max))
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.free < n {
		l.cond.Wait()
	}
	l.free -= n
	return n
}

func (l *connLimit) release(n int) {
	l.mu.Lock()
	l.free += n
	l.mu.Unlock()
	l.cond.Broadcast()
}

// check runs in against every target and applies every oracle. Dead
// targets are restarted before it returns.
func (e *engine) check(in Input) ([]failure, []*execResult) {
	results := e.executeAll([]Input{in})[0]
	fails := e.violations(results)
	hf := e.healthAll(results)
	fails = append(fails, hf...)
	if len(hf) == 0 {
		fails = append(fails, e.differences(results)...)
	}
	e.restartDead(fails)
	return fails, results
}

// violations are the grammar and slow oracles' failures of one input.
func (e *engine) violations(results []*execResult) []failure {
	var fails []failure
	for k, res := range results {
		if v := res.Violation; v != nil {
			fails = append(fails, failure{Oracle: v.Oracle, State: res.Steps[v.Step].State, Detail: v.Detail,
				Targets: []string{e.live[k].spec.Name}, events: res.Events, sent: sentOf(res)})
		}
	}
	return fails
}

// healthAll applies the crash, liveness and memory oracles to every
// target at once; results, when given, are the input's results the
// failures carry.
func (e *engine) healthAll(results []*execResult) []failure {
	out := make([]*failure, len(e.live))
	var wg sync.WaitGroup
	for k, lt := range e.live {
		last := ""
		if results != nil {
			if n := len(results[k].Steps); n > 0 {
				last = results[k].Steps[n-1].State
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f := e.health(lt, last); f != nil {
				if results != nil {
					f.events, f.sent = results[k].Events, sentOf(results[k])
				}
				out[k] = f
			}
		}()
	}
	wg.Wait()
	var fails []failure
	for _, f := range out {
		if f != nil {
			fails = append(fails, *f)
		}
	}
	return fails
}

// differences compares every target with the first, and returns the
// first difference of each pair that no benign rule accepts.
func (e *engine) differences(results []*execResult) []failure {
	var fails []failure
	for k := 1; k < len(e.live); k++ {
		for _, d := range compare(e.m, e.live[0].spec.Name, e.live[k].spec.Name, results[0], results[k]) {
			if r, ok := benignRule(e.cfg.Benign, d); ok {
				e.accept(r)
				continue
			}
			fails = append(fails, failure{Oracle: OracleDifferential, State: d.State, Detail: d.String(),
				Targets: []string{d.A, d.B}, Diff: &d, events: append(append([]event(nil), results[0].Events...), results[k].Events...),
				sent: sentOf(results[0])})
			break
		}
	}
	return fails
}

// accept counts a difference a benign rule accepted.
func (e *engine) accept(r BenignRule) {
	if e.minimizing {
		return
	}
	for i := range e.res.Accepted {
		if e.res.Accepted[i].Rule.Source == r.Source {
			e.res.Accepted[i].N++
			return
		}
	}
	e.res.Accepted = append(e.res.Accepted, Accepted{Rule: r, N: 1})
}

// restartDead restarts the targets that fails found dead.
func (e *engine) restartDead(fails []failure) {
	if e.noRestart {
		return
	}
	for _, f := range fails {
		if !f.Dead {
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
	lt.mu.Lock()
	defer lt.mu.Unlock()
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

// flight is one input in flight on every target: its results and the
// health failures seen right after it.
type flight struct {
	in      Input
	results []*execResult
	health  []failure
	done    chan struct{}
}

// whole reports whether every target took the input (no connection
// refused) and was healthy after it.
func (fl *flight) whole() bool {
	for _, r := range fl.results {
		if r.DialErr != nil {
			return false
		}
	}
	return len(fl.health) == 0
}

// launch starts in on every target at once, each followed by the health
// oracles.
func (e *engine) launch(in Input) *flight {
	fl := &flight{in: in, results: make([]*execResult, len(e.live)), done: make(chan struct{})}
	hs := make([]*failure, len(e.live))
	var wg sync.WaitGroup
	for k, lt := range e.live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := lt.open.acquire(connsOf(in) + 1) // and the probe's
			res := execute(lt, e.m, in, e.timing)
			last := ""
			if len(res.Steps) > 0 {
				last = res.Steps[len(res.Steps)-1].State
			}
			h := e.health(lt, last)
			lt.open.release(n)
			fl.results[k] = res
			if h != nil {
				h.events, h.sent = res.Events, sentOf(res)
				hs[k] = h
			}
		}()
	}
	go func() {
		wg.Wait()
		for _, h := range hs {
			if h != nil {
				fl.health = append(fl.health, *h)
			}
		}
		close(fl.done)
	}()
	return fl
}

// pump runs the inputs next gives, Parallel of them in flight at once,
// and judges them in the order they were made, as runOne would one by
// one: the input judged n-th was made after the first n-Parallel-1 were
// judged, so the same seed against the same targets makes the same
// inputs. Nothing waits for the slowest of a batch: an input owed an
// answer that never comes holds one place of the window, not the others.
// When a target refused an input's connection or was unhealthy after it,
// every input in flight is let finish, the dead targets are restarted,
// and those inputs run again one at a time, so that the input that killed
// a target is the one blamed. A failure of a new class is recorded (and
// minimized) with no input in flight. tick runs after each judged input.
func (e *engine) pump(next func() (Input, bool), tick func()) {
	var queue []*flight
	more := true
	drain := func() {
		for _, fl := range queue {
			<-fl.done
		}
	}
	for {
		for more && len(queue) < e.cfg.Parallel && !e.done() && (e.cfg.Execs <= 0 || e.res.Execs+len(queue) < e.cfg.Execs) {
			in, ok := next()
			if !ok {
				more = false
				break
			}
			queue = append(queue, e.launch(in))
		}
		if len(queue) == 0 {
			return
		}
		fl := queue[0]
		<-fl.done
		queue = queue[1:]
		if e.done() {
			drain()
			return
		}
		if !fl.whole() {
			drain()
			rest := append([]*flight{fl}, queue...)
			queue = nil
			e.restartDead(e.healthAll(nil))
			restarts := e.res.Restarts
			for _, r := range rest {
				if e.done() {
					return
				}
				e.runOne(r.in)
			}
			if len(fl.health) > 0 && e.res.Restarts == restarts {
				e.res.Notes = append(e.res.Notes, fmt.Sprintf("%s failed with %d inputs in flight (%s), but after none of them run alone",
					strings.Join(fl.health[0].Targets, ", "), len(rest), fl.health[0].Detail))
			}
			continue
		}
		fails := append(e.violations(fl.results), e.differences(fl.results)...)
		for _, f := range fails {
			if e.seen[f.key()] == nil {
				drain()
				break
			}
		}
		if e.cfg.inputHook != nil {
			e.cfg.inputHook(fl.in)
		}
		e.judge(fl.in, fails, fl.results)
		if tick != nil {
			tick()
		}
	}
}

// runOne executes one input and judges it.
func (e *engine) runOne(in Input) {
	if e.cfg.inputHook != nil {
		e.cfg.inputHook(in)
	}
	fails, results := e.check(in)
	e.judge(in, fails, results)
}

// judge records what an input reached, keeps it when it reached something
// new, and turns failures of a new class into findings; a failure of a
// known class counts as a hit of its finding.
func (e *engine) judge(in Input, fails []failure, results []*execResult) {
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
		if fd := e.seen[f.key()]; fd != nil {
			fd.hit(f.State)
			continue
		}
		e.seen[f.key()] = e.record(in, f)
	}
}

// hit counts one more input of the finding's class, seen in state.
func (fd *Finding) hit(state string) {
	fd.Hits++
	if !contains(fd.States, state) && len(fd.States) < 8 {
		fd.States = append(fd.States, state)
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

func (e *engine) record(in Input, f failure) *Finding {
	fd := &Finding{Oracle: f.Oracle, Class: f.class(), State: f.State, Detail: f.Detail, Targets: f.Targets, Input: in.Clone(),
		OrigSteps: len(in.Steps), OrigBytes: in.Size(), At: time.Since(e.start), Exec: e.res.Execs,
		Sent: f.sent, events: f.events}
	fd.hit(f.State)
	// Minimizing must not take over the campaign: past a quarter of its
	// time so far (and the budget of one finding), findings are kept as
	// found.
	share := max(e.cfg.MinimizeBudget, time.Since(e.start)/4)
	if !e.cfg.NoMinimize && f.Oracle != OracleMemory && e.res.Minimizing >= share {
		e.unminimized++
	} else if !e.cfg.NoMinimize && f.Oracle != OracleMemory {
		began := time.Now()
		min, tries, ok := e.minimize(in, f)
		fd.Flaky, fd.Tries = !ok, tries
		if ok {
			fd.Input = min
			fd.Minimized = min.Size() < in.Size() || len(min.Steps) < len(in.Steps)
			if g, ok := e.confirm(min, f); ok {
				fd.Detail, fd.State, fd.events, fd.Sent = g.Detail, g.State, g.events, g.sent
			}
		}
		e.res.Minimizing += time.Since(began)
	}
	e.res.Findings = append(e.res.Findings, fd)
	fd.N = len(e.res.Findings)
	fd.ID = fmt.Sprintf("fuzz/%s/%s/%d", e.m.Name(), fd.Oracle, fd.N)
	if e.cfg.OutDir != "" {
		if err := e.save(fd); err != nil {
			e.res.Notes = append(e.res.Notes, fmt.Sprintf("saving %s: %v", fd.ID, err))
		}
	}
	return fd
}

// confirm runs in once more and returns the failure like f it causes.
func (e *engine) confirm(in Input, f failure) (failure, bool) {
	e.minimizing = true
	defer func() { e.minimizing = false }()
	fails, _ := e.check(in)
	for _, g := range fails {
		if f.same(g) {
			return g, true
		}
	}
	return failure{}, false
}

// minimizer shrinks one finding's input within its budget.
type minimizer struct {
	e        *engine
	f        failure
	deadline time.Time
	tries    int
	stopped  bool
}

func (m *minimizer) out() bool {
	return m.stopped || m.tries >= m.e.cfg.MinimizeTries || time.Now().After(m.deadline) || m.e.ctx.Err() != nil
}

// first returns the index of the first candidate that still causes the
// failure, or -1. Candidates of a failure that leaves a target dead are
// tried one by one (each may kill it); others all at once, like a batch.
func (m *minimizer) first(cands []Input) int {
	e := m.e
	if m.f.Dead {
		for j, c := range cands {
			if m.out() {
				return -1
			}
			// A trial against a target that is already dead proves
			// nothing: every candidate would "reproduce". When a dead
			// target cannot be restarted (a server the user runs),
			// minimizing stops.
			if !e.judgeable(m.f) {
				m.stopped = true
				return -1
			}
			m.tries++
			if _, ok := e.confirm(c, m.f); ok {
				return j
			}
		}
		return -1
	}
	m.tries += len(cands)
	e.minimizing = true
	defer func() { e.minimizing = false }()
	all := e.executeAll(cands)
	if hf := e.healthAll(nil); len(hf) > 0 {
		e.restartDead(hf)
		m.stopped = true
		return -1
	}
	for j := range cands {
		for _, g := range append(e.violations(all[j]), e.differences(all[j])...) {
			if m.f.same(g) {
				return j
			}
		}
	}
	return -1
}

// reduce tries candidates in order and keeps the first that still causes
// the failure, as delta debugging does, a batch of them at a time.
// cand(cur, pos) returns the candidate at position pos of cur, the
// position to go on from when it fails and when it is kept; ok is false
// past the last position.
func (m *minimizer) reduce(cur Input, pos int, cand func(cur Input, pos int) (c Input, onFail, onKeep int, ok bool)) Input {
	for !m.out() {
		// A failure that leaves a target dead is tried one candidate at a
		// time: each may kill it.
		limit := m.e.cfg.Parallel
		if m.f.Dead {
			limit = 1
		}
		var cs []Input
		var keep []int
		p := pos
		for len(cs) < limit {
			c, onFail, onKeep, ok := cand(cur, p)
			if !ok {
				break
			}
			if c.Size() == cur.Size() && len(c.Steps) == len(cur.Steps) {
				p = onFail // no smaller: not a candidate
				continue
			}
			cs, keep, p = append(cs, c), append(keep, onKeep), onFail
		}
		if len(cs) == 0 {
			break
		}
		j := m.first(cs)
		if j < 0 {
			pos = p
			continue
		}
		cur, pos = cs[j], keep[j]
	}
	return cur
}

// minimize shrinks in while it still causes f: delta debugging over the
// steps, then over the lines of each step, then over its bytes, within
// the budget of tries and time. It reports false when in does not cause f
// again at all (a flaky finding).
func (e *engine) minimize(in Input, f failure) (Input, int, bool) {
	m := &minimizer{e: e, f: f, deadline: time.Now().Add(e.cfg.MinimizeBudget)}
	if !e.judgeable(f) {
		e.res.Notes = append(e.res.Notes, fmt.Sprintf("%s finding kept as found: %s cannot be restarted to minimize it", f.Oracle, strings.Join(f.Targets, ", ")))
		return in, 0, true
	}
	if m.first([]Input{in}) != 0 {
		return in, m.tries, m.stopped
	}
	cur := in.Clone()
	cur = m.reduce(cur, len(cur.Steps)-1, func(cur Input, i int) (Input, int, int, bool) {
		if i < 0 || i >= len(cur.Steps) || len(cur.Steps) < 2 {
			return Input{}, 0, 0, false
		}
		return Input{Steps: append(append([]Step(nil), cur.Steps[:i]...), cur.Steps[i+1:]...)}, i - 1, i - 1, true
	})
	for i := range cur.Steps {
		if bytes.Count(cur.Steps[i].Data, []byte("\n")) < 2 {
			continue
		}
		cur = m.reduce(cur, 0, func(cur Input, k int) (Input, int, int, bool) {
			lines := bytes.SplitAfter(cur.Steps[i].Data, []byte("\n"))
			if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
				lines = lines[:n-1]
			}
			if k >= len(lines) || len(lines) < 2 {
				return Input{}, 0, 0, false
			}
			c := cur.Clone()
			c.Steps[i].Data = bytes.Join(append(lines[:k:k], lines[k+1:]...), nil)
			return c, k + 1, k, true
		})
	}
	for i := range cur.Steps {
		// Text keeps its words: bytes go sixteen at a time at least.
		least := 1
		if bytes.IndexByte(cur.Steps[i].Data, '\n') >= 0 {
			least = 16
		}
		for chunk := len(cur.Steps[i].Data) / 2; chunk >= least && !m.out(); chunk /= 2 {
			// Bound the tries per level: a 64 KiB message is shrunk by
			// big chunks only.
			if len(cur.Steps[i].Data)/chunk > 256 {
				break
			}
			cur = m.reduce(cur, 0, func(cur Input, off int) (Input, int, int, bool) {
				data := cur.Steps[i].Data
				if off >= len(data) {
					return Input{}, 0, 0, false
				}
				c := cur.Clone()
				end := min(off+chunk, len(data))
				c.Steps[i].Data = append(append([]byte(nil), data[:off]...), data[end:]...)
				return c, off + chunk, off, true
			})
		}
	}
	return cur, m.tries, true
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
