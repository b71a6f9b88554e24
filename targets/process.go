package targets

import (
	"bytes"
	"context"
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
	"time"
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
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
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
