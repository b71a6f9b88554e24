package http1

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_15_2 = spec.Section("http1", "rfc9110", "15.2", "Informational 1xx")
var rfc9110_15_3_1 = spec.Section("http1", "rfc9110", "15.3.1", "200 OK")
var rfc9110_15_3_7_2 = spec.Section("http1", "rfc9110", "15.3.7.2", "Multiple Parts")
var rfc9110_15_4_2 = spec.Section("http1", "rfc9110", "15.4.2", "301 Moved Permanently")
var rfc9110_15_4_5 = spec.Section("http1", "rfc9110", "15.4.5", "304 Not Modified")
var rfc9110_15_5_12 = spec.Section("http1", "rfc9110", "15.5.12", "411 Length Required")
var rfc9110_15_5_5 = spec.Section("http1", "rfc9110", "15.5.5", "404 Not Found")
var rfc9110_15_5_6 = spec.Section("http1", "rfc9110", "15.5.6", "405 Method Not Allowed")

// RFC 9110 15 Status Codes.
var _ = Describe("RFC 9110 15 Status Codes", func() {
	rfc9110_15_2.It("no-1xx-to-http10", spec.MUST, "sends no 1xx to an HTTP/1.0 request with content", spec.Quote(`Since HTTP/1.0 did not define any 1xx status codes, a server MUST NOT send a 1xx response to an HTTP/1.0 client.`), func(t *spec.T) {
		m, p := expectTarget(t)
		resp := fetch(t, request10(m, p, "Content-Length: 5")+"hello")
		if len(resp.Interim) > 0 {
			t.Mismatch("no 1xx for HTTP/1.0", "%s", resp.Interim[0])
		}
	})

	rfc9110_15_4_5.It("304-has-etag", spec.MUST, "sends the ETag in a 304", spec.Quote("The server generating a 304 response MUST generate any of the following header fields that would have been sent in a 200 (OK) response to the same request: Content-Location, Date, ETag, and Vary ... Cache-Control and Expires"), func(t *spec.T) {
		etag := needETag(t, hello.Path)
		resp := fetch(t, get(t, hello.Path, "If-None-Match: "+etag))
		t.Check(expectStatus(resp, 304))
		t.Check(spec.Equal("the ETag of the 304", []byte(etag), []byte(resp.Header.Get("ETag"))))
	})

	rfc9110_15_4_5.It("304-has-date", spec.MUST, "sends Date in a 304", spec.Quote("An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses").In("6.6.1").SharedBecause("a 304 is one of the 3xx responses the date-in-* specs check"), func(t *spec.T) {
		lm, _ := needLastModified(t, hello.Path)
		resp := fetch(t, get(t, hello.Path, "If-Modified-Since: "+lm))
		t.Check(expectStatus(resp, 304))
		t.Check(expectHeader(resp, "Date"))
	})

	rfc9110_15_3_7_2.It("parts-in-order", spec.SHOULD, "sends multipart parts in the order of the Range field", spec.Quote(`A server that generates a multipart response SHOULD send the parts in the same order that the corresponding range-spec appeared in the received Range header field`), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=800-809,100-109"))
		if resp.Code != 206 {
			t.Skipf("not applicable: the target answered %d", resp.Code)
		}
		parts, err := rangeParts(resp, oneK.Content)
		t.Check(err)
		if len(parts) == 2 && parts[0].first != 800 {
			t.Mismatch("800-809 first, then 100-109", "%s", partsText(parts))
		}
	})

	rfc9110_15_3_7_2.It("part-content-type", spec.SHOULD, "sends the file's Content-Type in each multipart part", spec.Quote(`If the selected representation would have had a Content-Type header field in a 200 (OK) response, the server SHOULD generate that same Content-Type header field in the header area of each body part.`), func(t *spec.T) {
		resp := fetch(t, get(t, oneK.Path, "Range: bytes=0-9,500-509"))
		mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.Code != 206 || mt != "multipart/byteranges" {
			t.Skipf("not applicable: no multipart 206 (%d %s)", resp.Code, mt)
		}
		mr := multipart.NewReader(bytes.NewReader(resp.Body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			t.Check(err)
			if ct := p.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Mismatch("Content-Type: application/octet-stream in each part", "%q", ct)
			}
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

	rfc9110_15_5_6.It("form-get-405", spec.MUST, "answers GET /form with 405 and an Allow listing POST", spec.Quote("The origin server MUST generate an Allow header field in a 405 response containing a list of the target resource's currently supported methods.").In("15.5.6"), func(t *spec.T) {
		t.Require(featForm)
		resp := fetch(t, get(t, fixture.FormPath))
		t.Check(expectStatus(resp, 405))
		t.Check(expectAllowList(resp, "POST"))
	})

	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		rfc9110_15_5_6.It("allow-in-405-"+strings.ToLower(m), spec.MUST, "sends Allow in a 405 answer to "+m+" on a static file", spec.Quote("The origin server MUST generate an Allow header field in a 405 response containing a list of the target resource's currently supported methods.").In("15.5.6").SharedBecause("one spec per method answered 405, as form-get-405"), func(t *spec.T) {
			resp := fetch(t, withBody(t, m, hello.Path, "x"))
			if resp.Code != 405 {
				t.Note("%s %s answered %d, not 405: the requirement does not apply", m, hello.Path, resp.Code)
				return
			}
			t.Check(expectAllowList(resp, "GET"))
		})
	}

	rfc9110_15_5_12.It("put-without-length", spec.MUST, "answers a PUT without framing with 411 or stores empty content", spec.Inferred("The 411 (Length Required) status code indicates that the server refuses to accept the request without a defined Content-Length.", "RFC 9112 6.3 makes a request without Content-Length or Transfer-Encoding one of zero length; 411 is the refusal RFC 9110 15.5.12 defines").In("15.5.12"), func(t *spec.T) {
		t.Require(featUpload)
		resp := fetch(t, request(t, "PUT", uploadPath(t, "nolength")))
		t.Check(expectStatus(resp, 411, 201, 200, 204))
	})

	rfc9110_15_4_2.It("redirect-endpoint", spec.FIXTURE, "answers GET /redirect with 301 and Location /hello.txt", spec.Fixture(`The fixture's /redirect answers GET with 301 and Location: /hello.txt.`), func(t *spec.T) {
		t.Require(featRedirect)
		resp := fetch(t, get(t, fixture.RedirectPath))
		t.Check(expectStatus(resp, 301))
		t.Check(expectLocation(t, resp, fixture.RedirectLocation))
	})

	rfc9110_15_4_2.It("directory-redirect", spec.SHOULD, "answers /dir with 301 and Location /dir/", spec.Quote("The server SHOULD generate a Location header field in the response containing a preferred URI reference for the new permanent URI.").In("15.4.2"), func(t *spec.T) {
		resp := fetch(t, get(t, "/dir"))
		t.Check(expectStatus(resp, 301))
		t.Check(expectLocation(t, resp, "/dir/"))
	})

	rfc9110_15_4_2.It("redirect-has-location", spec.SHOULD, "sends Location in every 301", spec.Quote("The server SHOULD generate a Location header field in the response containing a preferred URI reference for the new permanent URI.").In("15.4.2").SharedBecause("every 301 the suite sees is a case of the rule directory-redirect checks"), func(t *spec.T) {
		for _, p := range []string{"/dir", "/data"} {
			resp := fetch(t, get(t, p))
			if resp.Code == 301 {
				t.Check(expectHeader(resp, "Location"))
			}
		}
	})
})
