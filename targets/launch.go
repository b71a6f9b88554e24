package targets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Server describes how a launcher runs its server process: Start makes the
// work directory, picks free loopback ports, writes the configuration,
// starts the process and waits until it answers, trying other ports when
// the server says its port was taken.
type Server struct {
	// Name names the work directory, the process and the target: "nsd".
	Name string
	// Ports is how many free 127.0.0.1 ports to pick (default 1).
	Ports int
	// FreePorts picks them (default FreePorts); a test makes it return a
	// taken port.
	FreePorts func(host string, n int) ([]int, error)
	// Prepare, if set, runs once in the new work directory before the
	// first attempt: fixtures, directories the server needs.
	Prepare func(dir string) error
	// Argv writes the configuration for ports into dir and returns the
	// command line (the binary first).
	Argv func(dir string, ports []int) ([]string, error)
	// Probe returns the readiness probe for a server whose first port is
	// at addr ("127.0.0.1:PORT").
	Probe func(addr string) func(context.Context) error
	// Output is the file in the work directory that receives the process's
	// stdout and stderr (default "stdout.log").
	Output string
	// ServerLog, if set, is a log file in the work directory that the
	// server writes itself; a failed start quotes its last 2000 bytes,
	// labelled LogLabel (default ServerLog).
	ServerLog string
	LogLabel  string
	// Prefix is put before every error after the work directory was made:
	// "nginx: ".
	Prefix string
	// Attempts is how many ports are tried when the server cannot bind
	// (default 3: a port FreePorts found free can be taken by another
	// process, another launcher's server most often, before the server
	// binds it).
	Attempts int
	// PortTaken tells a start that failed because the port was taken
	// (default PortTaken).
	PortTaken func(error) bool
	// KeptNote, when the work directory is the caller's (Options.WorkDir),
	// is added to a failed start's error with the directory: "config and
	// log" gives "(config and log in DIR)".
	KeptNote string
}

// Ready and stop timings shared by every launcher.
const (
	readyTimeout = 10 * time.Second
	stopGrace    = 3 * time.Second
)

// Running is a server that Server.Start started and found ready.
type Running struct {
	Proc *Process
	// Dir is the work directory: configuration, fixtures and logs.
	Dir string
	// Ports are the 127.0.0.1 ports the server listens on.
	Ports   []int
	cleanup func()
}

// Addr is "127.0.0.1:PORT" of the i-th port.
func (r *Running) Addr(i int) string { return loopback(r.Ports[i]) }

// Stop stops the server and removes a temporary work directory.
func (r *Running) Stop() error {
	err := r.Proc.Stop(stopGrace)
	r.cleanup()
	return err
}

// Target completes s as the target of the running server (Kind launcher,
// Proc, OnClose stopping the server) and returns it.
func (r *Running) Target(s *Static) *Static {
	s.Kind = KindLauncher
	s.OnClose = r.Stop
	s.Proc = r.Proc
	return s
}

// Launched is a launcher's target that also tells its server's PID and
// work directory, for tests and logs.
type Launched struct {
	*Static
	dir string
}

// PID is the process id of the server (the leader of its process group).
func (t *Launched) PID() int { return t.Proc.PID() }

// WorkDir is the work directory: configuration, fixtures and logs. (Dir,
// promoted from Static, is the target's Directories: the directories a
// spec may read, smtp.DirMaildir.)
func (t *Launched) WorkDir() string { return t.dir }

// Launched completes s as Target does and returns it with the server's
// work directory.
func (r *Running) Launched(s *Static) *Launched {
	return &Launched{Static: r.Target(s), dir: r.Dir}
}

// Start runs the server for opts and returns it once it answers.
func (s Server) Start(ctx context.Context, opts Options) (*Running, error) {
	dir, cleanup, err := WorkDir(opts, s.Name)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Running, error) {
		cleanup()
		return nil, fmt.Errorf("%s%w", s.Prefix, err)
	}
	if s.Prepare != nil {
		if err := s.Prepare(dir); err != nil {
			return fail(err)
		}
	}
	freePorts, taken := s.FreePorts, s.PortTaken
	if freePorts == nil {
		freePorts = FreePorts
	}
	if taken == nil {
		taken = PortTaken
	}
	output := cmp.Or(s.Output, "stdout.log")
	for attempt := 1; ; attempt++ {
		ports, err := freePorts("127.0.0.1", max(s.Ports, 1))
		if err != nil {
			return fail(err)
		}
		argv, err := s.Argv(dir, ports)
		if err != nil {
			return fail(err)
		}
		p, err := StartProcess(s.Name, filepath.Join(dir, output), opts.Log, argv...)
		if err != nil {
			return fail(err)
		}
		err = p.WaitReady(ctx, readyTimeout, s.Probe(loopback(ports[0])))
		if err == nil {
			return &Running{Proc: p, Dir: dir, Ports: ports, cleanup: cleanup}, nil
		}
		p.Stop(stopGrace)
		if attempt < cmp.Or(s.Attempts, 3) && taken(err) {
			continue
		}
		if s.ServerLog != "" {
			log, _ := os.ReadFile(filepath.Join(dir, s.ServerLog))
			err = fmt.Errorf("%w (%s: %s)", err, cmp.Or(s.LogLabel, s.ServerLog), tail(string(log), 2000))
		}
		if s.KeptNote != "" && opts.WorkDir != "" {
			err = fmt.Errorf("%w (%s in %s)", err, s.KeptNote, dir)
		}
		return fail(err)
	}
}

// PortTaken reports whether a start failed because the port was taken.
func PortTaken(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "address already in use")
}

// Version runs "bin args..." with a two-second deadline and returns the
// first line of what it printed. The error is set only when the command
// could not run at all (not when it exited non-zero, as some servers do
// after printing their version).
func Version(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = nil
	}
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s, err
}

// UDPAndTCP returns the endpoints "<service>/udp" and "<service>/tcp",
// both at addr.
func UDPAndTCP(service, addr string) map[string]Endpoint {
	return map[string]Endpoint{
		service + "/udp": {Network: "udp", Addr: addr},
		service + "/tcp": {Network: "tcp", Addr: addr},
	}
}

// LoopbackParam parses params[key], a loopback "host:port" such as the
// upstream server a resolver launcher is pointed at. It returns missing
// when the parameter is absent; other errors name the launcher and key:
// `unbound: upstream "192.0.2.1:53": not a loopback address`.
func LoopbackParam(launcher string, params map[string]string, key string, missing error) (string, int, error) {
	v := params[key]
	if v == "" {
		return "", 0, missing
	}
	fail := func(err error) (string, int, error) {
		return "", 0, fmt.Errorf("%s: %s %q: %w", launcher, key, v, err)
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fail(err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fail(errors.New("not a loopback address"))
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fail(errors.New("bad port"))
	}
	return ip.String(), n, nil
}

func loopback(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// tail is the last n bytes of s, trimmed; "(empty)" when there are none.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(empty)"
	}
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}
