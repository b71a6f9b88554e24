package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnpackedFind: a declared launcher whose binary is not installed
// finds it in the unpacked tree ($PROTOSPEC_DEBS/root), its Run's Tree
// is that tree, and without it the error says what to unpack and what to
// install.
func TestUnpackedFind(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(UnpackedEnv, dir)
	d := Declared{Name: "fakeunpacked", Binary: "protospec-fake-unpacked-server", Package: "fake-server", Unpacked: []string{"fake-core", "fake-mods"}}
	l := NewDeclared(d)
	_, err := l.Find()
	if !errors.Is(err, ErrMissingBinary) {
		t.Fatalf("Find with nothing unpacked: %v", err)
	}
	for _, want := range []string{"apt-get download fake-core fake-mods", "dpkg -x", filepath.Join(dir, "root"), "apt-get install fake-server"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if req := l.Requirement(); !strings.Contains(req, "fake-core fake-mods unpacked in "+filepath.Join(dir, "root")) {
		t.Errorf("Requirement %q", req)
	}

	bin := filepath.Join(dir, "root", "usr", "sbin", d.Binary)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho fake 1.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := l.Find()
	if err != nil || got != bin {
		t.Fatalf("Find = %q, %v; want %q", got, err, bin)
	}
	r, err := l.NewRun(got, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Tree != filepath.Join(dir, "root") {
		t.Errorf("Tree %q, want the unpacked tree", r.Tree)
	}
	if r, _ := l.NewRun("/usr/sbin/x", Options{}); r.Tree != "/" {
		t.Errorf("Tree of an installed binary %q, want /", r.Tree)
	}
}

// TestUnpackedMissingLibrary: an unpacked binary the dynamic loader cannot
// run is missing, with the packages of its libraries named.
func TestUnpackedMissingLibrary(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(UnpackedEnv, dir)
	bin := filepath.Join(dir, "root", "usr", "bin", "protospec-fake-nolib")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"$0: error while loading shared libraries: libfake.so.1: cannot open shared object file: No such file or directory\" >&2\nexit 127\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l := NewDeclared(Declared{Name: "nolib", Binary: "protospec-fake-nolib", Package: "fake", VersionArgs: []string{"-v"}, Unpacked: []string{"fake"}, UnpackedNeeds: []string{"libfake1"}})
	_, err := l.Find()
	if !errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), "libfake.so.1") || !strings.Contains(err.Error(), "apt-get install libfake1") {
		t.Fatalf("Find: %v, want a missing library naming libfake1", err)
	}
}

// TestOverlayWrap runs a command under an overlay: it sees the work
// directory's file in place of a system file, and the system file is
// unchanged outside.
func TestOverlayWrap(t *testing.T) {
	if os.Geteuid() != 0 {
		_, err := Overlay{"/etc/hostname": "/dev/null"}.Wrap([]string{"true"})
		if !errors.Is(err, ErrNoOverlay) {
			t.Fatalf("Wrap as non-root: %v, want ErrNoOverlay", err)
		}
		t.Skip("bind mounts need root")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "it's a file")
	if err := os.WriteFile(src, []byte("overlaid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile("/etc/hostname")
	if err != nil {
		t.Skip(err)
	}
	if err := OverlayAvailable(); err != nil {
		t.Skip(err)
	}
	argv, err := Overlay{"/etc/hostname": src}.Wrap([]string{"cat", "/etc/hostname"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Skipf("no private mount namespace here: %v: %s", err, out)
	}
	if string(out) != "overlaid\n" {
		t.Errorf("under the overlay /etc/hostname reads %q", out)
	}
	if after, _ := os.ReadFile("/etc/hostname"); string(after) != string(before) {
		t.Errorf("/etc/hostname changed outside the overlay: %q", after)
	}
}

// TestCompanion: the companion runs beside the main command, which keeps
// the shell's PID.
func TestCompanion(t *testing.T) {
	dir := t.TempDir()
	mark, mark2 := filepath.Join(dir, "companion ran"), filepath.Join(dir, "the other's")
	argv, err := WithCompanions([]string{"sh", "-c", "sleep 0.3; cat \"$0\" \"$1\"; echo main $$", mark, mark2},
		[]string{"sh", "-c", "echo yes > \"$0\"", mark}, []string{"sh", "-c", "echo too > \"$0\"", mark2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("yes\ntoo\nmain %d\n", cmd.Process.Pid)
	if string(out) != want {
		t.Errorf("printed %q, want %q", out, want)
	}
}
