// Package lighttpd launches lighttpd as an HTTP/1.1 target: it writes the
// fixture of internal/http1, the run's TLS fixture (tls/cert.pem,
// tls/key.pem), a CGI script for /echo and a lighttpd.conf
// (lighttpd.conf.tmpl) into a work directory, starts lighttpd in the
// foreground (-D) on two free 127.0.0.1 ports, plain ("http/tcp") and TLS
// with mod_openssl ("http/tls"), and stops it by PID on Close.
//
//	protospec run http1 --target lighttpd --baseline builtin
//	protospec run http1 --tls --target lighttpd --baseline builtin
//
// lighttpd serves the static docroot, GET /redirect (301 to /hello.txt,
// mod_redirect), PUT/DELETE under /upload/ (mod_webdav, Debian's
// lighttpd-mod-webdav) and /echo (a CGI script, mod_cgi: the decoded
// request content back). It has no TRACE and no /form or /session
// endpoints; specs needing them are skipped with the reason.
package lighttpd

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs lighttpd is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed lighttpd.conf.tmpl
var config string

// moduleDir holds Debian's lighttpd modules.
const moduleDir = "/usr/lib/lighttpd"

// modules are the loadable modules lighttpd.conf names (mod_redirect and
// mod_alias are built into Debian's lighttpd).
var modules = []string{"mod_webdav", "mod_cgi", "mod_openssl"}

// echoScript serves /echo: lighttpd hands a CGI script the request
// content decoded (chunked or not) on its standard input. The script
// reads all of it before it writes, so that no pipe fills both ways.
const echoScript = `#!/bin/sh
t=$(mktemp) || exit 1
cat >"$t"
printf 'Content-Type: application/octet-stream\n\n'
cat "$t"
rm -f "$t"
`

var launcher = targets.Declare(targets.Declared{
	Name:     "lighttpd",
	Protocol: http1.Name,
	Binary:   "lighttpd",
	Package:  "lighttpd",
	// "lighttpd/1.4.69 (ssl) - a light and fast webserver".
	VersionArgs: []string{"-v"},
	VersionText: func(s string) string { return strings.Fields(s)[0] },
	Baseline:    Baseline,
	Features:    []string{http1.FeatureRedirect, http1.FeatureUpload, http1.FeatureEcho},
	Reasons: map[string]string{
		http1.FeatureTrace:   "lighttpd has no TRACE",
		http1.FeatureForm:    "lighttpd serves static files and a CGI echo only: no /form endpoint",
		http1.FeatureSession: "lighttpd serves static files and a CGI echo only: no /session endpoint",
	},
	Requires:       checkModules,
	Ports:          2,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "lighttpd.conf",
	// -D: foreground. -m: the module directory.
	Argv:  func(r *targets.Run) []string { return []string{"-D", "-f", r.Config, "-m", moduleDir} },
	Probe: func(r *targets.Run) func(context.Context) error { return http1.GetProbe(r.Addr(0), "/hello.txt") },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint {
		return map[string]targets.Endpoint{
			"http/tcp": {Network: "tcp", Addr: r.Addr(0)},
			"http/tls": {Network: "tcp", Addr: r.Addr(1), Security: dial.TLS, ServerName: "localhost"},
		}
	},
	ServerLog: "error.log",
	Prefix:    "lighttpd: ",
})

// checkModules wants every module of modules installed.
func checkModules() error {
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(moduleDir, m+".so")); err != nil {
			return fmt.Errorf("%w: lighttpd module %s missing from %s (install the Debian packages lighttpd lighttpd-mod-openssl lighttpd-mod-webdav)", targets.ErrMissingBinary, m, moduleDir)
		}
	}
	return nil
}

// prepare writes the docroot, the TLS certificate and key, the /echo
// script and the upload directory lighttpd buffers request content in.
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
	for _, d := range []string{"tmp", "cgi"} {
		if err := os.MkdirAll(r.Path(d), 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(r.Path("cgi", "echo"), []byte(echoScript), 0o755)
}
