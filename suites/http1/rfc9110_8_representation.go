package http1

import (
	"bytes"
	"mime"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_8_6 = spec.Section("http1", "rfc9110", "8.6", "Content-Length")
var rfc9110_8_3 = spec.Section("http1", "rfc9110", "8.3", "Content-Type")
var rfc9110_8_3_1 = spec.Section("http1", "rfc9110", "8.3.1", "Media Type")
var rfc9110_8_8_2 = spec.Section("http1", "rfc9110", "8.8.2", "Last-Modified")
var rfc9110_8_8_2_1 = spec.Section("http1", "rfc9110", "8.8.2.1", "Generation")

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

	rfc9110_8_8_2.It("last-modified-sent", spec.SHOULD, "sends Last-Modified for a static file", spec.Quote(`An origin server SHOULD send Last-Modified for any selected representation for which a last modification date can be reasonably and consistently determined`).In("8.8.2.1"), func(t *spec.T) {
		t.Check(expectHeader(fetch(t, get(t, hello.Path)), "Last-Modified"))
	})

	rfc9110_8_8_2.It("last-modified-value", spec.SHOULD, "sends the file's modification time (2024-01-01) as Last-Modified", spec.Quote(`An origin server SHOULD send Last-Modified for any selected representation for which a last modification date can be reasonably and consistently determined`).SharedBecause("the value case: the file's own modification time").In("8.8.2.1"), func(t *spec.T) {
		want := fixture.ModTime.UTC().Format(imfFixdate)
		t.Check(spec.Equal("Last-Modified", []byte(want), []byte(fetch(t, get(t, hello.Path)).Header.Get("Last-Modified"))))
	})

	rfc9110_8_8_2_1.It("last-modified-not-after-date", spec.MUST, "sends no Last-Modified later than Date", spec.Quote(`An origin server with a clock (as defined in Section 5.6.7) MUST NOT generate a Last-Modified date that is later than the server's time of message origination (Date, Section 6.6.1).`), func(t *spec.T) {
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

	rfc9110_8_6.It("304-content-length", spec.MUST, "sends no Content-Length in a 304 or the length of the 200", spec.Quote(`RFC 9110 8.6: "a server MUST NOT send Content-Length in such a response unless its field value equals the decimal number of octets that would have been sent in the content of a 200 (OK) response to the same request."`), func(t *spec.T) {
		etag := needETag(t, big.Path)
		resp := fetch(t, get(t, big.Path, "If-None-Match: "+etag))
		t.Check(expectStatus(resp, 304))
		if v := resp.Header.Get("Content-Length"); v != "" {
			t.Check(spec.Equal("Content-Length of the 304", []byte("65536"), []byte(v)))
		}
	})

	rfc9110_8_8_3.It("etag-stable", spec.MUST, "sends the same ETag for an unchanged file", spec.Inferred("An entity tag is an opaque validator for differentiating between multiple representations of the same resource", "RFC 9110 8.8.3 states it without a key word; an unchanged representation that changed its tag could never match a conditional request").In("8.8.3"), func(t *spec.T) {
		a := needETag(t, hello.Path)
		b, _ := validators(t, hello.Path)
		t.Check(spec.Equal("the second ETag", []byte(a), []byte(b)))
	})

	rfc9110_8_8_3.It("etag-changes-on-put", spec.MUST, "sends a new ETag after a PUT changed the content", spec.Inferred("A strong validator is representation metadata that changes value whenever a change occurs to the representation data that would be observable in the content of a 200 (OK) response to GET.", "RFC 9110 8.8.1 defines it without a key word; an ETag without W/ claims to be a strong validator").In("8.8.1"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "etag")
		fetch(t, withBody(t, "PUT", p, "version one\n"))
		a, _ := validators(t, p)
		if a == "" {
			t.Skipf("not applicable: no ETag for uploaded files")
		}
		fetch(t, withBody(t, "PUT", p, "version two, longer\n"))
		b, _ := validators(t, p)
		if a == b {
			t.Mismatch("a different ETag for different content", "%s both times", a)
		}
	})

	for _, d := range []struct {
		slug, title string
		fields      []string
	}{
		{"list", "\"Content-Length: 5, 5\"", []string{"Content-Length: 5, 5"}},
		{"lines", "two \"Content-Length: 5\" lines", []string{"Content-Length: 5", "Content-Length: 5"}},
	} {
		rfc9110_8_6.It("repeated-content-length-"+d.slug, spec.MUST, "rejects or reads as 5 octets "+d.title, spec.Inferred("a recipient of a Content-Length header field value consisting of the same decimal value repeated as a comma-separated list (e.g, \"Content-Length: 42, 42\") MAY either reject the message as invalid or replace that invalid field value with a single instance of the decimal value, since this likely indicates that a duplicate was generated or combined by an upstream message processor.", "RFC 9110 8.6 leaves the choice to the recipient; either is accepted, and reading anything but 5 octets never is").SharedBecause("one spec per way of repeating the value"), func(t *spec.T) {
			raw := request(t, "POST", bodyTarget(t), d.fields...) + "hello"
			c := t.Dial(service)
			c.Send(raw + get(t, hello.Path))
			resp, err := ReadResponse(c, "POST")
			if err == nil && resp.Code == 400 || noResponse(err) {
				return
			}
			t.Check(err)
			if !resp.Closes() {
				t.Check(expectFile(read(t, c, "GET"), hello))
			}
		})
	}

	rfc9110_8_6.It("huge-content-length", spec.MUST, "refuses or waits for 10^15 octets of content, never misreads the length", spec.Quote(`RFC 9110 8.6: "a recipient MUST anticipate potentially large decimal numerals and prevent parsing errors due to integer conversion overflows or precision loss due to integer conversion (Section 17.5)."`), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(request(t, "POST", bodyTarget(t), "Content-Length: 1000000000000000") + "hello" + smuggled(t))
		got, closed, err := c.ReadFor(c.Scaled(quiet), 64<<10)
		t.Check(err)
		if len(got) == 0 {
			return // still reading the announced content, or closed: both fine
		}
		resp, rerr := ReadResponse(&bytesWire{b: got}, "POST")
		if rerr != nil {
			t.Mismatch("a 4xx answer or none", "%v", rerr)
		}
		// RFC 9110 15.5.14: 413 Content Too Large; 400 for a length the
		// server will not parse.
		t.Check(expectStatus(resp, 413, 400))
		if bytes.Count(got, []byte("HTTP/1.")) > 1 {
			t.Mismatch("no answer to the request inside the content", "two responses:\n%s", spec.Excerpt(got, 400))
		}
		_ = closed
	})

	for _, f := range fixture.Files {
		rfc9110_8_6.It("content-length"+slugOf(f.Path), spec.SHOULD, "sends Content-Length "+strconv.Itoa(len(f.Content))+" for "+f.Path, spec.Quote(`RFC 9110 8.6: "Aside from the cases defined above, in the absence of Transfer-Encoding, an origin server SHOULD send a Content-Length header field when the content size is known prior to sending the complete header section."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			resp := fetch(t, get(t, f.Path))
			t.Check(expectFile(resp, f))
			t.Check(spec.Equal("Content-Length", []byte(strconv.Itoa(len(f.Content))), []byte(resp.Header.Get("Content-Length"))))
		})
	}

	for _, f := range fixture.Files {
		rfc9110_8_6.It("head-content-length"+slugOf(f.Path), spec.MUST, "sends in answer to HEAD "+f.Path+" no Content-Length or the GET one", spec.Quote(`RFC 9110 8.6: "A server MAY send a Content-Length header field in a response to a HEAD request (Section 9.3.2); a server MUST NOT send Content-Length in such a response unless its field value equals the decimal number of octets that would have been sent in the content of a response if the same request had used the GET method."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			resp := fetch(t, request(t, "HEAD", f.Path))
			t.Check(expectStatus(resp, 200))
			if v := resp.Header.Get("Content-Length"); v != "" {
				t.Check(spec.Equal("Content-Length of the HEAD response", []byte(strconv.Itoa(len(f.Content))), []byte(v)))
			}
		})
	}

	rfc9110_8_6.It("no-content-length-in-204", spec.MUST, "sends no Content-Length or Transfer-Encoding in a 204", spec.Quote(`RFC 9110 8.6: "A server MUST NOT send a Content-Length header field in any response with a status code of 1xx (Informational) or 204 (No Content)."; RFC 9112 6.1: "A server MUST NOT send a Transfer-Encoding header field in any response with a status code of 1xx (Informational) or 204 (No Content)."`), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "no-cl-204")
		fetch(t, withBody(t, "PUT", p, "one"))
		seen := 0
		for _, raw := range []string{withBody(t, "PUT", p, "two"), request(t, "DELETE", p)} {
			resp := fetch(t, raw)
			if resp.Code != 204 {
				t.Note("%s answered %d, not 204", methodOf(raw), resp.Code)
				continue
			}
			seen++
			t.Check(expectNoHeader(resp, "Content-Length"))
			t.Check(expectNoHeader(resp, "Transfer-Encoding"))
		}
		if seen == 0 {
			// Nothing was judged: say so rather than pass.
			t.Skipf("not applicable: neither the PUT that replaces %s nor its DELETE was answered 204", p)
		}
	})
})
