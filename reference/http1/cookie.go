package http1

import (
	"strconv"
	"strings"
	"time"
)

// Cookie is a cookie as parsed from a Set-Cookie field by the algorithm of
// RFC 6265 section 5.2, or as sent in a Cookie field (Name and Value only).
type Cookie struct {
	Name  string
	Value string
	// Expires is the last valid Expires attribute; zero if none.
	Expires time.Time
	// MaxAge is the last valid Max-Age attribute in seconds, meaningful
	// when HasMaxAge is set (zero or negative: expire now).
	MaxAge    int64
	HasMaxAge bool
	// Domain is the Domain attribute, lower-cased, without a leading dot;
	// "" when absent.
	Domain string
	// Path is the Path attribute; "" when absent or not starting with "/"
	// (the default-path then applies, RFC 6265 5.2.4).
	Path     string
	Secure   bool
	HttpOnly bool
	// SameSite is "Strict", "Lax" or "None" (RFC 6265bis); "" when absent
	// or unrecognised.
	SameSite string
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

func trimWSP(s string) string {
	for len(s) > 0 && isWSP(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isWSP(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// maxSetCookie bounds the Set-Cookie strings ParseSetCookie accepts.
const maxSetCookie = 8192

// ParseSetCookie parses a Set-Cookie field value with the user agent
// algorithm of RFC 6265 section 5.2. It fails with ErrBadCookie where the
// algorithm says to ignore the whole string; bad attributes are ignored.
func ParseSetCookie(s string) (*Cookie, error) {
	if len(s) > maxSetCookie {
		return nil, ErrBadCookie
	}
	// 5.2 step 1: the name-value-pair runs up to the first ";".
	nv, attrs, _ := strings.Cut(s, ";")
	// Step 2: "If the name-value-pair string lacks a "=" character,
	// ignore the set-cookie-string entirely."
	name, value, ok := strings.Cut(nv, "=")
	if !ok {
		return nil, ErrBadCookie
	}
	// Steps 3-5: trim WSP; "If the name string is empty, ignore the
	// set-cookie-string entirely."
	c := &Cookie{Name: trimWSP(name), Value: trimWSP(value)}
	if c.Name == "" {
		return nil, ErrBadCookie
	}
	for attrs != "" {
		var av string
		av, attrs, _ = strings.Cut(attrs, ";")
		an, aval, _ := strings.Cut(av, "=")
		an, aval = trimWSP(an), trimWSP(aval)
		switch strings.ToLower(an) {
		case "expires":
			// 5.2.1: "If the attribute-value failed to parse as a cookie
			// date, ignore the cookie-av."
			if t, ok := ParseCookieDate(aval); ok {
				c.Expires = t
			}
		case "max-age":
			// 5.2.2: "If the first character of the attribute-value is not
			// a DIGIT or a "-" character, ignore the cookie-av. If the
			// remainder of attribute-value contains a non-DIGIT character,
			// ignore the cookie-av."
			if n, ok := parseMaxAge(aval); ok {
				c.MaxAge, c.HasMaxAge = n, true
			}
		case "domain":
			// 5.2.3: "If the attribute-value is empty, the behavior is
			// undefined. However, the user agent SHOULD ignore the
			// cookie-av entirely." A leading "." is removed.
			if aval == "" {
				continue
			}
			// "Convert the cookie-domain to lower case": ASCII only;
			// other bytes stay as they are (strings.ToLower would turn
			// each invalid UTF-8 byte into a 3-byte U+FFFD). A domain of
			// "." alone leaves nothing: as if there were no Domain.
			c.Domain = asciiLower(strings.TrimPrefix(aval, "."))
			if c.Domain == "" {
				continue
			}
		case "path":
			// 5.2.4: "If the attribute-value is empty or if the first
			// character of the attribute-value is not "/": Let cookie-path
			// be the default-path."
			if aval == "" || aval[0] != '/' {
				c.Path = ""
			} else {
				c.Path = aval
			}
		case "secure":
			c.Secure = true
		case "httponly":
			c.HttpOnly = true
		case "samesite":
			switch strings.ToLower(aval) {
			case "strict":
				c.SameSite = "Strict"
			case "lax":
				c.SameSite = "Lax"
			case "none":
				c.SameSite = "None"
			default:
				c.SameSite = ""
			}
		}
		// 5.2: unrecognised cookie-av names are ignored.
	}
	return c, nil
}

// parseMaxAge parses a Max-Age value, clamping huge magnitudes.
func parseMaxAge(v string) (int64, bool) {
	if v == "" || !(isDigit(v[0]) || v[0] == '-') {
		return 0, false
	}
	digits := v
	if v[0] == '-' {
		digits = v[1:]
	}
	if digits == "" {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		n = 1 << 62
	}
	if n > 1<<40 {
		n = 1 << 40
	}
	if v[0] == '-' {
		return -n, true
	}
	return n, true
}

// ParseCookieDate parses a cookie date with the algorithm of RFC 6265
// section 5.1.1.
func ParseCookieDate(s string) (time.Time, bool) {
	var hour, minute, sec, day, month, year int
	var foundTime, foundDay, foundMonth, foundYear bool
	for _, tok := range strings.FieldsFunc(s, isCookieDelimiter) {
		switch {
		case !foundTime && parseCookieTime(tok, &hour, &minute, &sec):
			foundTime = true
		case !foundDay && parseDigits(tok, 1, 2, &day):
			foundDay = true
		case !foundMonth && parseCookieMonth(tok, &month):
			foundMonth = true
		case !foundYear && parseDigits(tok, 2, 4, &year):
			foundYear = true
		}
	}
	// Steps 3 and 4: two-digit years.
	if year >= 70 && year <= 99 {
		year += 1900
	} else if year >= 0 && year <= 69 {
		year += 2000
	}
	// Step 5: "Abort these steps and fail to parse the cookie-date if: at
	// least one of the found-day-of-month, found-month, found-year, or
	// found-time flags is not set, the day-of-month-value is less than 1 or
	// greater than 31, the year-value is less than 1601, the hour-value is
	// greater than 23, the minute-value is greater than 59, or the
	// second-value is greater than 59."
	if !foundTime || !foundDay || !foundMonth || !foundYear || day < 1 || day > 31 ||
		year < 1601 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	// Step 6: "If the parsed-cookie-date is invalid (e.g., the
	// day-of-month-value is 31 but the month has only 30 days), ... fail".
	if t.Day() != day {
		return time.Time{}, false
	}
	return t, true
}

// isCookieDelimiter: delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
func isCookieDelimiter(r rune) bool {
	return r == 0x09 || r >= 0x20 && r <= 0x2F || r >= 0x3B && r <= 0x40 ||
		r >= 0x5B && r <= 0x60 || r >= 0x7B && r <= 0x7E
}

// parseDigits matches min*max DIGIT ( non-digit *OCTET ).
func parseDigits(tok string, lo, hi int, out *int) bool {
	n := 0
	for n < len(tok) && isDigit(tok[n]) {
		n++
	}
	if n < lo || n > hi {
		return false
	}
	v, _ := strconv.Atoi(tok[:n])
	*out = v
	return true
}

// parseCookieTime matches time = hms-time ( non-digit *OCTET ),
// hms-time = time-field ":" time-field ":" time-field, time-field = 1*2DIGIT.
func parseCookieTime(tok string, h, m, s *int) bool {
	var f [3]int
	i := 0
	for k := 0; k < 3; k++ {
		n := 0
		for i+n < len(tok) && isDigit(tok[i+n]) {
			n++
		}
		if n < 1 || n > 2 {
			return false
		}
		f[k], _ = strconv.Atoi(tok[i : i+n])
		i += n
		if k < 2 {
			if i >= len(tok) || tok[i] != ':' {
				return false
			}
			i++
		}
	}
	*h, *m, *s = f[0], f[1], f[2]
	return true
}

var cookieMonths = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parseCookieMonth matches month = ( "jan" / ... / "dec" ) *OCTET.
func parseCookieMonth(tok string, out *int) bool {
	if len(tok) < 3 {
		return false
	}
	p := strings.ToLower(tok[:3])
	for i, m := range cookieMonths {
		if p == m {
			*out = i + 1
			return true
		}
	}
	return false
}

// FormatSetCookie serializes c as a Set-Cookie field value
// (RFC 6265 4.1.1 syntax; SameSite from RFC 6265bis).
func FormatSetCookie(c *Cookie) string {
	var b strings.Builder
	b.WriteString(c.Name)
	b.WriteByte('=')
	b.WriteString(c.Value)
	if c.Path != "" {
		b.WriteString("; Path=" + c.Path)
	}
	if c.Domain != "" {
		// Parsing removes one leading "." and trims the attribute-value:
		// a domain that itself starts with "." or white space needs a "."
		// in front to come back the same (found by FuzzSetCookieParser).
		dot := ""
		if c.Domain[0] == '.' || isWSP(c.Domain[0]) {
			dot = "."
		}
		b.WriteString("; Domain=" + dot + c.Domain)
	}
	if !c.Expires.IsZero() {
		b.WriteString("; Expires=" + FormatHTTPDate(c.Expires))
	}
	if c.HasMaxAge || c.MaxAge != 0 {
		b.WriteString("; Max-Age=" + strconv.FormatInt(c.MaxAge, 10))
	}
	if c.Secure {
		b.WriteString("; Secure")
	}
	if c.HttpOnly {
		b.WriteString("; HttpOnly")
	}
	if c.SameSite != "" {
		b.WriteString("; SameSite=" + c.SameSite)
	}
	return b.String()
}

// ParseCookieHeader splits a Cookie field value (RFC 6265 4.2.1:
// cookie-pair *( ";" SP cookie-pair )) into name/value pairs, leniently:
// pairs without "=" are skipped and whitespace is trimmed.
func ParseCookieHeader(v string) []Cookie {
	var out []Cookie
	for _, p := range strings.Split(v, ";") {
		name, value, ok := strings.Cut(p, "=")
		name = trimWSP(name)
		if !ok || name == "" {
			continue
		}
		value = trimWSP(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		out = append(out, Cookie{Name: name, Value: value})
	}
	return out
}

// asciiLower lower-cases the ASCII letters of s and leaves every other byte
// unchanged.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
