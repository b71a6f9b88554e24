// Package h2o launches H2O (Debian's h2o) as an HTTP/1.1 target: it writes
// the fixture of internal/http1, the run's TLS fixture (tls/cert.pem,
// tls/key.pem) and an h2o.conf (h2o.conf.tmpl) into a work directory,
// starts h2o in the foreground on two free 127.0.0.1 ports, plain
// ("http/tcp") and TLS ("http/tls"), and stops it by PID on Close.
//
//	protospec run http1 --target h2o --baseline builtin
//	protospec run http1 --tls --target h2o --baseline builtin
//
// h2o serves the static docroot (file.dir) and GET /redirect (301 to
// /hello.txt). Debian's build has no WebDAV and no mruby, so no /upload/,
// /echo, /form or /session endpoints, and no TRACE; specs needing them are
// skipped with the reason.
package h2o

import (
	"context"
	_ "embed"
	"strings"

	"github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs h2o is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed h2o.conf.tmpl
var config string

var launcher = targets.Declare(targets.Declared{
	Name:     "h2o",
	Protocol: http1.Name,
	Binary:   "h2o",
	Package:  "h2o",
	// "h2o version 2.2.5".
	VersionArgs: []string{"-v"},
	VersionText: func(s string) string { return "h2o/" + strings.TrimPrefix(s, "h2o version ") },
	Baseline:    Baseline,
	Features:    []string{http1.FeatureRedirect},
	Reasons: map[string]string{
		http1.FeatureUpload:  "h2o has no WebDAV: no PUT/DELETE under /upload/",
		http1.FeatureTrace:   "h2o's file handler has no TRACE",
		http1.FeatureEcho:    "h2o serves static files only (Debian's build has no mruby): no /echo endpoint",
		http1.FeatureForm:    "h2o serves static files only: no /form endpoint",
		http1.FeatureSession: "h2o serves static files only: no /session endpoint",
	},
	Vars:           map[string]any{"user": ""},
	Ports:          2,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "h2o.conf",
	// -m worker: one process, in the foreground.
	Argv:      func(r *targets.Run) []string { return []string{"-m", "worker", "-c", r.Config} },
	Probe:     func(r *targets.Run) func(context.Context) error { return http1.GetProbe(r.Addr(0), "/hello.txt") },
	Endpoints: http1.PlainAndTLS,
	ServerLog: "error.log",
	Prefix:    "h2o: ",
})

// prepare writes the docroot and the TLS certificate and key. As root h2o
// would switch to "nobody", who cannot read the work directory: it stays
// root (user: root).
func prepare(r *targets.Run) error {
	if err := http1.WriteDocrootTLS(r); err != nil {
		return err
	}
	if r.Root {
		r.Vars["user"] = "root"
	}
	return nil
}
