package targets

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

// Declared is a launcher of a third-party server written as data: its
// binary and Debian package, its baseline, the features it offers and the
// reasons for those it lacks, and how a start configures, runs and probes
// the server. Declare registers it; the launcher's package holds nothing
// else but its config template and the hooks its server needs.
//
//	//go:embed nginx.conf.tmpl
//	var config string
//
//	var launcher = targets.Declare(targets.Declared{
//		Name: "nginx", Protocol: http1.Name, Binary: "nginx", Package: "nginx",
//		VersionArgs: []string{"-v"}, Baseline: baseline,
//		ConfigFile: "nginx.conf", ConfigTemplate: config,
//		Argv: func(r *targets.Run) []string { return []string{"-c", r.Config} },
//		...
//	})
type Declared struct {
	// Name is what --target takes: "nginx".
	Name string
	// Protocol is the protocol served: http1.Name.
	Protocol string
	// Binary is the server's executable, looked up by FindBinary: "knotd".
	Binary string
	// Package is the Debian package that installs Binary: "knot".
	Package string
	// Unpacked, if set, lists the Debian packages that, unpacked in
	// UnpackedTree (dpkg -x), provide Binary and its modules where
	// Package is not installed: servers whose packages conflict with
	// another server's ("Conflicts: ftp-server"). UnpackedNeeds are the
	// installed packages their shared libraries come from, which dpkg -x
	// does not bring.
	Unpacked      []string
	UnpackedNeeds []string
	// Requires, if set, checks what else the server needs installed (its
	// modules): an error wrapping ErrMissingBinary that says what to
	// install. Available and Start call it after finding Binary.
	Requires func() error
	// VersionArgs make Binary print its version ("-v"); VersionText, if
	// set, turns the first line printed into the version reported. A
	// command that cannot run or prints nothing gives Binary.
	VersionArgs []string
	VersionText func(line string) string
	// Version, if set, tells the version once the server is ready, in
	// place of VersionArgs: for a binary that has no version command
	// (postfix's master, which postconf tells) or cannot run it outside
	// the server's Overlay.
	Version func(r *Run) string
	// Baseline lists the specs the server is known to fail (go:embed of
	// baseline.txt): what `run --baseline builtin` uses.
	Baseline string

	// Features lists the optional features offered; Reasons say, per
	// service or feature, why the server does not offer it.
	Features []string
	Reasons  map[string]string
	// Vars are values for the hooks and the config template
	// ({{.Vars.modules}}); each start works on a copy.
	Vars map[string]any

	// Ports is how many free 127.0.0.1 ports a start picks (default 1).
	Ports int
	// Check, if set, runs before anything is written: it checks what the
	// start needs (Options.Params, modules) and may set Run.Vars.
	Check func(r *Run) error
	// Prepare, if set, runs once in the new work directory: fixtures,
	// directories the server needs.
	Prepare func(r *Run) error
	// ConfigTemplate, if set, is a text/template (go:embed of
	// NAME.conf.tmpl) executed with the *Run once the ports are picked and
	// written to ConfigFile in the work directory (Run.Config). Besides
	// the Run's methods it may call q (a Go-quoted string) and join
	// (filepath.Join).
	ConfigTemplate string
	ConfigFile     string
	// Argv returns the arguments after Binary.
	Argv func(r *Run) []string
	// Env, if set, returns variables ("NAME=value") the server runs
	// with besides protospec's own environment: its command line runs
	// through env(1), which execs it (the server keeps the launched PID).
	Env func(r *Run) []string
	// Overlay, if set, returns the work directory's files that the server
	// sees in place of system files (users, PAM services): it runs in a
	// private mount namespace with them bound over (see Overlay).
	Overlay func(r *Run) (Overlay, error)
	// Companions, if set, returns more command lines (each its binary
	// first) started beside the server, in its process group (and mount
	// namespace), stopped with it: instances on other ports or
	// addresses, for services the server cannot offer from one process.
	// It runs once the config is written and may write the companions'
	// own.
	Companions func(r *Run) ([][]string, error)
	// Probe, if set, returns the readiness probe (default: a TCP
	// connection to the first port is accepted).
	Probe func(r *Run) func(context.Context) error
	// Endpoints returns the services offered, once the server is ready.
	Endpoints func(r *Run) map[string]Endpoint
	// Finish, if set, completes the target once the server is ready:
	// features that depend on the params.
	Finish func(r *Run, t *Static)

	// Output, ServerLog, LogLabel, Prefix, Attempts, PortTaken and
	// KeptNote are those of Server.
	Output    string
	ServerLog string
	LogLabel  string
	Prefix    string
	Attempts  int
	PortTaken func(error) bool
	KeptNote  string
	// FreePorts picks the ports (default FreePorts); a test makes it
	// return a taken port.
	FreePorts func(host string, n int) ([]int, error)
}

// DeclaredLauncher is a registered Declared: a Launcher and a
// BaselineProvider.
type DeclaredLauncher struct {
	Declared
	config *template.Template
}

// Declare registers d as a launcher and returns it. A config template
// that does not parse is a programming error and panics, as registering a
// name twice does.
func Declare(d Declared) *DeclaredLauncher {
	l := NewDeclared(d)
	Register(l)
	return l
}

// NewDeclared returns d as a launcher without registering it.
func NewDeclared(d Declared) *DeclaredLauncher {
	l := &DeclaredLauncher{Declared: d}
	if d.ConfigTemplate != "" {
		l.config = template.Must(template.New(d.ConfigFile).Funcs(templateFuncs).Option("missingkey=error").Parse(d.ConfigTemplate))
	}
	return l
}

var templateFuncs = template.FuncMap{
	"q":    strconv.Quote,
	"join": filepath.Join,
}

// Run is one start of a declared launcher: what its hooks and its config
// template see.
type Run struct {
	// Bin is the path of the server's binary.
	Bin string
	// Tree is the root of the file tree Bin belongs to: "/" for an
	// installed package, UnpackedTree for an unpacked one (its modules
	// are under Tree/usr/lib/...).
	Tree string
	// Opts are the options the target was opened with.
	Opts Options
	// Root tells that protospec runs as root (euid 0).
	Root bool
	// Dir is the work directory (set before Prepare).
	Dir string
	// Ports are the 127.0.0.1 ports of this attempt (set before the
	// config is written).
	Ports []int
	// Config is the path of the config file written, if any.
	Config string
	// Vars start as a copy of Declared.Vars.
	Vars map[string]any
}

// Addr is "127.0.0.1:PORT" of the i-th port.
func (r *Run) Addr(i int) string { return loopback(r.Ports[i]) }

// Port is the i-th port.
func (r *Run) Port(i int) int { return r.Ports[i] }

// Path joins elem to the work directory.
func (r *Run) Path(elem ...string) string { return filepath.Join(append([]string{r.Dir}, elem...)...) }

// Name implements Launcher.
func (l *DeclaredLauncher) Name() string { return l.Declared.Name }

// Protocols implements Launcher.
func (l *DeclaredLauncher) Protocols() []string { return []string{l.Protocol} }

// Requirement implements Launcher.
func (l *DeclaredLauncher) Requirement() string {
	if len(l.Unpacked) == 0 {
		return "Debian package " + l.Package
	}
	s := fmt.Sprintf("Debian package %s, or %s unpacked in %s", l.Package, strings.Join(l.Unpacked, " "), UnpackedTree())
	if len(l.UnpackedNeeds) > 0 {
		s += " with " + strings.Join(l.UnpackedNeeds, " ") + " installed"
	}
	return s
}

// Available implements Launcher.
func (l *DeclaredLauncher) Available() error {
	_, err := l.find()
	return err
}

// find is Find, then Requires.
func (l *DeclaredLauncher) find() (string, error) {
	bin, err := l.Find()
	if err == nil && l.Requires != nil {
		err = l.Requires()
	}
	return bin, err
}

// Find returns the path of the server's binary, installed or else
// unpacked (Declared.Unpacked), or an error wrapping ErrMissingBinary
// that names the package to install (and those to unpack). An unpacked
// binary whose shared libraries are missing gives an error naming
// UnpackedNeeds.
func (l *DeclaredLauncher) Find() (string, error) {
	bin, err := FindBinary(l.Binary, l.Package)
	if err == nil || len(l.Unpacked) == 0 {
		return bin, err
	}
	if bin, err = FindUnpacked(l.Binary, l.Package, l.Unpacked...); err != nil {
		return "", err
	}
	if err := checkLibraries(bin, l.VersionArgs, l.UnpackedNeeds); err != nil {
		return "", err
	}
	return bin, nil
}

// tree is the root of the file tree of bin: UnpackedTree when bin is in
// it, "/" otherwise.
func tree(bin string) string {
	t := UnpackedTree()
	if strings.HasPrefix(bin, t+string(filepath.Separator)) {
		return t
	}
	return "/"
}

// Baseline implements BaselineProvider.
func (l *DeclaredLauncher) Baseline(protocol string) (string, bool) {
	return l.Declared.Baseline, protocol == l.Protocol
}

// Config executes the config template for r.
func (l *DeclaredLauncher) Config(r *Run) ([]byte, error) {
	if l.config == nil {
		return nil, fmt.Errorf("%s: no config template", l.Declared.Name)
	}
	var b bytes.Buffer
	if err := l.config.Execute(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// NewRun returns the Run of a start of bin with opts, passed through
// Check: what Start works on, and what a test renders the config with.
func (l *DeclaredLauncher) NewRun(bin string, opts Options) (*Run, error) {
	r := &Run{Bin: bin, Tree: tree(bin), Opts: opts, Root: os.Geteuid() == 0, Vars: maps.Clone(l.Vars)}
	if r.Vars == nil {
		r.Vars = map[string]any{}
	}
	if l.Check != nil {
		if err := l.Check(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Start implements Launcher: it runs the server as Server.Start does and
// returns a *Launched target once it answers.
func (l *DeclaredLauncher) Start(ctx context.Context, opts Options) (Target, error) {
	name := l.Declared.Name
	if opts.Protocol != "" && opts.Protocol != l.Protocol {
		return nil, fmt.Errorf("%w: %s serves %s, not %q", ErrUnsupportedProtocol, name, l.Protocol, opts.Protocol)
	}
	bin, err := l.find()
	if err != nil {
		return nil, err
	}
	r, err := l.NewRun(bin, opts)
	if err != nil {
		return nil, err
	}
	running, err := Server{
		Name:      name,
		Ports:     l.Ports,
		FreePorts: l.FreePorts,
		Prepare: func(dir string) error {
			r.Dir = dir
			if l.Prepare == nil {
				return nil
			}
			return l.Prepare(r)
		},
		Argv: func(dir string, ports []int) ([]string, error) {
			r.Dir, r.Ports = dir, ports
			if l.config != nil {
				conf, err := l.Config(r)
				if err != nil {
					return nil, err
				}
				r.Config = filepath.Join(dir, l.ConfigFile)
				if err := os.WriteFile(r.Config, conf, 0o644); err != nil {
					return nil, err
				}
			}
			argv := append([]string{bin}, l.Argv(r)...)
			if l.Env != nil {
				wrapped, err := WithEnv(argv, l.Env(r)...)
				if err != nil {
					return nil, err
				}
				argv = wrapped
			}
			if l.Companions != nil {
				companions, err := l.Companions(r)
				if err != nil {
					return nil, err
				}
				if argv, err = WithCompanions(argv, companions...); err != nil {
					return nil, err
				}
			}
			if l.Overlay == nil {
				return argv, nil
			}
			o, err := l.Overlay(r)
			if err != nil {
				return nil, err
			}
			return o.Wrap(argv)
		},
		Probe: func(addr string) func(context.Context) error {
			if l.Probe == nil {
				return DialProbe(addr)
			}
			return l.Probe(r)
		},
		Output:    l.Output,
		ServerLog: l.ServerLog,
		LogLabel:  l.LogLabel,
		Prefix:    l.Prefix,
		Attempts:  l.Attempts,
		PortTaken: l.PortTaken,
		KeptNote:  l.KeptNote,
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	features := make(map[string]bool, len(l.Features))
	for _, f := range l.Features {
		features[f] = true
	}
	var version string
	if l.Declared.Version != nil {
		version = l.Declared.Version(r)
	} else {
		version = l.version(bin)
	}
	t := &Static{
		TargetName: name,
		Version:    version,
		Endpoints:  l.Endpoints(r),
		Features:   features,
		Reasons:    maps.Clone(l.Reasons),
	}
	if t.Reasons == nil {
		t.Reasons = map[string]string{}
	}
	if l.Finish != nil {
		l.Finish(r, t)
	}
	return running.Launched(t), nil
}

// version is what the version command printed first, through
// VersionText; Binary when it printed nothing or could not run.
func (l *DeclaredLauncher) version(bin string) string {
	s, err := Version(bin, l.VersionArgs...)
	if err == nil && s != "" && l.VersionText != nil {
		s = l.VersionText(s)
	}
	if err != nil || s == "" {
		return l.Binary
	}
	return s
}

// WithEnv returns the command line that runs argv with the variables env
// ("NAME=value") added to the environment: env(1), which execs argv.
func WithEnv(argv []string, env ...string) ([]string, error) {
	if len(env) == 0 {
		return argv, nil
	}
	for _, e := range env {
		if name, _, ok := strings.Cut(e, "="); !ok || name == "" {
			return nil, fmt.Errorf("targets: environment variable %q is not NAME=value", e)
		}
	}
	bin, err := FindBinary("env", "coreutils")
	if err != nil {
		return nil, err
	}
	return append(append([]string{bin}, env...), argv...), nil
}
