package http1

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9112_3 = spec.Section("http1", "rfc9112", "3", "Request Line")
var rfc9112_3_2_1 = spec.Section("http1", "rfc9112", "3.2.1", "origin-form")
var rfc9112_3_2_2 = spec.Section("http1", "rfc9112", "3.2.2", "absolute-form")
var rfc9112_3_2 = spec.Section("http1", "rfc9112", "3.2", "Request Target")
var rfc9112_3_2_3 = spec.Section("http1", "rfc9112", "3.2.3", "authority-form")
var rfc9112_3_2_4 = spec.Section("http1", "rfc9112", "3.2.4", "asterisk-form")

// RFC 9112 section 3: the request-line, its method and request-target
// forms, and the Host field.
var _ = Describe("RFC 9112 3 Request Line", func() {
	rfc9112_3.It("simple-get", spec.MUST, "answers a well-formed GET request-line", spec.Inferred("request-line = method SP request-target SP HTTP-version", "the grammar of RFC 9112 3; a server answers a request-line that follows it"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path)), hello))
	})

	for _, ws := range []struct{ slug, title, sep string }{
		{"double-sp", "two SP", "  "},
		{"htab", "an HTAB", "\t"},
		{"vt", "a VT", "\x0b"},
		{"ff", "an FF", "\x0c"},
	} {
		rfc9112_3.It("separator-"+ws.slug, spec.SHOULD, "parses on whitespace or rejects a request-line separated by "+ws.title, spec.Quote(`Although the request-line grammar rule requires that each of the component elements be separated by a single SP octet, recipients MAY instead parse on whitespace-delimited word boundaries ... Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			raw := "GET" + ws.sep + hello.Path + ws.sep + "HTTP/1.1\r\nHost: " + host(t) + "\r\n\r\n"
			_, resp, err := exchange(t, raw)
			t.Check(expectServedOrRejected(resp, err, hello, 400, 301))
		})
	}

	rfc9112_3.It("trailing-whitespace", spec.SHOULD, "parses or rejects a request-line with SP before the CRLF", spec.Quote("Although the request-line grammar rule requires that each of the component elements be separated by a single SP octet, recipients MAY instead parse on whitespace-delimited word boundaries ... Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.").SharedBecause("whitespace before the CRLF: a case of the same robustness rule"), func(t *spec.T) {
		_, resp, err := exchange(t, "GET "+hello.Path+" HTTP/1.1 \r\nHost: "+host(t)+"\r\n\r\n")
		t.Check(expectServedOrRejected(resp, err, hello, 400, 301))
	})

	rfc9112_3.It("leading-whitespace", spec.SHOULD, "parses or rejects a request-line with SP before the method", spec.Quote("Although the request-line grammar rule requires that each of the component elements be separated by a single SP octet, recipients MAY instead parse on whitespace-delimited word boundaries ... Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.").SharedBecause("whitespace before the method: a case of the same robustness rule"), func(t *spec.T) {
		_, resp, err := exchange(t, " GET "+hello.Path+" HTTP/1.1\r\nHost: "+host(t)+"\r\n\r\n")
		t.Check(expectServedOrRejected(resp, err, hello, 400, 301))
	})

	for _, bad := range []struct{ slug, title, target string }{
		{"space", "an SP inside the request-target", "/hello world.txt"},
		{"control", "a control character in the request-target", "/hello\x01.txt"},
		{"non-ascii", "a raw non-ASCII octet in the request-target", "/h\xc3\xa9llo.txt"},
		{"fragment", "a fragment (#) in the request-target", "/hello.txt#top"},
		{"backslash-pct", "an invalid percent-encoding", "/hello%zz.txt"},
		{"quote", "a DQUOTE in the request-target", "/hello\".txt"},
		{"angle", "< and > in the request-target", "/<script>.txt"},
	} {
		rfc9112_3.It("invalid-target-"+bad.slug, spec.SHOULD, "answers "+bad.title+" with 400 or a 301 to the encoded target", spec.Quote(`Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.`).In("3.2").SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			_, resp, err := exchange(t, "GET "+bad.target+" HTTP/1.1\r\nHost: "+host(t)+"\r\n\r\n")
			t.Check(expectRejected(resp, err, 400, 301))
		})
	}

	rfc9112_3.It("method-case-sensitive", spec.MUST, "does not serve a \"get\" request as GET", spec.Inferred("The request method is case-sensitive.", "RFC 9112 3.1 states it without a key word; serving \"get\" as GET performs another method than the one asked for").In("3.1"), func(t *spec.T) {
		resp := fetch(t, request(t, "get", hello.Path))
		if resp.Code/100 == 2 {
			t.Mismatch("\"get\" treated as an unknown method (400, 405 or 501)", "status %d: served as GET", resp.Code)
		}
		t.Check(expectStatus(resp, 400, 405, 501))
	})

	rfc9112_3.It("method-not-token", spec.SHOULD, "answers a method that is not a token with 400", spec.Quote("Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.").In("3.2").SharedBecause("a method that is not a token makes the request-line invalid"), func(t *spec.T) {
		_, resp, err := exchange(t, request(t, "GE(T", hello.Path))
		t.Check(expectRejected(resp, err, 400, 501))
	})

	rfc9112_3.It("long-method", spec.SHOULD, "answers a 1000-octet method with 501", spec.Quote(`A server that receives a method longer than any that it implements SHOULD respond with a 501 (Not Implemented) status code.`), func(t *spec.T) {
		_, resp, err := exchange(t, request(t, strings.Repeat("X", 1000), hello.Path))
		t.Check(expectRejected(resp, err, 501))
	})

	rfc9112_3.It("long-target-414", spec.MUST, "answers a 64 KiB request-target with 414", spec.Quote(`A server that receives a request-target longer than any URI it wishes to parse MUST respond with a 414 (URI Too Long) status code`), func(t *spec.T) {
		target := "/" + strings.Repeat("a", 64<<10)
		_, resp, err := exchange(t, get(t, target))
		if err != nil {
			t.Mismatch("a 414 response", "%v", err)
		}
		// A server that did parse the whole target may answer 404 for it.
		t.Check(expectStatus(resp, 414, 404))
	})

	rfc9112_3.It("long-query-414", spec.MUST, "answers a request-target with a 64 KiB query with 414", spec.Quote("A server that receives a request-target longer than any URI it wishes to parse MUST respond with a 414 (URI Too Long) status code").SharedBecause("a long query makes a long request-target"), func(t *spec.T) {
		target := hello.Path + "?q=" + strings.Repeat("b", 64<<10)
		_, resp, err := exchange(t, get(t, target))
		if err != nil {
			t.Mismatch("a 414 response", "%v", err)
		}
		// Having parsed it, a server may ignore the query and serve the file.
		t.Check(expectStatus(resp, 414, 200))
	})

	rfc9112_3.It("8000-octet-request-line", spec.SHOULD, "serves a request-line of 8000 octets", spec.Quote(`It is RECOMMENDED that all HTTP senders and recipients support, at a minimum, request-line lengths of 8000 octets.`), func(t *spec.T) {
		prefix := "GET " + hello.Path + "?q="
		target := hello.Path + "?q=" + strings.Repeat("c", 8000-len(prefix)-len(" HTTP/1.1"))
		resp := fetch(t, get(t, target))
		t.Check(expectFile(resp, hello))
	})

	rfc9112_3_2_1.It("origin-form-query", spec.MUST, "serves an origin-form target with a query", spec.Inferred("origin-form = absolute-path [ \"?\" query ]", "the grammar of RFC 9112 3.2.1"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path+"?a=1&b=2")), hello))
	})

	rfc9112_3_2_1.It("origin-form-percent-encoded", spec.MUST, "decodes percent-encoded unreserved characters in the path", spec.Inferred("Characters other than those in the \"reserved\" set are equivalent to their percent-encoded octets: the normal form is to not encode them", "RFC 9110 4.2.3, quoted here, states the equivalence without a key word"), func(t *spec.T) {
		// "%68ello.txt" is "hello.txt" (RFC 3986 2.3: equivalent URIs).
		t.Check(expectFile(fetch(t, get(t, "/%68ello.txt")), hello))
	})

	rfc9112_3_2_2.It("absolute-form", spec.MUST, "serves an absolute-form request-target", spec.Quote("A server MUST accept the absolute-form in requests even though most HTTP/1.1 clients will only send the absolute-form to a proxy."), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, "http://"+host(t)+hello.Path)), hello))
	})

	rfc9112_3_2_2.It("absolute-form-query", spec.MUST, "serves an absolute-form request-target with a query", spec.Quote("A server MUST accept the absolute-form in requests even though most HTTP/1.1 clients will only send the absolute-form to a proxy.").SharedBecause("an absolute-form target with a query"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, "http://"+host(t)+hello.Path+"?x=y")), hello))
	})

	rfc9112_3_2_2.It("absolute-form-overrides-host", spec.MUST, "serves an absolute-form request even when Host names another authority", spec.Quote(`When an origin server receives a request with an absolute-form of request-target, the origin server MUST ignore the received Host header field (if any) and instead use the host information of the request-target.`), func(t *spec.T) {
		raw := "GET http://" + host(t) + hello.Path + " HTTP/1.1\r\nHost: other.invalid\r\n\r\n"
		t.Check(expectFile(fetch(t, raw), hello))
	})

	rfc9112_3_2_2.It("absolute-form-case-insensitive-scheme", spec.MUST, "accepts the scheme of an absolute-form target in upper case", spec.Inferred("The scheme and host are case-insensitive and normally provided in lowercase; all other components are compared in a case-sensitive manner.", "RFC 9110 4.2.3, quoted here, states it without a key word"), func(t *spec.T) {
		// RFC 3986 3.1: "schemes are case-insensitive".
		t.Check(expectFile(fetch(t, get(t, "HTTP://"+host(t)+hello.Path)), hello))
	})

	rfc9112_3_2_2.It("absolute-form-empty-host", spec.MUST, "rejects an absolute-form target with an empty host", spec.Quote(`RFC 9110 4.2.1: "A sender MUST NOT generate an "http" URI with an empty host identifier. A recipient that processes such a URI reference MUST reject it as invalid."`), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, "http://"+hello.Path))
		t.Check(expectRejected(resp, err, 400))
	})

	rfc9112_3_2.It("missing-host", spec.MUST, "answers an HTTP/1.1 request without Host with 400", spec.Quote(`A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value.`), func(t *spec.T) {
		_, resp, err := exchange(t, "GET "+hello.Path+" HTTP/1.1\r\n\r\n")
		t.Check(expectRejected(resp, err, 400))
		if err == nil {
			t.Check(expectStatus(resp, 400))
		}
	})

	rfc9112_3_2.It("missing-host-absolute-form", spec.MUST, "answers an HTTP/1.1 absolute-form request without Host with 400", spec.Quote("A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value.").SharedBecause("the absolute-form case: Host is still required"), func(t *spec.T) {
		resp := fetch(t, "GET http://"+host(t)+hello.Path+" HTTP/1.1\r\n\r\n")
		t.Check(expectStatus(resp, 400))
	})

	rfc9112_3_2.It("duplicate-host", spec.MUST, "answers a request with two Host field lines with 400", spec.Quote("A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value.").SharedBecause("the case of two Host lines"), func(t *spec.T) {
		resp := fetch(t, "GET "+hello.Path+" HTTP/1.1\r\nHost: "+host(t)+"\r\nHost: other.invalid\r\n\r\n")
		t.Check(expectStatus(resp, 400))
	})

	rfc9112_3_2.It("duplicate-host-same-value", spec.MUST, "answers two identical Host field lines with 400", spec.Quote("A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value.").SharedBecause("the case of two identical Host lines"), func(t *spec.T) {
		resp := fetch(t, "GET "+hello.Path+" HTTP/1.1\r\nHost: "+host(t)+"\r\nHost: "+host(t)+"\r\n\r\n")
		t.Check(expectStatus(resp, 400))
	})

	rfc9112_3_2.It("duplicate-host-http10", spec.MUST, "answers an HTTP/1.0 request with two Host field lines with 400", spec.Quote("A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value.").SharedBecause("the case of two Host lines in HTTP/1.0, which the sentence covers (\"any request message\")"), func(t *spec.T) {
		resp := fetch(t, request10("GET", hello.Path, "Host: a.invalid", "Host: b.invalid"))
		t.Check(expectStatus(resp, 400))
	})

	for _, bad := range []struct{ slug, title, value string }{
		{"space", "an SP inside", "exa mple.com"},
		{"list", "a comma-separated list", "a.example, b.example"},
		{"userinfo", "userinfo", "user@example.com"},
		{"path", "a path", "example.com/path"},
		{"bad-port", "a non-numeric port", "example.com:http"},
	} {
		rfc9112_3_2.It("invalid-host-"+bad.slug, spec.MUST, "answers a Host value with "+bad.title+" with 400", spec.Quote("A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value.").SharedBecause("one spec per invalid Host value"), func(t *spec.T) {
			resp := fetch(t, "GET "+hello.Path+" HTTP/1.1\r\nHost: "+bad.value+"\r\n\r\n")
			t.Check(expectStatus(resp, 400))
		})
	}

	rfc9112_3_2.It("http10-without-host", spec.MUST, "serves an HTTP/1.0 request without Host", spec.Inferred("A client MUST send a Host header field (Section 7.2 of [HTTP]) in all HTTP/1.1 request messages.", "RFC 9112 3.2 asks Host of HTTP/1.1 requests only: an HTTP/1.0 request without one is served"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, request10("GET", hello.Path)), hello))
	})

	rfc9112_3_2.It("host-with-port", spec.MUST, "serves a request whose Host carries the port", spec.Inferred("Host = uri-host [ \":\" port ]", "the grammar of RFC 9110 7.2; a name with the listener's port is the same authority"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, get(t, hello.Path)), hello))
	})

	rfc9112_3_2.It("host-name-only", spec.MUST, "serves a request whose Host is a name without port", spec.Inferred("Host = uri-host [ \":\" port ]", "the grammar of RFC 9110 7.2; the port is optional").SharedBecause("with and without the port"), func(t *spec.T) {
		t.Check(expectFile(fetch(t, "GET "+hello.Path+" HTTP/1.1\r\nHost: localhost\r\n\r\n"), hello))
	})

	rfc9112_3_2_3.It("connect-2xx-no-framing", spec.MUST, "sends no Content-Length or Transfer-Encoding in a 2xx answer to CONNECT", spec.Quote(`"The "authority-form" of request-target is only used for CONNECT requests". RFC 9110 9.3.6: "A server MUST NOT send any Transfer-Encoding or Content-Length header fields in a 2xx (Successful) response to CONNECT."`), func(t *spec.T) {
		_, resp, err := exchange(t, request(t, "CONNECT", host(t)))
		if err != nil {
			if noResponse(err) {
				return
			}
			t.Check(err)
		}
		if resp.Code/100 == 2 {
			t.Check(expectNoHeader(resp, "Content-Length"))
			t.Check(expectNoHeader(resp, "Transfer-Encoding"))
		}
	})

	rfc9112_3_2_3.It("connect-origin-refuses", spec.SHOULD, "refuses CONNECT as an origin server without a tunnel (4xx/5xx)", spec.Inferred("The CONNECT method requests that the recipient establish a tunnel to the destination origin server identified by the request target and, if successful, thereafter restrict its behavior to blind forwarding of data, in both directions, until the tunnel is closed.", "RFC 9110 9.3.6 states no key word for a server that tunnels nothing; it answers with an error rather than pretend to tunnel"), func(t *spec.T) {
		_, resp, err := exchange(t, request(t, "CONNECT", "127.0.0.1:1"))
		t.Check(expectRejected(resp, err, 400, 403, 405, 501, 502))
	})

	rfc9112_3_2_3.It("authority-form-with-get", spec.SHOULD, "rejects the authority-form with a method other than CONNECT", spec.Inferred("The \"authority-form\" of request-target is only used for CONNECT requests (Section 9.3.6 of [HTTP]).", "RFC 9112 3.2.3 states it without a key word; another method with it makes an invalid request-line"), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, host(t)))
		t.Check(expectRejected(resp, err, 400, 301, 404))
	})

	rfc9112_3_2_4.It("options-asterisk", spec.MAY, "answers OPTIONS * with 2xx", spec.Inferred("The \"asterisk-form\" of request-target is only used for a server-wide OPTIONS request (Section 9.3.7 of [HTTP]).", "OPTIONS is OPTIONAL (RFC 9110 9.1): a server that takes it answers the asterisk-form"), func(t *spec.T) {
		resp := fetch(t, request(t, "OPTIONS", "*"))
		t.Check(expectClass(resp, 2))
	})

	rfc9112_3_2_4.It("asterisk-with-get", spec.SHOULD, "does not serve GET * as a resource", spec.Inferred("The \"asterisk-form\" of request-target is only used for a server-wide OPTIONS request (Section 9.3.7 of [HTTP]).", "RFC 9112 3.2.4 states it without a key word; GET * names no resource").SharedBecause("the asterisk-form with a method other than OPTIONS"), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, "*"))
		t.Check(expectRejected(resp, err, 400, 404, 405, 501))
	})
})
