package http1

import (
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// chunkGrammar is RFC 9112 7.1's grammar of a chunk.
const chunkGrammar = "RFC 9112 7.1 gives the grammar (chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF, chunk-size = 1*HEXDIG); a recipient of an invalid message SHOULD answer 400 and close (RFC 9112 2.2), and must never read past it"

// RFC 9112 7.1: chunk lines that lenient parsers read differently.
var _ = Describe("RFC 9112 7.1 Chunk-line smuggling", func() {
	// Invalid chunk lines, with a request after the content: the target
	// answers 400 and closes, or never reads past the malformed line.
	invalid := []struct{ slug, title, encoded string }{
		{"plus-size", "a chunk-size with a + sign", "+5\r\nhello\r\n0\r\n\r\n"},
		{"ext-control-byte", "a control byte in a chunk extension", "5;a\x01b\r\nhello\r\n0\r\n\r\n"},
		{"ext-nul", "a NUL in a chunk extension", "5;a\x00b\r\nhello\r\n0\r\n\r\n"},
		{"ext-bare-cr", "a bare CR in a chunk extension", "5;a\rb\r\nhello\r\n0\r\n\r\n"},
		{"ext-bare-cr-value", "a bare CR in a chunk extension value", "5;a=b\rc\r\nhello\r\n0\r\n\r\n"},
		{"size-bare-cr", "a chunk-size line ended by a bare CR", "5\rhello\r\n0\r\n\r\n"},
		{"data-bare-cr", "chunk data ended by a bare CR", "5\r\nhello\r0\r\n\r\n"},
		{"last-chunk-bare-cr", "a last-chunk line ended by a bare CR", "5\r\nhello\r\n0\r\r\n"},
		{"size-nul", "a NUL after the chunk-size", "5\x00\r\nhello\r\n0\r\n\r\n"},
		{"size-underscore", "an underscore in the chunk-size", "0_5\r\nhello\r\n0\r\n\r\n"},
		{"size-space-inside", "SP inside the chunk-size", "0 5\r\nhello\r\n0\r\n\r\n"},
		{"ext-unterminated-quote", "an unterminated quoted chunk extension", "5;a=\"b\r\nhello\r\n0\r\n\r\n"},
		{"data-too-short", "chunk data shorter than its size", "6\r\nhello\r\n0\r\n\r\n"},
	}
	for _, bad := range invalid {
		rfc9112_7_1.It("smuggle-"+bad.slug, spec.SHOULD, "answers "+bad.title+" with 400 and closes, or never reads past it", spec.Inferred(`Therefore, recipients MUST anticipate potentially large hexadecimal numerals and prevent parsing errors due to integer conversion overflows or precision loss due to integer representation.`, chunkGrammar).SharedBecause("one spec per malformed chunk line"), func(t *spec.T) {
			c := t.Dial(service)
			c.Send(chunkedPost(t, bodyTarget(t), bad.encoded) + smuggled(t))
			t.Check(expectNoSecondResponse(c))
		})
	}

	// A chunk-size a lenient parser misreads so that the request inside
	// the chunk data becomes the next request: a "+" sign, a bare CR
	// ending the size line, a size of 0 with a junk suffix.
	hiddenInChunk := []struct {
		slug, title string
		size        func(n int) string
	}{
		{"plus-size", "a chunk-size with a + sign", func(n int) string { return "+" + strconv.FormatInt(int64(n), 16) + "\r\n" }},
		{"zero-prefix-junk", "a chunk-size of 0 followed by junk and the size", func(n int) string { return "0x" + strconv.FormatInt(int64(n), 16) + "\r\n" }},
		{"size-then-bare-lf", "a chunk-size line ended by a bare LF", func(n int) string { return strconv.FormatInt(int64(n), 16) + "\n" }},
		{"size-bare-cr", "a chunk-size line ended by a bare CR", func(n int) string { return strconv.FormatInt(int64(n), 16) + "\r" }},
	}
	for _, h := range hiddenInChunk {
		rfc9112_7_1.It("chunk-desync-"+h.slug, spec.MUST, "does not answer a request hidden in a chunk after "+h.title, spec.Quote(readOrClose).In("9.3").SharedBecause("one probe per misreadable chunk-size"), func(t *spec.T) {
			s := smuggled(t)
			expectNotSmuggled(t, chunkedPost(t, bodyTarget(t), h.size(len(s))+s+"\r\n0\r\n\r\n"))
		})
	}

	// RFC 9112 2.2 lets a recipient take a bare LF for the line end of
	// the fields, and the trailer section is fields: accepting or
	// rejecting are both allowed, misframing never.
	lf := []struct{ slug, title, encoded string }{
		{"lf-only-trailer", "a trailer field ended by a bare LF", "5\r\nhello\r\n0\r\nX-Trailer: yes\n\r\n"},
		{"lf-only-trailer-end", "a trailer section ended by bare LFs", "5\r\nhello\r\n0\r\nX-Trailer: yes\n\n"},
		{"lf-only-end", "a chunked body ended by a bare LF", "5\r\nhello\r\n0\r\n\n"},
	}
	for _, v := range lf {
		rfc9112_7_1.It("framing-"+v.slug, spec.MUST, "rejects or reads to its end chunked content with "+v.title, spec.Quote(readOrClose).In("9.3").SharedBecause("one spec per bare LF in the trailer section"), func(t *spec.T) {
			expectFramedOrRejected(t, chunkedPost(t, bodyTarget(t), v.encoded))
		})
	}

	rfc9112_7_1.It("extension-64k", spec.MUST, "rejects or reads to its end chunked content with a 64 KiB chunk extension", spec.Quote("A recipient MUST ignore unrecognized chunk extensions.").In("7.1.1"), func(t *spec.T) {
		// RFC 9112 7.1.1: "A server ought to limit the total length of
		// chunk extensions received in a request to an amount reasonable
		// for the services provided, in the same way that it applies
		// length limitations and timeouts for other parts of a message,
		// and generate an appropriate 4xx (Client Error) response if that
		// amount is exceeded." Either way the framing holds.
		expectFramedOrRejected(t, chunkedPost(t, bodyTarget(t), "5;x="+strings.Repeat("a", 64<<10)+"\r\nhello\r\n0\r\n\r\n"))
	})

	rfc9112_7_1.It("trailer-64k", spec.MUST, "rejects or reads to its end chunked content with a 64 KiB trailer field", spec.Quote(readOrClose).In("9.3").SharedBecause("an oversized trailer section"), func(t *spec.T) {
		expectFramedOrRejected(t, chunkedPost(t, bodyTarget(t), "5\r\nhello\r\n0\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n"))
	})
})
