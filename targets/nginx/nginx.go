// Package nginx launches nginx as an HTTP/1.1 target: it writes the
// fixture of internal/fixture/http1 and an nginx.conf into a work
// directory, starts nginx in the foreground on a free 127.0.0.1 port and
// stops it by PID on Close.
//
//	protospec run http1 --target nginx --baseline builtin
//
// nginx serves the static docroot, GET /redirect (301 to /hello.txt) and
// PUT/DELETE under /upload/ (ngx_http_dav_module). It has no TRACE and no
// /echo, /form or /session endpoints; specs needing them are skipped with
// the reason.
package nginx

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	fixture "github.com/protospec/protospec/internal/fixture/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs nginx is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(Launcher{}) }

// Launcher starts nginx.
type Launcher struct{}

const pkg = "nginx"

// binaryName is the executable looked up; a test points it at a name that
// does not exist.
var binaryName = "nginx"

// freePorts picks the listening port; a test makes it return a taken one.
var freePorts = targets.FreePorts

// Features offered by this launcher, and the reasons for those that are not.
var (
	features = map[string]bool{
		"http1/redirect": true,
		"http1/upload":   true,
	}
	reasons = map[string]string{
		"http1/trace":   "nginx has no TRACE (returns 405)",
		"http1/echo":    "nginx serves static files only: no /echo endpoint",
		"http1/form":    "nginx serves static files only: no /form endpoint",
		"http1/session": "nginx serves static files only: no /session endpoint (it keeps no server-side state to count visits)",
	}
)

// Name implements targets.Launcher.
func (Launcher) Name() string { return "nginx" }

// Protocols implements targets.Launcher.
func (Launcher) Protocols() []string { return []string{"http1"} }

// Requirement implements targets.Launcher.
func (Launcher) Requirement() string { return "Debian package " + pkg }

// Available implements targets.Launcher.
func (Launcher) Available() error {
	_, err := targets.FindBinary(binaryName, pkg)
	return err
}

// Target is a running nginx. It is a targets.Static with the server's PID
// and work directory, for tests and logs.
type Target struct {
	*targets.Static
	proc *targets.Process
	dir  string
}

// PID is the process id of the nginx master.
func (t *Target) PID() int { return t.proc.PID() }

// Dir is the work directory: nginx.conf, htdocs/, error.log, access.log.
func (t *Target) Dir() string { return t.dir }

// Start implements targets.Launcher.
func (Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	if opts.Protocol != "" && opts.Protocol != "http1" {
		return nil, fmt.Errorf("%w: nginx serves http1, not %q", targets.ErrUnsupportedProtocol, opts.Protocol)
	}
	bin, err := targets.FindBinary(binaryName, pkg)
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := targets.WorkDir(opts, "nginx")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (targets.Target, error) {
		cleanup()
		return nil, fmt.Errorf("nginx: %w", err)
	}
	docroot := filepath.Join(dir, "htdocs")
	if err := fixture.Write(docroot); err != nil {
		return fail(err)
	}
	for _, d := range []string{"tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fail(err)
		}
	}
	ports, err := freePorts("127.0.0.1", 1)
	if err != nil {
		return fail(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(config(dir, addr, os.Geteuid() == 0)), 0o644); err != nil {
		return fail(err)
	}
	errorLog := filepath.Join(dir, "error.log")
	// -e: without it nginx opens /var/log/nginx/error.log before reading
	// the config. -p: relative paths resolve in the work directory.
	p, err := targets.StartProcess("nginx", filepath.Join(dir, "stdout.log"), opts.Log,
		bin, "-p", dir+"/", "-c", confPath, "-e", errorLog)
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
		return nil, fmt.Errorf("nginx: %w (error.log: %s)", err, tail(string(log), 2000))
	}
	return &Target{
		Static: &targets.Static{
			TargetName: "nginx",
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

// config returns nginx.conf for a server on addr serving dir/htdocs.
// Header and request-line limits stay at nginx's defaults
// (large_client_header_buffers 4 8k), which the suite's 414/431 specs
// judge.
func config(dir, addr string, root bool) string {
	var b strings.Builder
	b.WriteString("daemon off;\nworker_processes 1;\n")
	if root {
		// Workers as root can write the upload area of a temp dir; as
		// "nobody" they could not.
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, `pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 1024; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    types {
        text/html html;
        text/plain txt;
        application/octet-stream bin;
    }
    default_type application/octet-stream;
    keepalive_requests 1000;
    keepalive_timeout 30s;
    # Location: /hello.txt as the fixture says, not http://host:port/hello.txt.
    absolute_redirect off;
    server {
        listen %[2]s;
        server_name localhost;
        root %[1]s/htdocs;
        index index.html;
        location = /redirect { return 301 /hello.txt; }
        location /upload/ {
            dav_methods PUT DELETE;
            create_full_put_path off;
            dav_access user:rw group:r all:r;
            client_max_body_size 10m;
        }
    }
}
`, dir, addr)
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
	// nginx -v prints "nginx version: nginx/1.22.1" on stderr.
	out, _ := exec.CommandContext(ctx, bin, "-v").CombinedOutput()
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimPrefix(s, "nginx version: ")
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
