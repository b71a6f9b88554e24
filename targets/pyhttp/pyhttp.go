// Package pyhttp launches Python's http.server (SimpleHTTPRequestHandler,
// HTTP/1.1 persistent connections) as an HTTP/1.1 target: a small
// application (server.py, embedded) that serves the fixture of
// internal/http1 from a work directory on two free 127.0.0.1 ports, plain
// ("http/tcp") and TLS with the run's certificate ("http/tls").
//
//	protospec run http1 --target python --baseline builtin
//	protospec run http1 --tls --target python --baseline builtin
//
// server.py serves GET and HEAD on the docroot and /redirect (301 to
// /hello.txt). http.server has no chunked decoding, no ranges, no
// PUT/DELETE and no TRACE, so no /echo, /upload/, /form or /session;
// specs needing them are skipped with the reason.
package pyhttp

import (
	"context"
	_ "embed"
	"os"
	"strconv"
	"strings"

	"github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs http.server is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed server.py
var script string

var launcher = targets.Declare(targets.Declared{
	Name:     "python",
	Protocol: http1.Name,
	Binary:   "python3",
	Package:  "python3",
	// "Python 3.11.2".
	VersionArgs: []string{"--version"},
	VersionText: func(s string) string { return "python/" + strings.TrimPrefix(s, "Python ") },
	Baseline:    Baseline,
	Features:    []string{http1.FeatureRedirect},
	Reasons: map[string]string{
		http1.FeatureUpload:  "http.server's SimpleHTTPRequestHandler has no PUT/DELETE: no /upload/",
		http1.FeatureTrace:   "http.server has no TRACE (501)",
		http1.FeatureEcho:    "http.server has no chunked decoding: no /echo endpoint (an echo would judge the launcher's own content parser)",
		http1.FeatureForm:    "http.server serves static files only: no /form endpoint",
		http1.FeatureSession: "http.server serves static files only: no /session endpoint",
	},
	Ports:   2,
	Prepare: prepare,
	Argv: func(r *targets.Run) []string {
		return []string{r.Path("server.py"), r.Path("htdocs"), strconv.Itoa(r.Port(0)), strconv.Itoa(r.Port(1)), r.Path("tls", "cert.pem"), r.Path("tls", "key.pem")}
	},
	Probe:     func(r *targets.Run) func(context.Context) error { return http1.GetProbe(r.Addr(0), "/hello.txt") },
	Endpoints: http1.PlainAndTLS,
	Prefix:    "python: ",
})

// prepare writes the docroot, the TLS certificate and key and server.py.
func prepare(r *targets.Run) error {
	if err := http1.WriteDocrootTLS(r); err != nil {
		return err
	}
	return os.WriteFile(r.Path("server.py"), []byte(script), 0o644)
}
