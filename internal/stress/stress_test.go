package stress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
)

// lineServer is a toy line echo server. With limit > 0 it dies as a
// server whose accept loop gives up at its descriptor limit does: once
// limit connections are open at once, it closes its listener and every
// connection.
type lineServer struct {
	ln    net.Listener
	limit int
	open  atomic.Int64
	mu    sync.Mutex
	conns []net.Conn
	dead  atomic.Bool
	wg    sync.WaitGroup
}

func startLineServer(t *testing.T, limit int) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineServer{ln: ln, limit: limit}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

func (s *lineServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		if n := s.open.Add(1); s.limit > 0 && n >= int64(s.limit) {
			s.dead.Store(true)
			s.close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.open.Add(-1)
			defer c.Close()
			r := bufio.NewReaderSize(c, 512)
			for {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if _, err := c.Write(line); err != nil {
					return
				}
			}
		}()
	}
}

func (s *lineServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

// probeLine is the toy protocol's legitimate client.
func probeLine(ctx context.Context, _, addr string) error {
	var d dial.Dialer
	c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "ping\n" {
		return fmt.Errorf("answered %q", line)
	}
	return nil
}

const toy = "toy-line"

var registerToy sync.Once

func toyOptions(t *testing.T, s *lineServer) Options {
	registerToy.Do(func() {
		Register(toy, Battery{
			Attacks: []Attack{ConnFlood("line/tcp", nil), Slowloris("line/tcp", 16, 20*time.Millisecond, []byte("pi"), []byte("n"))},
			Probe:   probeLine,
		})
	})
	target := &targets.Static{TargetName: "toy", Kind: targets.KindAddress,
		Endpoints: map[string]targets.Endpoint{"line/tcp": {Network: "tcp", Addr: s.ln.Addr().String()}}}
	return Options{
		Protocol:   toy,
		Target:     target,
		Duration:   time.Second,
		Conns:      200,
		Step:       time.Second,
		ProbeEvery: 20 * time.Millisecond,
		MaxLatency: time.Second,
		Recover:    time.Second,
	}
}

func runToy(t *testing.T, o Options) reports.Spec {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Specs) != 1 {
		t.Fatalf("%d specs, want 1", len(run.Specs))
	}
	return run.Specs[0]
}

// TestFloodKillsFragileServer: a server that dies at 50 connections must
// fail the connection flood, with the legitimate client's failures as the
// reason.
func TestFloodKillsFragileServer(t *testing.T) {
	s := startLineServer(t, 50)
	o := toyOptions(t, s)
	o.Attacks = []string{"connection-flood"}
	sp := runToy(t, o)
	if sp.State != reports.StateFailed {
		t.Fatalf("state %s, want failed; message:\n%s", sp.State, sp.Message)
	}
	if !s.dead.Load() {
		t.Error("the fragile server did not die, yet the attack failed")
	}
	if sp.Figures["probe_success_ratio"] >= 0.9 || sp.Figures["connections_opened"] < 49 {
		t.Errorf("figures %v: want the flood to open about 50 connections and most probes to fail", sp.Figures)
	}
	if sp.ID != toy+"/stress/connection-flood" {
		t.Errorf("ID %q", sp.ID)
	}
}

// TestFloodHeldByRobustServer: a server with a goroutine per connection
// and no limit holds 200 idle connections and keeps serving.
func TestFloodHeldByRobustServer(t *testing.T) {
	s := startLineServer(t, 0)
	o := toyOptions(t, s)
	o.Attacks = []string{"connection-flood"}
	sp := runToy(t, o)
	if sp.State != reports.StatePassed {
		t.Fatalf("state %s, want passed; message:\n%s", sp.State, sp.Message)
	}
	if sp.Figures["connections_opened"] != 200 || sp.Figures["probes"] < 1 {
		t.Errorf("figures %v: want 200 connections held and probes made", sp.Figures)
	}
}

// TestSlowlorisHeld: the robust server keeps serving while 16
// connections trickle a line that never ends.
func TestSlowlorisHeld(t *testing.T) {
	s := startLineServer(t, 0)
	o := toyOptions(t, s)
	o.Attacks = []string{"slowloris"}
	sp := runToy(t, o)
	if sp.State != reports.StatePassed || sp.Figures["bytes_trickled"] < 16 {
		t.Fatalf("state %s, figures %v, want passed with bytes trickled; message:\n%s", sp.State, sp.Figures, sp.Message)
	}
}

// TestDeadTargetCannotRun: a target that serves nothing is refused before
// any attack, so nothing passes on silence.
func TestDeadTargetCannotRun(t *testing.T) {
	s := startLineServer(t, 0)
	o := toyOptions(t, s)
	s.close()
	o.Recover = 200 * time.Millisecond
	if _, err := Run(context.Background(), o); err == nil {
		t.Fatal("Run against a dead target returned no error")
	}
}

func TestLoopbackRule(t *testing.T) {
	addr := targets.Info{Kind: targets.KindAddress}
	launcher := targets.Info{Kind: targets.KindLauncher}
	for _, c := range []struct {
		addr   string
		info   targets.Info
		remote bool
		ok     bool
	}{
		{"127.0.0.1:80", addr, false, true},
		{"[::1]:53", addr, false, true},
		{"localhost:80", addr, false, true},
		{"192.0.2.1:80", addr, false, false},
		{"192.0.2.1:80", addr, true, true},
		{"192.0.2.1:80", launcher, true, false},
	} {
		err := allowed(dial.Endpoint{Network: "tcp", Addr: c.addr}, c.info, c.remote)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrNotLoopback)) {
			t.Errorf("allowed(%s, %s, remote %v) = %v, want ok %v", c.addr, c.info.Kind, c.remote, err, c.ok)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	for spec, ok := range map[string]bool{
		"127.0.0.1:80": true, "tcp://[::1]:53,udp://127.0.0.1:53": true,
		"192.0.2.1:80": false, "dns/udp=127.0.0.1:53,dns/tcp=192.0.2.1:53": false,
	} {
		if err := CheckTarget(spec, false); (err == nil) != ok {
			t.Errorf("CheckTarget(%q) = %v, want ok %v", spec, err, ok)
		}
	}
	if err := CheckTarget("192.0.2.1:80", true); err != nil {
		t.Errorf("CheckTarget with remote allowed: %v", err)
	}
}

func TestSelect(t *testing.T) {
	b := Battery{Attacks: []Attack{ConnFlood("a/tcp", nil), SlowReader("a/tcp", 1, 1024, []byte("x"))}}
	got, err := b.Select([]string{"slow-reader"})
	if err != nil || len(got) != 1 || got[0].Name() != "slow-reader" {
		t.Errorf("Select(slow-reader) = %v, %v", got, err)
	}
	if _, err := b.Select([]string{"nope"}); err == nil {
		t.Error("Select(nope) gave no error")
	}
}

// TestAmplificationJudged: a reflector that answers 100 bytes to every
// 10-byte datagram has a factor of 10, which fails a bound of 5.
func TestAmplificationJudged(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		big := make([]byte, 100)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(big, from)
		}
	}()
	a := Amplification("r/udp", 5, [][]byte{make([]byte, 10)})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	fig, err := a.Run(ctx, dial.Endpoint{Network: "udp", Addr: pc.LocalAddr().String()},
		Budget{Conns: 1, Bytes: 1000, Step: time.Second, Dialer: &dial.Dialer{}})
	if err != nil {
		t.Fatal(err)
	}
	if fig["amplification"] != 10 || a.Judge(fig) == nil {
		t.Errorf("figures %v, judge %v: want factor 10 and a failure", fig, a.Judge(fig))
	}
}

// TestGroupUsage measures a child process in its own process group, as
// a launched server is.
func TestGroupUsage(t *testing.T) {
	if os.Getenv("PROTOSPEC_STRESS_CHILD") == "1" {
		// The child: say so once running, then wait for the parent to
		// close stdin.
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	// The test binary itself is the child, so that it is measured only
	// once it runs (a child sampled between fork and exec has no RSS yet).
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupUsage$")
	cmd.Env = append(os.Environ(), "PROTOSPEC_STRESS_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start the child: %v", err)
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	m := meter{pgid: cmd.Process.Pid}
	r := m.sample()
	if r.RSS <= 0 || r.FDs < 3 {
		t.Errorf("sample of pid %d = %+v, want RSS > 0 and at least 3 descriptors", cmd.Process.Pid, r)
	}
	if r := (meter{pid: cmd.Process.Pid}).sample(); r.RSS <= 0 || r.FDs < 3 {
		t.Errorf("sample of process %d = %+v, want RSS > 0 and at least 3 descriptors", cmd.Process.Pid, r)
	}
	if r := (meter{}).sample(); r.RSS != -1 || r.FDs != -1 {
		t.Errorf("address target sample = %+v, want not measured", r)
	}
}
