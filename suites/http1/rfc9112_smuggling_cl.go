package http1

import (
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

// clValid is RFC 9112 6.3 rule 6, the framing rule of Content-Length.
const clValid = "If a valid Content-Length header field is present without Transfer-Encoding, its decimal value defines the expected message body length in octets."

// clInvalid is RFC 9112 6.3 rule 5.
const clInvalid = `If a message is received without Transfer-Encoding and with an invalid Content-Length header field, then the message framing is invalid and the recipient MUST treat it as an unrecoverable error ... If the unrecoverable error is in a request message, the server MUST respond with a 400 (Bad Request) status code and then close the connection.`

// RFC 9112 6.2 and 6.3: Content-Length values that are valid but look
// odd (leading zeros, "00", digits a C parser reads as octal), and
// invalid ones laid out so that a lenient reading answers a hidden
// request.
var _ = Describe("RFC 9112 6.3 Content-Length variants", func() {
	// Content-Length = 1*DIGIT (RFC 9110 8.6), in decimal: leading zeros
	// are digits like any other.
	lengths := []struct{ slug, title, value, content string }{
		{"leading-zeros", "a Content-Length with leading zeros (\"0005\")", "0005", "hello"},
		{"double-zero", "\"Content-Length: 00\"", "00", ""},
		{"octal-looking", "\"Content-Length: 010\" (ten, not octal eight)", "010", "0123456789"},
		{"octal-looking-long", "\"Content-Length: 0000000000000000000011\" (eleven)", "0000000000000000000011", "hello world"},
	}
	for _, l := range lengths {
		rfc9112_6_3.It("cl-decimal-framing-"+l.slug, spec.MUST, "reads "+l.title+" as its decimal value", spec.Inferred(clValid, "rule 6 of RFC 9112 6.3, stated without a key word: Content-Length = 1*DIGIT is decimal, leading zeros included").SharedBecause("one spec per spelling of a valid length"), func(t *spec.T) {
			expectFramed(t, request(t, "POST", bodyTarget(t), "Content-Length: "+l.value)+l.content)
		})
		rfc9112_6_3.It("cl-decimal-echo-"+l.slug, spec.MUST, "hands the application the content of "+l.title, spec.Inferred(clValid, "rule 6 of RFC 9112 6.3, stated without a key word: /echo shows how many octets the server took as content").SharedBecause("one spec per spelling of a valid length"), func(t *spec.T) {
			echoed(t, request(t, "POST", fixture.EchoPath, "Content-Length: "+l.value)+l.content, []byte(l.content))
		})
	}

	// Invalid or conflicting lengths with a request hidden where a
	// lenient reading (the first value, the last, the digits after a
	// sign) ends the content. RFC 9112 6.3 asks for 400 and a close; the
	// invalid-content-length specs check that, these only the desync.
	hidden := func(t *spec.T, fields func(n int) []string) string {
		s := smuggled(t)
		return request(t, "POST", bodyTarget(t), fields(len(s))...) + s
	}
	desyncs := []struct {
		slug, title string
		fields      func(n int) []string
	}{
		{"plus-sign", "a Content-Length with a + sign", func(n int) []string { return []string{"Content-Length: +" + strconv.Itoa(n)} }},
		{"non-numeric", "a non-numeric Content-Length", func(n int) []string { return []string{"Content-Length: " + strconv.Itoa(n) + "abc"} }},
		{"letters-only", "a Content-Length of letters", func(n int) []string { return []string{"Content-Length: abc"} }},
		{"zero-then-length", "Content-Length 0 and then the length", func(n int) []string {
			return []string{"Content-Length: 0", "Content-Length: " + strconv.Itoa(n)}
		}},
		{"length-then-zero", "the length and then Content-Length 0", func(n int) []string {
			return []string{"Content-Length: " + strconv.Itoa(n), "Content-Length: 0"}
		}},
		{"list-zero-length", "a list of 0 and the length", func(n int) []string { return []string{"Content-Length: 0, " + strconv.Itoa(n)} }},
		{"list-length-zero", "a list of the length and 0", func(n int) []string { return []string{"Content-Length: " + strconv.Itoa(n) + ", 0"} }},
		{"negative", "a negative Content-Length", func(n int) []string { return []string{"Content-Length: -" + strconv.Itoa(n)} }},
		{"hex", "a hexadecimal Content-Length", func(n int) []string { return []string{"Content-Length: 0x" + strconv.FormatInt(int64(n), 16)} }},
		{"trailing-junk", "a Content-Length followed by junk", func(n int) []string { return []string{"Content-Length: " + strconv.Itoa(n) + " x"} }},
	}
	for _, d := range desyncs {
		rfc9112_6_3.It("cl-desync-"+d.slug, spec.MUST, "does not answer a request hidden behind "+d.title, spec.Quote(clInvalid).SharedBecause("one desync probe per invalid Content-Length"), func(t *spec.T) {
			expectNotSmuggled(t, hidden(t, d.fields))
		})
	}

	rfc9112_6_3.It("cl-desync-plus-sign-te", spec.MUST, "does not answer a request hidden by Transfer-Encoding before a Content-Length with a + sign", spec.Quote(teAndCL).In("6.1").SharedBecause("the TE.CL probe with a signed Content-Length"), func(t *spec.T) {
		expectNotSmuggled(t, desyncRequest(t, "POST", tecl, "Content-Length: +", "Transfer-Encoding: chunked"))
	})

	rfc9112_6_3.It("cl-desync-non-numeric-te", spec.MUST, "does not answer a request hidden by Content-Length with a + sign before Transfer-Encoding", spec.Quote(teAndCL).In("6.1").SharedBecause("the CL.TE probe with a signed Content-Length"), func(t *spec.T) {
		expectNotSmuggled(t, desyncRequest(t, "POST", clte, "Content-Length: +", "Transfer-Encoding: chunked"))
	})

	// Content that holds a complete request, on methods whose content has
	// no defined semantics: the server reads it or closes.
	for _, m := range []string{"GET", "HEAD", "DELETE", "OPTIONS"} {
		rfc9112_6_3.It("cl-desync-"+strings.ToLower(m)+"-content", spec.MUST, "does not answer a request hidden in the Content-Length content of a "+m, spec.Quote(readOrClose).In("9.3").SharedBecause("one probe per method whose content has no defined semantics"), func(t *spec.T) {
			s := smuggled(t)
			expectNotSmuggled(t, request(t, m, hello.Path, "Content-Length: "+strconv.Itoa(len(s)))+s)
		})
	}

	rfc9112_6_3.It("cl-desync-head-chunked", spec.MUST, "does not answer a request hidden in the chunked content of a HEAD", spec.Quote(readOrClose).In("9.3").SharedBecause("the HEAD probe with chunked content"), func(t *spec.T) {
		s := smuggled(t)
		expectNotSmuggled(t, request(t, "HEAD", hello.Path, "Transfer-Encoding: chunked")+strconv.FormatInt(int64(len(s)), 16)+"\r\n"+s+"\r\n0\r\n\r\n")
	})

	// Content_Length is a valid field name (RFC 9110 5.1) but not
	// Content-Length: without framing the request has no content, and
	// what follows is the next request. A server that maps "_" to "-"
	// takes that request for content.
	rfc9112_6_3.It("underscore-cl-not-framing", spec.MUST, "does not take Content_Length for Content-Length", spec.Inferred("If this is a request message and none of the above are true, then the message body length is zero (no message body is present).", "rule 7 of RFC 9112 6.3, stated without a key word: Content_Length is another field").SharedBecause("the no-framing rule applied to a look-alike of Content-Length"), func(t *spec.T) {
		g := get(t, hello.Path)
		c := t.Dial(service)
		c.Send(request(t, "POST", bodyTarget(t), "Content_Length: "+strconv.Itoa(len(g))) + g)
		first, err := ReadResponse(c, "POST")
		if err != nil && noResponse(err) {
			return
		}
		t.Check(err)
		if first.Code == 400 || first.Closes() {
			return
		}
		second, err := ReadResponse(c, "GET")
		if err != nil {
			t.Failf("%v", spec.Errorf("an answer to the GET /hello.txt after the head (Content_Length frames nothing)", "after %s: %v: the target took the request for content", first, err))
		}
		t.Check(expectFile(second, hello))
	})
})
