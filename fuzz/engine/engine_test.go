package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// lineModel is the toy protocol of the engine's own tests, so that they
// depend on no real protocol: every LF-terminated line sent on line/tcp is
// answered with one line, "OK" or "NO".
type lineModel struct{}

const lineService = "line/tcp"

func init() { Register("line", func() Model { return lineModel{} }) }

func (lineModel) Name() string       { return "line" }
func (lineModel) Services() []string { return []string{lineService} }

func (lineModel) Seeds() []Input {
	st := func(conn int, s string) Step { return Step{Service: lineService, Conn: conn, Data: []byte(s)} }
	return []Input{
		{Steps: []Step{st(0, "hello\n")}},
		{Steps: []Step{st(0, "first\n"), st(0, "second\n")}},
		{Steps: []Step{st(0, "a\n"), st(1, "b\n")}},
		{Steps: []Step{st(0, "x={{v}}\n")}},
	}
}

func (lineModel) Probe() Input {
	return Input{Steps: []Step{{Service: lineService, Data: []byte("probe\n")}}}
}

func (lineModel) NewSession(string) Session                     { return &lineSession{} }
func (lineModel) Render(st Step, vars map[string]string) []byte { return RenderTemplate(st.Data, vars) }
func (lineModel) SeedStep(data []byte) Step                     { return Step{Service: lineService, Data: data} }

func (lineModel) Mutate(r *rand.Rand, in *Input, i int) string {
	st := &in.Steps[i]
	switch r.IntN(3) {
	case 0:
		n := []int{0, 1, 50, 99, 100, 101, 200, 1000}[r.IntN(8)]
		st.Data = append(bytes.Repeat([]byte{byte('a' + r.IntN(26))}, n), '\n')
		return "line-length"
	case 1:
		st.Data = append(bytes.Clone(st.Data), st.Data...)
		return "double"
	default:
		if len(st.Data) == 0 {
			return ""
		}
		b := bytes.Clone(st.Data)
		b[r.IntN(len(b))] = "\n\x00z"[r.IntN(3)]
		st.Data = b
		return "byte"
	}
}

// lineSession owes one answer per LF sent and accepts "OK" or "NO" lines.
type lineSession struct{}

func (*lineSession) Sent(data []byte) (int, bool) { return bytes.Count(data, []byte("\n")), true }

func (*lineSession) Parse(buf []byte, closed bool) ([]Response, int, error) {
	var out []Response
	used := 0
	for {
		i := bytes.IndexByte(buf[used:], '\n')
		if i < 0 {
			break
		}
		line := string(buf[used : used+i])
		if line != "OK" && line != "NO" {
			return out, used, fmt.Errorf("answer %q is neither OK nor NO", Excerpt(buf[used:used+i], 40))
		}
		out = append(out, Response{Class: line, Vars: map[string]string{"v": strconv.Itoa(used)}})
		used += i + 1
	}
	if closed && used < len(buf) {
		return out, used, fmt.Errorf("stream closed inside an answer: %q", Excerpt(buf[used:], 40))
	}
	return out, used, nil
}

// lineServer is a deliberately fragile server of the toy protocol: a line
// longer than limit bytes makes it close the connection and stop
// accepting, as if it had crashed. Otherwise it answers every line with
// answer.
type lineServer struct {
	l      net.Listener
	limit  int
	answer string
	wg     sync.WaitGroup
}

func startLineServer(answer string, limit int) (*lineServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return serveLines(l, answer, limit), nil
}

// serveLines serves the toy protocol on l.
func serveLines(l net.Listener, answer string, limit int) *lineServer {
	s := &lineServer{l: l, limit: limit, answer: answer}
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
	return s
}

func (s *lineServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(line)-1 > s.limit {
			s.l.Close()
			return
		}
		if _, err := io.WriteString(c, s.answer+"\n"); err != nil {
			return
		}
	}
}

func (s *lineServer) close() error {
	err := s.l.Close()
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// lineTarget starts a fresh line server each time it is opened: a
// launcher, as far as the engine can tell, which restarts a dead one.
func lineTarget(name, answer string, limit int) TargetSpec {
	return TargetSpec{Name: name, Open: func(context.Context) (targets.Target, error) {
		s, err := startLineServer(answer, limit)
		if err != nil {
			return nil, err
		}
		return &targets.Static{TargetName: name, Kind: targets.KindLauncher,
			Endpoints: map[string]targets.Endpoint{lineService: {Network: "tcp", Addr: s.l.Addr().String()}},
			OnClose:   s.close}, nil
	}}
}

// crashTarget dies on a line longer than 100 bytes; steadyTarget does not.
func crashTarget() TargetSpec  { return lineTarget("crashy", "OK", 100) }
func steadyTarget() TargetSpec { return lineTarget("steady", "OK", 1<<20) }

// TestCrashFoundMinimizedReplayed is the engine's meta-test: a server that
// dies on a long line must give a liveness finding whose minimized
// reproducer, replayed against a fresh instance, kills it again, and that
// does not fail against a server without the bug.
func TestCrashFoundMinimizedReplayed(t *testing.T) {
	out := t.TempDir()
	ctx := context.Background()
	res, err := Run(ctx, Config{
		Model: lineModel{}, Targets: []TargetSpec{crashTarget()},
		Seed: 1, Execs: 3000, Duration: 30 * time.Second, StopAfter: 1, OutDir: out,
		Timing: Timing{Deadline: time.Second}, MinimizeBudget: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 {
		t.Fatalf("no finding in %d execs against a server that dies on a long line", res.Execs)
	}
	f := res.Findings[0]
	t.Logf("found after %d execs: %s; minimized %d->%d bytes; %s", f.Exec, f.Detail, f.OrigBytes, f.Input.Size(), f.Command)
	if f.Oracle != OracleLiveness {
		t.Fatalf("finding oracle = %s, want %s (%s)", f.Oracle, OracleLiveness, f.Detail)
	}
	if f.ID != "fuzz/line/liveness/1" {
		t.Errorf("finding ID = %s", f.ID)
	}
	if len(f.Input.Steps) != 1 {
		t.Errorf("minimized input has %d steps, want 1", len(f.Input.Steps))
	}
	// The smallest input that kills it is one line of 101 bytes and its
	// LF: allow some slack.
	if sz := f.Input.Size(); sz > 140 || sz < 102 {
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
	if tr := f.Transcript(); !strings.Contains(tr, "send") {
		t.Errorf("finding transcript has no send event:\n%s", tr)
	}

	rr, err := Replay(ctx, f.Dir, []TargetSpec{crashTarget()}, Timing{Deadline: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Reproduced {
		t.Fatalf("replay against a fresh instance did not reproduce: %+v", rr.Observations)
	}
	rr, err = Replay(ctx, f.Dir, []TargetSpec{steadyTarget()}, Timing{Deadline: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Reproduced {
		t.Fatalf("replay against a server without the bug reproduced it: %+v", rr.Observations)
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

// TestSteadyClean fuzzes a server without the bug briefly: nothing must
// be found, and every seed reaches a state of its own.
func TestSteadyClean(t *testing.T) {
	res, err := Run(context.Background(), Config{
		Model: lineModel{}, Targets: []TargetSpec{steadyTarget()},
		Seed: 7, Execs: 300, Duration: 20 * time.Second, Timing: Timing{Deadline: 2 * time.Second},
		NoMinimize: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		t.Errorf("finding on a correct server: %s %s: %s\n%s", f.Oracle, f.State, f.Detail, f.Transcript())
	}
	if res.Execs < 300 {
		t.Errorf("only %d execs", res.Execs)
	}
	if res.States < 2 {
		t.Errorf("only %d states reached", res.States)
	}
}

// TestRepeatable checks that the same seed sends the same inputs to the
// same target, and another seed other inputs.
func TestRepeatable(t *testing.T) {
	digest := func(seed uint64) string {
		h := sha256.New()
		_, err := Run(context.Background(), Config{
			Model: lineModel{}, Targets: []TargetSpec{steadyTarget()},
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

// TestDifferential runs two targets that disagree on every answer: the
// difference must be found, and a benign rule must silence it.
func TestDifferential(t *testing.T) {
	a := lineTarget("steady", "OK", 1<<20)
	b := lineTarget("other", "NO", 1<<20)
	cfg := Config{Model: lineModel{}, Targets: []TargetSpec{a, b}, Seed: 2, Execs: 40,
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
	if diff == nil || !strings.Contains(diff.Detail, "class: steady gave OK, other gave NO") {
		t.Fatalf("no OK/NO difference found: %+v", res.Findings)
	}
	rules, err := ParseBenign(strings.NewReader("# the other one always says no\nother,steady class NO OK\n"))
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

// TestRegister checks the model registry: a registered model is found by
// its name, a name registered twice or a model that names itself otherwise
// panics, and an unknown name's error lists the known ones.
func TestRegister(t *testing.T) {
	m, err := LookupModel("line")
	if err != nil || m.Name() != "line" {
		t.Fatalf("LookupModel(line) = %v, %v", m, err)
	}
	if !slices.Contains(ModelNames(), "line") {
		t.Errorf("ModelNames() = %v lacks line", ModelNames())
	}
	if _, err := LookupModel("nope"); err == nil || !strings.Contains(err.Error(), "line") {
		t.Errorf("LookupModel(nope) error %v does not list the known models", err)
	}
	for name, f := range map[string]func(){
		"twice":    func() { Register("line", func() Model { return lineModel{} }) },
		"misnamed": func() { Register("other", func() Model { return lineModel{} }) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			f()
		}()
	}
}

// greedySession claims more bytes than it was given.
type greedySession struct{ lineSession }

func (*greedySession) Parse(buf []byte, _ bool) ([]Response, int, error) {
	return nil, len(buf) + 1, nil
}

type greedyModel struct{ lineModel }

func (greedyModel) NewSession(string) Session { return &greedySession{} }

func TestCheckModel(t *testing.T) {
	if err := CheckModel(lineModel{}, []byte("a\nb"), []byte("OK\nNO\nx"), 1); err != nil {
		t.Errorf("CheckModel(lineModel): %v", err)
	}
	if err := CheckModel(greedyModel{}, []byte("a\n"), []byte("OK\n"), 1); err == nil {
		t.Error("CheckModel accepted a session whose Parse uses more bytes than it got")
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
