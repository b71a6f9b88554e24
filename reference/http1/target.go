package http1

import (
	"strings"
)

// uriChar marks the octets that may appear in a request-target: unreserved,
// sub-delims, ":", "@", "/", "?", "%" (for pct-encoded) and "[" "]" (for
// IP-literals in an authority). RFC 3986 2 and 3.
var uriChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=:@/?%[]" {
		t[c] = true
	}
	return t
}()

// parseTarget classifies r.Target into one of the four forms of
// RFC 9112 3.2 and fills Path, RawQuery and, for absolute-form and
// authority-form, Host.
func (r *Request) parseTarget() error {
	t := r.Target
	for i := 0; i < len(t); i++ {
		if !uriChar[t[i]] {
			// RFC 9112 3: "Recipients of an invalid request-line SHOULD
			// respond with either a 400 (Bad Request) error or a 301
			// (Moved Permanently) redirect with the request-target
			// properly encoded."
			return statusErr(400, ErrBadTarget, "invalid character in request-target")
		}
	}
	if !validPctEncoding(t) {
		return statusErr(400, ErrBadTarget, "invalid percent-encoding in request-target")
	}
	switch {
	case t == "*":
		// RFC 9112 3.2.4: "The asterisk-form of request-target is only
		// used for a server-wide OPTIONS request".
		if r.Method != "OPTIONS" {
			return statusErr(400, ErrBadTarget, "asterisk-form is only for OPTIONS")
		}
		r.Form = AsteriskForm
		return nil
	case r.Method == "CONNECT":
		// RFC 9112 3.2.3: "The authority-form of request-target is only
		// used for CONNECT requests ... the client MUST send only the
		// host and port of the tunnel destination as the request-target."
		host, port, ok := splitHostPort(t)
		if !ok || port == "" || host == "" || !validHost(host) {
			return statusErr(400, ErrBadTarget, "CONNECT needs authority-form host:port")
		}
		r.Form, r.Host = AuthorityForm, t
		return nil
	case t[0] == '/':
		r.Form = OriginForm
		r.Path, r.RawQuery = splitQuery(t)
		return nil
	}
	// RFC 9112 3.2.2: "a server MUST accept the absolute-form in requests
	// even though most HTTP/1.1 clients will only send the absolute-form
	// to a proxy."
	i := strings.Index(t, "://")
	if i <= 0 {
		return statusErr(400, ErrBadTarget, "request-target is in no known form")
	}
	scheme := strings.ToLower(t[:i])
	if scheme != "http" && scheme != "https" {
		return statusErr(400, ErrBadTarget, "absolute-form with a scheme other than http or https")
	}
	rest := t[i+3:]
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if strings.Contains(authority, "@") {
		// RFC 9110 4.2.4: "A recipient SHOULD parse for userinfo and treat
		// its presence as an error".
		return statusErr(400, ErrBadTarget, "userinfo in absolute-form")
	}
	// RFC 9110 4.2.1: "A sender MUST NOT generate an "http" URI with an
	// empty host identifier. A recipient that processes such a URI
	// reference MUST reject it as invalid."
	host, _, ok := splitHostPort(authority)
	if !ok || host == "" || !validHost(host) {
		return statusErr(400, ErrBadTarget, "invalid authority in absolute-form")
	}
	r.Form, r.Host = AbsoluteForm, authority
	r.Path, r.RawQuery = splitQuery(rest[end:])
	if r.Path == "" {
		r.Path = "/"
	}
	return nil
}

func splitQuery(s string) (path, query string) {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func validPctEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return false
			}
			i += 2
		}
	}
	return true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// splitHostPort splits uri-host [ ":" port ]; port may be empty
// (RFC 3986 3.2.3: port = *DIGIT).
func splitHostPort(s string) (host, port string, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		host, s = s[:end+1], s[end+1:]
		if s == "" {
			return host, "", true
		}
		if s[0] != ':' {
			return "", "", false
		}
		port = s[1:]
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
	} else {
		host = s
	}
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return "", "", false
		}
	}
	if len(port) > 5 {
		return "", "", false
	}
	return host, port, true
}

// validHost checks uri-host = IP-literal / IPv4address / reg-name (RFC 3986 3.2.2).
func validHost(h string) bool {
	if strings.HasPrefix(h, "[") {
		if len(h) < 4 || h[len(h)-1] != ']' {
			return false
		}
		inner := h[1 : len(h)-1]
		if inner[0] == 'v' || inner[0] == 'V' {
			return len(inner) > 3 && strings.IndexByte(inner, '.') > 1
		}
		colons := 0
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			switch {
			case c == ':':
				colons++
			case c == '.' || unhex(c) >= 0:
			default:
				return false
			}
		}
		return colons >= 2
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c == '%' {
			if i+2 >= len(h) || unhex(h[i+1]) < 0 || unhex(h[i+2]) < 0 {
				return false
			}
			i += 2
			continue
		}
		if !uriChar[c] || c == ':' || c == '@' || c == '/' || c == '?' || c == '[' || c == ']' {
			return false
		}
	}
	return true
}

// validHostPort checks a Host field value: uri-host [ ":" port ]
// (RFC 9110 7.2). An empty value is valid (authority without host).
func validHostPort(v string) bool {
	if v == "" {
		return true
	}
	host, _, ok := splitHostPort(v)
	return ok && validHost(host)
}
