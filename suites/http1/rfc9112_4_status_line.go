package http1

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc9112_4 = spec.Section("http1", "rfc9112", "4", "Status Line")

// statusCase is a request that provokes a given kind of response.
type statusCase struct {
	slug, title string
	raw         func(t *spec.T) string
}

// statusCases cover the kinds of response every target can produce.
var statusCases = []statusCase{
	{"200", "a 200 response", func(t *spec.T) string { return get(t, hello.Path) }},
	{"404", "a 404 response", func(t *spec.T) string { return get(t, "/no-such-file.txt") }},
	{"301", "a redirect to a directory", func(t *spec.T) string { return get(t, "/dir") }},
	{"400", "a 400 response", func(t *spec.T) string { return "GET " + hello.Path + " HTTP/1.1\r\n\r\n" }},
	{"head", "a response to HEAD", func(t *spec.T) string { return request(t, "HEAD", hello.Path) }},
	{"http10", "a response to HTTP/1.0", func(t *spec.T) string { return request10("GET", hello.Path) }},
	{"empty", "a response with empty content", func(t *spec.T) string { return get(t, empty.Path) }},
}

// RFC 9112 section 4: the status-line.
var _ = Describe("RFC 9112 4 Status Line", func() {
	for _, sc := range statusCases {
		rfc9112_4.It("status-line-"+sc.slug, spec.MUST, "sends a well-formed status-line in "+sc.title, spec.Quote(`"status-line = HTTP-version SP status-code SP [ reason-phrase ]" and "A server MUST send the space that separates the status-code from the reason-phrase even when the reason-phrase is absent (i.e., the status-line would end with the space)."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			t.Check(checkStatusLine(fetch(t, sc.raw(t))))
		})
	}

	rfc9112_4.It("status-code-range", spec.MUST, "sends status codes in 100..599", spec.Inferred(`"The status-code element is a 3-digit integer code describing the result of the server's attempt to understand and satisfy the client's corresponding request." RFC 9110 15: "Values outside the range 100..599 are invalid."`, "RFC 9110 15 states the range without a key word; a code outside it is invalid"), func(t *spec.T) {
		for _, sc := range statusCases {
			resp := fetch(t, sc.raw(t))
			if resp.Code < 100 || resp.Code > 599 {
				t.Mismatch("a status-code in 100..599", "%d in %s", resp.Code, resp)
			}
		}
	})

	rfc9112_4.It("reason-phrase-chars", spec.MUST, "sends a reason-phrase of HTAB, SP, VCHAR and obs-text only", spec.Inferred(`reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )`, "the grammar of RFC 9112 4; other octets are what no client parses"), func(t *spec.T) {
		for _, sc := range statusCases {
			resp := fetch(t, sc.raw(t))
			for i := 0; i < len(resp.Reason); i++ {
				if c := resp.Reason[i]; c < 0x20 && c != '\t' || c == 0x7f {
					t.Mismatch("a reason-phrase of HTAB, SP, VCHAR, obs-text", "byte 0x%02x in %s", c, resp)
				}
			}
		}
	})

	rfc9112_4.It("major-version-1", spec.MUST, "sends HTTP-version 1.x in every response to an HTTP/1.x request", spec.Inferred(`RFC 9110 6.2: "A server SHOULD send a response version equal to the highest version to which the server is conformant that has a major version less than or equal to the one received in the request."`, "RFC 9110 6.2 (not 2.5, which only defines version numbers) allows no major version above the request's, and an HTTP/1.x client cannot read another major version"), func(t *spec.T) {
		for _, sc := range statusCases {
			resp := fetch(t, sc.raw(t))
			if resp.Major != 1 {
				t.Mismatch("HTTP/1.x", "%s", resp)
			}
		}
	})
})
