package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/netutil/netutiltest"
)

// lineServer is a loopback uppercase-line server for the engine's tests:
// reply turns each request line into its reply (nil: no reply).
type lineServer struct {
	l     net.Listener
	reply func(n int64, line []byte) []byte
	n     atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startLineServer(t *testing.T, reply func(n int64, line []byte) []byte) *lineServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineServer{l: l, reply: reply}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					c.SetDeadline(time.Now().Add(10 * time.Second))
					line, err := r.ReadSlice('\n')
					if err != nil {
						return
					}
					if out := s.reply(s.n.Add(1), line); out != nil {
						if _, err := c.Write(out); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func upper(line []byte) []byte { return bytes.ToUpper(line) }

// lineClient is the toy load client of the engine's tests, so that they
// depend on no protocol's rooms: it sends numbered lines and wants each
// back in upper case, through the same Stream and FIFO as the real
// stream clients.
type lineClient struct{ addr string }

func newLineClient(t *testing.T, addr string) *lineClient {
	t.Helper()
	return &lineClient{addr: addr}
}

func (p *lineClient) Name() string { return "line" }

func (p *lineClient) Dial(ctx context.Context, timeout time.Duration) (Conn, error) {
	s, err := DialStream(ctx, TCP(p.addr), timeout)
	if err != nil {
		return nil, err
	}
	return &lineConn{Stream: s}, nil
}

type lineConn struct {
	*Stream
	q FIFO
	n int32
}

func (c *lineConn) Send(at int64) error {
	c.n++
	c.Out = fmt.Appendf(c.Out, "line %d of the load\n", c.n)
	c.q.Push(Pending{At: at, Idx: c.n})
	return nil
}

func (c *lineConn) Recv(wake int64) (int64, error) {
	if c.q.Len() == 0 {
		return 0, ErrNothingPending
	}
	for {
		buf := c.Buffered()
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			p := c.q.Pop()
			line := string(buf[:i+1])
			c.Consume(i + 1)
			if want := fmt.Sprintf("LINE %d OF THE LOAD\n", p.Idx); line != want {
				return p.At, BadResponse("expected %q, got %q", want, line)
			}
			return p.At, nil
		}
		switch err := c.Fill(c.q.Front().At, wake); err {
		case nil, ErrWaitAgain:
		case ErrWake:
			return 0, err
		default:
			return c.q.Front().At, err
		}
	}
}

func (c *lineConn) Reusable() bool { return true }

// stallOnce answers in upper case, but holds the reply to request number
// `at` for `stall`.
func stallOnce(at int64, stall time.Duration) func(int64, []byte) []byte {
	return func(n int64, line []byte) []byte {
		if n == at {
			time.Sleep(stall)
		}
		return upper(line)
	}
}

// TestOpenLoopShowsStall is the coordinated-omission test: the server
// stalls one response for a second. Measured from the intended send times
// (open loop), every request scheduled on that connection during the stall
// waits for it, so the stall reaches p99; a closed loop records it once,
// as the max, and its p99 stays small.
func TestOpenLoopShowsStall(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 4 s")
	}
	const stall = time.Second
	s := startLineServer(t, stallOnce(100, stall))
	open, err := Run(context.Background(), Config{
		Protocol: newLineClient(t, s.l.Addr().String()), Connections: 4, Rate: 400, Duration: 2500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	p99 := time.Duration(open.Latency.ValueAtQuantile(99))
	t.Logf("open loop: %d ok, errors %v, p50 %v p99 %v max %v", open.Completed, open.Errors,
		time.Duration(open.Latency.ValueAtQuantile(50)), p99, time.Duration(open.Latency.Max()))
	if open.ErrorCount() != 0 {
		t.Errorf("open loop: errors %v", open.Errors)
	}
	if p99 < stall/2 {
		t.Errorf("open loop p99 = %v, want >= %v: the stall is hidden (coordinated omission)", p99, stall/2)
	}
	// Only the stalled connection's requests wait: about a quarter of a
	// second's worth of the 1000 requests, not all of them.
	if p50 := time.Duration(open.Latency.ValueAtQuantile(50)); p50 > stall/4 {
		t.Errorf("open loop p50 = %v: every request was slow, not just those behind the stall", p50)
	}
	if open.Completed < 800 {
		t.Errorf("open loop completed %d requests, want about 1000", open.Completed)
	}

	s2 := startLineServer(t, stallOnce(100, stall))
	closed, err := Run(context.Background(), Config{
		Protocol: newLineClient(t, s2.l.Addr().String()), Connections: 4, Duration: 1500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	cp99, cmax := time.Duration(closed.Latency.ValueAtQuantile(99)), time.Duration(closed.Latency.Max())
	t.Logf("closed loop: %d ok, p99 %v max %v", closed.Completed, cp99, cmax)
	if cmax < stall*9/10 {
		t.Errorf("closed loop max = %v, want the stall (%v) recorded once", cmax, stall)
	}
	if cp99 >= stall/2 {
		t.Errorf("closed loop p99 = %v: expected coordinated omission to hide the stall", cp99)
	}
}

func TestClosedLoopRequests(t *testing.T) {
	s := startLineServer(t, func(_ int64, line []byte) []byte { return upper(line) })
	res, err := Run(context.Background(), Config{
		Protocol: newLineClient(t, s.l.Addr().String()), Connections: 4, Pipeline: 8, Requests: 5000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 5000 || res.ErrorCount() != 0 || res.Sent != 5000 {
		t.Fatalf("completed %d sent %d errors %v, want 5000 and none", res.Completed, res.Sent, res.Errors)
	}
	if got := res.Latency.TotalCount(); got != 5000 {
		t.Errorf("histogram holds %d values, want 5000", got)
	}
	var per int64
	for _, s := range res.PerSecond {
		per += s.Completed
	}
	if res.Elapsed >= time.Second && per > res.Completed {
		t.Errorf("per-second series sums to %d > %d completed", per, res.Completed)
	}
	if res.Connects != 4 {
		t.Errorf("%d connects, want 4", res.Connects)
	}
}

func TestWarmupIsNotRecorded(t *testing.T) {
	s := startLineServer(t, func(_ int64, l []byte) []byte { return upper(l) })
	res, err := Run(context.Background(), Config{
		Protocol: newLineClient(t, s.l.Addr().String()), Connections: 2, Warmup: 300 * time.Millisecond, Requests: 200,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 200 || res.Latency.TotalCount() != 200 {
		t.Fatalf("completed %d, histogram %d, want 200 (warm-up excluded)", res.Completed, res.Latency.TotalCount())
	}
	if served := s.n.Load(); served <= 200 {
		t.Errorf("server saw %d requests: no warm-up happened", served)
	}
}

func TestErrorKinds(t *testing.T) {
	t.Run("bad_response", func(t *testing.T) {
		s := startLineServer(t, func(_ int64, l []byte) []byte { return l }) // echoes, does not uppercase
		res := mustRun(t, Config{Protocol: newLineClient(t, s.l.Addr().String()), Requests: 20})
		if res.Completed != 0 || res.Errors[KindBadResponse] != 20 {
			t.Fatalf("completed %d errors %v, want 20 bad responses", res.Completed, res.Errors)
		}
		if res.Connects < 20 {
			t.Errorf("%d connects: a stream out of step must be dropped after a bad response", res.Connects)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		s := startLineServer(t, func(int64, []byte) []byte { return nil })
		res := mustRun(t, Config{Protocol: newLineClient(t, s.l.Addr().String()), Connections: 2, Timeout: 100 * time.Millisecond, Duration: 550 * time.Millisecond})
		if res.Completed != 0 || res.Errors[KindTimeout] < 4 || len(res.Errors) != 1 {
			t.Fatalf("completed %d errors %v, want only timeouts (about 10)", res.Completed, res.Errors)
		}
	})
	t.Run("timeout_longer_than_run", func(t *testing.T) {
		// Outstanding at the end is timed out, not forgotten: it once
		// read "0 ok, 0 errors".
		s := startLineServer(t, func(int64, []byte) []byte { return nil })
		res := mustRun(t, Config{Protocol: newLineClient(t, s.l.Addr().String()), Connections: 2, Timeout: 300 * time.Millisecond, Duration: 100 * time.Millisecond})
		if res.Completed != 0 || res.Errors[KindTimeout] < 2 {
			t.Fatalf("completed %d errors %v, want the outstanding requests timed out", res.Completed, res.Errors)
		}
	})
	t.Run("refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		res := mustRun(t, Config{Protocol: newLineClient(t, addr), Requests: 5})
		if res.Completed != 0 || res.Errors[KindRefused] != 5 {
			t.Fatalf("completed %d errors %v, want 5 refused", res.Completed, res.Errors)
		}
	})
	t.Run("reset", func(t *testing.T) {
		addr := netutiltest.ServeTCP(t, func(c net.Conn) {
			c.Read(make([]byte, 100))
			c.(*net.TCPConn).SetLinger(0)
		})
		res := mustRun(t, Config{Protocol: newLineClient(t, addr), Requests: 10})
		if res.Completed != 0 || res.Errors[KindReset] == 0 {
			t.Fatalf("completed %d errors %v, want resets", res.Completed, res.Errors)
		}
	})
}

func mustRun(t *testing.T, cfg Config) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCancelStopsRun(t *testing.T) {
	s := startLineServer(t, func(int64, []byte) []byte { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Config{Protocol: newLineClient(t, s.l.Addr().String()), Connections: 3, Duration: time.Minute, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("run took %v after its context ended", d)
	}
}

func TestConfigErrors(t *testing.T) {
	p := newLineClient(t, "127.0.0.1:1")
	for _, cfg := range []Config{
		{Protocol: p},
		{Protocol: nil, Duration: time.Second},
		{Protocol: p, Duration: time.Second, Rate: -1},
		{Protocol: p, Duration: time.Second, Pipeline: 5000},
		{Protocol: p, Duration: -time.Second},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) accepted a bad config", cfg)
		}
	}
}
