package http1fuzz

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/fuzz/engine/enginetest"
	contract "github.com/protospec/protospec/internal/http1"
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
func crashTarget(status string) engine.TargetSpec {
	return engine.TargetSpec{Name: "crashy", Open: func(context.Context) (targets.Target, error) {
		s, err := startCrashServer(status)
		if err != nil {
			return nil, err
		}
		return &targets.Static{TargetName: "crashy", Kind: targets.KindAddress,
			Endpoints: map[string]targets.Endpoint{"http/tcp": {Network: "tcp", Addr: s.l.Addr().String()}},
			OnClose:   s.close}, nil
	}}
}

// referenceTarget opens the reference implementation of the protocol.
func referenceTarget() engine.TargetSpec { return enginetest.ReferenceTarget(contract.Name) }

// TestReferenceClean fuzzes the reference server briefly: nothing must be
// found, and every seed reaches a state.
func TestReferenceClean(t *testing.T) { enginetest.ReferenceClean(t, httpModel{}, contract.Name) }

// TestRegistered checks the model is registered under the contract's name.
func TestRegistered(t *testing.T) { enginetest.Registered[httpModel](t, contract.Name) }

// FuzzModel feeds arbitrary bytes to the model's sessions, as what was sent
// and what came back, and to its mutator: nothing may panic, and Parse may
// never claim more bytes than it was given.
func FuzzModel(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), uint64(1))
	f.Add([]byte("HEAD / HTTP/1.1\nHost: a\n\n"), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), uint64(2))
	f.Fuzz(func(t *testing.T, sent, got []byte, seed uint64) {
		if err := engine.CheckModel(httpModel{}, sent, got, seed); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCrashFoundMinimizedReplayed is the engine's meta-test: a server that
// dies on a long header line must give a liveness finding whose minimized
// reproducer, replayed against a fresh instance, kills it again, and that
// does not fail against a server without the bug.
func TestCrashFoundMinimizedReplayed(t *testing.T) {
	out := t.TempDir()
	ctx := context.Background()
	res, err := engine.Run(ctx, engine.Config{
		Model: httpModel{}, Targets: []engine.TargetSpec{crashTarget("200 OK")},
		Seed: 1, Execs: 3000, Duration: 30 * time.Second, StopAfter: 1, OutDir: out,
		Timing: engine.Timing{Deadline: time.Second}, MinimizeBudget: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 {
		t.Fatalf("no finding in %d execs against a server that dies on a long header line", res.Execs)
	}
	f := res.Findings[0]
	t.Logf("found after %d execs: %s; minimized %d->%d bytes; %s", f.Exec, f.Detail, f.OrigBytes, f.Input.Size(), f.Command)
	if f.Oracle != engine.OracleLiveness {
		t.Fatalf("finding oracle = %s, want %s (%s)", f.Oracle, engine.OracleLiveness, f.Detail)
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

	rr, err := engine.Replay(ctx, f.Dir, []engine.TargetSpec{crashTarget("200 OK")}, engine.Timing{Deadline: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Reproduced {
		t.Fatalf("replay against a fresh instance did not reproduce: %+v", rr.Observations)
	}
	rr, err = engine.Replay(ctx, f.Dir, []engine.TargetSpec{referenceTarget()}, engine.Timing{Deadline: time.Second})
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

// TestDifferential runs two targets that disagree on every status: the
// difference must be found, and a benign rule must silence it.
func TestDifferential(t *testing.T) {
	a := crashTarget("200 OK")
	b := crashTarget("404 Not Found")
	b.Name = "other"
	cfg := engine.Config{Model: httpModel{}, Targets: []engine.TargetSpec{a, b}, Seed: 2, Execs: 40,
		NoMinimize: true, Timing: engine.Timing{Deadline: time.Second, Quiet: 5 * time.Millisecond}}
	res, err := engine.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var diff *engine.Finding
	for _, f := range res.Findings {
		if f.Oracle == engine.OracleDifferential {
			diff = f
			break
		}
	}
	if diff == nil || !strings.Contains(diff.Detail, "class: crashy gave 2xx, other gave 4xx") {
		t.Fatalf("no 2xx/4xx difference found: %+v", res.Findings)
	}
	rules, err := engine.ParseBenign(strings.NewReader("# the other one is always 404\nother,crashy class 4xx 2xx\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Benign = rules
	res, err = engine.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Oracle == engine.OracleDifferential && strings.Contains(f.Detail, "class:") {
			t.Errorf("benign rule did not silence %s", f.Detail)
		}
	}
}

var (
	toolForTest   = reports.Tool{Name: "protospec", Version: "test"}
	targetForTest = reports.Target{Name: "crashy", Kind: targets.KindAddress}
)

func TestHTTPResponseGrammar(t *testing.T) {
	for _, c := range []struct {
		resp string
		ok   bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true},
		{"HTTP/1.1 204 \r\n\r\n", true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", true},
		{"HTTP/1.1 200\r\n\r\n", false},
		{"HTTP/1.1 2000 OK\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false}, // cut by the close
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false},
	} {
		s := &httpSession{}
		s.Sent([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
		resps, _, err := s.Parse([]byte(c.resp), true)
		if c.ok && (err != nil || len(resps) != 1) {
			t.Errorf("%q: %d answers, %v; want one, no error", c.resp, len(resps), err)
		}
		if !c.ok && err == nil {
			t.Errorf("%q: no grammar error", c.resp)
		}
	}
}

// TestHTTPHeadThen09 is nginx's answer to a HEAD with a Content-Length
// the model is unsure of, then to a request-line without a version: the
// 404's head, then a bare HTML body to the close. That is an HTTP/0.9
// answer after the HEAD's, not a body of 153 bytes and a cut head.
func TestHTTPHeadThen09(t *testing.T) {
	s := &httpSession{}
	s.Sent([]byte("HEAD /session HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1 \r\n\r\n"))
	s.Sent([]byte("GET /session \r\nGET /session HTTP/1.1\r\nHost: x\r\n\r\n"))
	head := "HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 153\r\nConnection: keep-alive\r\n\r\n"
	body := "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
	resps, _, err := s.Parse([]byte(head+body), true)
	if err != nil || len(resps) != 2 || resps[1].Class != "0.9" {
		t.Errorf("answers %+v, %v; want a 404 and an HTTP/0.9 answer", resps, err)
	}
}

func TestHTTPRequestCount(t *testing.T) {
	for _, c := range []struct {
		sent string
		n    int
		sure bool
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, true},
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 2, true},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab", 0, false},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", 1, true},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1, false},
		{"GET / HTTP/1.1\nHost: a\n\n", 1, false},
		{"GET / HTTP/1.1\r\n\r\n", 1, false}, // no Host
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, true},
	} {
		s := &httpSession{}
		n, sure := s.Sent([]byte(c.sent))
		if n != c.n || sure != c.sure {
			t.Errorf("%q: %d requests, sure %v; want %d, %v", c.sent, n, sure, c.n, c.sure)
		}
	}
}
