package http1

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9110_9_3_1 = spec.Section("http1", "rfc9110", "9.3.1", "GET")
var rfc9110_9_3_2 = spec.Section("http1", "rfc9110", "9.3.2", "HEAD")
var rfc9110_9_3_3 = spec.Section("http1", "rfc9110", "9.3.3", "POST")
var rfc9110_9_3_4 = spec.Section("http1", "rfc9110", "9.3.4", "PUT")
var rfc9110_9_3_5 = spec.Section("http1", "rfc9110", "9.3.5", "DELETE")
var rfc9110_9_3_7 = spec.Section("http1", "rfc9110", "9.3.7", "OPTIONS")
var rfc9110_9_3_8 = spec.Section("http1", "rfc9110", "9.3.8", "TRACE")
var rfc9110_9_1 = spec.Section("http1", "rfc9110", "9.1", "Overview")

// expectAllowList checks that an Allow field is present, a list of method
// tokens, and contains each of want.
func expectAllowList(resp *Response, want ...string) error {
	if !resp.Header.Has("Allow") {
		return spec.Errorf("an Allow header field", "none in %s:\n%s", resp, headText(resp))
	}
	methods := resp.Header.List("Allow")
	for _, m := range methods {
		if !wire.IsToken(m) {
			return spec.Errorf("Allow = #method (tokens)", "member %q in Allow: %s", m, resp.Header.Get("Allow"))
		}
	}
	for _, w := range want {
		found := false
		for _, m := range methods {
			found = found || m == w
		}
		if !found {
			return spec.Errorf("Allow listing "+w, "Allow: %s", strings.Join(resp.Header.Values("Allow"), ", "))
		}
	}
	return nil
}

// RFC 9110 section 9: methods.
var _ = Describe("RFC 9110 9 Methods", func() {
	for _, f := range fixture.Files {
		rfc9110_9_3_1.It("get"+slugOf(f.Path), spec.MUST, "serves "+f.Path+" with its exact content", spec.Inferred("The GET method requests transfer of a current selected representation for the target resource.", "RFC 9110 9.3.1 defines GET without a key word; 9.1: \"All general-purpose servers MUST support the methods GET and HEAD\"").SharedBecause("one spec per file of the fixture"), func(t *spec.T) {
			t.Check(expectFile(fetch(t, get(t, f.Path)), f))
		})
	}

	rfc9110_9_3_1.It("get-directory-index", spec.FIXTURE, "serves /dir/ with the content of /dir/index.html", spec.Fixture("The fixture's docroot serves a directory's index.html as the representation of the directory (/dir/)."), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, "/dir/")), dirIx))
	})

	rfc9110_9_3_1.It("get-root-index", spec.FIXTURE, "serves / with the content of /index.html", spec.Fixture("The fixture's docroot serves /index.html as the representation of the root (/)."), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, "/")), index))
	})

	for _, f := range fixture.Files {
		rfc9110_9_3_2.It("head-same-fields"+slugOf(f.Path), spec.SHOULD, "answers HEAD "+f.Path+" with the fields of GET", spec.Quote(`"The HEAD method is identical to GET except that the server MUST NOT send content in the response." "The server SHOULD send the same header fields in response to a HEAD request as it would have sent if the request method had been GET. However, a server MAY omit header fields for which a value is determined only while generating the content."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			g := fetch(t, get(t, f.Path))
			h := fetch(t, request(t, "HEAD", f.Path))
			t.Check(expectStatus(h, g.Code))
			for _, name := range []string{"Content-Type", "ETag", "Last-Modified", "Accept-Ranges"} {
				if gv, hv := g.Header.Get(name), h.Header.Get(name); gv != hv {
					t.Mismatch(name+" "+strings.TrimSpace(gv)+" as for GET", "%q", hv)
				}
			}
		})
	}

	rfc9110_9_3_3.It("form-urlencoded", spec.FIXTURE, "processes an application/x-www-form-urlencoded POST", spec.Fixture(`The fixture's /form answers a POST of application/x-www-form-urlencoded content with 200 and its fields, one name=value line each, in sorted order.`), func(t *spec.T) {
		t.Require(featForm)
		resp := fetch(t, withBody(t, "POST", fixture.FormPath, "b=2&a=1&c=hello+world%21", "Content-Type: application/x-www-form-urlencoded"))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("a=1\nb=2\nc=hello world!\n")))
	})

	rfc9110_9_3_3.It("form-repeated-names", spec.FIXTURE, "keeps every value of a repeated form field", spec.Fixture(`The fixture's /form keeps every value of a repeated field, each on its own line.`), func(t *spec.T) {
		t.Require(featForm)
		resp := fetch(t, withBody(t, "POST", fixture.FormPath, "x=2&x=1", "Content-Type: application/x-www-form-urlencoded"))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("x=1\nx=2\n")))
	})

	rfc9110_9_3_3.It("form-multipart", spec.FIXTURE, "processes a multipart/form-data POST with a file part", spec.Fixture(`The fixture's /form reads multipart/form-data: a field part as name=value, a file part as name=@filename:size.`), func(t *spec.T) {
		t.Require(featForm)
		body := "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nmy file\r\n" +
			"--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n0123456789\r\n--XyZ--\r\n"
		resp := fetch(t, withBody(t, "POST", fixture.FormPath, body, "Content-Type: multipart/form-data; boundary=XyZ"))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("title=my file\nupload=@a.txt:10\n")))
	})

	rfc9110_9_3_3.It("form-chunked", spec.FIXTURE, "processes a form POSTed with chunked content", spec.Fixture(`The fixture's /form reads chunked request content as it reads any other.`), func(t *spec.T) {
		t.Require(featForm)
		resp := fetch(t, chunkedPost(t, fixture.FormPath, "3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n", "Content-Type: application/x-www-form-urlencoded"))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("a=1\nb=2\n")))
	})

	rfc9110_9_3_4.It("put-creates-201", spec.MUST, "answers a PUT that creates a resource with 201", spec.Quote("If the target resource does not have a current representation and the PUT successfully creates one, then the origin server MUST inform the user agent by sending a 201 (Created) response."), func(t *spec.T) {
		t.Require(featUpload)
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", uploadPath(t, "create"), "new content\n")), 201))
	})

	rfc9110_9_3_4.It("put-replaces-200-204", spec.MUST, "answers a PUT that replaces a resource with 200 or 204", spec.Quote("If the target resource does have a current representation and that representation is successfully modified in accordance with the state of the enclosed representation, then the origin server MUST send either a 200 (OK) or a 204 (No Content) response to indicate successful completion of the request."), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "replace")
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", p, "first\n")), 201))
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", p, "second\n")), 200, 204))
	})

	rfc9110_9_3_4.It("put-then-get", spec.MUST, "serves what a PUT stored", spec.Inferred("The PUT method requests that the state of the target resource be created or replaced with the state defined by the representation enclosed in the request message content.", "RFC 9110 states it without a key word; the suite reads it as what the method means"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "roundtrip")
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", p, "stored by PUT\n")), 201))
		resp := fetch(t, get(t, p))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("stored by PUT\n")))
	})

	rfc9110_9_3_4.It("put-replace-then-get", spec.MUST, "serves the replaced content after a second PUT", spec.Inferred("A successful PUT of a given representation would suggest that a subsequent GET on that same target resource will result in an equivalent representation being sent in a 200 (OK) response.", "RFC 9110 states it without a key word; the suite reads it as what the method means"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "replace-get")
		fetch(t, withBody(t, "PUT", p, "old and longer\n"))
		fetch(t, withBody(t, "PUT", p, "new\n"))
		resp := fetch(t, get(t, p))
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("new\n")))
	})

	rfc9110_9_3_4.It("put-chunked", spec.MUST, "stores chunked PUT content decoded", spec.Inferred("The PUT method requests that the state of the target resource be created or replaced with the state defined by the representation enclosed in the request message content.", "RFC 9110 states it without a key word; the suite reads it as what the method means").SharedBecause("the same PUT with chunked content"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "chunked")
		resp := fetch(t, request(t, "PUT", p, "Transfer-Encoding: chunked")+"6\r\nchunk \r\n5\r\nbody\n\r\n0\r\n\r\n")
		t.Check(expectStatus(resp, 201))
		got := fetch(t, get(t, p))
		t.Check(expectBody(got, []byte("chunk body\n")))
	})

	rfc9110_9_3_4.It("put-binary", spec.MUST, "stores binary PUT content unchanged", spec.Inferred("The PUT method requests that the state of the target resource be created or replaced with the state defined by the representation enclosed in the request message content.", "RFC 9110 states it without a key word; the suite reads it as what the method means").SharedBecause("the same PUT with binary content"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "binary")
		data := fixture.Pattern(4096)
		t.Check(expectStatus(fetch(t, withBody(t, "PUT", p, string(data))), 201))
		got := fetch(t, get(t, p))
		if !bytes.Equal(got.Body, data) {
			t.Check(spec.Equal("the stored content", data, got.Body))
		}
	})

	rfc9110_9_3_4.It("put-content-range-400", spec.SHOULD, "answers a PUT with Content-Range with 400", spec.Quote(`An origin server SHOULD respond with a 400 (Bad Request) status code if it receives Content-Range on a PUT for a target resource that does not support partial PUT requests.`).In("14.5"), func(t *spec.T) {
		t.Require(featUpload)
		resp := fetch(t, withBody(t, "PUT", uploadPath(t, "range"), "abc", "Content-Range: bytes 0-2/10"))
		t.Check(expectStatus(resp, 400))
	})

	rfc9110_9_3_5.It("delete-2xx", spec.SHOULD, "answers a successful DELETE with 200, 202 or 204", spec.Quote(`If a DELETE method is successfully applied, the origin server SHOULD send a 202 (Accepted) status code if the action will likely succeed but has not yet been enacted, a 204 (No Content) status code if the action has been enacted and no further information is to be supplied, or a 200 (OK) status code if the action has been enacted and the response message includes a representation describing the status.`), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "delete")
		fetch(t, withBody(t, "PUT", p, "doomed\n"))
		t.Check(expectStatus(fetch(t, request(t, "DELETE", p)), 200, 202, 204))
	})

	rfc9110_9_3_5.It("delete-then-404", spec.MUST, "no longer serves a deleted resource", spec.Inferred("The DELETE method requests that the origin server remove the association between the target resource and its current functionality.", "RFC 9110 states it without a key word; the suite reads it as what the method means"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "gone")
		fetch(t, withBody(t, "PUT", p, "doomed\n"))
		t.Check(expectClass(fetch(t, request(t, "DELETE", p)), 2))
		t.Check(expectStatus(fetch(t, get(t, p)), 404, 410))
	})

	rfc9110_9_3_5.It("delete-missing", spec.MUST, "answers DELETE of a missing resource with 404 (or 410)", spec.Inferred("The 404 (Not Found) status code indicates that the origin server did not find a current representation for the target resource or is not willing to disclose that one exists.", "RFC 9110 15.5.5 defines the status without a key word").In("15.5.5"), func(t *spec.T) {
		t.Require(featUpload)
		t.Check(expectStatus(fetch(t, request(t, "DELETE", uploadPath(t, "never"))), 404, 410))
	})

	rfc9110_9_3_7.It("options-allow", spec.SHOULD, "sends Allow listing GET and HEAD in a 2xx to OPTIONS on a file", spec.Quote(`"A server generating a successful response to OPTIONS SHOULD send any header that might indicate optional features implemented by the server and applicable to the target resource (e.g., Allow)". RFC 9110 9.1: "All general-purpose servers MUST support the methods GET and HEAD. All other methods are OPTIONAL." A server without OPTIONS answers 405 or 501.`), func(t *spec.T) {
		resp := fetch(t, request(t, "OPTIONS", hello.Path))
		if resp.Code/100 != 2 {
			t.Check(expectStatus(resp, 405, 501))
			return
		}
		t.Check(expectAllowList(resp, "GET", "HEAD"))
	})

	rfc9110_9_3_7.It("options-supported", spec.MAY, "answers OPTIONS on a file with 2xx", spec.Quote("All general-purpose servers MUST support the methods GET and HEAD. All other methods are OPTIONAL.").In("9.1"), func(t *spec.T) {
		t.Check(expectClass(fetch(t, request(t, "OPTIONS", hello.Path)), 2))
	})

	rfc9110_9_3_7.It("options-upload-allow", spec.SHOULD, "lists PUT and DELETE in Allow for a file of the upload area", spec.Quote("A server generating a successful response to OPTIONS SHOULD send any header that might indicate optional features implemented by the server and applicable to the target resource (e.g., Allow), including potential extensions not defined by this specification.").SharedBecause("the same rule on a file of the upload area"), func(t *spec.T) {
		t.Require(featUpload)
		p := uploadPath(t, "options")
		fetch(t, withBody(t, "PUT", p, "x\n"))
		resp := fetch(t, request(t, "OPTIONS", p))
		if resp.Code/100 != 2 {
			t.Check(expectStatus(resp, 405, 501))
			return
		}
		t.Check(expectAllowList(resp, "PUT", "DELETE"))
	})

	rfc9110_9_3_7.It("options-content-length-0", spec.SHOULD, "sends Content-Length: 0 in a 200 to OPTIONS without content", spec.Quote(`Aside from the cases defined above, in the absence of Transfer-Encoding, an origin server SHOULD send a Content-Length header field when the content size is known prior to sending the complete header section.`).In("8.6").SharedBecause("the OPTIONS case: a 200 without content has a known size, zero (RFC 7231 4.3.7's MUST is not in RFC 9110)"), func(t *spec.T) {
		resp := fetch(t, request(t, "OPTIONS", hello.Path))
		if resp.Code != 200 || len(resp.Body) > 0 {
			t.Note("OPTIONS answered %d with %d octets: the requirement does not apply", resp.Code, len(resp.Body))
			return
		}
		t.Check(spec.Equal("Content-Length", []byte("0"), []byte(resp.Header.Get("Content-Length"))))
	})

	rfc9110_9_3_8.It("trace", spec.SHOULD, "reflects a TRACE as message/http, or refuses it with 405 or 501", spec.Quote(`"The final recipient of the request SHOULD reflect the message received, excluding some fields described below, back to the client as the content of a 200 (OK) response." "The "message/http" format (Section 10.1 of [HTTP/1.1]) is one way to do so." A server may refuse TRACE (RFC 9110 9.1: all methods but GET and HEAD are OPTIONAL): 405 or 501.`), func(t *spec.T) {
		resp := fetch(t, request(t, "TRACE", hello.Path, "X-Trace-Me: 42"))
		if t.Target().Feature(featTrace) != nil {
			t.Check(expectStatus(resp, 405, 501))
			return
		}
		t.Check(expectStatus(resp, 200))
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "message/http") {
			t.Mismatch("Content-Type: message/http", "%q", ct)
		}
		if !bytes.HasPrefix(resp.Body, []byte("TRACE "+hello.Path+" HTTP/1.1\r\n")) || !bytes.Contains(resp.Body, []byte("X-Trace-Me: 42")) {
			t.Mismatch("the request reflected", "%s", spec.Excerpt(resp.Body, 200))
		}
	})

	rfc9110_9_3_8.It("trace-excludes-credentials", spec.SHOULD, "leaves Authorization and Cookie out of a TRACE reflection", spec.Quote(`The final recipient ... SHOULD exclude any request fields that are likely to contain sensitive data when that recipient generates the response content.`), func(t *spec.T) {
		t.Require(featTrace)
		resp := fetch(t, request(t, "TRACE", hello.Path, "Authorization: Basic c2VjcmV0OnNlY3JldA==", "Cookie: sid=secret-value"))
		t.Check(expectStatus(resp, 200))
		if bytes.Contains(resp.Body, []byte("c2VjcmV0OnNlY3JldA==")) || bytes.Contains(resp.Body, []byte("secret-value")) {
			t.Mismatch("no credentials in the reflection", "%s", spec.Excerpt(resp.Body, 300))
		}
	})

	for _, m := range []string{"FOOBAR", "BREW", "PROPFINDX"} {
		rfc9110_9_1.It("unknown-method-"+strings.ToLower(m), spec.SHOULD, "answers the unknown method "+m+" with 501", spec.Quote(`An origin server that receives a request method that is unrecognized or not implemented SHOULD respond with the 501 (Not Implemented) status code.`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			t.Check(expectStatus(fetch(t, request(t, m, hello.Path)), 501))
		})
	}

	rfc9110_9_1.It("unknown-method-not-served", spec.MUST, "does not serve a file in answer to an unknown method", spec.Inferred("The request method token is the primary source of request semantics; it indicates the purpose for which the client has made this request and what is expected by the client as a successful result.", "RFC 9110 9.1 states it without a key word; a file served in answer to an unknown method performs GET instead of the method asked for").In("9.1"), func(t *spec.T) {
		resp := fetch(t, request(t, "FOOBAR", hello.Path))
		if resp.Code/100 == 2 && bytes.Equal(resp.Body, hello.Content) {
			t.Mismatch("an error status (501, 405, 400)", "%s with the file's content: FOOBAR treated as GET", resp)
		}
	})

})

// expectLocation checks that Location resolves to path on the target:
// "/p", "http://<any host>/p" or, over TLS, "https://<any host>/p"
// (RFC 9110 10.2.2: a URI-reference).
func expectLocation(t *spec.T, resp *Response, path string) error {
	loc := resp.Header.Get("Location")
	if loc == path {
		return nil
	}
	for _, scheme := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(loc, scheme); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 && rest[i:] == path {
				return nil
			}
		}
	}
	return spec.Errorf("Location "+path+" (or an absolute URI with that path)", "%q", loc)
}
