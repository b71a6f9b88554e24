package http1

import (
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// maxJarCookies bounds a Jar; beyond it the least recently used cookies go
// (RFC 6265 5.3: the user agent may evict "excess cookies").
const maxJarCookies = 3000

// Jar is a client cookie store following the storage model of RFC 6265
// section 5.3 and the Cookie header rules of section 5.4. It is safe for
// concurrent use.
type Jar struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	cookies []*storedCookie
	seq     uint64
}

// storedCookie holds the fields of RFC 6265 5.3.
type storedCookie struct {
	name, value, domain, path string
	expiry, creation, access  time.Time
	persistent, hostOnly      bool
	secureOnly, httpOnly      bool
	sameSite                  string
	seq                       uint64
}

// NewJar returns an empty Jar.
func NewJar() *Jar { return &Jar{} }

func (j *Jar) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// farFuture is the "latest representable date" of RFC 6265 5.3.
var farFuture = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// canonicalHost lower-cases a request host (RFC 6265 5.1.2, without IDNA).
func canonicalHost(u *url.URL) string {
	return asciiLower(strings.TrimSuffix(u.Hostname(), "."))
}

// DomainMatch implements RFC 6265 5.1.3.
func DomainMatch(s, domain string) bool {
	if s == domain {
		return true
	}
	// "The domain string is a suffix of the string. The last character of
	// the string that is not included in the domain string is a "."
	// character. The string is a host name (i.e., not an IP address)."
	return strings.HasSuffix(s, domain) && len(s) > len(domain) &&
		s[len(s)-len(domain)-1] == '.' && net.ParseIP(s) == nil
}

// DefaultPath implements the default-path of RFC 6265 5.1.4.
func DefaultPath(uriPath string) string {
	if uriPath == "" || uriPath[0] != '/' {
		return "/"
	}
	i := strings.LastIndexByte(uriPath, '/')
	if i == 0 {
		return "/"
	}
	return uriPath[:i]
}

// PathMatch implements path-match of RFC 6265 5.1.4.
func PathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}

// SetCookies stores the Set-Cookie field values received in a response to
// a request for u, as RFC 6265 5.3 says.
func (j *Jar) SetCookies(u *url.URL, setCookies []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	host := canonicalHost(u)
	for _, sc := range setCookies {
		c, err := ParseSetCookie(sc)
		if err != nil {
			continue
		}
		sc := &storedCookie{name: c.Name, value: c.Value, creation: now, access: now, sameSite: c.SameSite}
		// Step 3: Max-Age wins over Expires; neither means a session cookie.
		switch {
		case c.HasMaxAge:
			sc.persistent = true
			if c.MaxAge <= 0 {
				sc.expiry = time.Time{}
			} else {
				sc.expiry = now.Add(time.Duration(c.MaxAge) * time.Second)
			}
		case !c.Expires.IsZero():
			sc.persistent, sc.expiry = true, c.Expires
		default:
			sc.expiry = farFuture
		}
		// Step 6: "If the canonicalized request-host does not domain-match
		// the domain-attribute: Ignore the cookie entirely and abort these
		// steps."
		if c.Domain != "" {
			if !DomainMatch(host, c.Domain) {
				continue
			}
			sc.domain = c.Domain
		} else {
			sc.hostOnly, sc.domain = true, host
		}
		// Step 7: the Path attribute, else the default-path.
		sc.path = c.Path
		if sc.path == "" {
			sc.path = DefaultPath(u.EscapedPath())
		}
		sc.secureOnly, sc.httpOnly = c.Secure, c.HttpOnly
		// Step 11: a cookie with the same name, domain and path is
		// replaced, keeping the old creation-time.
		for i, old := range j.cookies {
			if old.name == sc.name && old.domain == sc.domain && old.path == sc.path {
				sc.creation, sc.seq = old.creation, old.seq
				j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
				break
			}
		}
		if sc.seq == 0 {
			j.seq++
			sc.seq = j.seq
		}
		j.cookies = append(j.cookies, sc)
	}
	j.evict(now)
}

// evict removes expired cookies ("The user agent MUST evict all expired
// cookies from the cookie store if, at any time, an expired cookie exists
// in the cookie store.") and the least recently used beyond the bound.
func (j *Jar) evict(now time.Time) {
	out := j.cookies[:0]
	for _, c := range j.cookies {
		if c.expiry.After(now) {
			out = append(out, c)
		}
	}
	j.cookies = out
	if len(j.cookies) > maxJarCookies {
		sort.SliceStable(j.cookies, func(a, b int) bool { return j.cookies[a].access.After(j.cookies[b].access) })
		j.cookies = j.cookies[:maxJarCookies]
	}
}

// Cookies returns the cookies to send with a request for u, in the order
// of RFC 6265 5.4: longer paths first, then earlier creation-times.
func (j *Jar) Cookies(u *url.URL) []Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	j.evict(now)
	host := canonicalHost(u)
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	secure := u.Scheme == "https"
	var sel []*storedCookie
	for _, c := range j.cookies {
		if c.hostOnly && host != c.domain || !c.hostOnly && !DomainMatch(host, c.domain) {
			continue
		}
		if !PathMatch(p, c.path) {
			continue
		}
		// "If the cookie's secure-only-flag is true, then the
		// request-uri's scheme must denote a "secure" protocol".
		if c.secureOnly && !secure {
			continue
		}
		sel = append(sel, c)
	}
	sort.SliceStable(sel, func(a, b int) bool {
		if len(sel[a].path) != len(sel[b].path) {
			return len(sel[a].path) > len(sel[b].path)
		}
		if !sel[a].creation.Equal(sel[b].creation) {
			return sel[a].creation.Before(sel[b].creation)
		}
		return sel[a].seq < sel[b].seq
	})
	out := make([]Cookie, len(sel))
	for i, c := range sel {
		// "Update the last-access-time of each cookie in the cookie-list
		// to the current date and time."
		c.access = now
		out[i] = Cookie{Name: c.name, Value: c.value}
	}
	return out
}

// CookieHeader returns the Cookie field value for a request for u, or "".
func (j *Jar) CookieHeader(u *url.URL) string {
	cs := j.Cookies(u)
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name + "=" + c.Value
	}
	return strings.Join(parts, "; ")
}
