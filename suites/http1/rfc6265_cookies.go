package http1

import (
	"fmt"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

// RFC 6265 4.1.1 grammar, server side.
var (
	cookieOctetsRE = regexp.MustCompile(`^("[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"|[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)$`)
	maxAgeRE       = regexp.MustCompile(`^[1-9][0-9]*$`)
	domainRE       = regexp.MustCompile(`^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
)

// setCookie is a Set-Cookie value split into its pair and attributes.
type setCookie struct {
	raw, name, value string
	attrs            [][2]string // name, value as sent
}

func (c setCookie) attr(name string) (string, bool) {
	for _, a := range c.attrs {
		if strings.EqualFold(a[0], name) {
			return a[1], true
		}
	}
	return "", false
}

func splitSetCookie(v string) setCookie {
	parts := strings.Split(v, ";")
	c := setCookie{raw: v}
	c.name, c.value, _ = strings.Cut(parts[0], "=")
	for _, p := range parts[1:] {
		n, val, _ := strings.Cut(strings.TrimLeft(p, " "), "=")
		c.attrs = append(c.attrs, [2]string{n, val})
	}
	return c
}

// checkSetCookie checks a Set-Cookie value against the server grammar of
// RFC 6265 4.1.1.
func checkSetCookie(v string) error {
	c := splitSetCookie(v)
	if !tokenRE.MatchString(c.name) {
		return spec.Errorf("cookie-name = token", "%q in %q", c.name, v)
	}
	if !cookieOctetsRE.MatchString(c.value) {
		return spec.Errorf("cookie-value of cookie-octets (no CTL, whitespace, DQUOTE, comma, semicolon, backslash)", "%q in %q", c.value, v)
	}
	rest := v[len(c.name)+1+len(c.value):]
	for rest != "" {
		if !strings.HasPrefix(rest, "; ") {
			return spec.Errorf(`attributes separated by "; " (semicolon and one SP)`, "%q", v)
		}
		rest = rest[2:]
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
	}
	for _, a := range c.attrs {
		name, val := a[0], a[1]
		switch strings.ToLower(name) {
		case "expires":
			if err := checkIMFDate("the Expires attribute", val); err != nil {
				return err
			}
		case "max-age":
			if !maxAgeRE.MatchString(val) {
				return spec.Errorf("Max-Age = non-zero-digit *DIGIT", "%q", val)
			}
		case "domain":
			if !domainRE.MatchString(val) {
				return spec.Errorf("Domain = a domain name", "%q", val)
			}
		case "path":
			if val == "" || strings.ContainsAny(val, ";\x00\r\n") {
				return spec.Errorf("Path = <any CHAR except CTLs or \";\">", "%q", val)
			}
		case "secure", "httponly":
			if val != "" {
				return spec.Errorf(name+" without a value", "%s=%s", name, val)
			}
		case "samesite":
			// RFC 6265bis 4.1.1: samesite-value = "Strict" / "Lax" / "None"
			if v := strings.ToLower(val); v != "strict" && v != "lax" && v != "none" {
				return spec.Errorf("SameSite=Strict, Lax or None", "%q", val)
			}
		default:
			// extension-av = <any CHAR except CTLs or ";">
			if strings.ContainsAny(name+val, "\x00\r\n") {
				return spec.Errorf("extension-av without CTLs", "%q", name)
			}
		}
	}
	return nil
}

// sessionCookie fetches /session without cookies and returns the response
// and its sid Set-Cookie.
func sessionCookie(t *spec.T) (*Response, setCookie) {
	t.Require(featSession)
	resp := fetch(t, get(t, fixture.SessionPath))
	t.Check(expectStatus(resp, 200))
	for _, v := range resp.Header.Values("Set-Cookie") {
		if c := splitSetCookie(v); c.name == fixture.SessionCookie {
			return resp, c
		}
	}
	t.Failf("%v", spec.Errorf("Set-Cookie: "+fixture.SessionCookie+"=... on a first visit to /session", "Set-Cookie: %q", resp.Header.Values("Set-Cookie")))
	return nil, setCookie{}
}

// RFC 6265: cookies, server requirements, through the fixture's /session.
var _ = Describe("RFC 6265 Cookies", func() {
	// 3: "an origin server can include a Set-Cookie header in any response";
	// the fixture's /session issues a session ID on the first visit.
	spec.It("http1/rfc6265/3/session-issues-cookie", spec.MUST, "issues a session cookie on a first visit to /session", func(t *spec.T) {
		resp, _ := sessionCookie(t)
		t.Check(expectBody(resp, []byte(fixture.SessionNewBody)))
	})

	// 3: "Using the Cookie header, the user agent can return ... to the origin
	// server"; the server recognises its own session.
	spec.It("http1/rfc6265/3/session-recognised", spec.MUST, "recognises the session cookie on the next request", func(t *spec.T) {
		_, c := sessionCookie(t)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+c.name+"="+c.value))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, 2))))
		t.Check(expectNoHeader(resp, "Set-Cookie"))
	})

	spec.It("http1/rfc6265/3/session-counts-visits", spec.MUST, "counts visits of one session", func(t *spec.T) {
		_, c := sessionCookie(t)
		for n := 2; n <= 4; n++ {
			resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+c.name+"="+c.value))
			t.Check(expectBody(resp, []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, n))))
		}
	})

	// 5.4: "the user-agent ... cookie-string ... separated by "; "".
	spec.It("http1/rfc6265/5.4/session-among-cookies", spec.MUST, "finds the session cookie among other cookies", func(t *spec.T) {
		_, c := sessionCookie(t)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: theme=dark; "+c.name+"="+c.value+"; lang=en"))
		t.Check(expectBody(resp, []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, 2))))
	})

	spec.It("http1/rfc6265/3/unknown-session-new", spec.MUST, "issues a new session for an unknown session ID", func(t *spec.T) {
		t.Require(featSession)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+fixture.SessionCookie+"=00000000000000000000000000000000"))
		t.Check(expectBody(resp, []byte(fixture.SessionNewBody)))
		t.Check(expectHeader(resp, "Set-Cookie"))
	})

	spec.It("http1/rfc6265/3/garbage-session-new", spec.MUST, "issues a new session for a malformed session cookie", func(t *spec.T) {
		t.Require(featSession)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+fixture.SessionCookie+"=../../etc/passwd"))
		t.Check(expectBody(resp, []byte(fixture.SessionNewBody)))
	})

	spec.It("http1/rfc6265/3/distinct-sessions", spec.SHOULD, "issues different session IDs to different clients", func(t *spec.T) {
		_, a := sessionCookie(t)
		_, b := sessionCookie(t)
		if a.value == b.value {
			t.Failf("%v", spec.Errorf("two different session IDs", "%q twice", a.value))
		}
	})

	// 4.1.1: "Servers SHOULD NOT send Set-Cookie headers that fail to conform
	// to the following grammar".
	spec.It("http1/rfc6265/4.1.1/set-cookie-grammar", spec.SHOULD, "sends a Set-Cookie that follows the grammar of 4.1.1", func(t *spec.T) {
		resp, _ := sessionCookie(t)
		for _, v := range resp.Header.Values("Set-Cookie") {
			t.Check(checkSetCookie(v))
		}
	})

	// 4.1.1: "Servers SHOULD NOT include more than one Set-Cookie header
	// field in the same response with the same cookie-name."
	spec.It("http1/rfc6265/4.1.1/one-per-name", spec.SHOULD, "sends at most one Set-Cookie per cookie-name in a response", func(t *spec.T) {
		resp, _ := sessionCookie(t)
		seen := map[string]bool{}
		for _, v := range resp.Header.Values("Set-Cookie") {
			n := splitSetCookie(v).name
			if seen[n] {
				t.Failf("%v", spec.Errorf("one Set-Cookie for "+n, "%q", resp.Header.Values("Set-Cookie")))
			}
			seen[n] = true
		}
	})

	// 4.1.1: "sane-cookie-date = <IMF-fixdate>" (the rfc1123-date of 7231).
	spec.It("http1/rfc6265/4.1.2.1/expires-format", spec.SHOULD, "sends Expires, if any, as an IMF-fixdate", func(t *spec.T) {
		_, c := sessionCookie(t)
		if v, ok := c.attr("Expires"); ok {
			t.Check(checkIMFDate("Expires", v))
		}
	})

	// 4.1.2.2: "The Max-Age attribute indicates the maximum lifetime of the
	// cookie"; "max-age-av = "Max-Age=" non-zero-digit *DIGIT".
	spec.It("http1/rfc6265/4.1.2.2/max-age-format", spec.SHOULD, "sends Max-Age, if any, as a positive number", func(t *spec.T) {
		_, c := sessionCookie(t)
		if v, ok := c.attr("Max-Age"); ok && !maxAgeRE.MatchString(v) {
			t.Failf("%v", spec.Errorf("Max-Age = non-zero-digit *DIGIT", "%q", v))
		}
	})

	spec.It("http1/rfc6265/4.1.2.2/session-lifetime", spec.MUST, "gives the session cookie the fixture's Max-Age of 3600", func(t *spec.T) {
		_, c := sessionCookie(t)
		v, ok := c.attr("Max-Age")
		if !ok {
			t.Failf("%v", spec.Errorf("Max-Age=3600", "no Max-Age in %q", c.raw))
		}
		t.Check(spec.Equal("Max-Age", []byte("3600"), []byte(v)))
	})

	// 5.2.3 / 5.3 step 6: "If the canonicalized request-host does not
	// domain-match the domain-attribute: Ignore the cookie entirely". A
	// session cookie the user agent ignores never comes back.
	spec.It("http1/rfc6265/4.1.2.3/domain-matches-host", spec.MUST, "sends no Domain attribute that the request host fails to match", func(t *spec.T) {
		_, c := sessionCookie(t)
		d, ok := c.attr("Domain")
		if !ok {
			return
		}
		h := host(t)
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			h = h[:i]
		}
		d = strings.TrimPrefix(strings.ToLower(d), ".")
		if h != d && !strings.HasSuffix(h, "."+d) {
			t.Failf("%v", spec.Errorf("a Domain that "+h+" domain-matches", "Domain=%s", d))
		}
	})

	// 5.1.4 path-match: the cookie comes back for /session only if its Path
	// path-matches it.
	spec.It("http1/rfc6265/4.1.2.4/path-covers-session", spec.MUST, "sends a Path, if any, that covers /session", func(t *spec.T) {
		_, c := sessionCookie(t)
		p, ok := c.attr("Path")
		if !ok {
			return
		}
		if !(p == "/" || p == fixture.SessionPath || strings.HasPrefix(fixture.SessionPath, strings.TrimSuffix(p, "/")+"/")) {
			t.Failf("%v", spec.Errorf("a Path that path-matches /session", "Path=%s", p))
		}
	})

	// 4.1.2.5: "The Secure attribute limits the scope of the cookie to
	// "secure" channels"; over plain HTTP the session would never come back.
	spec.It("http1/rfc6265/4.1.2.5/no-secure-over-http", spec.SHOULD, "does not mark the session cookie Secure over plain HTTP", func(t *spec.T) {
		_, c := sessionCookie(t)
		if _, ok := c.attr("Secure"); ok {
			t.Failf("%v", spec.Errorf("no Secure attribute on a cookie set over http", "%q", c.raw))
		}
	})

	// 4.1.2.6: "The HttpOnly attribute limits the scope of the cookie to HTTP
	// requests"; 8.? session identifiers should not be readable by scripts.
	spec.It("http1/rfc6265/4.1.2.6/httponly-session", spec.SHOULD, "marks the session cookie HttpOnly", func(t *spec.T) {
		_, c := sessionCookie(t)
		if _, ok := c.attr("HttpOnly"); !ok {
			t.Failf("%v", spec.Errorf("HttpOnly", "%q", c.raw))
		}
	})

	// RFC 6265bis 4.1.2.7: "SameSite" attribute values.
	spec.It("http1/rfc6265/4.1.2.7/samesite-value", spec.SHOULD, "sends SameSite, if any, as Strict, Lax or None", func(t *spec.T) {
		_, c := sessionCookie(t)
		if v, ok := c.attr("SameSite"); ok {
			if l := strings.ToLower(v); l != "strict" && l != "lax" && l != "none" {
				t.Failf("%v", spec.Errorf("SameSite=Strict, Lax or None", "%q", v))
			}
		}
	})

	spec.It("http1/rfc6265/4.1.1/session-id-entropy", spec.SHOULD, "uses a session ID of at least 16 characters", func(t *spec.T) {
		_, c := sessionCookie(t)
		if len(c.value) < 16 {
			t.Failf("%v", spec.Errorf("a long, unguessable session ID", "%q", c.value))
		}
	})
})
