package main

// Meta-tests: they prove the suites can fail. Each runs the protospec binary
// against a deliberately broken server on loopback and checks that the
// right specs fail, with the bytes seen in the message, that the run ends
// within its deadlines, and that nothing panics.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "protospec-meta-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "protospec")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building protospec: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code   int
	stdout string
	stderr string
	run    *reports.Run
	took   time.Duration
	// maxRSS is the run's peak resident set size in bytes.
	maxRSS int64
}

// protospec runs the binary with args and reads the run's report.json
// when there is one.
func protospec(t *testing.T, args ...string) result {
	t.Helper()
	dir := t.TempDir()
	full := append([]string{}, args...)
	if len(args) > 0 && args[0] == "run" {
		// Not quiet: the tests read the failures and notes printed.
		full = append(full, "--report-dir", dir)
	}
	cmd := exec.Command(binary, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("protospec %s did not end within 3 minutes", strings.Join(args, " "))
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	if strings.Contains(r.stdout+r.stderr, "panic:") || strings.Contains(r.stdout+r.stderr, "goroutine ") {
		t.Fatalf("protospec panicked:\n%s\n%s", r.stdout, r.stderr)
	}
	if run, err := reports.ReadFile(filepath.Join(dir, "report.json")); err == nil {
		r.run = run
	}
	return r
}

func (r result) spec(t *testing.T, id string) reports.Spec {
	t.Helper()
	for _, s := range r.run.Specs {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no spec %s in the report", id)
	return reports.Spec{}
}

// expectFailed checks that each spec failed and that its message shows
// what came back (want, as an escaped excerpt).
func (r result) expectFailed(t *testing.T, want string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		s := r.spec(t, id)
		if s.State != reports.StateFailed {
			t.Errorf("%s: state %s, want failed (message: %s)", id, s.State, s.Message)
			continue
		}
		if want != "" && !strings.Contains(s.Message, want) {
			t.Errorf("%s: message does not show %s:\n%s", id, want, s.Message)
		}
	}
}

// serveTCP runs handle for every connection on a loopback listener.
func serveTCP(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveListener(t, l, handle)
}

// serveListener runs handle for every connection accepted on l until the
// test ends.
func serveListener(t *testing.T, l net.Listener, handle func(net.Conn)) string {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// serveUDP answers each datagram with answer(data), from the socket that
// received it unless from is set.
func serveUDP(t *testing.T, answer func([]byte) []byte, from net.PacketConn) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if from == nil {
		from = pc
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out := answer(buf[:n]); out != nil {
				from.WriteTo(out, addr)
			}
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

func plainEcho(c net.Conn) { io.Copy(c, c) }

func lines(c net.Conn, reply func(line []byte) ([]byte, bool)) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		out, more := reply(line)
		if out != nil {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
		if !more {
			return
		}
	}
}

func upper(b []byte) []byte { return bytes.ToUpper(b) }

const uppercaseOnly = "uppercase"

func TestMetaEchoesWithoutUppercasing(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, plainEcho)
	r := protospec(t, "run", "echo", "--target", addr, "--timeout", "1s")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r.expectFailed(t, `"hello, world\n"`, "echo/uppercase/tcp/uppercases-line")
	r.expectFailed(t, "", "echo/uppercase/tcp/utf8-unchanged", "echo/uppercase/tcp/lines-in-order", "echo/uppercase/tcp/replies-have-no-lowercase")
	// The same server is a correct RFC 862 echo.
	if s := r.spec(t, "echo/rfc862/tcp/echoes-line"); s.State != reports.StatePassed {
		t.Errorf("echo/rfc862/tcp/echoes-line: %s: %s", s.State, s.Message)
	}
	// UDP was not given: UDP specs are not applicable, not passed.
	if s := r.spec(t, "echo/uppercase/udp/uppercases-datagram"); s.State != reports.StateSkipped || !strings.Contains(s.Message, "not applicable") {
		t.Errorf("a UDP spec against a TCP-only address: %s %q", s.State, s.Message)
	}
	if !strings.Contains(r.stdout, "FAIL MUST echo/uppercase/tcp/uppercases-line:") {
		t.Errorf("the summary does not name the failing spec:\n%s", r.stdout)
	}
}

func TestMetaDropsAfterFirstLine(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, func(c net.Conn) {
		lines(c, func(l []byte) ([]byte, bool) { return upper(l), false })
	})
	r := protospec(t, "run", "echo", "--target", uppercaseOnly+"="+addr, "--label-filter", "uppercase", "--timeout", "1s")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r.expectFailed(t, "closed", "echo/uppercase/tcp/serves-until-close", "echo/uppercase/tcp/lines-in-order")
	if s := r.spec(t, "echo/uppercase/tcp/uppercases-line"); s.State != reports.StatePassed {
		t.Errorf("one good line should still pass: %s %s", s.State, s.Message)
	}
}

func TestMetaAnswersAfter30s(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	addr := serveTCP(t, func(c net.Conn) {
		lines(c, func(l []byte) ([]byte, bool) {
			select {
			case <-time.After(30 * time.Second):
			case <-stop:
				return nil, false
			}
			return upper(l), true
		})
	})
	// Registered after serveTCP's cleanup, so it runs first and releases
	// the handlers that cleanup waits for.
	t.Cleanup(func() { close(stop) })
	r := protospec(t, "run", "echo", "--target", uppercaseOnly+"="+addr, "--label-filter", "uppercase:tcp", "--timeout", "1s")
	// Too slow to answer the liveness preflight within a step: no spec
	// can be judged.
	if r.code != 2 || !strings.Contains(r.stderr, "liveness preflight") {
		t.Fatalf("exit %d, want 2 from the preflight\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r.took > 90*time.Second {
		t.Errorf("the run took %v against a slow server; each step has a 1s deadline", r.took)
	}
}

func TestMetaNeverAnswers(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	udp := serveUDP(t, func([]byte) []byte { return nil }, nil)
	r := protospec(t, "run", "echo", "--target", "uppercase="+addr+",uppercase=udp://"+udp, "--label-filter", "uppercase", "--timeout", "1s")
	// The liveness preflight ends the run: no spec is judged, none passes.
	if r.code != 2 || !strings.Contains(r.stderr, "liveness preflight") || r.took > 30*time.Second {
		t.Fatalf("exit %d after %v, want 2 from the preflight\n%s%s", r.code, r.took, r.stdout, r.stderr)
	}
	if r.run == nil {
		return
	}
	for _, s := range r.run.Specs {
		if s.State == reports.StatePassed || s.State == reports.StateError {
			t.Errorf("%s: %s against a server that never answers (%s)", s.ID, s.State, s.Message)
		}
	}
}

func TestMetaAnswersGarbage(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, func(c net.Conn) {
		lines(c, func(l []byte) ([]byte, bool) { return []byte("\x00\xff garbage \x1b[2J\n"), true })
	})
	r := protospec(t, "run", "echo", "--target", uppercaseOnly+"="+addr, "--label-filter", "uppercase:tcp", "--timeout", "1s")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r.expectFailed(t, `"\x00\xff garbage \x1b[2J\n"`, "echo/uppercase/tcp/uppercases-line", "echo/uppercase/tcp/empty-line")
}

func TestMetaUDPReplyFromOtherPort(t *testing.T) {
	t.Parallel()
	other, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	udp := serveUDP(t, upper, other)
	r := protospec(t, "run", "echo", "--target", "uppercase=udp://"+udp, "--label-filter", "uppercase:udp", "--timeout", "1s")
	// The preflight takes an answer from any port (the server is alive);
	// the specs judge the port.
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r.expectFailed(t, "not from the service's address", "echo/uppercase/udp/reply-from-service-port", "echo/uppercase/udp/uppercases-datagram")
}

func TestMetaEndlessStream(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, func(c net.Conn) {
		chunk := bytes.Repeat([]byte("STREAM"), 1<<12)
		c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	r := protospec(t, "run", "echo", "--target", uppercaseOnly+"="+addr, "--label-filter", "uppercase:tcp", "--timeout", "1s")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	r.expectFailed(t, "more than the limit", "echo/uppercase/tcp/uppercases-line", "echo/uppercase/tcp/empty-line")
}

func TestMetaReferencePasses(t *testing.T) {
	t.Parallel()
	r := protospec(t, "run", "echo")
	if r.code != 0 || r.run == nil {
		t.Fatalf("exit %d against the reference\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := r.run.Summarize()
	if s.Failed+s.Errors+s.Skipped != 0 || s.Passed < 50 {
		t.Errorf("against the reference: %+v", s)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"run", "nosuch"}, 2, `unknown protocol "nosuch"`},
		{[]string{"run", "echo", "--target", "127.0.0.1:1"}, 2, "cannot connect to 127.0.0.1:1"},
		{[]string{"run", "echo", "--target", "nosuchlauncher"}, 2, "unknown target"},
		{[]string{"run", "echo", "--label-filter", "((("}, 2, "bad label filter"},
		{[]string{"run", "echo", "--baseline", "/nonexistent/baseline.txt"}, 2, "baseline"},
		{[]string{"run"}, 2, "accepts 1 arg"},
		{[]string{"run", "echo", "--label-filter", "nosuchlabel"}, 2, "no echo spec matches"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"list", "echo", "--label-filter", "rfc862 && must"}, 0, "echo/rfc862/tcp/echoes-line"},
		{[]string{"targets"}, 0, "xinetd"},
	} {
		r := protospec(t, tc.args...)
		if r.code != tc.code {
			t.Errorf("protospec %s: exit %d, want %d\n%s%s", strings.Join(tc.args, " "), r.code, tc.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout+r.stderr, tc.says) {
			t.Errorf("protospec %s: output does not say %q:\n%s%s", strings.Join(tc.args, " "), tc.says, r.stdout, r.stderr)
		}
		if tc.code == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("protospec %s: want one line on stderr, got:\n%s", strings.Join(tc.args, " "), r.stderr)
		}
	}
}

func TestReportDiffExitsOneOnNewFailures(t *testing.T) {
	t.Parallel()
	good := protospec(t, "run", "echo", "--label-filter", "uppercase:tcp")
	addr := serveTCP(t, plainEcho)
	bad := protospec(t, "run", "echo", "--target", "uppercase="+addr, "--label-filter", "uppercase:tcp", "--timeout", "1s")
	dir := t.TempDir()
	write := func(name string, run *reports.Run) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := reports.WriteJSON(f, run); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldPath, newPath := write("old.json", good.run), write("new.json", bad.run)
	if r := protospec(t, "report", "diff", oldPath, newPath); r.code != 1 || !strings.Contains(r.stdout, "echo/uppercase/tcp/uppercases-line") {
		t.Errorf("diff good->bad: exit %d\n%s", r.code, r.stdout)
	}
	if r := protospec(t, "report", "diff", newPath, oldPath); r.code != 0 {
		t.Errorf("diff bad->good: exit %d\n%s", r.code, r.stdout)
	}
}

func TestXinetdUppercaseNotApplicable(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("xinetd"); err != nil {
		if _, err := os.Stat("/usr/sbin/xinetd"); err != nil {
			t.Skip("xinetd is not installed (Debian package xinetd)")
		}
	}
	r := protospec(t, "run", "echo", "--target", "xinetd", "--baseline", "builtin")
	if r.code != 0 || r.run == nil {
		t.Fatalf("exit %d against xinetd with its baseline\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range r.run.Specs {
		if s.Doc == "uppercase" && (s.State != reports.StateSkipped || !strings.Contains(s.Message, "not applicable")) {
			t.Errorf("%s against xinetd: %s %q, want skipped as not applicable", s.ID, s.State, s.Message)
		}
		if s.Doc == "rfc862" && s.State == reports.StateSkipped {
			t.Errorf("%s skipped against xinetd: %s", s.ID, s.Message)
		}
	}
}

// crashOnLongHeader is an HTTP/1.1 server with a planted bug: a header line
// longer than 100 bytes makes it stop accepting connections, as a crashed
// server would.
func crashOnLongHeader(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveListener(t, l, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			first := true
			for {
				line, err := r.ReadSlice('\n')
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
					l.Close()
					return
				}
				first = false
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
}

func TestFuzzFindsCrashAndReplayConfirmsIt(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	r := protospec(t, "fuzz", "http1", "--target", crashOnLongHeader(t), "--execs", "3000", "--seed", "1",
		"--stop-after", "1", "--out", out, "--report-dir", t.TempDir(), "--no-progress")
	if r.code != 1 {
		t.Fatalf("fuzzing a crashing server: exit %d, want 1 (a finding)\n%s%s", r.code, r.stdout, r.stderr)
	}
	finding := filepath.Join(out, "finding-1")
	if _, err := os.Stat(filepath.Join(finding, "finding.json")); err != nil {
		t.Fatalf("no saved finding: %v\n%s", err, r.stdout)
	}
	// A fresh instance of the same server crashes again on the minimized
	// reproducer; the reference does not.
	if r := protospec(t, "replay", finding, "--target", crashOnLongHeader(t)); r.code != 1 || !strings.Contains(r.stdout, "reproduced") {
		t.Errorf("replay against a fresh crashing server: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := protospec(t, "replay", finding, "--target", "reference"); r.code != 0 || !strings.Contains(r.stdout, "not reproduced") {
		t.Errorf("replay against the reference: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// lfChargen streams 72-character lines ended by a bare LF: a chargen
// that does not take RFC 864's optional CRLF line pattern.
func lfChargen(c net.Conn) {
	defer c.Close()
	line := append(bytes.Repeat([]byte("x"), 72), '\n')
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := c.Write(line); err != nil {
			return
		}
	}
}

// A MAY the target does not support is reported, and fails the run only
// with --fail-on may; a SHOULD failure does not fail --fail-on must.
func TestMetaFailOn(t *testing.T) {
	t.Parallel()
	addr := serveTCP(t, lfChargen)
	const may = "echo/rfc864/tcp/72-char-lines"
	r := protospec(t, "run", "echo", "--target", "chargen/tcp="+addr, "--focus", "72-char-lines", "--timeout", "2s")
	if r.code != 0 {
		t.Fatalf("a MAY not supported: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	if s := r.spec(t, may); s.State != reports.StateUnsupported || !strings.Contains(s.Message, "CRLF") {
		t.Errorf("%s: %s %q, want not supported with the reason", may, s.State, s.Message)
	}
	if !strings.Contains(r.stdout, "1 not supported") {
		t.Errorf("the summary does not count the MAY as not supported:\n%s", r.stdout)
	}
	r = protospec(t, "run", "echo", "--target", "chargen/tcp="+addr, "--focus", "72-char-lines", "--timeout", "2s", "--fail-on", "must,may")
	if r.code != 1 {
		t.Errorf("--fail-on must,may: exit %d, want 1\n%s", r.code, r.stdout)
	}
	// printable-ascii is a SHOULD: the stream holds only printable
	// characters and LF, so make it fail with a binary stream instead.
	bin := serveTCP(t, func(c net.Conn) {
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, err := c.Write(bytes.Repeat([]byte{0, 1, 2, 0xff}, 256)); err != nil {
				return
			}
		}
	})
	args := []string{"run", "echo", "--target", "chargen/tcp=" + bin, "--focus", "rfc864/tcp/printable-ascii", "--timeout", "2s"}
	if r := protospec(t, args...); r.code != 1 {
		t.Errorf("a failing SHOULD at the default levels: exit %d, want 1\n%s", r.code, r.stdout)
	}
	if r := protospec(t, append(args, "--fail-on", "must")...); r.code != 0 {
		t.Errorf("a failing SHOULD with --fail-on must: exit %d, want 0\n%s", r.code, r.stdout)
	}
	if r := protospec(t, append(args, "--fail-on", "sometimes")...); r.code != 2 {
		t.Errorf("--fail-on with an unknown level: exit %d, want 2", r.code)
	}
}
