package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Protocol opens the connections of one protocol's load client.
type Protocol interface {
	// Name is the protocol's name in reports: its contract's Name.
	Name() string
	// Dial opens one connection (a TCP connection, or a UDP socket) whose
	// requests time out after timeout.
	Dial(ctx context.Context, timeout time.Duration) (Conn, error)
}

// Conn is one connection of a load client. One worker goroutine uses it;
// only Close may be called from another goroutine (to interrupt it).
type Conn interface {
	// Send queues one request whose latency is measured from at (engine
	// clock, see Now).
	Send(at int64) error
	// Flush writes the queued requests.
	Flush() error
	// Recv waits for the next validated response and returns the at of its
	// request. It returns ErrWake when the engine clock passes wake (0: no
	// wake) first, and an error with the request's at when a request failed:
	// a *Error of KindTimeout once a request has been outstanding longer
	// than the timeout, a validation *Error, or a network error. Errors that
	// are not a *Error with Fatal false leave the connection unusable.
	Recv(wake int64) (at int64, err error)
	// Reusable reports whether more requests may be sent on the connection:
	// false once a request asked to close it or a response announced that
	// the server will.
	Reusable() bool
	// Close closes the connection; it may be called more than once.
	Close() error
}

// Batcher is implemented by a Conn that reads answers in batches (UDP
// with recvmmsg): while HasBuffered reports answers read and not yet
// returned by Recv, the engine takes them first and holds its writes, so
// that the requests they free go out in one batch.
type Batcher interface {
	HasBuffered() bool
}

// Config is one load run.
type Config struct {
	Protocol Protocol
	// Connections is the number of connections (or UDP sockets), each
	// driven by its own goroutine; default 1.
	Connections int
	// Pipeline is the number of requests each connection keeps outstanding
	// (HTTP pipelining depth, DNS queries in flight); default 1.
	Pipeline int
	// Rate, when positive, makes the run open loop: Rate requests per second
	// in total, latency measured from each request's intended send time.
	Rate float64
	// Duration and Requests bound the measured part of the run (after
	// Warmup); at least one must be set, and the first reached ends it.
	Duration time.Duration
	Requests int64
	// Warmup is run before measuring; its responses are not recorded.
	Warmup time.Duration
	// Timeout is how long a request may stay unanswered; default 5 s.
	Timeout time.Duration
	// Progress, if set, is called every ProgressEvery (default 1 s) from
	// a goroutine of its own.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Progress is a snapshot of a running load test.
type Progress struct {
	// Elapsed counts from the start of the run, warm-up included.
	Elapsed time.Duration
	// Warmup is set while the warm-up lasts.
	Warmup bool
	// Completed and Errors count the measured requests so far.
	Completed, Errors int64
	// Rate is the completions per second since the previous Progress.
	Rate float64
}

// Result is what a run measured, after warm-up.
type Result struct {
	// Start is when measuring began; Elapsed how long it lasted.
	Start   time.Time
	Elapsed time.Duration
	// Completed counts validated responses; Sent counts requests written
	// (warm-up excluded, so Sent may exceed Completed+errors by the
	// requests still outstanding at the end).
	Completed, Sent int64
	Errors          map[Kind]int64
	// Connects counts successful dials, warm-up included.
	Connects int64
	// Latency holds one value per completed request, in nanoseconds.
	Latency *hdrhistogram.Histogram
	// PerSecond holds completions and errors per second of the measured
	// part.
	PerSecond []Second
	// Mode is "closed" or "open".
	Mode string
}

// Second is one second of a run.
type Second struct{ Completed, Errors int64 }

// ErrorCount returns the number of failed requests.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Throughput returns completed requests per second.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Elapsed.Seconds()
}

// Histogram geometry: 1 ns to one hour, three significant digits.
const (
	histLowest  = 1
	histHighest = int64(time.Hour)
	histDigits  = 3
)

// NewHistogram returns an empty latency histogram of the geometry the
// engine records in (nanoseconds, 1 ns to 1 h, 3 significant digits).
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// DefaultTimeout is the request timeout when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

type engine struct {
	cfg     Config
	open    bool
	start   int64 // engine clock at the start of the run
	measure int64 // engine clock when measuring starts
	end     int64 // engine clock when the run ends (MaxInt64 without a duration)
	stopAt  atomic.Int64
	budget  atomic.Int64
	workers []*worker
	ctx     context.Context
}

type worker struct {
	e         *engine
	id        int
	hist      *hdrhistogram.Histogram
	perSec    []Second
	errs      [7]int64
	sent      int64
	connects  int64
	next      int64 // open loop: intended time of the next request
	interval  int64 // open loop: ns between this worker's requests
	completed atomic.Int64
	failed    atomic.Int64
	mu        sync.Mutex
	conn      Conn // guarded by mu, for interrupting
	_         [64]byte
}

var kindIndex = map[Kind]int{KindTimeout: 0, KindReset: 1, KindRefused: 2, KindClosed: 3, KindBadResponse: 4, KindStatus: 5, KindOther: 6}

// Run runs a load test and returns what it measured. It returns early,
// with what was measured so far, when ctx is done.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Protocol == nil {
		return nil, errors.New("loadgen: no protocol")
	}
	if cfg.Connections == 0 {
		cfg.Connections = 1
	}
	if cfg.Pipeline == 0 {
		cfg.Pipeline = 1
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.Connections < 0 || cfg.Connections > 100000:
		return nil, fmt.Errorf("loadgen: %d connections (want 1..100000)", cfg.Connections)
	case cfg.Pipeline < 0 || cfg.Pipeline > 4096:
		return nil, fmt.Errorf("loadgen: pipeline %d (want 1..4096)", cfg.Pipeline)
	case cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0):
		return nil, fmt.Errorf("loadgen: bad rate %v", cfg.Rate)
	case cfg.Duration < 0 || cfg.Requests < 0 || cfg.Warmup < 0 || cfg.Timeout < 0:
		return nil, errors.New("loadgen: negative duration, request count, warm-up or timeout")
	case cfg.Duration == 0 && cfg.Requests == 0:
		return nil, errors.New("loadgen: set a duration or a request count")
	}
	if cfg.Rate > 0 && cfg.Rate/float64(cfg.Connections) > 1e9 {
		return nil, fmt.Errorf("loadgen: rate %v is too high", cfg.Rate)
	}
	e := &engine{cfg: cfg, open: cfg.Rate > 0, ctx: ctx}
	e.start = Now()
	e.measure = e.start + int64(cfg.Warmup)
	e.end = math.MaxInt64
	if cfg.Duration > 0 {
		e.end = e.measure + int64(cfg.Duration)
	}
	e.stopAt.Store(e.end)
	e.budget.Store(cfg.Requests)
	var wg sync.WaitGroup
	for i := 0; i < cfg.Connections; i++ {
		w := &worker{e: e, id: i, hist: NewHistogram()}
		if e.open {
			w.interval = int64(float64(cfg.Connections) * 1e9 / cfg.Rate)
			if w.interval < 1 {
				w.interval = 1
			}
			w.next = e.start + int64(i)*w.interval/int64(cfg.Connections)
		}
		e.workers = append(e.workers, w)
	}
	for _, w := range e.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	e.monitor(done)
	<-done

	res := &Result{
		Start:   ClockTime(e.measure),
		Errors:  map[Kind]int64{},
		Latency: NewHistogram(),
		Mode:    "closed",
	}
	if e.open {
		res.Mode = "open"
	}
	stop := e.stopAt.Load()
	last := Now()
	if stop < last {
		last = stop
	}
	res.Elapsed = time.Duration(last - e.measure)
	if res.Elapsed < 0 {
		res.Elapsed = 0
	}
	for _, w := range e.workers {
		res.Latency.Merge(w.hist)
		res.Completed += w.completed.Load()
		res.Sent += w.sent
		res.Connects += w.connects
		for k, i := range kindIndex {
			if w.errs[i] > 0 {
				res.Errors[k] += w.errs[i]
			}
		}
		for s, v := range w.perSec {
			for len(res.PerSecond) <= s {
				res.PerSecond = append(res.PerSecond, Second{})
			}
			res.PerSecond[s].Completed += v.Completed
			res.PerSecond[s].Errors += v.Errors
		}
	}
	// A trailing partial second would look like a drop in throughput.
	if n := int(res.Elapsed / time.Second); len(res.PerSecond) > n && n > 0 {
		res.PerSecond = res.PerSecond[:n]
	}
	return res, nil
}

// monitor reports progress and stops the workers when ctx is done.
func (e *engine) monitor(done chan struct{}) {
	every := e.cfg.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	var tick <-chan time.Time
	if e.cfg.Progress != nil {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	var prev int64
	prevAt := Now()
	for {
		select {
		case <-done:
			return
		case <-e.ctx.Done():
			now := Now()
			if now < e.stopAt.Load() {
				e.stopAt.Store(now)
			}
			for _, w := range e.workers {
				w.mu.Lock()
				if w.conn != nil {
					w.conn.Close()
				}
				w.mu.Unlock()
			}
			<-done
			return
		case <-tick:
			now := Now()
			var c, f int64
			for _, w := range e.workers {
				c += w.completed.Load()
				f += w.failed.Load()
			}
			p := Progress{Elapsed: time.Duration(now - e.start), Warmup: now < e.measure, Completed: c, Errors: f}
			if dt := now - prevAt; dt > 0 {
				p.Rate = float64(c-prev) / (float64(dt) / 1e9)
			}
			prev, prevAt = c, now
			e.cfg.Progress(p)
		}
	}
}

// claim takes one request from the budget; false when it is spent.
func (e *engine) claim(at int64) bool {
	if e.cfg.Requests == 0 || at < e.measure {
		return true
	}
	for {
		n := e.budget.Load()
		if n <= 0 {
			return false
		}
		if e.budget.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (e *engine) refund(n int) {
	if e.cfg.Requests > 0 && n > 0 {
		e.budget.Add(int64(n))
	}
}

func (w *worker) setConn(c Conn) {
	w.mu.Lock()
	w.conn = c
	w.mu.Unlock()
}

func (w *worker) run() {
	e := w.e
	depth := e.cfg.Pipeline
	var conn Conn
	outstanding, unflushed := 0, 0
	spent := false
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	drop := func() {
		conn.Close()
		w.setConn(nil)
		conn = nil
		outstanding, unflushed = 0, 0
	}
	for {
		now := Now()
		stop := e.stopAt.Load()
		if now >= stop {
			if conn != nil && outstanding > 0 {
				w.drain(conn, outstanding)
			}
			return
		}
		if spent && outstanding == 0 {
			if e.budget.Load() <= 0 {
				return
			}
			spent = false // requests lost to a closing connection were handed back
		}
		if conn == nil {
			if e.open && w.next > now {
				sleepUntil(w.next, stop)
				continue
			}
			c, err := e.cfg.Protocol.Dial(e.ctx, e.cfg.Timeout)
			if err != nil {
				if e.ctx.Err() != nil {
					return
				}
				at := now
				if e.open {
					at = w.next
					w.next += w.interval
				}
				if !e.claim(at) {
					return
				}
				w.fail(Classify(err), at, Now())
				sleepUntil(Now()+int64(10*time.Millisecond), stop)
				continue
			}
			conn = c
			w.setConn(c)
			w.connects++
		}
		sent := 0
		for !spent && outstanding < depth && conn.Reusable() {
			at := now
			if e.open {
				if w.next > now {
					break
				}
				at = w.next
			}
			if !e.claim(at) {
				spent = true
				break
			}
			if e.open {
				w.next += w.interval
			}
			if err := conn.Send(at); err != nil {
				w.fail(Classify(err), at, Now())
				drop()
				break
			}
			if at >= e.measure {
				w.sent++
			}
			outstanding++
			sent++
		}
		if conn == nil {
			continue
		}
		unflushed += sent
		// When answers are already read, take them first and send what
		// they free in one batch.
		b, batches := conn.(Batcher)
		hold := batches && b.HasBuffered() && outstanding > unflushed
		if !hold && unflushed > 0 {
			unflushed = 0
			if err := conn.Flush(); err != nil {
				if Now() < e.stopAt.Load() {
					w.fail(Classify(err), now, Now())
				}
				e.refund(outstanding - 1)
				drop()
				continue
			}
		}
		if outstanding == 0 {
			if !conn.Reusable() {
				drop()
			}
			// Open loop with nothing in flight: wait for the schedule.
			if e.open && w.next > now {
				sleepUntil(w.next, stop)
			}
			continue
		}
		wake := stop
		if e.open && outstanding < depth && conn.Reusable() && w.next < wake {
			wake = w.next
		}
		at, err := conn.Recv(wake)
		if err == ErrWake {
			continue
		}
		if err != nil {
			if Now() >= e.stopAt.Load() {
				return // interrupted, or the run ended while waiting
			}
			kind := Classify(err)
			if !isFatal(err) {
				outstanding--
				w.fail(kind, at, Now())
				continue
			}
			if (kind == KindClosed || kind == KindReset) && !conn.Reusable() {
				// The server said it would close: what was still in
				// flight was never answered (RFC 9112 9.6; a close with
				// unread requests is a reset), and is sent again.
				e.refund(outstanding)
			} else {
				w.fail(kind, at, Now())
				e.refund(outstanding - 1)
			}
			drop()
			continue
		}
		outstanding--
		w.ok(at, Now())
		if outstanding == 0 && !conn.Reusable() {
			drop()
		}
	}
}

// drain waits, once the run's time is up, for the requests still
// outstanding on conn: each is answered within the request timeout or
// counted as timed out, so that a target that answers nothing shows its
// timeouts even when --duration is shorter than --timeout. An interrupted
// run does not wait.
func (w *worker) drain(conn Conn, outstanding int) {
	e := w.e
	if e.ctx.Err() != nil {
		return
	}
	until := Now() + int64(e.cfg.Timeout) + int64(100*time.Millisecond)
	for outstanding > 0 && e.ctx.Err() == nil {
		at, err := conn.Recv(until)
		if err == ErrWake {
			break
		}
		outstanding--
		if err != nil {
			w.fail(Classify(err), at, Now())
			if isFatal(err) {
				break
			}
			continue
		}
		w.ok(at, Now())
	}
	if e.ctx.Err() != nil {
		return
	}
	// What a dead connection still held was never answered.
	for ; outstanding > 0; outstanding-- {
		w.fail(KindTimeout, e.measure, Now())
	}
}

// sleepUntil sleeps until the engine clock reaches t, or stop.
func sleepUntil(t, stop int64) {
	if stop < t {
		t = stop
	}
	if d := t - Now(); d > 0 {
		time.Sleep(time.Duration(d))
	}
}

func (w *worker) second(now int64) *Second {
	s := int((now - w.e.measure) / int64(time.Second))
	for len(w.perSec) <= s {
		w.perSec = append(w.perSec, Second{})
	}
	return &w.perSec[s]
}

// ok records a validated response to the request sent at at.
func (w *worker) ok(at, now int64) {
	if at < w.e.measure {
		return
	}
	lat := now - at
	if lat < histLowest {
		lat = histLowest
	}
	if lat > histHighest {
		lat = histHighest
	}
	w.hist.RecordValue(lat)
	w.completed.Add(1)
	w.second(now).Completed++
}

// fail records a failed request sent at at.
func (w *worker) fail(kind Kind, at, now int64) {
	if at < w.e.measure {
		return
	}
	i, ok := kindIndex[kind]
	if !ok {
		i = kindIndex[KindOther]
	}
	w.errs[i]++
	w.failed.Add(1)
	w.second(now).Errors++
}
