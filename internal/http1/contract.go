// Package http1 is the contract of HTTP/1.x that every room of it shares
// (reference/http1, suites/http1, fuzz/http1, pcap/http1 and the nginx and
// apache2 launchers): its name, its services with their well-known ports,
// its fixture features and params, the readiness probe, and the fixture
// itself: the docroot every HTTP target serves and the dynamic endpoints
// (README.md lists them).
//
//	if err := http1.Write("/tmp/docroot"); err != nil { ... }
//	probe := http1.GetProbe("127.0.0.1:8080", "/hello.txt") // 200 once ready
package http1

import "github.com/protospec/protospec/internal/protocol"

// Name is the protocol's name in every registry and on the command line.
const Name = "http1"

// Features of the fixture that a target may lack (targets.Static.Features);
// a spec that needs one is skipped with the target's reason.
const (
	FeatureRedirect = "http1/redirect" // GET /redirect: 301 to /hello.txt
	FeatureForm     = "http1/form"     // POST /form: sorted name=value lines
	FeatureSession  = "http1/session"  // GET /session: the cookie session
	FeatureEcho     = "http1/echo"     // any method on /echo: the decoded body back
	FeatureUpload   = "http1/upload"   // PUT and DELETE under /upload/
	FeatureTrace    = "http1/trace"    // TRACE reflects the request
)

// ParamRoot is the param of `protospec serve http1` naming the docroot to
// serve instead of a temporary copy of the fixture.
const ParamRoot = "root"

// Params of `protospec serve http1 --tls` (its --tls, --cert, --key and
// --ca-out flags set them).
const (
	ParamTLS   = "tls"    // "true": serve HTTPS instead of HTTP
	ParamCert  = "cert"   // PEM certificate chain to serve
	ParamKey   = "key"    // PEM private key of ParamCert
	ParamCAOut = "ca-out" // where a new fixture's ca.pem, cert.pem and key.pem go
)

// Params of `protospec serve http1` shaping the static files (the fields
// Charset and DirIndex of reference/http1.Server).
const (
	ParamCharset  = "charset"   // charset parameter of text/* files; "none": none
	ParamDirIndex = "dir-index" // "false": a directory without index.html is 404
)

// Params of `protospec serve http1` bounding what clients may take (the
// fields of the same names on reference/http1.Server).
const (
	ParamMaxConns             = "max-conns"               // MaxConns
	ParamMaxConnsPerClient    = "max-conns-per-client"    // MaxConnsPerClient
	ParamMaxInflightBodyBytes = "max-inflight-body-bytes" // MaxInflightBodyBytes
	ParamMaxUploadBytes       = "max-upload-bytes"        // MaxUploadBytes
	ParamMaxUploadFiles       = "max-upload-files"        // MaxUploadFiles
)

// Contract is HTTP/1.x's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "HTTP/1.0 and HTTP/1.1 (RFC 9110, RFC 9112, RFC 6265)",
	Services: []protocol.Service{
		{Name: "http", Transport: "tcp", Port: 80},
		{Name: "http", Transport: "tls", Port: 443},
	},
	Features: []protocol.Feature{
		{Name: FeatureRedirect, Doc: "GET " + RedirectPath + " answers 301 with Location: " + RedirectLocation},
		{Name: FeatureForm, Doc: "POST " + FormPath + " answers one name=value line per form field, sorted"},
		{Name: FeatureSession, Doc: "GET " + SessionPath + " keeps a cookie session and counts its visits"},
		{Name: FeatureEcho, Doc: "any method on " + EchoPath + " answers the decoded request body"},
		{Name: FeatureUpload, Doc: "PUT and DELETE under " + UploadDir + " create, replace and remove files"},
		// RFC 9110 9.3.8 lets a server refuse TRACE, as the reference does.
		{Name: FeatureTrace, Doc: "TRACE reflects the request as message/http", Optional: true},
	},
	Params: []protocol.Param{
		{Name: ParamRoot, Doc: "serve: the docroot to serve", Default: "a temporary copy of the fixture"},
		{Name: ParamTLS, Doc: "serve: HTTPS instead of HTTP (true)", Default: "false"},
		{Name: ParamCert, Doc: "serve: with tls=true, the PEM certificate chain", Default: "a new fixture leaf for localhost, 127.0.0.1 and ::1"},
		{Name: ParamKey, Doc: "serve: with tls=true, the PEM key of cert"},
		{Name: ParamCAOut, Doc: "serve: with tls=true and no cert, where the fixture's ca.pem, cert.pem and key.pem go", Default: "a new temporary directory"},
		{Name: ParamCharset, Doc: "serve: the charset parameter of text files' Content-Type (none: no parameter)", Default: "utf-8"},
		{Name: ParamDirIndex, Doc: "serve: a directory without index.html answers with a list of its files, so that wget -r finds them (false: 404)", Default: "true"},
		{Name: ParamMaxConns, Doc: "serve: concurrent connections; beyond, 503 and close", Default: "512"},
		{Name: ParamMaxConnsPerClient, Doc: "serve: concurrent connections of one client address", Default: "128"},
		{Name: ParamMaxInflightBodyBytes, Doc: "serve: request content held in memory (/echo, /form) across connections; beyond, 503", Default: "67108864"},
		{Name: ParamMaxUploadBytes, Doc: "serve: total size of the files under " + UploadDir + "; beyond, 507", Default: "67108864"},
		{Name: ParamMaxUploadFiles, Doc: "serve: number of files under " + UploadDir + "; beyond, 507", Default: "100"},
	},
	Probe:   LivenessProbe,
	Fixture: Write,
})
