package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
	_ "github.com/protospec/protospec/targets/reference"
)

// crashServer is a deliberately fragile HTTP/1.1 server: the first header
// line longer than 100 bytes makes it close the connection and stop
// accepting, as if it had crashed. Otherwise it answers every request with
// a 200 (honouring Content-Length; closing on anything chunked).
type crashServer struct {
	l       net.Listener
	mu      sync.Mutex
	crashed bool
	status  string
	wg      sync.WaitGroup
}

func startCrashServer(status string) (*crashServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &crashServer{l: l, status: status}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	return s, nil
}

func (s *crashServer) crash() {
	s.mu.Lock()
	s.crashed = true
	s.mu.Unlock()
	s.l.Close()
}

func (s *crashServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		first := true
		cl, chunked := 0, false
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			line = bytes.TrimRight(line, "\r\n")
			if len(line) == 0 {
				if first {
					continue
				}
				break
			}
			if !first && len(line) > 100 {
				s.crash()
				return
			}
			if n, v, ok := bytes.Cut(line, []byte(":")); ok && !first {
				switch strings.ToLower(string(n)) {
				case "content-length":
					cl, _ = strconv.Atoi(strings.TrimSpace(string(v)))
				case "transfer-encoding":
					chunked = true
				}
			}
			first = false
		}
		if chunked || cl < 0 || cl > 1<<20 {
			fmt.Fprintf(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		if _, err := br.Discard(cl); err != nil {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 %s\r\nContent-Length: 2\r\n\r\nok", s.status)
	}
}

func (s *crashServer) close() error {
	err := s.l.Close()
	s.wg.Wait()
	return err
}

// crashTarget starts a fresh crash server each time it is opened.
func crashTarget(status string) TargetSpec {
	return TargetSpec{Name: "crashy", Open: func(context.Context) (targets.Target, error) {
		s, err := startCrashServer(status)
		if err != nil {
			return nil, err
		}
		return &targets.Static{TargetName: "crashy", Kind: targets.KindAddress,
			Endpoints: map[string]targets.Endpoint{"http/tcp": {Network: "tcp", Addr: s.l.Addr().String()}},
			OnClose:   s.close}, nil
	}}
}

func referenceTarget(proto string) TargetSpec {
	return TargetSpec{Name: "reference", Open: func(ctx context.Context) (targets.Target, error) {
		return targets.Open(ctx, "reference", targets.Options{Protocol: proto})
	}}
}

func model(t *testing.T, name string) Model {
	t.Helper()
	m, err := LookupModel(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCrashFoundMinimizedReplayed is the engine's meta-test: a server that
// dies on a long header line must give a liveness finding whose minimized
// reproducer, replayed against a fresh instance, kills it again, and that
// does not fail against a server without the bug.
func TestCrashFoundMinimizedReplayed(t *testing.T) {
	out := t.TempDir()
	ctx := context.Background()
	res, err := Run(ctx, Config{
		Model: model(t, "http1"), Targets: []TargetSpec{crashTarget("200 OK")},
		Seed: 1, Execs: 3000, Duration: 30 * time.Second, StopAfter: 1, OutDir: out,
		Timing: Timing{Deadline: time.Second}, MinimizeBudget: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 {
		t.Fatalf("no finding in %d execs against a server that dies on a long header line", res.Execs)
	}
	f := res.Findings[0]
	t.Logf("found after %d execs: %s; minimized %d->%d bytes; %s", f.Exec, f.Detail, f.OrigBytes, f.Input.Size(), f.Command)
	if f.Oracle != OracleLiveness {
		t.Fatalf("finding oracle = %s, want %s (%s)", f.Oracle, OracleLiveness, f.Detail)
	}
	if f.ID != "fuzz/http1/liveness/1" {
		t.Errorf("finding ID = %s", f.ID)
	}
	if len(f.Input.Steps) != 1 {
		t.Errorf("minimized input has %d steps, want 1", len(f.Input.Steps))
	}
	// The smallest input that kills it is one header line of 101 bytes
	// after a request line: allow some slack.
	if sz := f.Input.Size(); sz > 160 || sz < 102 {
		t.Errorf("minimized input is %d bytes: %q", sz, f.Input.Steps[0].Data)
	}
	if !strings.Contains(f.Command, " replay "+f.Dir+" --target crashy") {
		t.Errorf("reproducer command %q", f.Command)
	}
	for _, name := range []string{"finding.json", "step-001.raw", "transcript.txt", "finding.pcapng"} {
		if _, err := os.Stat(filepath.Join(f.Dir, name)); err != nil {
			t.Errorf("finding file: %v", err)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(f.Dir, "step-001.raw"))
	if !bytes.Equal(raw, f.Input.Steps[0].Data) {
		t.Errorf("step-001.raw = %q, want the minimized step %q", raw, f.Input.Steps[0].Data)
	}

	rr, err := Replay(ctx, f.Dir, []TargetSpec{crashTarget("200 OK")}, Timing{Deadline: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Reproduced {
		t.Fatalf("replay against a fresh instance did not reproduce: %+v", rr.Observations)
	}
	rr, err = Replay(ctx, f.Dir, []TargetSpec{referenceTarget("http1")}, Timing{Deadline: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Reproduced {
		t.Fatalf("replay against the reference reproduced a crash it does not have: %+v", rr.Observations)
	}

	run := res.Report(toolForTest, targetForTest, time.Now())
	var failed, passed int
	for _, sp := range run.Specs {
		switch sp.State {
		case "failed":
			failed++
			if !strings.Contains(sp.Message, "reproduce: ") {
				t.Errorf("finding spec message lacks the reproducer: %q", sp.Message)
			}
		case "passed":
			passed++
		}
	}
	if failed != 1 || passed != 2 || run.OK() {
		t.Errorf("report: %d failed, %d passed, OK %v; want 1 failed (liveness), 2 passed (grammar, slow)", failed, passed, run.OK())
	}
}

// TestReferenceClean fuzzes the reference servers briefly: nothing must
// be found.
func TestReferenceClean(t *testing.T) {
	for _, proto := range []string{"echo", "http1", "dns"} {
		t.Run(proto, func(t *testing.T) {
			res, err := Run(context.Background(), Config{
				Model: model(t, proto), Targets: []TargetSpec{referenceTarget(proto)},
				Seed: 7, Execs: 300, Duration: 20 * time.Second, Timing: Timing{Deadline: 2 * time.Second},
				NoMinimize: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d execs in %v (%.0f/s), %d states", proto, res.Execs, res.Elapsed.Round(time.Millisecond), res.ExecsPerSecond(), res.States)
			for _, f := range res.Findings {
				t.Errorf("finding on the reference: %s %s: %s\n%s", f.Oracle, f.State, f.Detail, transcriptText(f.events))
			}
			if res.Execs < 300 {
				t.Errorf("only %d execs", res.Execs)
			}
			if res.States < len(model(t, proto).Seeds()) {
				t.Errorf("only %d states reached", res.States)
			}
		})
	}
}

// TestRepeatable checks that the same seed sends the same inputs to the
// same target, and another seed other inputs.
func TestRepeatable(t *testing.T) {
	digest := func(seed uint64) string {
		h := sha256.New()
		_, err := Run(context.Background(), Config{
			Model: model(t, "echo"), Targets: []TargetSpec{referenceTarget("echo")},
			Seed: seed, Execs: 80, NoMinimize: true,
			inputHook: func(in Input) {
				for _, s := range in.Steps {
					fmt.Fprintf(h, "%s %d %v %q\n", s.Service, s.Conn, s.HalfClose, s.Data)
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", h.Sum(nil))
	}
	a, b, c := digest(3), digest(3), digest(4)
	if a != b {
		t.Errorf("seed 3 gave different inputs on two runs")
	}
	if a == c {
		t.Errorf("seeds 3 and 4 gave the same inputs")
	}
}

// TestDifferential runs two targets that disagree on every status: the
// difference must be found, and a benign rule must silence it.
func TestDifferential(t *testing.T) {
	a := crashTarget("200 OK")
	b := crashTarget("404 Not Found")
	b.Name = "other"
	cfg := Config{Model: model(t, "http1"), Targets: []TargetSpec{a, b}, Seed: 2, Execs: 40,
		NoMinimize: true, Timing: Timing{Deadline: time.Second, Quiet: 5 * time.Millisecond}}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var diff *Finding
	for _, f := range res.Findings {
		if f.Oracle == OracleDifferential {
			diff = f
			break
		}
	}
	if diff == nil || !strings.Contains(diff.Detail, "class: crashy gave 2xx, other gave 4xx") {
		t.Fatalf("no 2xx/4xx difference found: %+v", res.Findings)
	}
	rules, err := ParseBenign(strings.NewReader("# the other one is always 404\nother,crashy class 4xx 2xx\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Benign = rules
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Oracle == OracleDifferential && strings.Contains(f.Detail, "class:") {
			t.Errorf("benign rule did not silence %s", f.Detail)
		}
	}
}

func TestParseBenignErrors(t *testing.T) {
	for _, bad := range []string{"a,b class 4xx", "ab class 4xx 5xx", "a,b kinds 4xx 5xx", "a,b class [ 5xx"} {
		if _, err := ParseBenign(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseBenign(%q) accepted it", bad)
		}
	}
}

var (
	toolForTest   = reports.Tool{Name: "protospec", Version: "test"}
	targetForTest = reports.Target{Name: "crashy", Kind: targets.KindAddress}
)

// TestWatcher checks the crash and memory probes the engine relies on:
// a Static carrying a started process reports it alive with some RSS, and
// dead once it exits.
func TestWatcher(t *testing.T) {
	p, err := targets.StartProcess("sleep", filepath.Join(t.TempDir(), "log"), nil, "sleep", "30")
	if err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	var w targets.Watcher = &targets.Static{TargetName: "sleeper", Proc: p}
	if err := w.Alive(); err != nil {
		t.Fatalf("Alive of a running process: %v", err)
	}
	// Right after the fork the child has not exec'd yet and may show no
	// resident pages of its own: wait until it has.
	var rss int64
	err = p.WaitReady(context.Background(), 5*time.Second, func(context.Context) error {
		var err error
		if rss, err = w.RSS(); err == nil && rss <= 0 {
			err = fmt.Errorf("RSS %d", rss)
		}
		return err
	})
	if err != nil {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := w.Alive(); err == nil {
		t.Fatal("Alive of an exited process is nil")
	}
	if _, err := (&targets.Static{TargetName: "x"}).RSS(); err == nil {
		t.Fatal("RSS of a target without a process is not an error")
	}
}
