package http1

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSetCookie(t *testing.T) {
	exp := time.Date(2021, 6, 9, 10, 18, 14, 0, time.UTC)
	cases := []struct {
		in   string
		want *Cookie
	}{
		// RFC 6265 3.1 examples.
		{"SID=31d4d96e407aad42", &Cookie{Name: "SID", Value: "31d4d96e407aad42"}},
		{"SID=31d4d96e407aad42; Path=/; Domain=example.com", &Cookie{Name: "SID", Value: "31d4d96e407aad42", Path: "/", Domain: "example.com"}},
		{"SID=31d4d96e407aad42; Path=/; Secure; HttpOnly", &Cookie{Name: "SID", Value: "31d4d96e407aad42", Path: "/", Secure: true, HttpOnly: true}},
		{"lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT", &Cookie{Name: "lang", Value: "en-US", Expires: exp}},
		{"lang=; Expires=Sun, 06 Nov 1994 08:49:37 GMT", &Cookie{Name: "lang", Expires: time.Unix(784111777, 0).UTC()}},
		// 5.2 details.
		{" a = b ; ; junk ; max-age=10", &Cookie{Name: "a", Value: "b", MaxAge: 10, HasMaxAge: true}},
		{"a=b; Max-Age=-5", &Cookie{Name: "a", Value: "b", MaxAge: -5, HasMaxAge: true}},
		{"a=b; Max-Age=1x", &Cookie{Name: "a", Value: "b"}},
		{"a=b; Max-Age=+1", &Cookie{Name: "a", Value: "b"}},
		{"a=b; Max-Age=10; Max-Age=bad", &Cookie{Name: "a", Value: "b", MaxAge: 10, HasMaxAge: true}},
		{"a=b; Expires=not a date", &Cookie{Name: "a", Value: "b"}},
		{"a=b; Domain=.Example.COM", &Cookie{Name: "a", Value: "b", Domain: "example.com"}},
		{"a=b; Domain=", &Cookie{Name: "a", Value: "b"}},
		{"a=b; Path=/x; Path=rel", &Cookie{Name: "a", Value: "b"}},
		{"a=b; SameSite=strict", &Cookie{Name: "a", Value: "b", SameSite: "Strict"}},
		{"a=b; SameSite=bogus", &Cookie{Name: "a", Value: "b"}},
		{"a=b=c", &Cookie{Name: "a", Value: "b=c"}},
		{`a="quoted"`, &Cookie{Name: "a", Value: `"quoted"`}},
		{"noequals", nil},
		{"=value", nil},
		{"  =value; Path=/", nil},
	}
	for _, tc := range cases {
		got, err := ParseSetCookie(tc.in)
		if tc.want == nil {
			if err != ErrBadCookie {
				t.Errorf("%q: got %+v, %v; want ErrBadCookie", tc.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v %v\nwant %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseCookieDate(t *testing.T) {
	want := time.Unix(784111777, 0).UTC()
	for _, s := range []string{
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
		"6 nov 1994 8:49:37",
		"08:49:37 1994 Nov 06 whatever",
		"Sun, 06-November-1994 08:49:37 GMT",
	} {
		if got, ok := ParseCookieDate(s); !ok || !got.Equal(want) {
			t.Errorf("%q: %v %v", s, got, ok)
		}
	}
	if got, ok := ParseCookieDate("1 Jan 70 00:00:00"); !ok || got.Year() != 1970 {
		t.Errorf("two-digit 70: %v %v", got, ok)
	}
	if got, ok := ParseCookieDate("1 Jan 69 00:00:00"); !ok || got.Year() != 2069 {
		t.Errorf("two-digit 69: %v %v", got, ok)
	}
	for _, s := range []string{"", "Sun, 06 Nov 1994", "31 Feb 2020 00:00:00", "06 Nov 1600 08:49:37", "06 Nov 1994 24:00:00", "32 Nov 1994 08:49:37", "06 Nov 1994 08:60:00", "06 Nov 1994 123:00:00"} {
		if got, ok := ParseCookieDate(s); ok {
			t.Errorf("%q accepted as %v", s, got)
		}
	}
}

func TestFormatSetCookie(t *testing.T) {
	c := &Cookie{Name: "sid", Value: "abc", Path: "/", MaxAge: 3600, HttpOnly: true, SameSite: "Lax"}
	if got, want := FormatSetCookie(c), "sid=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	back, err := ParseSetCookie(FormatSetCookie(c))
	c.HasMaxAge = true
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("round trip: %+v %v", back, err)
	}
}

func TestParseCookieHeader(t *testing.T) {
	got := ParseCookieHeader(` SID=31d4d96e407aad42; lang=en-US;junk; q="x" ;=v`)
	want := []Cookie{{Name: "SID", Value: "31d4d96e407aad42"}, {Name: "lang", Value: "en-US"}, {Name: "q", Value: "x"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestJarRFCExamples(t *testing.T) {
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	j := &Jar{Now: func() time.Time { return now }}
	site := mustURL("https://www.example.com/")
	// RFC 6265 3.1: "the server can store a session identifier".
	j.SetCookies(site, []string{"SID=31d4d96e407aad42; Path=/; Secure; HttpOnly", "lang=en-US; Path=/; Domain=example.com"})
	if got := j.CookieHeader(site); got != "SID=31d4d96e407aad42; lang=en-US" {
		t.Errorf("Cookie = %q", got)
	}
	// Secure cookies are not sent over plain http; Domain cookies reach subdomains.
	if got := j.CookieHeader(mustURL("http://www.example.com/")); got != "lang=en-US" {
		t.Errorf("http Cookie = %q", got)
	}
	if got := j.CookieHeader(mustURL("https://other.example.com/x")); got != "lang=en-US" {
		t.Errorf("sibling Cookie = %q", got)
	}
	if got := j.CookieHeader(mustURL("https://example.org/")); got != "" {
		t.Errorf("other site Cookie = %q", got)
	}
	// "lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT" then removal with a past date.
	j.SetCookies(site, []string{"lang=en-US; Path=/; Domain=example.com; Expires=Wed, 09 Jun 2021 10:18:14 GMT"})
	if got := j.CookieHeader(site); got != "SID=31d4d96e407aad42; lang=en-US" {
		t.Errorf("after update Cookie = %q", got)
	}
	now = time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC)
	if got := j.CookieHeader(site); got != "SID=31d4d96e407aad42" {
		t.Errorf("after expiry Cookie = %q", got)
	}
	j.SetCookies(site, []string{"lang=; Expires=Sun, 06 Nov 1994 08:49:37 GMT"})
	j.SetCookies(site, []string{"SID=gone; Path=/; Max-Age=0"})
	if got := j.CookieHeader(site); got != "" {
		t.Errorf("after deletion Cookie = %q", got)
	}
}

func TestJarRules(t *testing.T) {
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	j := &Jar{Now: func() time.Time { return now }}
	u := mustURL("http://a.example.com/docs/guide/page.html")
	// Ordering: longer paths first, then earlier creation.
	j.SetCookies(u, []string{"c1=1; Path=/"})
	now = now.Add(time.Second)
	j.SetCookies(u, []string{"c2=2"}) // default-path /docs/guide
	now = now.Add(time.Second)
	j.SetCookies(u, []string{"c0=0; Path=/"})
	j.SetCookies(u, []string{"c3=3; Path=/docs"})
	if got := j.CookieHeader(u); got != "c2=2; c3=3; c1=1; c0=0" {
		t.Errorf("order: %q", got)
	}
	// Replacing keeps the creation time, so order is unchanged.
	j.SetCookies(u, []string{"c1=new; Path=/"})
	if got := j.CookieHeader(mustURL("http://a.example.com/")); got != "c1=new; c0=0" {
		t.Errorf("replace: %q", got)
	}
	// Path-match: /docs matches /docs/x and /docs but not /docsx.
	if got := j.CookieHeader(mustURL("http://a.example.com/docsx")); got != "c1=new; c0=0" {
		t.Errorf("path-match: %q", got)
	}
	// A Domain the host does not domain-match is ignored; host-only cookies stay on their host.
	j.SetCookies(u, []string{"evil=1; Domain=other.com", "sub=1; Domain=b.a.example.com"})
	if got := j.CookieHeader(mustURL("http://b.a.example.com/")); got != "" {
		t.Errorf("host-only leak: %q", got)
	}
	// IP addresses only match exactly.
	ip := mustURL("http://127.0.0.1/")
	j.SetCookies(ip, []string{"ipc=1; Domain=0.0.1"})
	j.SetCookies(ip, []string{"ipd=1"})
	if got := j.CookieHeader(ip); got != "ipd=1" {
		t.Errorf("ip: %q", got)
	}
	// Max-Age wins over Expires.
	j.SetCookies(u, []string{"m=1; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=60"})
	now = now.Add(30 * time.Second)
	if got := j.CookieHeader(mustURL("http://a.example.com/")); got != "c1=new; c0=0; m=1" {
		t.Errorf("max-age: %q", got)
	}
	now = now.Add(31 * time.Second)
	if got := j.CookieHeader(mustURL("http://a.example.com/")); got != "c1=new; c0=0" {
		t.Errorf("max-age expiry: %q", got)
	}
}

func TestDomainPathMatch(t *testing.T) {
	for _, c := range []struct {
		s, d string
		ok   bool
	}{{"example.com", "example.com", true}, {"www.example.com", "example.com", true}, {"wwwexample.com", "example.com", false}, {"example.com", "www.example.com", false}, {"1.2.3.4", "2.3.4", false}} {
		if DomainMatch(c.s, c.d) != c.ok {
			t.Errorf("DomainMatch(%q, %q) != %v", c.s, c.d, c.ok)
		}
	}
	for _, c := range []struct {
		r, p string
		ok   bool
	}{{"/", "/", true}, {"/a/b", "/a", true}, {"/a/b", "/a/", true}, {"/ab", "/a", false}, {"/a", "/a/", false}} {
		if PathMatch(c.r, c.p) != c.ok {
			t.Errorf("PathMatch(%q, %q) != %v", c.r, c.p, c.ok)
		}
	}
	for in, want := range map[string]string{"": "/", "x": "/", "/": "/", "/a": "/", "/a/b": "/a", "/a/b/": "/a/b"} {
		if got := DefaultPath(in); got != want {
			t.Errorf("DefaultPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestParseSetCookieDomainRoundTrip pins FuzzSetCookieParser's crashers
// (testdata/fuzz/FuzzSetCookieParser/domain-dot-space and domain-dots):
// parsing removes one leading "." (RFC 6265 5.2.3), so a domain that is
// left starting with "." or white space must be formatted with a "." in
// front to parse back the same.
func TestParseSetCookieDomainRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, domain string }{
		{"0=;DomAin=. 0", " 0"},
		{"0=;DomAin=..", "."},
		{"a=b; Domain=.Example.COM", "example.com"},
		{"a=b; Domain=.", ""},
	} {
		c, err := ParseSetCookie(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if c.Domain != tc.domain {
			t.Errorf("%q: Domain %q, want %q", tc.in, c.Domain, tc.domain)
		}
		again, err := ParseSetCookie(FormatSetCookie(c))
		if err != nil || again.Domain != c.Domain {
			t.Errorf("%q formatted as %q: Domain %q (%v), want %q", tc.in, FormatSetCookie(c), again.Domain, err, c.Domain)
		}
	}
}

// TestParseSetCookieDomainNotUTF8 is FuzzSetCookieParser's second crasher
// (testdata/fuzz/FuzzSetCookieParser/domain-invalid-utf8): lower-casing a
// Domain with strings.ToLower turned each byte that is not UTF-8 into a
// 3-byte U+FFFD, so the formatted cookie grew past the size limit. Only
// ASCII letters are lower-cased.
func TestParseSetCookieDomainNotUTF8(t *testing.T) {
	in := "0=; Domain=AA" + strings.Repeat("\xff", 3000) + "Aa"
	c, err := ParseSetCookie(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "aa" + strings.Repeat("\xff", 3000) + "aa"; c.Domain != want {
		t.Errorf("Domain is %d bytes, want the %d bytes of the attribute, lower-cased", len(c.Domain), len(want))
	}
	if _, err := ParseSetCookie(FormatSetCookie(c)); err != nil {
		t.Errorf("the formatted cookie is rejected: %v", err)
	}
}
