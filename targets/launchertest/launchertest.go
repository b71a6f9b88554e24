// Package launchertest holds the test steps that every launcher of a
// third-party server shares: start it (skipping when it is not installed),
// check that a missing binary or a taken port gives a clear error, and
// check that Close stops every process of the server and removes its work
// directory. http.go and dns.go add the protocol checks. It is imported
// by the launchers' _test.go files only.
//
//	func TestCloseStops(t *testing.T) {
//		tmp := launchertest.TempRoot(t)
//		tg := launchertest.Open(t, "nsd", targets.Options{Protocol: "dns"})
//		launchertest.CloseStops(t, tg, launchertest.WorkDir(t, tmp, "nsd", "nsd.conf"))
//	}
package launchertest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/targets"
)

// startTimeout bounds a launcher's start in a test.
const startTimeout = 20 * time.Second

// SkipUnlessAvailable skips the test when l's server is not installed.
func SkipUnlessAvailable(t testing.TB, l targets.Launcher) {
	t.Helper()
	if err := l.Available(); err != nil {
		t.Skipf("%s not installed: %v", l.Name(), err)
	}
}

// Open starts the registered launcher name through targets.Open, skipping
// the test when its server is not installed, and closes it when the test
// ends.
func Open(t testing.TB, name string, opts targets.Options) targets.Target {
	t.Helper()
	l, ok := targets.Lookup(name)
	if !ok {
		t.Fatalf("no launcher %q registered", name)
	}
	SkipUnlessAvailable(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	began := time.Now()
	tg, err := targets.Open(ctx, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	t.Logf("%s ready in %v", tg.Info().Version, time.Since(began))
	return tg
}

// TempRoot points TMPDIR at a directory of the test's own and returns it,
// so that the test can find the work directory a launcher makes there
// (WorkDir); when the test ends, after its targets are closed, nothing
// may be left in it. Not for servers whose workers run as another user:
// they cannot enter the test's directory.
func TempRoot(t testing.TB) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Cleanup(func() {
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("Close left %v in %s", left, tmp)
		}
	})
	return tmp
}

// WorkDir returns the one work directory of launcher name in tmp (see
// TempRoot), checking that it holds file.
func WorkDir(t testing.TB, tmp, name, file string) string {
	t.Helper()
	work, _ := filepath.Glob(filepath.Join(tmp, "protospec-"+name+"-*", file))
	if len(work) != 1 {
		t.Fatalf("want one work dir with %s in %s, found %v", file, tmp, work)
	}
	return filepath.Dir(work[0])
}

// CloseStops checks a running launcher target: it watches its server
// (alive, with resident memory), then Close must stop every process of the
// server's process group, close its TCP endpoints and remove its work
// directory dir.
func CloseStops(t testing.TB, tg targets.Target, dir string) {
	t.Helper()
	w, ok := tg.(targets.Watcher)
	if !ok {
		t.Fatal("the target is not a targets.Watcher")
	}
	if err := w.Alive(); err != nil {
		t.Fatal(err)
	}
	if rss, err := w.RSS(); err != nil || rss <= 0 {
		t.Errorf("RSS: %d, %v", rss, err)
	}
	pgid := pid(t, tg)
	if len(groupLeft(pgid)) == 0 {
		t.Fatalf("no process found in the server's group %d", pgid)
	}
	var tcp []string
	for _, ep := range tg.Info().Endpoints {
		if addr, ok := strings.CutPrefix(ep, "tcp://"); ok {
			tcp = append(tcp, addr)
		}
	}
	began := time.Now()
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s stopped in %v", tg.Name(), time.Since(began))
	if err := syscall.Kill(pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("pid %d still exists after Close (kill 0: %v)", pgid, err)
	}
	// The server's children were in its process group: none is left
	// once the orphans are reaped.
	deadline := time.Now().Add(2 * time.Second)
	for len(groupLeft(pgid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := groupLeft(pgid); len(left) > 0 {
		t.Errorf("processes %v of the server's group survive Close", left)
	}
	for _, addr := range tcp {
		d := dial.Dialer{Timeout: time.Second}
		if c, err := d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr}); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Close", addr)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work dir %s not removed: %v", dir, err)
	}
	if w.Alive() == nil {
		t.Error("Alive after Close")
	}
}

// pid is the process id of the target's server, the leader of its
// process group.
func pid(t testing.TB, tg targets.Target) int {
	t.Helper()
	switch v := tg.(type) {
	case *targets.Static:
		if v.Proc != nil {
			return v.Proc.PID()
		}
	case interface{ PID() int }:
		return v.PID()
	}
	t.Fatalf("target %T runs no process of its own", tg)
	return 0
}

// groupLeft lists the processes still in process group pgid, zombies
// aside.
func groupLeft(pgid int) []string {
	ents, _ := os.ReadDir("/proc")
	var left []string
	for _, e := range ents {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name's closing parenthesis: state,
		// ppid, pgrp.
		i := bytes.LastIndexByte(stat, ')')
		if f := strings.Fields(string(stat[i+1:])); i > 0 && len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			left = append(left, e.Name())
		}
	}
	return left
}

// MissingBinary checks that l, whose binary does not exist, fails to start
// and is unavailable with ErrMissingBinary naming the Debian package pkg.
func MissingBinary(t testing.TB, l targets.Launcher, opts targets.Options, pkg string) {
	t.Helper()
	_, err := l.Start(context.Background(), opts)
	if !errors.Is(err, targets.ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get install "+pkg) {
		t.Fatalf("Start with a missing binary: %v, want ErrMissingBinary naming the package %s", err, pkg)
	}
	if err := l.Available(); !errors.Is(err, targets.ErrMissingBinary) {
		t.Fatalf("Available: %v", err)
	}
}

// TakenPort returns a 127.0.0.1 port that a listener of the test holds
// until the test ends.
func TakenPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// StartFails checks that l fails to start for opts with an error that
// says want (what the server logged).
func StartFails(t testing.TB, l targets.Launcher, opts targets.Options, want string) {
	t.Helper()
	SkipUnlessAvailable(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tg, err := l.Start(ctx, opts)
	if err == nil {
		tg.Close()
		t.Fatal("Start succeeded")
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error does not carry %q from %s's log: %v", want, l.Name(), err)
	}
	t.Logf("start failed: %v", err)
}

// ConfigCase is one rendering of a declared launcher's configuration: as
// root or not, with Vars set as its Prepare would, compared with the
// golden file Golden (the config file) or ArgvGolden (the command line,
// one argument a line).
type ConfigCase struct {
	Root       bool
	Vars       map[string]any
	Golden     string
	ArgvGolden string
}

// ConfigDir is the work directory the configurations of Config are
// rendered for.
const ConfigDir = "/work/dir"

// Config renders l's configuration for opts on ports in ConfigDir for each
// case and compares it with the case's golden files, so that a change to a
// template or a hook shows as a diff of the server's configuration. It
// needs no server binary.
func Config(t *testing.T, l *targets.DeclaredLauncher, opts targets.Options, ports []int, cases ...ConfigCase) {
	t.Helper()
	for _, c := range cases {
		bin := l.Binary
		if !filepath.IsAbs(bin) {
			bin = "/usr/sbin/" + bin
		}
		r, err := l.NewRun(bin, opts)
		if err != nil {
			t.Fatal(err)
		}
		r.Root, r.Dir, r.Ports = c.Root, ConfigDir, ports
		for k, v := range c.Vars {
			r.Vars[k] = v
		}
		if c.Golden != "" {
			conf, err := l.Config(r)
			if err != nil {
				t.Fatal(err)
			}
			r.Config = filepath.Join(ConfigDir, l.ConfigFile)
			golden(t, c.Golden, string(conf))
		}
		if c.ArgvGolden != "" {
			golden(t, c.ArgvGolden, strings.Join(append([]string{r.Bin}, l.Argv(r)...), "\n")+"\n")
		}
	}
}

// UpdateGoldenEnv, set to 1, makes Config write its golden files
// instead of comparing with them: PROTOSPEC_UPDATE_GOLDEN=1 go test
// -run TestConfig ./targets/NAME, then review the diff.
const UpdateGoldenEnv = "PROTOSPEC_UPDATE_GOLDEN"

// Golden compares got with the file path (or, with UpdateGoldenEnv,
// writes it there): for a launcher's files that its config template does
// not render.
func Golden(t *testing.T, path, got string) {
	t.Helper()
	golden(t, path, got)
}

// golden compares got with the file path and reports the first line that
// differs.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv(UpdateGoldenEnv) == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got == string(want) {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s: line %d is %q, want %q\nwhole rendering:\n%s", path, i+1, gl, wl, got)
			return
		}
	}
}

// Missing returns l looking for a binary that does not exist, unregistered:
// for MissingBinary.
func Missing(l *targets.DeclaredLauncher) targets.Launcher {
	d := l.Declared
	d.Binary = "protospec-no-such-" + d.Binary
	return targets.NewDeclared(d)
}
