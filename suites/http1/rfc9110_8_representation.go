package http1

import (
	"mime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/fixture/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_8_3 = spec.Section("http1", "rfc9110", "8.3", "")
var rfc9110_8_3_1 = spec.Section("http1", "rfc9110", "8.3.1", "")
var rfc9110_6_6_1 = spec.Section("http1", "rfc9110", "6.6.1", "")
var rfc9110_8_8_2 = spec.Section("http1", "rfc9110", "8.8.2", "")
var rfc9110_8_8_2_1 = spec.Section("http1", "rfc9110", "8.8.2.1", "")
var rfc9110_15_5_5 = spec.Section("http1", "rfc9110", "15.5.5", "")
var rfc9110_15_3_1 = spec.Section("http1", "rfc9110", "15.3.1", "")

// RFC 9110 sections 6.6.1 (Date) and 8 (representation data and
// metadata).
var _ = Describe("RFC 9110 8 Representation Metadata", func() {
	for _, f := range fixture.Files {
		rfc9110_8_3.It("content-type"+slugOf(f.Path), spec.SHOULD, "sends Content-Type "+f.ContentType+" for "+f.Path, spec.Quote(`A sender that generates a message containing content SHOULD generate a Content-Type header field in that message unless the intended media type of the enclosed representation is unknown to the sender.`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			resp := fetch(t, get(t, f.Path))
			mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if err != nil {
				t.Mismatch("Content-Type "+f.ContentType, "%q: %v", resp.Header.Get("Content-Type"), err)
			}
			t.Check(spec.Equal("the media type", []byte(f.ContentType), []byte(mt)))
		})
	}

	rfc9110_8_3_1.It("content-type-syntax", spec.MUST, "sends a well-formed Content-Type on errors and redirects too", spec.Inferred(`"media-type = type "/" subtype parameters".`, "the grammar of RFC 9110 8.3.1; a malformed media type cannot be read"), func(t *spec.T) {
		for _, p := range []string{"/no-such-file", "/dir", hello.Path} {
			resp := fetch(t, get(t, p))
			if v := resp.Header.Get("Content-Type"); v != "" {
				if _, _, err := mime.ParseMediaType(v); err != nil {
					t.Mismatch("media-type = type \"/\" subtype parameters", "%q: %v", v, err)
				}
			}
		}
	})

	for _, sc := range statusCases {
		if sc.slug == "http10" || sc.slug == "head" || sc.slug == "empty" {
			continue
		}
		rfc9110_6_6_1.It("date-in-"+sc.slug, spec.MUST, "sends Date in "+sc.title, spec.Quote(`An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			t.Check(expectHeader(fetch(t, sc.raw(t)), "Date"))
		})
	}

	rfc9110_6_6_1.It("date-in-206", spec.MUST, "sends Date in a 206", spec.Quote(`An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses`).SharedBecause("the 206 case"), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=0-1"))
		if resp.Code != 206 {
			t.Skipf("not applicable: the target answered %d to a Range", resp.Code)
		}
		t.Check(expectHeader(resp, "Date"))
	})

	rfc9110_6_6_1.It("date-in-416", spec.MUST, "sends Date in a 416", spec.Quote(`An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses`).SharedBecause("the 416 case"), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=9000-"))
		if resp.Code != 416 {
			t.Skipf("not applicable: the target answered %d to an unsatisfiable Range", resp.Code)
		}
		t.Check(expectHeader(resp, "Date"))
	})

	rfc9110_5_6_7.It("date-imf-fixdate", spec.MUST, "sends Date as an IMF-fixdate", spec.Quote(`"a sender MUST generate timestamps in the IMF-fixdate format"; "HTTP-date is case sensitive".`), func(t *spec.T) {
		for _, sc := range statusCases {
			resp := fetch(t, sc.raw(t))
			if v := resp.Header.Get("Date"); v != "" {
				t.Check(checkIMFDate("Date", v))
			}
		}
	})

	rfc9110_5_6_7.It("last-modified-imf-fixdate", spec.MUST, "sends Last-Modified as an IMF-fixdate", spec.Quote(`"a sender MUST generate timestamps in the IMF-fixdate format"; "HTTP-date is case sensitive".`).SharedBecause("the Last-Modified case of the same rule"), func(t *spec.T) {
		for _, f := range fixture.Files {
			if v := fetch(t, get(t, f.Path)).Header.Get("Last-Modified"); v != "" {
				t.Check(checkIMFDate("Last-Modified of "+f.Path, v))
			}
		}
	})

	rfc9110_6_6_1.It("date-is-now", spec.SHOULD, "sends a Date within a minute of the clock (same host)", spec.Inferred(`the field value ... is the best available approximation of the date and time of message generation`, "RFC 9110 6.6.1 asks for the best available approximation without a key word; a minute is a generous bound"), func(t *spec.T) {
		before := time.Now().Add(-time.Minute)
		resp := fetch(t, get(t, hello.Path))
		after := time.Now().Add(time.Minute)
		d, err := parseHTTPDate(resp.Header.Get("Date"))
		if err != nil {
			t.Mismatch("a Date", "%v", err)
		}
		if d.Before(before) || d.After(after) {
			t.Mismatch("a Date near "+time.Now().UTC().Format(imfFixdate), "%s", resp.Header.Get("Date"))
		}
	})

	rfc9110_8_8_2.It("last-modified-sent", spec.SHOULD, "sends Last-Modified for a static file", spec.Quote(`An origin server SHOULD send Last-Modified for any selected representation for which a last modification date can be reasonably and consistently determined`), func(t *spec.T) {
		t.Check(expectHeader(fetch(t, get(t, hello.Path)), "Last-Modified"))
	})

	rfc9110_8_8_2.It("last-modified-value", spec.SHOULD, "sends the file's modification time (2024-01-01) as Last-Modified", spec.Quote(`An origin server SHOULD send Last-Modified for any selected representation for which a last modification date can be reasonably and consistently determined`).SharedBecause("the value case: the file's own modification time"), func(t *spec.T) {
		want := fixture.ModTime.UTC().Format(imfFixdate)
		t.Check(spec.Equal("Last-Modified", []byte(want), []byte(fetch(t, get(t, hello.Path)).Header.Get("Last-Modified"))))
	})

	rfc9110_8_8_2_1.It("last-modified-not-after-date", spec.MUST, "sends no Last-Modified later than Date", spec.Quote(`An origin server with a clock MUST NOT generate a Last-Modified date that is later than the server's time of message origination (Date).`), func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path))
		lm, d := resp.Header.Get("Last-Modified"), resp.Header.Get("Date")
		if lm == "" || d == "" {
			t.Skipf("not applicable: Last-Modified %q, Date %q", lm, d)
		}
		lt, err1 := parseHTTPDate(lm)
		dt, err2 := parseHTTPDate(d)
		if err1 != nil || err2 != nil {
			t.Failf("unparsable dates: %v %v", err1, err2)
		}
		if lt.After(dt) {
			t.Mismatch("Last-Modified <= Date", "Last-Modified %s, Date %s", lm, d)
		}
	})

	rfc9110_8_8_3.It("etag-sent", spec.SHOULD, "sends an ETag for a static file", spec.Quote(`"An origin server SHOULD send an ETag for any selected representation for which detection of changes can be reasonably and consistently determined". "entity-tag = [ weak ] opaque-tag".`), func(t *spec.T) {
		t.Check(expectHeader(fetch(t, get(t, hello.Path)), "ETag"))
	})

	rfc9110_8_8_3.It("etag-syntax", spec.MUST, "sends ETags of the entity-tag grammar", spec.Inferred("entity-tag = [ weak ] opaque-tag", "the grammar of RFC 9110 8.8.3; a malformed tag can never match a condition"), func(t *spec.T) {
		for _, f := range fixture.Files {
			if v := fetch(t, get(t, f.Path)).Header.Get("ETag"); v != "" && !etagRE.MatchString(v) {
				t.Mismatch(`entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`, "%q for %s", v, f.Path)
			}
		}
	})

	rfc9110_8_8_3.It("etag-differs-per-content", spec.SHOULD, "sends different strong ETags for files with different content", spec.Inferred("A strong validator is unique across all versions of all representations associated with a particular resource over time.", "RFC 9110 8.8.1 defines strong validators without a key word; two files of different content under one strong tag would each validate the other").In("8.8.1"), func(t *spec.T) {
		a, _ := validators(t, hello.Path)
		b, _ := validators(t, big.Path)
		if a != "" && a == b && !strings.HasPrefix(a, "W/") {
			t.Mismatch("different ETags", "%s for both", a)
		}
	})

	rfc9110_15_5_5.It("not-found", spec.MUST, "answers a missing file with 404 (or 410)", spec.Inferred(`The 404 (Not Found) status code indicates that the origin server did not find a current representation for the target resource`, "RFC 9110 15.5.5 defines the status without a key word; a missing file answered otherwise misleads every client"), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, "/no-such-file.txt")), 404, 410))
	})

	rfc9110_15_5_5.It("not-found-in-subdir", spec.MUST, "answers a missing file in a subdirectory with 404 (or 410)", spec.Inferred(`The 404 (Not Found) status code indicates that the origin server did not find a current representation for the target resource`, "RFC 9110 15.5.5 defines the status without a key word; a missing file answered otherwise misleads every client").SharedBecause("the case of a missing file in a subdirectory"), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, "/data/no-such.bin")), 404, 410))
	})

	rfc9110_15_3_1.It("ok", spec.MUST, "answers GET of an existing file with 200", spec.Inferred(`The 200 (OK) status code indicates that the request has succeeded.`, "RFC 9110 15.3.1 defines the status without a key word; a successful GET is answered 200"), func(t *spec.T) {
		t.Check(expectStatus(fetch(t, get(t, index.Path)), 200))
	})
})
