package http1

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9112_2_1 = spec.Section("http1", "rfc9112", "2.1", "Message Format")
var rfc9112_2_2 = spec.Section("http1", "rfc9112", "2.2", "Message Parsing")
var rfc9112_2_3 = spec.Section("http1", "rfc9112", "2.3", "HTTP Version")

// RFC 9112 section 2: message format, parsing and the HTTP version.
var _ = Describe("RFC 9112 2 Message", func() {
	rfc9112_2_1.It("head-lines-end-in-crlf", spec.MUST, "ends every line of a response head with CRLF", spec.Inferred("HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]", "the message grammar of RFC 9112 2.1 ends every line of the head in CRLF; 2.2 lets only a recipient accept a bare LF"), func(t *spec.T) {
		for _, raw := range []string{get(t, hello.Path), get(t, "/no-such-file"), request(t, "HEAD", index.Path)} {
			resp := fetch(t, raw)
			t.Check(checkCRLF(resp))
		}
	})

	rfc9112_2_2.It("no-bare-cr-sent", spec.MUST, "sends no bare CR in a response head", spec.Quote(`A sender MUST NOT generate a bare CR (a CR character not immediately followed by LF) within any protocol elements other than the content.`), func(t *spec.T) {
		for _, raw := range []string{get(t, big.Path), get(t, "/dir"), request(t, "OPTIONS", hello.Path)} {
			resp := fetch(t, raw)
			t.Check(checkCRLF(resp))
		}
	})

	rfc9112_2_2.It("bare-cr-in-field-value", spec.MUST, "rejects a bare CR in a field value or reads it as SP", spec.Quote(`A recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with SP before processing the element or forwarding the message.`), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, hello.Path, "X-Test: a\rb"))
		t.Check(expectServedOrRejected(resp, err, hello, 400))
	})

	rfc9112_2_2.It("bare-cr-in-request-line", spec.MUST, "rejects a bare CR in the request-line or reads it as SP", spec.Quote("A recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with SP before processing the element or forwarding the message.").SharedBecause("one case per protocol element: the request-line"), func(t *spec.T) {
		raw := "GET " + hello.Path + "\rHTTP/1.1\r\nHost: " + host(t) + "\r\n\r\n"
		_, resp, err := exchange(t, raw)
		t.Check(expectServedOrRejected(resp, err, hello, 400))
	})

	rfc9112_2_2.It("bare-cr-in-field-name", spec.MUST, "rejects a bare CR inside a field name", spec.Quote("A recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with SP before processing the element or forwarding the message.").SharedBecause("one case per protocol element: a field name"), func(t *spec.T) {
		_, resp, err := exchange(t, get(t, hello.Path, "X-\rTest: a"))
		t.Check(expectRejected(resp, err, 400))
	})

	rfc9112_2_2.It("bare-lf-request-line", spec.MAY, "reads a request-line ended by a bare LF, or rejects it", spec.Quote(`Although the line terminator for the start-line and fields is the sequence CRLF, a recipient MAY recognize a single LF as a line terminator and ignore any preceding CR.`), func(t *spec.T) {
		_, resp, err := exchange(t, "GET "+hello.Path+" HTTP/1.1\nHost: "+host(t)+"\r\n\r\n")
		t.Check(expectServedOrRejected(resp, err, hello, 400))
	})

	rfc9112_2_2.It("bare-lf-field-line", spec.MAY, "reads a field line ended by a bare LF, or rejects it", spec.Quote("Although the line terminator for the start-line and fields is the sequence CRLF, a recipient MAY recognize a single LF as a line terminator and ignore any preceding CR.").SharedBecause("one case per line: a field line"), func(t *spec.T) {
		_, resp, err := exchange(t, "GET "+hello.Path+" HTTP/1.1\r\nHost: "+host(t)+"\nX-Test: 1\r\n\r\n")
		t.Check(expectServedOrRejected(resp, err, hello, 400))
	})

	rfc9112_2_2.It("bare-lf-everywhere", spec.MAY, "reads a request whose lines all end in a bare LF, or rejects it", spec.Quote("Although the line terminator for the start-line and fields is the sequence CRLF, a recipient MAY recognize a single LF as a line terminator and ignore any preceding CR.").SharedBecause("one case per line: every line of the head"), func(t *spec.T) {
		_, resp, err := exchange(t, "GET "+hello.Path+" HTTP/1.1\nHost: "+host(t)+"\nX-Test: 1\n\n")
		t.Check(expectServedOrRejected(resp, err, hello, 400))
	})

	rfc9112_2_2.It("bare-lf-accepted", spec.MAY, "recognizes a single LF as a line terminator", spec.Quote("Although the line terminator for the start-line and fields is the sequence CRLF, a recipient MAY recognize a single LF as a line terminator and ignore any preceding CR.").SharedBecause("the option itself, as a launcher's baseline names it"), func(t *spec.T) {
		_, resp := roundTrip(t, "GET "+hello.Path+" HTTP/1.1\nHost: "+host(t)+"\n\n")
		t.Check(expectFile(resp, hello))
	})

	rfc9112_2_2.It("leading-empty-line", spec.SHOULD, "ignores an empty line before the request-line", spec.Quote(`In the interest of robustness, a server that is expecting to receive and parse a request-line SHOULD ignore at least one empty line (CRLF) received prior to the request-line.`).SharedBecause("the empty-request spec checks the same sentence"), func(t *spec.T) {
		_, resp := roundTrip(t, "\r\n"+get(t, hello.Path))
		t.Check(expectFile(resp, hello))
	})

	rfc9112_2_2.It("empty-line-between-requests", spec.SHOULD, "ignores an extra CRLF after a request on a persistent connection", spec.Quote("In the interest of robustness, a server that is expecting to receive and parse a request-line SHOULD ignore at least one empty line (CRLF) received prior to the request-line.").SharedBecause("an empty line after a request is one before the next request-line"), func(t *spec.T) {
		c := t.Dial(service)
		c.Send(get(t, hello.Path) + "\r\n" + get(t, index.Path))
		t.Check(expectFile(read(t, c, "GET"), hello))
		t.Check(expectFile(read(t, c, "GET"), index))
	})

	rfc9112_2_2.It("whitespace-before-first-field", spec.MUST, "rejects or skips a whitespace-preceded line right after the request-line", spec.Quote(`A sender MUST NOT send whitespace between the start-line and the first header field. A recipient that receives whitespace between the start-line and the first header field MUST either reject the message as invalid or consume each whitespace-preceded line without further processing of it`), func(t *spec.T) {
		raw := "GET " + hello.Path + " HTTP/1.1\r\n X-Ignored: 1\r\nHost: " + host(t) + "\r\n\r\n"
		_, resp, err := exchange(t, raw)
		t.Check(expectServedOrRejected(resp, err, hello, 400))
	})

	rfc9112_2_2.It("whitespace-host-before-first-field", spec.MUST, "does not take a whitespace-preceded first line as the Host field", spec.Quote(`A sender MUST NOT send whitespace between the start-line and the first header field. A recipient that receives whitespace between the start-line and the first header field MUST either reject the message as invalid or consume each whitespace-preceded line without further processing of it`).SharedBecause("the case of a whitespace-preceded line that looks like Host"), func(t *spec.T) {
		// Consumed without processing, the request has no Host: 400 either way.
		raw := "GET " + hello.Path + " HTTP/1.1\r\n Host: " + host(t) + "\r\n\r\n"
		_, resp, err := exchange(t, raw)
		t.Check(expectRejected(resp, err, 400))
	})

	for _, bad := range []struct{ slug, title, raw string }{
		{"garbage", "a line that is no request-line", "HELLO\r\n\r\n"},
		{"binary", "binary junk", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n"},
		{"missing-target", "a request-line without target", "GET HTTP/1.1\r\n\r\n"},
		{"missing-version", "a request-line of method and target only, with fields", "GET /hello.txt\r\nHost: x\r\n\r\n"},
		{"no-header-end", "a field line without a colon", "GET /hello.txt HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"},
		{"nul-in-request-line", "a NUL in the request-line", "GET /hello.txt\x00 HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"del-in-method", "a DEL in the method", "GE\x7fT /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		rfc9112_2_2.It("reject-"+bad.slug, spec.SHOULD, "answers "+bad.title+" with 400 and closes", spec.Quote(`When a server listening only for HTTP request messages, or processing what appears from the start-line to be an HTTP request message, receives a sequence of octets that does not match the HTTP-message grammar aside from the robustness exceptions listed above, the server SHOULD respond with a 400 (Bad Request) response and close the connection.`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			c, resp, err := exchange(t, bad.raw)
			t.Check(expectRejectedThenClosed(c, resp, err, 400))
		})
	}

	rfc9112_2_3.It("lowercase-http-name", spec.SHOULD, "rejects the HTTP-name in lower case", spec.Quote("Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.").In("3.2").SharedBecause("an HTTP-name in lower case (HTTP-name = %s\"HTTP\", RFC 9112 2.3) makes the request-line invalid"), func(t *spec.T) {
		_, resp, err := exchange(t, "GET "+hello.Path+" http/1.1\r\nHost: "+host(t)+"\r\n\r\n")
		t.Check(expectRejected(resp, err, 400, 505))
	})

	for _, v := range []struct{ slug, version string }{
		{"two-digit-minor", "HTTP/1.10"},
		{"leading-zero", "HTTP/01.1"},
		{"no-minor", "HTTP/1"},
		{"trailing-junk", "HTTP/1.1x"},
	} {
		rfc9112_2_3.It("malformed-version-"+v.slug, spec.SHOULD, fmt.Sprintf("rejects the malformed HTTP-version %q", v.version), spec.Quote("Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.").In("3.2").SharedBecause("one spec per malformed HTTP-version"), func(t *spec.T) {
			_, resp, err := exchange(t, "GET "+hello.Path+" "+v.version+"\r\nHost: "+host(t)+"\r\n\r\n")
			t.Check(expectRejected(resp, err, 400, 505))
		})
	}

	rfc9112_2_3.It("response-version", spec.MUST, "answers an HTTP/1.1 request with an HTTP/1.x version", spec.Inferred("HTTP-version = HTTP-name \"/\" DIGIT \".\" DIGIT", "the grammar of RFC 9112 2.3 for the status-line's version; an HTTP/1.1 server answers with HTTP/1.x (RFC 9110 2.5)"), func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path))
		if resp.Major != 1 {
			t.Mismatch("HTTP-version HTTP/1.x", "%s", resp.Proto)
		}
	})
})

// RFC 9110 2.5: protocol versioning.
var _ = Describe("RFC 9110 2.5 Protocol Version", func() {

})
