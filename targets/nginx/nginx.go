// Package nginx launches nginx as an HTTP/1.1 target: it writes the
// fixture of internal/http1 and an nginx.conf into a work
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
	"path/filepath"
	"strings"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs nginx is known to fail.
//
//go:embed baseline.txt
var Baseline string

func init() { targets.Register(launcher) }

// Launcher starts nginx.
type Launcher struct{ targets.BinaryLauncher }

var launcher = Launcher{targets.BinaryLauncher{Server: "nginx", Serves: []string{"http1"}, Binary: "nginx", Package: "nginx"}}

// freePorts picks the listening port; a test makes it return a taken one.
var freePorts = targets.FreePorts

// Features offered by this launcher, and the reasons for those that are not.
var (
	features = map[string]bool{
		fixture.FeatureRedirect: true,
		fixture.FeatureUpload:   true,
	}
	reasons = map[string]string{
		fixture.FeatureTrace:   "nginx has no TRACE (returns 405)",
		fixture.FeatureEcho:    "nginx serves static files only: no /echo endpoint",
		fixture.FeatureForm:    "nginx serves static files only: no /form endpoint",
		fixture.FeatureSession: "nginx serves static files only: no /session endpoint (it keeps no server-side state to count visits)",
	}
)

// Target is a running nginx: a targets.Static with the server's PID and
// work directory (nginx.conf, htdocs/, error.log, access.log), for tests
// and logs.
type Target = targets.Launched

// Start implements targets.Launcher.
func (l Launcher) Start(ctx context.Context, opts targets.Options) (targets.Target, error) {
	if opts.Protocol != "" && opts.Protocol != "http1" {
		return nil, fmt.Errorf("%w: nginx serves http1, not %q", targets.ErrUnsupportedProtocol, opts.Protocol)
	}
	bin, err := l.Find()
	if err != nil {
		return nil, err
	}
	run, err := targets.Server{
		Name:      "nginx",
		FreePorts: freePorts,
		Prepare: func(dir string) error {
			if err := fixture.Write(filepath.Join(dir, "htdocs")); err != nil {
				return err
			}
			for _, d := range []string{"tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"} {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					return err
				}
			}
			return nil
		},
		Argv: func(dir string, ports []int) ([]string, error) {
			confPath := filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(confPath, []byte(config(dir, addr(ports), os.Geteuid() == 0)), 0o644); err != nil {
				return nil, err
			}
			// -e: without it nginx opens /var/log/nginx/error.log before
			// reading the config. -p: relative paths resolve in the work
			// directory.
			return []string{bin, "-p", dir + "/", "-c", confPath, "-e", filepath.Join(dir, "error.log")}, nil
		},
		Probe: func(addr string) func(context.Context) error {
			return fixture.GetProbe(addr, "/hello.txt")
		},
		ServerLog: "error.log",
		Prefix:    "nginx: ",
	}.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return run.Launched(&targets.Static{
		TargetName: "nginx",
		Version:    version(bin),
		Endpoints:  map[string]targets.Endpoint{"http/tcp": {Network: "tcp", Addr: run.Addr(0)}},
		Features:   features,
		Reasons:    reasons,
	}), nil
}

func addr(ports []int) string { return fmt.Sprintf("127.0.0.1:%d", ports[0]) }

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

// version is "nginx/1.22.1" from "nginx -v" ("nginx version: nginx/1.22.1",
// on stderr).
func version(bin string) string {
	s, _ := targets.Version(bin, "-v")
	return strings.TrimPrefix(s, "nginx version: ")
}

// Baseline implements targets.BaselineProvider.
func (Launcher) Baseline(protocol string) (string, bool) {
	return Baseline, protocol == "http1"
}
