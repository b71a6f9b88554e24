package http1

import (
	"time"
)

// FormatHTTPDate formats t as an IMF-fixdate (RFC 9110 5.6.7).
func FormatHTTPDate(t time.Time) string { return t.UTC().Format(HTTPDateFormat) }

// ParseHTTPDate parses an HTTP-date in any of its three formats.
// RFC 9110 5.6.7: "A recipient that parses a timestamp value in an HTTP
// field MUST accept all three HTTP-date formats."
func ParseHTTPDate(s string) (time.Time, bool) {
	if t, err := time.Parse(HTTPDateFormat, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("Mon Jan _2 15:04:05 2006", s); err == nil {
		return t, true
	}
	if t, err := time.Parse("Monday, 02-Jan-06 15:04:05 GMT", s); err == nil {
		// RFC 9110 5.6.7: "Recipients of a timestamp value in rfc850-date
		// format, which uses a two-digit year, MUST interpret a timestamp
		// that appears to be more than 50 years in the future as
		// representing the most recent year in the past that had the same
		// last two digits."
		now := time.Now().UTC()
		y := now.Year()/100*100 + t.Year()%100
		if y > now.Year()+50 {
			y -= 100
		}
		return time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC), true
	}
	return time.Time{}, false
}
