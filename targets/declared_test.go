package targets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeServerEnv makes the test binary a fake server (see TestMain): it
// prints a version for -version and, for -c FILE, listens on every
// "listen ADDR" line of FILE until it is killed.
const fakeServerEnv = "PROTOSPEC_TARGETS_FAKE_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServerEnv) != "" {
		os.Exit(fakeServer(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeServer(args []string) int {
	if len(args) == 1 && args[0] == "-version" {
		fmt.Println("Fake version 1.0\nbuilt today")
		return 0
	}
	if len(args) != 2 || args[0] != "-c" {
		fmt.Fprintln(os.Stderr, "usage: -version | -c FILE")
		return 2
	}
	f, err := os.Open(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		addr, ok := strings.CutPrefix(sc.Text(), "listen ")
		if !ok {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		n++
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	if n == 0 {
		fmt.Fprintln(os.Stderr, "nothing to listen on")
		return 1
	}
	select {}
}

// fake declares a launcher of the fake server on two ports.
func fake(t *testing.T) Declared {
	t.Helper()
	t.Setenv(fakeServerEnv, "1")
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Declared{
		Name:        "fake",
		Protocol:    "fakeproto",
		Binary:      bin,
		Package:     "fake-server",
		VersionArgs: []string{"-version"},
		VersionText: func(s string) string { return strings.ToLower(s) },
		Baseline:    "fakeproto/1 # known\n",
		Features:    []string{"fakeproto/a"},
		Reasons:     map[string]string{"fakeproto/b": "fake has no b"},
		Vars:        map[string]any{"greeting": "hello"},
		Ports:       2,
		Prepare: func(r *Run) error {
			return os.WriteFile(r.Path("prepared"), []byte(r.Vars["greeting"].(string)), 0o644)
		},
		ConfigTemplate: "# {{q .Vars.greeting}} in {{.Dir}}\n{{range $i, $p := .Ports}}listen {{$.Addr $i}}\n{{end}}",
		ConfigFile:     "fake.conf",
		Argv:           func(r *Run) []string { return []string{"-c", r.Config} },
		Probe: func(r *Run) func(context.Context) error {
			return func(ctx context.Context) error {
				for i := range r.Ports {
					if err := DialProbe(r.Addr(i))(ctx); err != nil {
						return err
					}
				}
				return nil
			}
		},
		Endpoints: func(r *Run) map[string]Endpoint {
			return map[string]Endpoint{"one/tcp": {Network: "tcp", Addr: r.Addr(0)}, "two/tcp": {Network: "tcp", Addr: r.Addr(1)}}
		},
		Finish: func(r *Run, t *Static) {
			if r.Opts.Params["c"] == "yes" {
				t.Features["fakeproto/c"] = true
			}
		},
	}
}

// TestDeclaredStart starts the fake server through a declared launcher:
// the config rendered from the template and Vars, Prepare run in the work
// directory, the version through VersionText, the endpoints and features,
// Finish, and Close stopping the server and removing the directory.
func TestDeclaredStart(t *testing.T) {
	l := NewDeclared(fake(t))
	if err := l.Available(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg, err := l.Start(ctx, Options{Protocol: "fakeproto", Params: map[string]string{"c": "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	lt, ok := tg.(*Launched)
	if !ok {
		t.Fatalf("target %T, want *Launched", tg)
	}
	dir := lt.WorkDir()
	conf, err := os.ReadFile(filepath.Join(dir, "fake.conf"))
	if err != nil || !strings.HasPrefix(string(conf), "# \"hello\" in "+dir+"\nlisten 127.0.0.1:") || strings.Count(string(conf), "listen ") != 2 {
		t.Errorf("fake.conf %q, %v", conf, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "prepared")); err != nil || string(b) != "hello" {
		t.Errorf("Prepare: %q, %v", b, err)
	}
	if v := tg.Info().Version; v != "fake version 1.0" {
		t.Errorf("version %q", v)
	}
	for _, svc := range []string{"one/tcp", "two/tcp"} {
		ep, err := tg.Endpoint(svc)
		if err != nil || !strings.Contains(string(conf), "listen "+ep.Addr+"\n") {
			t.Errorf("%s: %v %v, not in the config", svc, ep, err)
		}
	}
	for _, f := range []string{"fakeproto/a", "fakeproto/c"} {
		if err := tg.Feature(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := tg.Feature("fakeproto/b"); !errors.Is(err, ErrNotOffered) || err.Error() != "fake has no b" {
		t.Errorf("fakeproto/b: %v", err)
	}
	if text, ok := l.Baseline("fakeproto"); !ok || text != "fakeproto/1 # known\n" {
		t.Errorf("Baseline: %q %v", text, ok)
	}
	if err := lt.Alive(); err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	if lt.Alive() == nil {
		t.Error("alive after Close")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work dir left: %v", err)
	}
}

// TestDeclaredErrors: the wrong protocol, a missing binary, a missing
// requirement, a failing Check and a server that exits at once.
func TestDeclaredErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := func(d Declared) error {
		tg, err := NewDeclared(d).Start(ctx, Options{Protocol: "fakeproto"})
		if err == nil {
			tg.Close()
		}
		return err
	}
	d := fake(t)
	if _, err := NewDeclared(d).Start(ctx, Options{Protocol: "other"}); !errors.Is(err, ErrUnsupportedProtocol) {
		t.Errorf("other protocol: %v", err)
	}
	missing := d
	missing.Binary = "protospec-no-such-fake"
	if err := start(missing); !errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get install fake-server") {
		t.Errorf("missing binary: %v", err)
	}
	req := d
	req.Requires = func() error { return fmt.Errorf("%w: module x missing", ErrMissingBinary) }
	if err := NewDeclared(req).Available(); !errors.Is(err, ErrMissingBinary) {
		t.Errorf("Available without a requirement: %v", err)
	}
	if err := start(req); !errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), "module x") {
		t.Errorf("Start without a requirement: %v", err)
	}
	errCheck := errors.New("no upstream")
	check := d
	check.Check = func(*Run) error { return errCheck }
	if err := start(check); !errors.Is(err, errCheck) {
		t.Errorf("Check: %v", err)
	}
	bad := d
	bad.ConfigTemplate = "no listen line\n"
	bad.Prefix = "fake: "
	if err := start(bad); err == nil || !strings.HasPrefix(err.Error(), "fake: ") || !strings.Contains(err.Error(), "nothing to listen on") {
		t.Errorf("server exiting at once: %v", err)
	}
}

// TestWithEnv: the command line runs with the variables added, keeps the
// rest of the environment, and a variable without a name is refused.
func TestWithEnv(t *testing.T) {
	t.Setenv("PROTOSPEC_KEPT", "kept")
	argv, err := WithEnv([]string{"sh", "-c", `echo "$PROTOSPEC_ADDED $PROTOSPEC_KEPT"`}, "PROTOSPEC_ADDED=added")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil || string(out) != "added kept\n" {
		t.Errorf("%q printed %q, %v", argv, out, err)
	}
	if same, err := WithEnv([]string{"true"}); err != nil || len(same) != 1 {
		t.Errorf("no variables: %q, %v", same, err)
	}
	if _, err := WithEnv([]string{"true"}, "=x"); err == nil {
		t.Error("a variable without a name was accepted")
	}
}

// TestDeclaredVersionHook: Version tells the version in place of
// VersionArgs, with the Run of the start; Env reaches the server.
func TestDeclaredVersionHook(t *testing.T) {
	d := fake(t)
	d.VersionArgs = nil
	d.Version = func(r *Run) string { return fmt.Sprintf("fake on %d ports", len(r.Ports)) }
	d.Env = func(r *Run) []string { return []string{"PROTOSPEC_FAKE_ENV=set"} }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg, err := NewDeclared(d).Start(ctx, Options{Protocol: "fakeproto"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if v := tg.Info().Version; v != "fake on 2 ports" {
		t.Errorf("version %q", v)
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", tg.(*Launched).PID()))
	if err != nil || !strings.Contains(string(env), "\x00PROTOSPEC_FAKE_ENV=set\x00") {
		t.Errorf("the server's environment lacks PROTOSPEC_FAKE_ENV=set (%v)", err)
	}
}
