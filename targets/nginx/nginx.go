// Package nginx launches nginx as an HTTP/1.1 target: it writes the
// fixture of internal/http1, the run's TLS fixture (tls/cert.pem,
// tls/key.pem) and an nginx.conf (nginx.conf.tmpl) into a work directory,
// starts nginx in the foreground on two free 127.0.0.1 ports, plain
// ("http/tcp") and TLS ("http/tls"), and stops it by PID on Close.
//
//	protospec run http1 --target nginx --baseline builtin
//	protospec run http1 --tls --target nginx --baseline builtin
//
// nginx serves the static docroot, GET /redirect (301 to /hello.txt),
// PUT/DELETE under /upload/ (ngx_http_dav_module) and, where Debian's
// libnginx-mod-http-echo is installed, /echo (echo_read_request_body and
// echo_request_body: the decoded request content back). It has no TRACE
// and no /form or /session endpoints; specs needing them are skipped with
// the reason.
package nginx

import (
	"context"
	_ "embed"
	"os"
	"path/filepath"
	"strings"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs nginx is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed nginx.conf.tmpl
var config string

// Target is a running nginx: a targets.Static with the server's PID and
// work directory (nginx.conf, htdocs/, error.log, access.log), for tests
// and logs.
type Target = targets.Launched

var launcher = targets.Declare(targets.Declared{
	Name:     "nginx",
	Protocol: http1.Name,
	Binary:   "nginx",
	Package:  "nginx",
	// "nginx version: nginx/1.22.1", on stderr.
	VersionArgs: []string{"-v"},
	VersionText: func(s string) string { return strings.TrimPrefix(s, "nginx version: ") },
	Baseline:    Baseline,
	Features:    []string{http1.FeatureRedirect, http1.FeatureUpload},
	Reasons: map[string]string{
		http1.FeatureTrace:   "nginx has no TRACE (returns 405)",
		http1.FeatureEcho:    "no /echo endpoint: the echo module (" + echoModule + ", Debian's libnginx-mod-http-echo) is not installed",
		http1.FeatureForm:    "nginx serves static files only: no /form endpoint",
		http1.FeatureSession: "nginx serves static files only: no /session endpoint (it keeps no server-side state to count visits)",
	},
	Vars:           map[string]any{"echoModule": ""},
	Ports:          2,
	Check:          checkEcho,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "nginx.conf",
	// -e: without it nginx opens /var/log/nginx/error.log before reading
	// the config. -p: relative paths resolve in the work directory.
	Argv: func(r *targets.Run) []string {
		return []string{"-p", r.Dir + "/", "-c", r.Config, "-e", r.Path("error.log")}
	},
	Probe: func(r *targets.Run) func(context.Context) error { return http1.GetProbe(r.Addr(0), "/hello.txt") },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint {
		return map[string]targets.Endpoint{
			"http/tcp": {Network: "tcp", Addr: r.Addr(0)},
			"http/tls": {Network: "tcp", Addr: r.Addr(1), Security: dial.TLS, ServerName: "localhost"},
		}
	},
	Finish: func(r *targets.Run, t *targets.Static) {
		if r.Vars["echoModule"] != "" {
			t.Features[http1.FeatureEcho] = true
		}
	},
	ServerLog: "error.log",
	Prefix:    "nginx: ",
})

// echoModule is Debian's build of the echo module (libnginx-mod-http-echo),
// which serves /echo.
const echoModule = "/usr/lib/nginx/modules/ngx_http_echo_module.so"

// checkEcho loads the echo module where it is installed (Vars echoModule);
// without it nginx runs without /echo.
func checkEcho(r *targets.Run) error {
	if _, err := os.Stat(echoModule); err == nil {
		r.Vars["echoModule"] = echoModule
	}
	return nil
}

// prepare writes the docroot, the TLS certificate and key, and the
// temporary directories nginx.conf names.
func prepare(r *targets.Run) error {
	if err := http1.Write(r.Path("htdocs")); err != nil {
		return err
	}
	fx, err := r.Opts.TLSFixture()
	if err != nil {
		return err
	}
	if _, err := fx.WriteDir(r.Path("tls")); err != nil {
		return err
	}
	for _, d := range []string{"tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"} {
		if err := os.MkdirAll(filepath.Join(r.Dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}
