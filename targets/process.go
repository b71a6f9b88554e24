package targets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// sbinDirs are searched after PATH: daemons live there and a non-root PATH
// often lacks them.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// FindBinary looks a server binary up on PATH and in the sbin directories.
// A missing binary gives an error wrapping ErrMissingBinary that names the
// Debian package to install.
func FindBinary(name, debianPackage string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range sbinDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not installed (install the Debian package %s: apt-get install %s)", ErrMissingBinary, name, debianPackage, debianPackage)
}

// Process is a server process started by a launcher. Its output goes to a
// log file in the launcher's work directory and, bounded, to memory, so a
// failed start can say what the server printed.
type Process struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  *tailBuffer
	log  *os.File
}

// StartProcess starts argv in its own process group with its output
// written to logPath (and to extra, if not nil).
func StartProcess(name, logPath string, extra io.Writer, argv ...string) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("targets: empty command")
	}
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("targets: %s log: %w", name, err)
	}
	p := &Process{Name: name, done: make(chan struct{}), out: &tailBuffer{max: 16 << 10}, log: lf}
	w := io.MultiWriter(lf, p.out)
	if extra != nil {
		w = io.MultiWriter(lf, p.out, extra)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("targets: start %s: %w", name, err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Output returns the last bytes the process printed.
func (p *Process) Output() string { return p.out.String() }

// Stop sends SIGTERM to the process group, waits up to grace, then sends
// SIGKILL. It returns once the process is gone.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("targets: %s (pid %d) did not exit after SIGKILL", p.Name, p.PID())
	}
}

// WaitReady polls probe until it succeeds, the process exits, or timeout
// passes. The error says what the server printed.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		last = probe(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("targets: %s exited before it was ready (%v); it printed: %s", p.Name, p.err, oneLine(p.Output()))
		case <-ctx.Done():
			return fmt.Errorf("targets: %s not ready after %v: %v; it printed: %s", p.Name, timeout, last, oneLine(p.Output()))
		case <-time.After(delay):
		}
	}
}

// DialProbe returns a readiness probe that succeeds once a TCP connection
// to addr is accepted.
func DialProbe(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d dial.Dialer
		c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
		if err != nil {
			return err
		}
		return c.Close()
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(nothing)"
	}
	if len(s) > 600 {
		s = "..." + s[len(s)-600:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// FreePorts returns n distinct loopback port numbers that were free for
// both TCP and UDP on host when checked. Another process may take one
// before the server binds it; launchers report that as a start failure.
func FreePorts(host string, n int) ([]int, error) {
	var ports []int
	var hold []io.Closer
	defer func() {
		for _, c := range hold {
			c.Close()
		}
	}()
	for tries := 0; len(ports) < n && tries < 50*n; tries++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("targets: free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, fmt.Sprint(port)))
		if err != nil {
			l.Close()
			continue
		}
		hold = append(hold, l, u)
		ports = append(ports, port)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("targets: could not find %d free ports on %s", n, host)
	}
	return ports, nil
}

// WorkDir returns opts.WorkDir, or a new temporary directory and a func
// that removes it.
func WorkDir(opts Options, name string) (string, func(), error) {
	if opts.WorkDir != "" {
		if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
			return "", nil, err
		}
		return opts.WorkDir, func() {}, nil
	}
	d, err := os.MkdirTemp("", "protospec-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

// Watcher is implemented by targets that run a server process protospec
// started, so that a fuzzer can tell when the server died and whether its
// memory grows without bound. Targets without a process of their own (the
// in-process reference, an address) may implement it too: Alive then
// always returns nil and RSS an error wrapping ErrNotOffered.
type Watcher interface {
	// Alive returns nil while the server process runs, and otherwise an
	// error saying how it ended and what it printed last.
	Alive() error
	// RSS returns the resident memory of the server's process group, in
	// bytes (the master and its workers together).
	RSS() (int64, error)
}

// Alive implements Watcher.
func (p *Process) Alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("targets: %s (pid %d) exited: %v; it printed: %s", p.Name, p.PID(), p.err, oneLine(p.Output()))
	default:
		return nil
	}
}

// RSS implements Watcher: the sum of the resident set sizes of every
// process in the server's process group, read from /proc.
func (p *Process) RSS() (int64, error) {
	if err := p.Alive(); err != nil {
		return 0, err
	}
	return groupRSS(p.PID())
}

// groupRSS sums VmRSS over the processes whose process group is pgid.
func groupRSS(pgid int) (int64, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("targets: reading /proc: %w", err)
	}
	page := int64(os.Getpagesize())
	var total int64
	found := false
	for _, e := range ents {
		name := e.Name()
		if name == "" || name[0] < '0' || name[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		// The command name in field 2 may hold spaces: fields are counted
		// after its closing parenthesis. Field 5 is pgrp, 24 is rss (pages).
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 22 {
			continue
		}
		var pgrp, rss int64
		if _, err := fmt.Sscan(f[2], &pgrp); err != nil || pgrp != int64(pgid) {
			continue
		}
		if _, err := fmt.Sscan(f[21], &rss); err != nil {
			continue
		}
		total += rss * page
		found = true
	}
	if !found {
		return 0, fmt.Errorf("targets: no process in group %d", pgid)
	}
	return total, nil
}

// PortRun returns n consecutive loopback port numbers, all free for TCP
// and UDP on host when checked: a server's range of data ports (a
// passive-mode range) that takes a first and a last port. The run starts
// at a random port below the kernel's ephemeral range (32768 on Linux),
// so that the sockets a client opens do not take its ports.
func PortRun(host string, n int) ([]int, error) {
	const lo, hi = 20000, 32768
	if n < 1 || n > 1000 {
		return nil, fmt.Errorf("targets: a run of %d ports", n)
	}
	for tries := 0; tries < 100; tries++ {
		base := lo + mathrand.IntN(hi-lo-n)
		var hold []io.Closer
		ok := true
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			hold = append(hold, l)
			u, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			hold = append(hold, u)
		}
		for _, c := range hold {
			c.Close()
		}
		if ok {
			ports := make([]int, n)
			for i := range ports {
				ports[i] = base + i
			}
			return ports, nil
		}
	}
	return nil, fmt.Errorf("targets: no run of %d free ports on %s", n, host)
}
