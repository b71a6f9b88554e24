package targets

// The names a suite and its launchers must agree on, written once here,
// where both may import them (a launcher cannot import a suite). Each
// suite's package documentation says what the names mean.

// Features of the http1 fixture (suites/http1, internal/fixture/http1).
const (
	HTTPRedirect = "http1/redirect" // GET /redirect: 301 to /hello.txt
	HTTPForm     = "http1/form"     // POST /form: sorted name=value lines
	HTTPSession  = "http1/session"  // GET /session: the cookie session
	HTTPEcho     = "http1/echo"     // any method on /echo: the decoded body back
	HTTPUpload   = "http1/upload"   // PUT and DELETE under /upload/
	HTTPTrace    = "http1/trace"    // TRACE reflects the request
)

// Params and features of the dns suite (suites/dns).
const (
	// DNSParamUpstream is the Params key of the suite's fake root server,
	// the only root or forwarder a resolver target may use.
	DNSParamUpstream = "upstream"
	// DNSParamServerPort is the Params key of the port of the fake
	// servers the fake root refers to.
	DNSParamServerPort = "server-port"

	DNSAXFR       = "dns/axfr"           // AXFR allowed to 127.0.0.0/8
	DNSAXFRACL    = "dns/axfr-acl"       // ... but refused to DNSOutsider
	DNSIterative  = "dns/iterative"      // the resolver iterates from the root itself
	DNSPipelining = "dns/tcp-pipelining" // several queries answered on one TCP connection
	DNSAllowlist  = "dns/allowlist"      // recursion refused to DNSOutsider

	// DNSOutsider is the loopback client address that targets offering
	// DNSAXFRACL or DNSAllowlist refuse.
	DNSOutsider = "127.0.0.66"
)
