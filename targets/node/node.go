// Package node launches Node.js's http and https servers as an HTTP/1.1
// target: a small application (server.js, embedded) that serves the
// fixture of internal/http1 from a work directory on two free 127.0.0.1
// ports, plain ("http/tcp") and TLS with the run's certificate
// ("http/tls"). What the suite judges is Node's HTTP/1.1 (llhttp and the
// http module); the application only maps the fixture's paths.
//
//	protospec run http1 --target node --baseline builtin
//	protospec run http1 --tls --target node --baseline builtin
//
// server.js serves GET and HEAD on the docroot, /redirect (301 to
// /hello.txt) and /echo (the request content Node decoded). It keeps no
// validators or ranges (no Last-Modified, ETag or Range: Node's http
// module has none), no /upload/, /form or /session and no TRACE; specs
// needing them are skipped with the reason.
package node

import (
	"context"
	_ "embed"
	"os"
	"strconv"
	"strings"

	"github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Baseline lists the http1 specs Node's server is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed server.js
var script string

var launcher = targets.Declare(targets.Declared{
	Name:     "node",
	Protocol: http1.Name,
	Binary:   "node",
	Package:  "nodejs",
	// "v20.20.2".
	VersionArgs: []string{"--version"},
	VersionText: func(s string) string { return "node/" + strings.TrimPrefix(s, "v") },
	Baseline:    Baseline,
	Features:    []string{http1.FeatureRedirect, http1.FeatureEcho},
	Reasons: map[string]string{
		http1.FeatureUpload:  "Node's http module serves no files: the launcher's server.js has no PUT/DELETE under /upload/",
		http1.FeatureTrace:   "server.js answers TRACE 405",
		http1.FeatureForm:    "server.js has no /form endpoint",
		http1.FeatureSession: "server.js has no /session endpoint",
	},
	Ports:   2,
	Prepare: prepare,
	Argv: func(r *targets.Run) []string {
		return []string{r.Path("server.js"), r.Path("htdocs"), strconv.Itoa(r.Port(0)), strconv.Itoa(r.Port(1)), r.Path("tls", "cert.pem"), r.Path("tls", "key.pem")}
	},
	Probe:     func(r *targets.Run) func(context.Context) error { return http1.GetProbe(r.Addr(0), "/hello.txt") },
	Endpoints: http1.PlainAndTLS,
	Prefix:    "node: ",
})

// prepare writes the docroot, the TLS certificate and key and server.js.
func prepare(r *targets.Run) error {
	if err := http1.WriteDocrootTLS(r); err != nil {
		return err
	}
	return os.WriteFile(r.Path("server.js"), []byte(script), 0o644)
}
