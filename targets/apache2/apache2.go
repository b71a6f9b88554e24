// Package apache2 launches the Apache HTTP Server (Debian's apache2) as an
// HTTP/1.1 target: it writes the fixture of internal/fixture/http1 and an
// httpd.conf of its own into a work directory (Debian's /etc/apache2 and
// a2enmod are not used: modules are loaded from /usr/lib/apache2/modules),
// starts apache2 in the foreground on a free 127.0.0.1 port and stops it by
// PID on Close.
//
//	protospec run http1 --target apache2 --baseline builtin
//
// apache2 serves the static docroot, GET /redirect (301 to /hello.txt,
// mod_alias), PUT/DELETE under /upload/ (mod_dav, mod_dav_fs) and TRACE
// (TraceEnable on). It has no /echo, /form or /session endpoints; specs
// needing them are skipped with the reason.
package apache2

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	fixture "github.com/protospec/protospec/internal/fixture/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs apache2 is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(Launcher{}) }

// Launcher starts apache2.
type Launcher struct{}

const pkg = "apache2"

var (
	// binaryName is the executable looked up; a test points it at a name
	// that does not exist.
	binaryName = "apache2"
	// moduleDir holds Debian's apache2 modules.
	moduleDir = "/usr/lib/apache2/modules"
	// freePorts picks the listening port; a test makes it return a taken
	// one.
	freePorts = targets.FreePorts
)

// modules are loaded with LoadModule; mod_unixd, mod_log_config and
// mod_so are compiled into Debian's apache2 (loading them again is an
// error).
var modules = []string{
	"mpm_event", "authz_core", "mime", "dir", "alias", "reqtimeout", "dav", "dav_fs",
}

// Features offered by this launcher, and the reasons for those that are not.
var (
	features = map[string]bool{
		"http1/redirect": true,
		"http1/upload":   true,
		"http1/trace":    true,
	}
	reasons = map[string]string{
		"http1/echo":    "apache2 serves static files only: no /echo endpoint",
		"http1/form":    "apache2 serves static files only: no /form endpoint",
		"http1/session": "apache2 serves static files only: no /session endpoint",
	}
)

// Name implements targets.Launcher.
func (Launcher) Name() string { return "apache2" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string { return []string{"http1"} }

// Requirement implements targets.Launcher.
func (Launcher) Requirement() string { return "Debian package " + pkg }

// Available implements targets.Launcher.
func (Launcher) Available() error {
	_, err := targets.FindBinary(binaryName, pkg)
	return err
}

// Target is a running apache2. It is a targets.Static with the server's
// PID and work directory, for tests and logs.
type Target struct {
	*targets.Static
	proc *targets.Process
	dir  string
}

// PID is the process id of the apache2 parent.
func (t *Target) PID() int { return t.proc.PID() }

// Dir is the work directory: httpd.conf, htdocs/, run/, error.log,
// access.log.
func (t *Target) Dir() string { return t.dir }

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	if opts.Protocol != "" && opts.Protocol != "http1" {
		return nil, fmt.Errorf("%w: apache2 serves http1, not %q", targets.ErrUnsupportedProtocol, opts.Protocol)
	}
	bin, err := targets.FindBinary(binaryName, pkg)
	if err != nil {
		return nil, err
	}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(moduleDir, "mod_"+m+".so")); err != nil {
			return nil, fmt.Errorf("%w: apache2 module mod_%s missing from %s (install the Debian package %s: apt-get install %s)", targets.ErrMissingBinary, m, moduleDir, pkg, pkg)
		}
	}
	dir, cleanup, err := targets.WorkDir(opts, "apache2")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (targets.Target, error) {
		cleanup()
		return nil, fmt.Errorf("apache2: %w", err)
	}
	docroot := filepath.Join(dir, "htdocs")
	if err := fixture.Write(docroot); err != nil {
		return fail(err)
	}
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mime.types"), nil, 0o644); err != nil {
		return fail(err)
	}
	var runAs *user.User
	var runGroup string
	if os.Geteuid() == 0 {
		// apache2 refuses to serve as root: the children switch to User.
		// They must reach the docroot (MkdirTemp made the work dir 0700)
		// and write the upload area and the DAV lock database.
		runAs, runGroup, err = serverUser()
		if err != nil {
			return fail(err)
		}
		uid, _ := strconv.Atoi(runAs.Uid)
		gid, _ := strconv.Atoi(runAs.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			return fail(err)
		}
		for _, d := range []string{filepath.Join(docroot, "upload"), run} {
			if err := os.Chown(d, uid, gid); err != nil {
				return fail(err)
			}
		}
	}
	ports, err := freePorts("127.0.0.1", 1)
	if err != nil {
		return fail(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	confPath := filepath.Join(dir, "httpd.conf")
	userName := ""
	if runAs != nil {
		userName = runAs.Username
	}
	if err := os.WriteFile(confPath, []byte(config(dir, addr, userName, runGroup)), 0o644); err != nil {
		return fail(err)
	}
	errorLog := filepath.Join(dir, "error.log")
	// -DFOREGROUND keeps the parent (the launched PID) in the foreground;
	// the children are in its process group, which Stop signals.
	p, err := targets.StartProcess("apache2", filepath.Join(dir, "stdout.log"), opts.Log,
		bin, "-d", dir, "-f", confPath, "-DFOREGROUND")
	if err != nil {
		return fail(err)
	}
	stop := func() error {
		err := p.Stop(3 * time.Second)
		cleanup()
		return err
	}
	if err := p.WaitReady(ctx, 10*time.Second, readyProbe(addr)); err != nil {
		log, _ := os.ReadFile(errorLog)
		stop()
		return nil, fmt.Errorf("apache2: %w (error.log: %s)", err, tail(string(log), 2000))
	}
	return &Target{
		Static: &targets.Static{
			TargetName: "apache2",
			Kind:       targets.KindLauncher,
			Version:    version(bin),
			Endpoints:  map[string]targets.Endpoint{"http/tcp": {Network: "tcp", Addr: addr}},
			Features:   features,
			Reasons:    reasons,
			OnClose:    stop,
			Proc:       p,
		},
		proc: p,
		dir:  dir,
	}, nil
}

// serverUser is the unprivileged user apache2's children run as: Debian's
// www-data, else nobody.
func serverUser() (*user.User, string, error) {
	for _, name := range []string{"www-data", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return nil, "", fmt.Errorf("group %s of user %s: %w", u.Gid, name, err)
		}
		return u, g.Name, nil
	}
	return nil, "", fmt.Errorf("neither user www-data nor nobody exists to run apache2's children")
}

// config returns httpd.conf for a server on addr serving dir/htdocs. The
// limits on the request line and header fields stay at apache's defaults
// (LimitRequestLine 8190, LimitRequestFieldSize 8190, LimitRequestFields
// 100), which the suite's 414/431 specs judge.
func config(dir, addr, userName, group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `ServerRoot %[1]q
ServerName localhost
Listen %[2]s
PidFile %[3]q
DefaultRuntimeDir %[4]q
Mutex file:%[4]s default
ErrorLog %[5]q
LogLevel warn
`, dir, addr, filepath.Join(dir, "run", "httpd.pid"), filepath.Join(dir, "run"), filepath.Join(dir, "error.log"))
	for _, m := range modules {
		fmt.Fprintf(&b, "LoadModule %s_module %s\n", m, filepath.Join(moduleDir, "mod_"+m+".so"))
	}
	if userName != "" {
		fmt.Fprintf(&b, "User %s\nGroup %s\n", userName, group)
	}
	fmt.Fprintf(&b, `TypesConfig %[2]q
AddType text/html .html
AddType text/plain .txt
AddType application/octet-stream .bin
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%b" common
CustomLog %[3]q common
KeepAlive On
MaxKeepAliveRequests 1000
KeepAliveTimeout 30
TraceEnable on
StartServers 1
ServerLimit 2
ThreadsPerChild 32
MinSpareThreads 1
MaxSpareThreads 64
MaxRequestWorkers 64
<Directory />
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot %[1]q
<Directory %[1]q>
    AllowOverride None
    Require all granted
</Directory>
DirectoryIndex index.html
RedirectMatch 301 ^/redirect$ /hello.txt
DavLockDB %[4]q
<Directory %[5]q>
    Dav On
</Directory>
`, filepath.Join(dir, "htdocs"), filepath.Join(dir, "mime.types"), filepath.Join(dir, "access.log"),
		filepath.Join(dir, "run", "davlock"), filepath.Join(dir, "htdocs", "upload"))
	return b.String()
}

// readyProbe succeeds once GET /hello.txt on addr is answered 200.
func readyProbe(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := targets.DialProbe(addr)(ctx); err != nil {
			return err
		}
		return probeGet(ctx, addr, "/hello.txt")
	}
}

func version(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// apache2 -v: "Server version: Apache/2.4.71 (Debian)\nServer built: ...".
	out, _ := exec.CommandContext(ctx, bin, "-v").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.TrimPrefix(s, "Server version:"))
}

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

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "http1"
}
