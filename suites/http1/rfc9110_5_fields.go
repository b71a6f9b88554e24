package http1

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_5_1 = spec.Section("http1", "rfc9110", "5.1", "Field Names")
var rfc9110_5_3 = spec.Section("http1", "rfc9110", "5.3", "Field Order")
var rfc9110_5_4 = spec.Section("http1", "rfc9110", "5.4", "Field Limits")
var rfc9110_5_5 = spec.Section("http1", "rfc9110", "5.5", "Field Values")
var rfc9110_5_6_7 = spec.Section("http1", "rfc9110", "5.6.7", "Date/Time Formats")

// RFC 9110 5 Fields.
var _ = Describe("RFC 9110 5 Fields", func() {
	rfc9110_5_6_7.It("ims-rfc850-304", spec.MUST, "reads If-Modified-Since in the rfc850-date format", spec.Quote("A recipient that parses a timestamp value in an HTTP field MUST accept all three HTTP-date formats.").In("5.6.7"), func(t *spec.T) {
		_, tm := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-Modified-Since: "+tm.UTC().Format(rfc850Date))), 304))
	})

	rfc9110_5_6_7.It("ims-asctime-304", spec.MUST, "reads If-Modified-Since in the asctime-date format", spec.Quote("A recipient that parses a timestamp value in an HTTP field MUST accept all three HTTP-date formats.").In("5.6.7").SharedBecause("one spec per obsolete HTTP-date format"), func(t *spec.T) {
		_, tm := needLastModified(t, hello.Path)
		t.Check(expectStatus(fetch(t, get(t, hello.Path, "If-Modified-Since: "+tm.UTC().Format(time.ANSIC))), 304))
	})

	rfc9110_5_6_7.It("date-imf-fixdate", spec.MUST, "sends Date as an IMF-fixdate", spec.Quote(`"When a sender generates a field that contains one or more timestamps defined as HTTP-date, the sender MUST generate those timestamps in the IMF-fixdate format."; "HTTP-date is case sensitive."`), func(t *spec.T) {
		for _, sc := range statusCases {
			resp := fetch(t, sc.raw(t))
			if v := resp.Header.Get("Date"); v != "" {
				t.Check(checkIMFDate("Date", v))
			}
		}
	})

	rfc9110_5_6_7.It("last-modified-imf-fixdate", spec.MUST, "sends Last-Modified as an IMF-fixdate", spec.Quote(`"When a sender generates a field that contains one or more timestamps defined as HTTP-date, the sender MUST generate those timestamps in the IMF-fixdate format."; "HTTP-date is case sensitive."`).SharedBecause("the Last-Modified case of the same rule"), func(t *spec.T) {
		for _, f := range fixture.Files {
			if v := fetch(t, get(t, f.Path)).Header.Get("Last-Modified"); v != "" {
				t.Check(checkIMFDate("Last-Modified of "+f.Path, v))
			}
		}
	})

	rfc9110_5_5.It("nul-in-field-value", spec.MUST, "rejects a NUL in a field value or reads it as SP", spec.Quote(`RFC 9110 5.5: "Field values containing CR, LF, or NUL characters are invalid and dangerous ... a recipient of CR, LF, or NUL within a field value MUST either reject the message or replace each of those characters with SP before further processing or forwarding of that message."`), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, hello.Path, "X-Test: a\x00b"))
		t.Check(expectServedOrRejected(resp, err, hello, 400))
	})

	rfc9110_5_5.It("nul-in-host", spec.MUST, "rejects a NUL in the Host value or reads it as SP (then an invalid Host: 400)", spec.Quote(`RFC 9110 5.5: "Field values containing CR, LF, or NUL characters are invalid and dangerous ... a recipient of CR, LF, or NUL within a field value MUST either reject the message or replace each of those characters with SP before further processing or forwarding of that message."`).SharedBecause("the Host case of the same sentence"), func(t *spec.T) {
		resp := fetch(t, "GET "+hello.Path+" HTTP/1.1\r\nHost: a\x00b\r\n\r\n")
		t.Check(expectStatus(resp, 400))
	})

	rfc9110_5_5.It("ows-sp-around-value", spec.MUST, "excludes leading and trailing SP from field values", spec.Quote(`RFC 9110 5.5: "A field value does not include leading or trailing whitespace. ... a field parsing implementation MUST exclude such whitespace prior to evaluating the field value."`), func(t *spec.T) {
		raw := "GET " + hello.Path + " HTTP/1.1\r\nHost:   " + host(t) + "   \r\nConnection:   close   \r\n\r\n"
		c, resp := roundTrip(t, raw)
		t.Check(expectFile(resp, hello))
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
	})

	rfc9110_5_5.It("ows-htab-around-value", spec.MUST, "excludes leading and trailing HTAB from field values", spec.Quote("RFC 9110 5.5: \"A field value does not include leading or trailing whitespace. ... a field parsing implementation MUST exclude such whitespace prior to evaluating the field value.\"").SharedBecause("the HTAB case of the same sentence"), func(t *spec.T) {
		raw := "GET " + hello.Path + " HTTP/1.1\r\nHost:\t" + host(t) + "\t\r\nConnection:\tclose\t\r\n\r\n"
		c, resp := roundTrip(t, raw)
		t.Check(expectFile(resp, hello))
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
	})

	rfc9110_5_5.It("no-ows-after-colon", spec.MUST, "reads a field whose value follows the colon directly", spec.Inferred("OWS = *( SP / HTAB )", "the grammar of RFC 9110 5.6.3: optional whitespace may be empty").In("5.6.3"), func(t *spec.T) {
		raw := "GET " + hello.Path + " HTTP/1.1\r\nHost:" + host(t) + "\r\n\r\n"
		t.Check(expectFile(fetch(t, raw), hello))
	})

	rfc9110_5_1.It("field-names-case-insensitive", spec.MUST, "reads field names in any case", spec.Inferred("Field names are case-insensitive and ought to be registered within the \"Hypertext Transfer Protocol (HTTP) Field Name Registry\"", "RFC 9110 5.1 states it without a key word; a server that reads only one case misses fields"), func(t *spec.T) {
		raw := "GET " + hello.Path + " HTTP/1.1\r\nhOsT: " + host(t) + "\r\ncOnNeCtIoN: close\r\n\r\n"
		c, resp := roundTrip(t, raw)
		t.Check(expectFile(resp, hello))
		t.Check(c.ExpectClosed(c.Scaled(closeWait)))
	})

	rfc9110_5_4.It("huge-field-line", spec.MUST, "answers a 64 KiB field line with a 4xx, or serves the request", spec.Quote(`RFC 9110 5.4: "A server that receives a request header field line, field value, or set of fields larger than it wishes to process MUST respond with an appropriate 4xx (Client Error) status code."`), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, hello.Path, "X-Big: "+strings.Repeat("a", 64<<10)))
		t.Check(expectTooLarge(resp, err))
	})

	rfc9110_5_4.It("huge-header-section", spec.MUST, "answers a 256 KiB header section of small fields with a 4xx, or serves the request", spec.Quote(`RFC 9110 5.4: "A server that receives a request header field line, field value, or set of fields larger than it wishes to process MUST respond with an appropriate 4xx (Client Error) status code."`).SharedBecause("one case per kind of large header section: many small fields"), func(t *spec.T) {
		fields := make([]string, 8000)
		for i := range fields {
			fields[i] = fmt.Sprintf("X-F%d: %s", i, strings.Repeat("v", 20))
		}
		_, resp, err := exchange(t, get(t, hello.Path, fields...))
		t.Check(expectTooLarge(resp, err))
	})

	rfc9110_5_4.It("huge-cookie", spec.MUST, "answers a 64 KiB Cookie field with a 4xx, or serves the request", spec.Quote(`RFC 9110 5.4: "A server that receives a request header field line, field value, or set of fields larger than it wishes to process MUST respond with an appropriate 4xx (Client Error) status code."`).SharedBecause("one case per kind of large header section: a large Cookie"), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, hello.Path, "Cookie: a="+strings.Repeat("c", 64<<10)))
		t.Check(expectTooLarge(resp, err))
	})

	rfc9110_5_4.It("4k-field", spec.SHOULD, "serves a request with a 4 KiB field value", spec.Inferred("HTTP does not place a predefined limit on the length of each field line, field value, or on the length of a header or trailer section as a whole, as described in Section 2.", "RFC 9110 5.4 states no key word; a 4 KiB field is well within what every server processes"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path, "X-Medium: "+strings.Repeat("m", 4<<10))), hello))
	})

	rfc9110_5_4.It("50-fields", spec.SHOULD, "serves a request with 50 field lines", spec.Inferred("HTTP does not place a predefined limit on the length of each field line, field value, or on the length of a header or trailer section as a whole, as described in Section 2.", "RFC 9110 5.4 states no key word; 50 short field lines are well within what every server processes").SharedBecause("50 lines instead of one long field"), func(t *spec.T) {
		fields := make([]string, 50)
		for i := range fields {
			fields[i] = fmt.Sprintf("X-Field-%d: value %d", i, i)
		}
		t.Check(expectFile(fetch(t, get(t, hello.Path, fields...)), hello))
	})

	rfc9110_5_3.It("repeated-list-field", spec.MUST, "accepts a list field split over several lines", spec.Inferred("A recipient MAY combine multiple field lines within a field section that have the same field name into one field line, without changing the semantics of the message, by appending each subsequent field line value to the initial field line value in order, separated by a comma (\",\") and optional whitespace (OWS, defined in Section 5.6.3).", "RFC 9110 5.3: several lines of a list field mean what one combined line means; a recipient that takes only one line loses members"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path, "Accept: text/plain", "Accept: text/html", "Accept-Encoding: identity", "Accept-Encoding: *;q=0.1")), hello))
	})

	rfc9110_5_3.It("singleton-fields-once", spec.MUST, "sends Content-Length, Content-Type, Date, ETag, Last-Modified at most once", spec.Quote(`RFC 9110 5.3: "a sender MUST NOT generate multiple field lines with the same name in a message (whether in the headers or trailers) or append a field line when a field line of the same name already exists in the message, unless that field's definition allows multiple field line values to be recombined as a comma-separated list".`), func(t *spec.T) {
		for _, raw := range []string{get(t, hello.Path), get(t, "/dir"), get(t, "/no-such-file")} {
			resp := fetch(t, raw)
			for _, name := range []string{"Content-Length", "Content-Type", "Date", "ETag", "Last-Modified", "Location", "Server", "Content-Range"} {
				if v := resp.Header.Values(name); len(v) > 1 {
					t.Mismatch("at most one "+name+" field line", "%d lines: %s", len(v), strings.Join(v, " | "))
				}
			}
		}
	})

	rfc9110_5_5.It("echoed-target-safe", spec.MUST, "sends well-formed fields when the request-target has odd characters", spec.Quote(`RFC 9110 2.2: "A sender MUST NOT generate protocol elements that do not match the grammar defined by the corresponding ABNF rules." 5.5: "field-value = *field-content"; "Field values containing CR, LF, or NUL characters are invalid and dangerous".`), func(t *spec.T) {
		resp := fetch(t, get(t, "/no-such-%0d%0aX-Injected:%20yes"))
		t.Check(checkFieldLines(resp.Header))
		t.Check(expectNoHeader(resp, "X-Injected"))
	})

	rfc9110_5_5.It("redirect-target-safe", spec.MUST, "does not inject a field through a redirected path", spec.Quote("RFC 9110 2.2: \"A sender MUST NOT generate protocol elements that do not match the grammar defined by the corresponding ABNF rules.\" 5.5: \"field-value = *field-content\"; \"Field values containing CR, LF, or NUL characters are invalid and dangerous\".").SharedBecause("the case of a redirect's Location built from the target"), func(t *spec.T) {
		resp := fetch(t, get(t, "/dir%0d%0aX-Injected:%20yes"))
		t.Check(checkFieldLines(resp.Header))
		t.Check(expectNoHeader(resp, "X-Injected"))
	})
})
