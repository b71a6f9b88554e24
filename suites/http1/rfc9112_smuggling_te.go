package http1

import (
	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

// The sentences the Transfer-Encoding obfuscation specs check.
const (
	// teAndCL is RFC 9112 6.1 on a request with both framings: whatever
	// the server makes of an obfuscated Transfer-Encoding, it never
	// answers what follows.
	teAndCL = "A server MAY reject a request that contains both Content-Length and Transfer-Encoding or process such a request in accordance with the Transfer-Encoding alone. Regardless, the server MUST close the connection after responding to such a request to avoid the potential attacks."
	// chunkedNotFinal is RFC 9112 6.3 rule 4.
	chunkedNotFinal = "If a Transfer-Encoding header field is present in a request and the chunked transfer coding is not the final encoding, the message body length cannot be determined reliably; the server MUST respond with the 400 (Bad Request) status code and then close the connection."
	// mustParseChunked is RFC 9112 6.1.
	mustParseChunked = "A recipient MUST be able to parse the chunked transfer coding (Section 7.1) because it plays a crucial role in framing messages when the content size is not known in advance."
	// readOrClose is RFC 9112 9.3.
	readOrClose = "A server MUST read the entire request message body or close the connection after sending its response; otherwise, the remaining data on a persistent connection would be misinterpreted as the next request."
)

// RFC 9112 6.1: Transfer-Encoding values and field lines that parsers
// disagree on, the raw material of request smuggling (RFC 9112 11.2).
//
// Each obfuscation gets a spec of how the target reads it alone and two
// desync probes with a Content-Length beside it, one per layout (CL.TE
// and TE.CL, smuggling.go). A desync probe fails only when the target
// answers the request hidden in the content: rejecting the request and
// reading it by either framing are all allowed there (RFC 9112 6.1 lets
// the server reject or follow Transfer-Encoding, and then close). The
// TE.CL layout is used only where the field line is a Transfer-Encoding
// field for every reader (a name that is not one, such as
// Transfer_Encoding, leaves Content-Length the framing, and the hidden
// request a request).
var _ = Describe("RFC 9112 6.1 Transfer-Encoding obfuscation", func() {
	// Values that are "chunked" by the grammar: OWS around a field value
	// is not part of it (RFC 9110 5.5), empty list elements are ignored
	// (RFC 9110 5.6.1), and field names and coding names are
	// case-insensitive. The target MUST decode them as chunked.
	valid := []struct{ slug, title, line string }{
		{"trailing-space", "a trailing SP after chunked", "Transfer-Encoding: chunked "},
		{"trailing-tab", "a trailing HTAB after chunked", "Transfer-Encoding: chunked\t"},
		{"tab-before-value", "an HTAB before chunked", "Transfer-Encoding:\tchunked"},
		{"leading-comma", "a leading comma (\", chunked\")", "Transfer-Encoding: , chunked"},
		{"trailing-comma", "a trailing comma (\"chunked,\")", "Transfer-Encoding: chunked,"},
		{"name-lowercase", "a lower-case field name", "transfer-encoding: chunked"},
		{"name-uppercase", "an upper-case field name", "TRANSFER-ENCODING: chunked"},
		{"value-mixed-case", "a mixed-case coding (\"cHuNkEd\")", "Transfer-Encoding: cHuNkEd"},
	}
	for _, v := range valid {
		rfc9112_6_1.It("te-obfuscated-decodes-"+v.slug, spec.MUST, "decodes chunked content announced with "+v.title, spec.Inferred(mustParseChunked, "the value is chunked once OWS (RFC 9110 5.5) and empty list elements (RFC 9110 5.6.1) are dropped and names compared case-insensitively; a server that does not decode it misframes a valid request").SharedBecause("one spec per spelling of chunked"), func(t *spec.T) {
			echoed(t, request(t, "POST", fixture.EchoPath, v.line)+"5\r\nhello\r\n0\r\n\r\n", []byte("hello"))
		})
	}

	// Values and lines that are not plain "chunked": invalid characters
	// (RFC 9110 5.5), an empty list, a parameter the chunked coding does
	// not define, a folded line (RFC 9112 5.2), whitespace before the
	// colon (RFC 9112 5.1). The target may reject them (400, or 501 for
	// a coding it does not understand) or, where the RFC allows it (a
	// NUL replaced by SP, an obs-fold replaced by SP), read them as
	// chunked; it must never misframe.
	invalid := []struct{ slug, title, line string }{
		{"empty", "an empty value", "Transfer-Encoding: "},
		{"vertical-tab", "a vertical tab after chunked", "Transfer-Encoding: chunked\x0b"},
		{"form-feed", "a form feed before chunked", "Transfer-Encoding: \x0cchunked"},
		{"nul", "a NUL after chunked", "Transfer-Encoding: chunked\x00"},
		{"parameter", "a parameter (\"chunked;q=1\")", "Transfer-Encoding: chunked;q=1"},
		{"folded", "the value on a folded line", "Transfer-Encoding:\r\n chunked"},
		{"space-before-colon", "SP before the colon", "Transfer-Encoding : chunked"},
		{"comma-only", "only commas", "Transfer-Encoding: ,,"},
	}
	for _, v := range invalid {
		rfc9112_6_1.It("te-obfuscated-framing-"+v.slug, spec.MUST, "rejects or reads as chunked a Transfer-Encoding with "+v.title+", never misframes", spec.Quote(readOrClose).In("9.3").SharedBecause("one spec per obfuscated Transfer-Encoding"), func(t *spec.T) {
			expectFramedOrRejected(t, request(t, "POST", bodyTarget(t), v.line)+"5\r\nhello\r\n0\r\n\r\n")
		})
	}

	all := append(append([]struct{ slug, title, line string }{}, valid...), invalid...)
	for _, v := range all {
		rfc9112_6_1.It("cl-te-desync-"+v.slug, spec.MUST, "does not answer a request hidden by Content-Length before a Transfer-Encoding with "+v.title, spec.Quote(teAndCL).SharedBecause("one CL.TE probe per obfuscated Transfer-Encoding"), func(t *spec.T) {
			expectNotSmuggled(t, desyncRequest(t, "POST", clte, "", v.line))
		})
		rfc9112_6_1.It("te-cl-desync-"+v.slug, spec.MUST, "does not answer a request hidden by a Transfer-Encoding with "+v.title+" before Content-Length", spec.Quote(teAndCL).SharedBecause("one TE.CL probe per obfuscated Transfer-Encoding"), func(t *spec.T) {
			expectNotSmuggled(t, desyncRequest(t, "POST", tecl, "", v.line))
		})
	}

	// "chunked, chunked" on one line or two: RFC 9112 6.1 forbids it
	// ("A sender MUST NOT apply the chunked transfer coding more than
	// once to a message body"), so the framing it announces (chunked
	// twice) is not what the content carries (chunked once). A server
	// that reads it as chunked once accepts a framing no conforming
	// sender produces, the smuggling vector of a front end that decodes
	// the other way.
	twice := []struct {
		slug, title string
		lines       []string
	}{
		{"list", "\"Transfer-Encoding: chunked, chunked\"", []string{"Transfer-Encoding: chunked, chunked"}},
		{"lines", "two \"Transfer-Encoding: chunked\" lines", []string{"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"}},
	}
	for _, v := range twice {
		rfc9112_6_1.It("chunked-twice-rejected-"+v.slug, spec.MUST, "does not read content announced with "+v.title+" as chunked once", spec.Inferred("A sender MUST NOT apply the chunked transfer coding more than once to a message body (i.e., chunking an already chunked message is not allowed).", "RFC 9112 6.1 binds the sender; content chunked once does not match the framing announced, so the length cannot be determined reliably and RFC 9112 6.3 asks for 400 and a close (501 for a coding stack the server does not implement)").SharedBecause("one spec per way of announcing chunked twice"), func(t *spec.T) {
			c := t.Dial(service)
			c.Send(request(t, "POST", bodyTarget(t), v.lines...) + "5\r\nhello\r\n0\r\n\r\n" + get(t, hello.Path))
			resp, err := ReadResponse(c, "POST")
			t.Check(expectRejectedThenClosed(c, resp, err, 400, 501))
		})
		rfc9112_6_1.It("te-cl-desync-chunked-twice-"+v.slug, spec.MUST, "does not answer a request hidden by "+v.title+" before Content-Length", spec.Quote(teAndCL).SharedBecause("one TE.CL probe per obfuscated Transfer-Encoding"), func(t *spec.T) {
			expectNotSmuggled(t, desyncRequest(t, "POST", tecl, "", v.lines...))
		})
	}

	rfc9112_6_1.It("te-cl-desync-chunked-then-identity", spec.MUST, "does not answer a request hidden by Transfer-Encoding lines ending in identity before Content-Length", spec.Quote(chunkedNotFinal).In("6.3").SharedBecause("the TE.CL probe of a final coding that is not chunked"), func(t *spec.T) {
		expectNotSmuggled(t, desyncRequest(t, "POST", tecl, "", "Transfer-Encoding: chunked", "Transfer-Encoding: identity"))
	})

	// Transfer_Encoding is a valid field name (RFC 9110 5.1: "_" is a
	// tchar) but not Transfer-Encoding: a server that maps "_" to "-"
	// (a CGI habit) reads a framing the sender did not announce.
	rfc9112_6_1.It("underscore-te-not-framing", spec.MUST, "does not take Transfer_Encoding for Transfer-Encoding", spec.Inferred("If a valid Content-Length header field is present without Transfer-Encoding, its decimal value defines the expected message body length in octets.", "rule 6 of RFC 9112 6.3, stated without a key word: Transfer_Encoding is another field, so Content-Length frames the content").In("6.3").SharedBecause("the framing rule applied to a look-alike of Transfer-Encoding"), func(t *spec.T) {
		expectFramedOrRejected(t, withBody(t, "POST", bodyTarget(t), "hello=world", "Transfer_Encoding: chunked"))
	})

	rfc9112_6_1.It("cl-te-desync-underscore", spec.MUST, "does not answer a request hidden by Content-Length before Transfer_Encoding", spec.Quote(readOrClose).In("9.3").SharedBecause("the CL.TE probe of a look-alike of Transfer-Encoding"), func(t *spec.T) {
		expectNotSmuggled(t, desyncRequest(t, "POST", clte, "", "Transfer_Encoding: chunked"))
	})

	rfc9112_6_1.It("underscore-te-alone", spec.MUST, "reads a request with only Transfer_Encoding as having no content", spec.Inferred("If this is a request message and none of the above are true, then the message body length is zero (no message body is present).", "rule 6 of RFC 9112 6.3, stated without a key word: Transfer_Encoding is not Transfer-Encoding").In("6.3").SharedBecause("the no-framing rule applied to a look-alike of Transfer-Encoding"), func(t *spec.T) {
		// With no framing, what follows the head is the next request:
		// the target answers it, or rejects the look-alike and closes.
		c := t.Dial(service)
		c.Send(request(t, "POST", bodyTarget(t), "Transfer_Encoding: chunked") + get(t, hello.Path))
		first, err := ReadResponse(c, "POST")
		if err != nil && noResponse(err) {
			return
		}
		t.Check(err)
		if first.Code == 400 || first.Closes() {
			return
		}
		t.Check(expectFile(read(t, c, "GET"), hello))
	})

	rfc9112_6_1.It("options-chunked", spec.MUST, "reads chunked content of an OPTIONS request", spec.Quote(readOrClose).In("9.3").SharedBecause("one case per method: OPTIONS with chunked content"), func(t *spec.T) {
		expectFramed(t, request(t, "OPTIONS", hello.Path, "Transfer-Encoding: chunked")+"5\r\nhello\r\n0\r\n\r\n")
	})

	rfc9112_6_1.It("cl-te-desync-options", spec.MUST, "does not answer a request hidden by Content-Length before Transfer-Encoding in an OPTIONS", spec.Quote(teAndCL).SharedBecause("the CL.TE probe with the OPTIONS method"), func(t *spec.T) {
		expectNotSmuggled(t, desyncRequest(t, "OPTIONS", clte, "", "Transfer-Encoding: chunked"))
	})

	rfc9112_6_1.It("te-cl-desync-head", spec.MUST, "does not answer a request hidden by Transfer-Encoding before Content-Length in a HEAD", spec.Quote(teAndCL).SharedBecause("the TE.CL probe with the HEAD method"), func(t *spec.T) {
		expectNotSmuggled(t, desyncRequest(t, "HEAD", tecl, "", "Transfer-Encoding: chunked"))
	})

	rfc9112_6_1.It("cl-te-desync-head", spec.MUST, "does not answer a request hidden by Content-Length before Transfer-Encoding in a HEAD", spec.Quote(teAndCL).SharedBecause("the CL.TE probe with the HEAD method"), func(t *spec.T) {
		expectNotSmuggled(t, desyncRequest(t, "HEAD", clte, "", "Transfer-Encoding: chunked"))
	})
})
