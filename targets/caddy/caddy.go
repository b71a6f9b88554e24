// Package caddy launches Caddy (Debian's caddy) as an HTTP/1.1 target: it
// writes the fixture of internal/http1, the run's TLS fixture
// (tls/cert.pem, tls/key.pem) and a Caddyfile (Caddyfile.tmpl) into a work
// directory, runs "caddy run" on two free 127.0.0.1 ports, plain
// ("http/tcp") and TLS ("http/tls"), with no admin endpoint and no
// automatic HTTPS, and stops it by PID on Close.
//
//	protospec run http1 --target caddy --baseline builtin
//	protospec run http1 --tls --target caddy --baseline builtin
//
// Caddy serves the static docroot (file_server) and GET /redirect (301 to
// /hello.txt, redir). Debian's build has no WebDAV, no TRACE and no
// /echo, /form or /session endpoints; specs needing them are skipped with
// the reason.
package caddy

import (
	"context"
	_ "embed"
	"strings"

	"github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs Caddy is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed Caddyfile.tmpl
var config string

var launcher = targets.Declare(targets.Declared{
	Name:     "caddy",
	Protocol: http1.Name,
	Binary:   "caddy",
	Package:  "caddy",
	// "2.6.2" (Debian's build carries no module hash).
	VersionArgs: []string{"version"},
	VersionText: func(s string) string { return "caddy/" + strings.Fields(s)[0] },
	Baseline:    Baseline,
	Features:    []string{http1.FeatureRedirect},
	Reasons: map[string]string{
		http1.FeatureUpload:  "Debian's caddy has no WebDAV module: no PUT/DELETE under /upload/",
		http1.FeatureTrace:   "caddy's file_server has no TRACE",
		http1.FeatureEcho:    "caddy serves static files only: no /echo endpoint",
		http1.FeatureForm:    "caddy serves static files only: no /form endpoint",
		http1.FeatureSession: "caddy serves static files only: no /session endpoint",
	},
	Ports:          2,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "Caddyfile",
	Argv: func(r *targets.Run) []string {
		return []string{"run", "--config", r.Config, "--adapter", "caddyfile"}
	},
	Probe:     func(r *targets.Run) func(context.Context) error { return http1.GetProbe(r.Addr(0), "/hello.txt") },
	Endpoints: http1.PlainAndTLS,
	ServerLog: "error.log",
	Prefix:    "caddy: ",
})

// prepare writes the docroot and the TLS certificate and key.
func prepare(r *targets.Run) error {
	if err := http1.Write(r.Path("htdocs")); err != nil {
		return err
	}
	fx, err := r.Opts.TLSFixture()
	if err != nil {
		return err
	}
	_, err = fx.WriteDir(r.Path("tls"))
	return err
}
