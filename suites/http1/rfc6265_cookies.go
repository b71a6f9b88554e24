package http1

import (
	"fmt"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc6265_3 = spec.Section("http1", "rfc6265", "3", "Overview")
var rfc6265_5_4 = spec.Section("http1", "rfc6265", "5.4", "The Cookie Header")
var rfc6265_4_1_1 = spec.Section("http1", "rfc6265", "4.1.1", "Syntax")
var rfc6265_4_1_2_1 = spec.Section("http1", "rfc6265", "4.1.2.1", "The Expires Attribute")
var rfc6265_4_1_2_2 = spec.Section("http1", "rfc6265", "4.1.2.2", "The Max-Age Attribute")
var rfc6265_4_1_2_3 = spec.Section("http1", "rfc6265", "4.1.2.3", "The Domain Attribute")
var rfc6265_4_1_2_4 = spec.Section("http1", "rfc6265", "4.1.2.4", "The Path Attribute")
var rfc6265_4_1_2_5 = spec.Section("http1", "rfc6265", "4.1.2.5", "The Secure Attribute")
var rfc6265_4_1_2_6 = spec.Section("http1", "rfc6265", "4.1.2.6", "The HttpOnly Attribute")
var rfc6265bis_4_1_1 = spec.Section("http1", "rfc6265bis", "4.1.1", "Syntax")

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
	if !wire.IsToken(c.name) {
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
	t.Mismatch("Set-Cookie: "+fixture.SessionCookie+"=... on a first visit to /session", "Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
	return nil, setCookie{}
}

// RFC 6265: cookies, server requirements, through the fixture's /session.
var _ = Describe("RFC 6265 Cookies", func() {

	rfc6265_3.It("session-issues-cookie", spec.FIXTURE, "issues a session cookie on a first visit to /session", spec.Fixture(`The fixture's /session answers a request without its session cookie with a new session: the new-session body and a Set-Cookie holding the session ID.`), func(t *spec.T) {
		resp, _ := sessionCookie(t)
		t.Check(expectBody(resp, []byte(fixture.SessionNewBody)))
	})

	rfc6265_3.It("session-recognised", spec.FIXTURE, "recognises the session cookie on the next request", spec.Fixture(`The fixture's /session recognises its session cookie on the next request: it answers with the visit count and sets no new cookie.`), func(t *spec.T) {
		_, c := sessionCookie(t)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+c.name+"="+c.value))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, 2))))
		t.Check(expectNoHeader(resp, "Set-Cookie"))
	})

	rfc6265_3.It("session-counts-visits", spec.FIXTURE, "counts visits of one session", spec.Fixture(`The fixture's /session counts the visits of one session, one more on each request that carries its cookie.`), func(t *spec.T) {
		_, c := sessionCookie(t)
		for n := 2; n <= 4; n++ {
			resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+c.name+"="+c.value))
			t.Check(expectBody(resp, []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, n))))
		}
	})

	rfc6265_5_4.It("session-among-cookies", spec.FIXTURE, "finds the session cookie among other cookies", spec.Fixture(`The fixture's /session finds its cookie among the other cookie-pairs of the Cookie header.`), func(t *spec.T) {
		_, c := sessionCookie(t)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: theme=dark; "+c.name+"="+c.value+"; lang=en"))
		t.Check(expectBody(resp, []byte(fmt.Sprintf(fixture.SessionWelcomeFormat, 2))))
	})

	rfc6265_3.It("unknown-session-new", spec.FIXTURE, "issues a new session for an unknown session ID", spec.Fixture(`The fixture's /session answers a session ID it never issued with a new session and a new Set-Cookie.`), func(t *spec.T) {
		t.Require(featSession)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+fixture.SessionCookie+"=00000000000000000000000000000000"))
		t.Check(expectBody(resp, []byte(fixture.SessionNewBody)))
		t.Check(expectHeader(resp, "Set-Cookie"))
	})

	rfc6265_3.It("garbage-session-new", spec.FIXTURE, "issues a new session for a malformed session cookie", spec.Fixture(`The fixture's /session answers a malformed session ID with a new session.`), func(t *spec.T) {
		t.Require(featSession)
		resp := fetch(t, get(t, fixture.SessionPath, "Cookie: "+fixture.SessionCookie+"=../../etc/passwd"))
		t.Check(expectBody(resp, []byte(fixture.SessionNewBody)))
	})

	rfc6265_3.It("distinct-sessions", spec.SHOULD, "issues different session IDs to different clients", spec.Inferred("Instead of storing session information directly in a cookie (where it might be exposed to or replayed by an attacker), servers commonly store a nonce (or \"session identifier\") in a cookie.", "RFC 6265 8.4 states it without a key word; an identifier shared by two clients identifies neither").In("8.4"), func(t *spec.T) {
		_, a := sessionCookie(t)
		_, b := sessionCookie(t)
		if a.value == b.value {
			t.Mismatch("two different session IDs", "%q twice", a.value)
		}
	})

	rfc6265_4_1_1.It("set-cookie-grammar", spec.SHOULD, "sends a Set-Cookie that follows the grammar of 4.1.1", spec.Quote(`Servers SHOULD NOT send Set-Cookie headers that fail to conform to the following grammar`), func(t *spec.T) {
		resp, _ := sessionCookie(t)
		for _, v := range resp.Header.Values("Set-Cookie") {
			t.Check(checkSetCookie(v))
		}
	})

	rfc6265_4_1_1.It("one-per-name", spec.SHOULD, "sends at most one Set-Cookie per cookie-name in a response", spec.Quote(`Servers SHOULD NOT include more than one Set-Cookie header field in the same response with the same cookie-name.`), func(t *spec.T) {
		resp, _ := sessionCookie(t)
		seen := map[string]bool{}
		for _, v := range resp.Header.Values("Set-Cookie") {
			n := splitSetCookie(v).name
			if seen[n] {
				t.Mismatch("one Set-Cookie for "+n, "%q", resp.Header.Values("Set-Cookie"))
			}
			seen[n] = true
		}
	})

	rfc6265_4_1_2_1.It("expires-format", spec.SHOULD, "sends Expires, if any, as an IMF-fixdate", spec.Inferred(`"sane-cookie-date = <rfc1123-date, defined in [RFC2616], Section 3.3.1>" (RFC 7231's IMF-fixdate is that format).`, "RFC 6265 4.1.1: \"Servers SHOULD NOT send Set-Cookie headers that fail to conform to the following grammar\"; this is the attribute's part of it").In("4.1.1"), func(t *spec.T) {
		_, c := sessionCookie(t)
		if v, ok := c.attr("Expires"); ok {
			t.Check(checkIMFDate("Expires", v))
		}
	})

	rfc6265_4_1_2_2.It("max-age-format", spec.SHOULD, "sends Max-Age, if any, as a positive number", spec.Inferred(`"The Max-Age attribute indicates the maximum lifetime of the cookie"; "max-age-av = "Max-Age=" non-zero-digit *DIGIT".`, "RFC 6265 4.1.1: \"Servers SHOULD NOT send Set-Cookie headers that fail to conform to the following grammar\"; this is the attribute's part of it"), func(t *spec.T) {
		_, c := sessionCookie(t)
		if v, ok := c.attr("Max-Age"); ok && !maxAgeRE.MatchString(v) {
			t.Mismatch("Max-Age = non-zero-digit *DIGIT", "%q", v)
		}
	})

	rfc6265_4_1_2_2.It("session-lifetime", spec.FIXTURE, "gives the session cookie the fixture's Max-Age of 3600", spec.Fixture(`The fixture's session cookie carries Max-Age=3600.`), func(t *spec.T) {
		_, c := sessionCookie(t)
		v, ok := c.attr("Max-Age")
		if !ok {
			t.Mismatch("Max-Age=3600", "no Max-Age in %q", c.raw)
		}
		t.Check(spec.Equal("Max-Age", []byte("3600"), []byte(v)))
	})

	rfc6265_4_1_2_3.It("domain-matches-host", spec.MUST, "sends no Domain attribute that the request host fails to match", spec.Inferred("If the canonicalized request-host does not domain-match the domain-attribute: Ignore the cookie entirely and abort these steps.", "RFC 6265 5.3 step 6 binds the user agent; a session cookie it ignores never comes back, so the server sends none").In("5.3"), func(t *spec.T) {
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
			t.Mismatch("a Domain that "+h+" domain-matches", "Domain=%s", d)
		}
	})

	rfc6265_4_1_2_4.It("path-covers-session", spec.MUST, "sends a Path, if any, that covers /session", spec.Inferred(`5.1.4 path-match: the cookie comes back for /session only if its Path path-matches it.`, "RFC 6265 5.1.4 path-match states no key word; a Path that does not cover /session keeps the cookie from coming back"), func(t *spec.T) {
		_, c := sessionCookie(t)
		p, ok := c.attr("Path")
		if !ok {
			return
		}
		if !(p == "/" || p == fixture.SessionPath || strings.HasPrefix(fixture.SessionPath, strings.TrimSuffix(p, "/")+"/")) {
			t.Mismatch("a Path that path-matches /session", "Path=%s", p)
		}
	})

	rfc6265_4_1_2_5.It("no-secure-over-http", spec.SHOULD, "does not mark the session cookie Secure over plain HTTP", spec.Inferred(`"The Secure attribute limits the scope of the cookie to "secure" channels"; over plain HTTP the session would never come back.`, "RFC 6265 4.1.2.5 states no key word; over plain HTTP a Secure session cookie never comes back"), func(t *spec.T) {
		_, c := sessionCookie(t)
		if _, ok := c.attr("Secure"); ok {
			t.Mismatch("no Secure attribute on a cookie set over http", "%q", c.raw)
		}
	})

	rfc6265_4_1_2_6.It("httponly-session", spec.SHOULD, "marks the session cookie HttpOnly", spec.Inferred("The HttpOnly attribute limits the scope of the cookie to HTTP requests.", "RFC 6265 4.1.2.6 states no key word; a session identifier that scripts can read can be stolen (8.4)"), func(t *spec.T) {
		_, c := sessionCookie(t)
		if _, ok := c.attr("HttpOnly"); !ok {
			t.Mismatch("HttpOnly", "%q", c.raw)
		}
	})

	rfc6265bis_4_1_1.It("samesite-value", spec.SHOULD, "sends SameSite, if any, as Strict, Lax or None", spec.Quote(`Servers SHOULD NOT send Set-Cookie header fields that fail to conform to the following grammar: ... samesite-av = "SameSite=" samesite-value; samesite-value = "Strict" / "Lax" / "None"`), func(t *spec.T) {
		_, c := sessionCookie(t)
		if v, ok := c.attr("SameSite"); ok {
			if l := strings.ToLower(v); l != "strict" && l != "lax" && l != "none" {
				t.Mismatch("SameSite=Strict, Lax or None", "%q", v)
			}
		}
	})

	rfc6265_4_1_1.It("session-id-entropy", spec.SHOULD, "uses a session ID of at least 16 characters", spec.Inferred("Instead of storing session information directly in a cookie (where it might be exposed to or replayed by an attacker), servers commonly store a nonce (or \"session identifier\") in a cookie.", "RFC 6265 8.4 states it without a key word; a short nonce can be guessed").In("8.4").SharedBecause("the entropy of the same session identifier"), func(t *spec.T) {
		_, c := sessionCookie(t)
		if len(c.value) < 16 {
			t.Mismatch("a long, unguessable session ID", "%q", c.value)
		}
	})
})
