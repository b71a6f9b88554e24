package http1

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/suites/spec"
)

var rfc9112_7_1 = spec.Section("http1", "rfc9112", "7.1", "Chunked Transfer Coding")

// chunkedPost is a POST with Transfer-Encoding: chunked and the given
// encoded content.
func chunkedPost(t *spec.T, target, encoded string, fields ...string) string {
	return request(t, "POST", target, append(fields, "Transfer-Encoding: chunked")...) + encoded
}

// RFC 9112 section 7: the chunked transfer coding.
var _ = Describe("RFC 9112 7 Chunked Transfer Coding", func() {
	// 7.1: "chunked-body = *chunk last-chunk trailer-section CRLF"
	valid := []struct{ slug, title, encoded, decoded string }{
		{"one-chunk", "one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"},
		{"two-chunks", "two chunks", "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n", "hello, world"},
		{"no-chunks", "only the last-chunk", "0\r\n\r\n", ""},
		{"uppercase-hex", "an upper-case hex size", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
		{"lowercase-hex", "a lower-case hex size", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
		{"leading-zeros", "a size with leading zeros", "0005\r\nhello\r\n0\r\n\r\n", "hello"},
		{"last-chunk-zeros", "a last-chunk of several zeros", "5\r\nhello\r\n000\r\n\r\n", "hello"},
		{"extension", "a chunk extension", "5;name=value\r\nhello\r\n0\r\n\r\n", "hello"},
		{"extension-quoted", "a quoted chunk extension", "5;name=\"quoted;value\"\r\nhello\r\n0\r\n\r\n", "hello"},
		{"extension-no-value", "a chunk extension without value", "5;flag\r\nhello\r\n0;end\r\n\r\n", "hello"},
		{"extension-bws", "a chunk extension with BWS", "5 ; name = value\r\nhello\r\n0\r\n\r\n", "hello"},
		{"trailer", "a trailer field", "5\r\nhello\r\n0\r\nX-Trailer: yes\r\n\r\n", "hello"},
		{"trailers", "two trailer fields", "5\r\nhello\r\n0\r\nX-One: 1\r\nX-Two: 2\r\n\r\n", "hello"},
		{"crlf-in-data", "CRLF inside chunk data", "8\r\na\r\n\r\nb\r\n\r\n0\r\n\r\n", "a\r\n\r\nb\r\n"},
		{"one-byte-chunks", "one-octet chunks", "1\r\nh\r\n1\r\ni\r\n0\r\n\r\n", "hi"},
	}
	for _, v := range valid {
		rfc9112_7_1.It("framing-"+v.slug, spec.MUST, "reads chunked content with "+v.title+" to its end", spec.Quote(`"The chunked transfer coding wraps content in order to transfer it as a series of chunks, each with its own size indicator, followed by an OPTIONAL trailer section containing trailer fields." 7.1.1: "A recipient MUST ignore unrecognized chunk extensions." 7.1.2: "A recipient that removes the chunked coding from a message MAY selectively retain or discard the received trailer fields."`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			expectFramed(t, chunkedPost(t, bodyTarget(t), v.encoded))
		})
		rfc9112_7_1.It("decodes-"+v.slug, spec.MUST, "decodes chunked content with "+v.title, spec.Quote(`"The chunked transfer coding wraps content in order to transfer it as a series of chunks, each with its own size indicator, followed by an OPTIONAL trailer section containing trailer fields." 7.1.1: "A recipient MUST ignore unrecognized chunk extensions." 7.1.2: "A recipient that removes the chunked coding from a message MAY selectively retain or discard the received trailer fields."`).SharedBecause("one spec per chunked encoding of the list"), func(t *spec.T) {
			echoed(t, chunkedPost(t, fixture.EchoPath, v.encoded), []byte(v.decoded))
		})
	}

	rfc9112_7_1.It("many-chunks", spec.MUST, "decodes 64 KiB sent in 1 KiB chunks", spec.Quote(`"The chunked transfer coding wraps content in order to transfer it as a series of chunks, each with its own size indicator, followed by an OPTIONAL trailer section containing trailer fields." 7.1.1: "A recipient MUST ignore unrecognized chunk extensions." 7.1.2: "A recipient that removes the chunked coding from a message MAY selectively retain or discard the received trailer fields."`).SharedBecause("64 chunks of 1 KiB: a case of the same coding"), func(t *spec.T) {
		var enc strings.Builder
		want := fixture.Pattern(64 << 10)
		for i := 0; i < len(want); i += 1024 {
			enc.WriteString("400\r\n")
			enc.Write(want[i : i+1024])
			enc.WriteString("\r\n")
		}
		enc.WriteString("0\r\n\r\n")
		echoed(t, chunkedPost(t, fixture.EchoPath, enc.String()), want)
	})

	rfc9112_7_1.It("chunks-in-separate-segments", spec.MUST, "decodes chunks that arrive in separate segments", spec.Quote(`"The chunked transfer coding wraps content in order to transfer it as a series of chunks, each with its own size indicator, followed by an OPTIONAL trailer section containing trailer fields." 7.1.1: "A recipient MUST ignore unrecognized chunk extensions." 7.1.2: "A recipient that removes the chunked coding from a message MAY selectively retain or discard the received trailer fields."`).SharedBecause("where TCP splits the chunks is no part of the coding"), func(t *spec.T) {
		t.Require(featEcho)
		c := t.Dial(service)
		c.Send(request(t, "POST", fixture.EchoPath, "Transfer-Encoding: chunked"))
		for _, part := range []string{"5\r\n", "hel", "lo\r\n", "3\r", "\nabc\r\n", "0\r\n", "\r\n"} {
			c.Send(part)
		}
		resp := read(t, c, "POST")
		t.Check(expectStatus(resp, 200))
		t.Check(expectBody(resp, []byte("helloabc")))
	})

	for _, size := range []string{"10000000000000005", "ffffffffffffffff5", "100000005"} {
		rfc9112_7_1.It("size-overflow-"+size[:6]+fmt.Sprint(len(size)), spec.MUST, "does not read the chunk-size "+size+" as a small number", spec.Quote(`Therefore, recipients MUST anticipate potentially large hexadecimal numerals and prevent parsing errors due to integer conversion overflows or precision loss due to integer representation.`).SharedBecause("one sentence, one spec per case of the list"), func(t *spec.T) {
			c := t.Dial(service)
			c.Send(chunkedPost(t, bodyTarget(t), size+"\r\nhello\r\n0\r\n\r\n") + smuggled(t))
			t.Check(expectNoSecondResponse(c))
		})
	}

	// RFC 9112 2.2: a message that does not match the grammar: "the server
	// SHOULD respond with a 400 (Bad Request) response and close the
	// connection."
	invalid := []struct{ slug, title, encoded string }{
		{"not-hex", "a chunk-size that is not hex", "xyz\r\nhello\r\n0\r\n\r\n"},
		{"negative", "a negative chunk-size", "-5\r\nhello\r\n0\r\n\r\n"},
		{"hex-prefix", "a chunk-size with 0x", "0x5\r\nhello\r\n0\r\n\r\n"},
		{"leading-space", "a chunk-size after SP", " 5\r\nhello\r\n0\r\n\r\n"},
		{"empty-size", "an empty chunk-size line", "\r\nhello\r\n0\r\n\r\n"},
		{"data-too-long", "chunk data longer than its size", "5\r\nhelloXX\r\n0\r\n\r\n"},
		{"data-no-crlf", "chunk data not followed by CRLF", "5\r\nhelloXX0\r\n\r\n"},
		{"bad-extension", "a chunk extension without a name", "5;=x\r\nhello\r\n0\r\n\r\n"},
		{"junk-after-size", "junk after the chunk-size", "5 junk\r\nhello\r\n0\r\n\r\n"},
	}
	for _, bad := range invalid {
		rfc9112_7_1.It("reject-"+bad.slug, spec.SHOULD, "answers "+bad.title+" with 400 and closes, or never reads past it", spec.Inferred(`Therefore, recipients MUST anticipate potentially large hexadecimal numerals and prevent parsing errors due to integer conversion overflows or precision loss due to integer representation.`, "RFC 9112 7.1 gives the grammar; a recipient of an invalid message SHOULD answer 400 (RFC 9112 2.2)").SharedBecause("one spec per malformed chunked encoding"), func(t *spec.T) {
			c := t.Dial(service)
			c.Send(chunkedPost(t, bodyTarget(t), bad.encoded) + smuggled(t))
			t.Check(expectNoSecondResponse(c))
		})
	}

	rfc9112_7_1.It("bare-lf-chunk-line", spec.MUST, "rejects a chunk-size line ended by a bare LF or decodes it right", spec.Inferred(`"chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF"; RFC 9112 2.2 lets a recipient accept a bare LF for the start-line and fields only. Accepting it in chunk framing is a known smuggling vector; decoding it wrongly is never allowed.`, "RFC 9112 2.2 lets a recipient accept a bare LF in the start-line and fields only; in chunk framing it is a smuggling vector, and decoding it wrongly is never allowed"), func(t *spec.T) {
		t.Require(featEcho)
		_, resp, err := exchange(t, chunkedPost(t, fixture.EchoPath, "5\nhello\r\n0\r\n\r\n"))
		if err == nil && resp.Code == 200 {
			t.Check(expectBody(resp, []byte("hello")))
			return
		}
		t.Check(expectRejected(resp, err, 400))
	})

})
