package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Servers whose Debian packages cannot be installed side by side (they
// conflict, or pull in a daemon that starts on a public port) run from a
// tree of unpacked packages instead: `apt-get download P` and `dpkg -x
// P_*.deb root` in UnpackedDir. dpkg -x installs none of a package's
// dependencies: the shared libraries the server needs are named by
// Declared.UnpackedNeeds and installed normally.

// UnpackedEnv, if set, is the directory of unpacked packages
// (UnpackedDir), in place of the user's cache directory.
const UnpackedEnv = "PROTOSPEC_DEBS"

// UnpackedDir is where the unpacked packages live: $PROTOSPEC_DEBS, else
// protospec/debs in the user's cache directory ($XDG_CACHE_HOME, else
// ~/.cache). The .deb files are kept there and their files are extracted
// into UnpackedTree.
func UnpackedDir() string {
	if d := os.Getenv(UnpackedEnv); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "protospec", "debs")
}

// UnpackedTree is the root of the extracted files: UnpackedDir/root, so
// that a binary of a package is at UnpackedTree/usr/sbin/NAME.
func UnpackedTree() string { return filepath.Join(UnpackedDir(), "root") }

// binDirs are where a package puts executables, relative to its tree.
var binDirs = []string{"usr/sbin", "usr/bin", "sbin", "bin"}

// FindUnpacked looks name up in the unpacked tree. When it is not there,
// the error wraps ErrMissingBinary and says how to unpack packages (and,
// if installable is set, that installing it does as well).
func FindUnpacked(name, installable string, packages ...string) (string, error) {
	tree := UnpackedTree()
	for _, d := range binDirs {
		p := filepath.Join(tree, d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	msg := fmt.Sprintf("%s is neither installed nor unpacked in %s (%s)", name, tree, UnpackCommand(packages...))
	if installable != "" {
		msg += fmt.Sprintf("; or install the Debian package %s: apt-get install %s", installable, installable)
	}
	return "", fmt.Errorf("%w: %s", ErrMissingBinary, msg)
}

// UnpackCommand is the shell command that unpacks packages into the
// unpacked tree.
func UnpackCommand(packages ...string) string {
	return fmt.Sprintf("mkdir -p %[1]s && cd %[1]s && apt-get download %[2]s && for f in *.deb; do dpkg -x \"$f\" root; done",
		shellQuote(UnpackedDir()), strings.Join(packages, " "))
}

// missingLibrary is what the dynamic loader prints when a shared library
// of the program is not installed.
const missingLibrary = "error while loading shared libraries"

// checkLibraries runs bin with args (its version command) and, if the
// dynamic loader cannot find one of its libraries, returns an error
// wrapping ErrMissingBinary that names the packages to install.
func checkLibraries(bin string, args []string, needs []string) error {
	out, err := Version(bin, args...)
	if err != nil || !strings.Contains(out, missingLibrary) {
		return nil
	}
	_, lib, _ := strings.Cut(out, missingLibrary+": ")
	lib, _, _ = strings.Cut(lib, ":")
	return fmt.Errorf("%w: %s (unpacked) cannot load %s: install its libraries: apt-get install %s",
		ErrMissingBinary, bin, lib, strings.Join(needs, " "))
}

// Overlay binds files over system paths in a private mount namespace.
//
// A server that reads its users or its PAM services from fixed places
// (/etc/passwd, /etc/shadow, /etc/pam.d) sees the work directory's files
// there, and nothing outside the work directory changes: the mounts live
// in a mount namespace of the server's own (unshare(1) -m), gone with its
// last process. It needs root (CAP_SYS_ADMIN).
type Overlay map[string]string

// ErrNoOverlay is wrapped by the error of a start whose Overlay cannot be
// set up here (not root, or no unshare(1)).
var ErrNoOverlay = errors.New("targets: no private mount namespace")

// OverlayAvailable tells whether overlays work here: root, unshare(1),
// and a kernel and container that let it make a mount namespace (checked
// once, by running unshare -m true).
func OverlayAvailable() error {
	overlayOnce.Do(func() {
		argv, err := Overlay{}.Wrap([]string{"true"})
		if err != nil {
			overlayErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			overlayErr = fmt.Errorf("%w: unshare --mount: %v: %s", ErrNoOverlay, err, strings.TrimSpace(string(out)))
		}
	})
	return overlayErr
}

var (
	overlayOnce sync.Once
	overlayErr  error
)

// Wrap returns the command line that runs argv with the overlay's mounts:
// unshare -m, then a shell that binds each file over its system path and
// execs argv (so the server keeps the launched PID).
func (o Overlay) Wrap(argv []string) ([]string, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: bind mounts need root", ErrNoOverlay)
	}
	unshare, err := FindBinary("unshare", "util-linux")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoOverlay, err)
	}
	sh, err := FindBinary("sh", "dash")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoOverlay, err)
	}
	targets := make([]string, 0, len(o))
	for t := range o {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, t := range targets {
		fmt.Fprintf(&script, "mount --bind %s %s\n", shellQuote(o[t]), shellQuote(t))
	}
	script.WriteString("exec \"$@\"\n")
	return append([]string{unshare, "--mount", "--propagation", "private", sh, "-c", script.String(), "overlay"}, argv...), nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// WithCompanions returns the command line that starts each companion in
// the background and then execs argv (which keeps the launched PID): all
// in the launched process group, stopped together.
func WithCompanions(argv []string, companions ...[]string) ([]string, error) {
	if len(companions) == 0 {
		return argv, nil
	}
	sh, err := FindBinary("sh", "dash")
	if err != nil {
		return nil, err
	}
	var script strings.Builder
	for _, c := range companions {
		quoted := make([]string, len(c))
		for i, a := range c {
			quoted[i] = shellQuote(a)
		}
		script.WriteString(strings.Join(quoted, " ") + " &\n")
	}
	script.WriteString("exec \"$@\"\n")
	return append([]string{sh, "-c", script.String(), "companion"}, argv...), nil
}
