// Package apache2 launches the Apache HTTP Server (Debian's apache2) as an
// HTTP/1.1 target: it writes the fixture of internal/http1 and an
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
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs apache2 is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(launcher) }

// Launcher starts apache2.
type Launcher struct{ targets.BinaryLauncher }

var launcher = Launcher{targets.BinaryLauncher{Server: "apache2", Serves: []string{"http1"}, Binary: "apache2", Package: "apache2"}}

var (
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
		fixture.FeatureRedirect: true,
		fixture.FeatureUpload:   true,
		fixture.FeatureTrace:    true,
	}
	reasons = map[string]string{
		fixture.FeatureEcho:    "apache2 serves static files only: no /echo endpoint",
		fixture.FeatureForm:    "apache2 serves static files only: no /form endpoint",
		fixture.FeatureSession: "apache2 serves static files only: no /session endpoint",
	}
)

// Target is a running apache2: a targets.Static with the server's PID and
// work directory (httpd.conf, htdocs/, run/, error.log,
// access.log), for tests and logs.
type Target = targets.Launched

// Start implements targets.Launcher.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	if opts.Protocol != "" && opts.Protocol != "http1" {
		return nil, fmt.Errorf("%w: apache2 serves http1, not %q", targets.ErrUnsupportedProtocol, opts.Protocol)
	}
	bin, err := l.Find()
	if err != nil {
		return nil, err
	}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(moduleDir, "mod_"+m+".so")); err != nil {
			return nil, fmt.Errorf("%w: apache2 module mod_%s missing from %s (install the Debian package %s: apt-get install %s)", targets.ErrMissingBinary, m, moduleDir, l.Package, l.Package)
		}
	}
	var userName, group string
	run, err := targets.Server{
		Name:      "apache2",
		FreePorts: freePorts,
		Prepare: func(dir string) (err error) {
			userName, group, err = prepare(dir)
			return err
		},
		Argv: func(dir string, ports []int) ([]string, error) {
			confPath := filepath.Join(dir, "httpd.conf")
			if err := os.WriteFile(confPath, []byte(config(dir, addr(ports), userName, group)), 0o644); err != nil {
				return nil, err
			}
			// -DFOREGROUND keeps the parent (the launched PID) in the
			// foreground; the children are in its process group, which
			// Stop signals.
			return []string{bin, "-d", dir, "-f", confPath, "-DFOREGROUND"}, nil
		},
		Probe: func(addr string) func(context.Context) error {
			return fixture.GetProbe(addr, "/hello.txt")
		},
		ServerLog: "error.log",
		Prefix:    "apache2: ",
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return run.Launched(&targets.Static{
		TargetName: "apache2",
		Version:    version(bin),
		Endpoints:  map[string]targets.Endpoint{"http/tcp": {Network: "tcp", Addr: run.Addr(0)}},
		Features:   features,
		Reasons:    reasons,
	}), nil
}

func addr(ports []int) string { return fmt.Sprintf("127.0.0.1:%d", ports[0]) }

// prepare writes the docroot, run/ and an empty mime.types into dir. As
// root it also returns the user and group apache2's children run as, and
// lets them in: apache2 refuses to serve as root, and the children must
// reach the docroot (MkdirTemp made the work dir 0700) and write the
// upload area and the DAV lock database.
func prepare(dir string) (userName, group string, err error) {
	docroot := filepath.Join(dir, "htdocs")
	if err := fixture.Write(docroot); err != nil {
		return "", "", err
	}
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "mime.types"), nil, 0o644); err != nil {
		return "", "", err
	}
	if os.Geteuid() != 0 {
		return "", "", nil
	}
	runAs, group, err := serverUser()
	if err != nil {
		return "", "", err
	}
	uid, _ := strconv.Atoi(runAs.Uid)
	gid, _ := strconv.Atoi(runAs.Gid)
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", "", err
	}
	for _, d := range []string{filepath.Join(docroot, "upload"), run} {
		if err := os.Chown(d, uid, gid); err != nil {
			return "", "", err
		}
	}
	return runAs.Username, group, nil
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

// version is "Apache/2.4.71 (Debian)" from "apache2 -v" ("Server version:
// Apache/2.4.71 (Debian)\nServer built: ...").
func version(bin string) string {
	s, _ := targets.Version(bin, "-v")
	return strings.TrimSpace(strings.TrimPrefix(s, "Server version:"))
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "http1"
}
