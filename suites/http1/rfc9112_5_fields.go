package http1

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9112_5 = spec.Section("http1", "rfc9112", "5", "Field Syntax")
var rfc9112_5_1 = spec.Section("http1", "rfc9112", "5.1", "Field Line Parsing")
var rfc9112_5_2 = spec.Section("http1", "rfc9112", "5.2", "Obsolete Line Folding")

// RFC 9112 section 5 and RFC 9110 section 5: field syntax.
var _ = Describe("RFC 9112 5 Field Syntax", func() {
	for _, sc := range statusCases {
		rfc9112_5.It("field-lines-"+sc.slug, spec.MUST, "sends well-formed field lines in "+sc.title, spec.Inferred("field-line = field-name \":\" OWS field-value OWS", "the field-line grammar of RFC 9112 5; other lines are what no client parses").SharedBecause("one spec per response the suite looks at"), func(t *spec.T) {
			t.Check(checkFieldLines(fetch(t, sc.raw(t)).Header))
		})
	}

	for _, ws := range []struct{ slug, title, line string }{
		{"sp", "an SP", "X-Test : 1"},
		{"htab", "an HTAB", "X-Test\t: 1"},
		{"sp-content-length", "an SP after Content-Length", "Content-Length : 0"},
		{"sp-transfer-encoding", "an SP after Transfer-Encoding", "Transfer-Encoding : chunked"},
		{"sp-host", "an SP after a second Host", "Host : other.invalid"},
	} {
		rfc9112_5_1.It("whitespace-before-colon-"+ws.slug, spec.MUST, "answers "+ws.title+" between field name and colon with 400", spec.Quote(`No whitespace is allowed between the field name and colon. ... A server MUST reject, with a response status code of 400 (Bad Request), any received request message that contains whitespace between a header field name and colon.`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			resp := fetch(t, get(t, hello.Path, ws.line))
			t.Check(expectStatus(resp, 400))
		})
	}

	rfc9112_5_2.It("obs-fold-sp", spec.MUST, "answers an obs-fold (SP) with 400 or unfolds it", spec.Quote(`"A server that receives an obs-fold in a request message that is not within a "message/http" container MUST either reject the message by sending a 400 (Bad Request), preferably with a representation explaining that obsolete line folding is unacceptable, or replace each received obs-fold with one or more SP octets prior to interpreting the field value or forwarding the message downstream."`), func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path, "X-Folded: a", " b"))
		if resp.Code != 400 {
			t.Check(expectFile(resp, hello))
		}
	})

	rfc9112_5_2.It("obs-fold-htab", spec.MUST, "answers an obs-fold (HTAB) with 400 or unfolds it", spec.Quote(`"A server that receives an obs-fold in a request message that is not within a "message/http" container MUST either reject the message by sending a 400 (Bad Request), preferably with a representation explaining that obsolete line folding is unacceptable, or replace each received obs-fold with one or more SP octets prior to interpreting the field value or forwarding the message downstream."`).SharedBecause("the HTAB case of the same sentence"), func(t *spec.T) {
		resp := fetch(t, get(t, hello.Path, "X-Folded: a", "\tb"))
		if resp.Code != 400 {
			t.Check(expectFile(resp, hello))
		}
	})

	rfc9112_5_2.It("obs-fold-content-length", spec.MUST, "does not read a folded line as a new Content-Length field", spec.Quote(`"A server that receives an obs-fold in a request message that is not within a "message/http" container MUST either reject the message by sending a 400 (Bad Request), preferably with a representation explaining that obsolete line folding is unacceptable, or replace each received obs-fold with one or more SP octets prior to interpreting the field value or forwarding the message downstream."`).SharedBecause("the case of a folded line that looks like Content-Length"), func(t *spec.T) {
		// Unfolded, "X-Folded: a Content-Length: 5" is one field and the GET
		// has no content; a parser that takes the folded line for a field
		// would wait for 5 octets that never come.
		c := t.Dial(service)
		c.Send(get(t, hello.Path, "X-Folded: a", " Content-Length: 5"))
		resp, err := ReadResponse(c, "GET")
		if err != nil && !noResponse(err) {
			t.Mismatch("400, or 200 with /hello.txt at once", "%v", err)
		}
		if err == nil && resp.Code != 400 {
			t.Check(expectFile(resp, hello))
		}
	})

	for _, bad := range []struct{ slug, title, line string }{
		{"space-inside", "an SP inside the field name", "X Test: 1"},
		{"paren", "a ( in the field name", "X(Test): 1"},
		{"non-ascii", "a non-ASCII octet in the field name", "X-T\xc3\xa9st: 1"},
		{"empty", "an empty field name", ": 1"},
		{"no-colon", "a field line without colon", "X-Test-No-Colon"},
		{"nul", "a NUL in the field name", "X-\x00Test: 1"},
		{"slash", "a / in the field name", "X/Test: 1"},
		{"at", "an @ in the field name", "X@Test: 1"},
	} {
		rfc9112_5.It("invalid-field-name-"+bad.slug, spec.SHOULD, "answers "+bad.title+" with 400", spec.Quote(`5.1 / RFC 9110 5.1: "field-name = token". RFC 9112 2.2: a message that does not match the grammar: "the server SHOULD respond with a 400 (Bad Request) response and close the connection."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			_, resp, err := exchange(t, get(t, hello.Path, bad.line))
			t.Check(expectRejected(resp, err, 400))
		})
	}

})

// expectTooLarge accepts what RFC 9110 5.4 and RFC 6585 5 allow for a
// request of hello.Path with a large header section: any 4xx (431
// preferred) or the connection closed by a server that stops reading, when
// the fields are larger than it wishes to process; 200 with the file when
// it processes them.
func expectTooLarge(resp *Response, err error) error {
	if err != nil {
		if noResponse(err) || isClosedErr(err) {
			return nil
		}
		return spec.Errorf("a 4xx response (431, 400, 413, 414), the connection closed, or 200 with the content of "+hello.Path, "%v", err)
	}
	if resp.Code/100 == 2 {
		// "larger than it wishes to process": a server that wishes to
		// process the fields serves the request.
		return expectFile(resp, hello)
	}
	if resp.Code/100 != 4 {
		return spec.Errorf("a 4xx status (431, 400, 413, 414) or, if the server processes fields this large, 200 with the content of "+hello.Path, "status %d (status-line %s)", resp.Code, resp)
	}
	return nil
}
