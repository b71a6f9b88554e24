package echo

import (
	"bytes"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var uppercase_tcp = spec.Section("echo", "uppercase", "tcp", "Uppercase over TCP")
var uppercase_udp = spec.Section("echo", "uppercase", "udp", "Uppercase over UDP")

// The uppercase protocol is defined in the package documentation of
// reference/echo; its sentences are quoted above each spec. Its limits:
const (
	maxLine          = 4096
	lineTooLongReply = "error: line too long\n"
)

var _ = Describe("uppercase over TCP", func() {
	uppercase_tcp.It("uppercases-line", spec.MUST, "answers a line with the line in upper case", spec.Inferred(`For every complete line the server sends back Upper of the line, LF included.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "hello, world\n", "HELLO, WORLD\n")
	})

	uppercase_tcp.It("keeps-non-letters", spec.MUST, "leaves digits, punctuation, tabs, upper case and CR unchanged", spec.Inferred(`Upper replaces every byte in 'a'..'z' with the matching byte in 'A'..'Z' and leaves every other byte unchanged: CR, LF, digits, punctuation.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "a1!\tZz~ {x}|y@0\r\n", "A1!\tZZ~ {X}|Y@0\r\n")
	})

	uppercase_tcp.It("utf8-unchanged", spec.MUST, "changes only the ASCII letters of UTF-8 text", spec.Inferred(`UTF-8 multibyte sequences therefore pass through unchanged, valid UTF-8 stays valid.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "héllo wörld, ünïcode ß ж\n", "HéLLO WöRLD, üNïCODE ß ж\n")
	})

	uppercase_tcp.It("other-bytes-unchanged", spec.MUST, "passes every byte value except a..z through unchanged", spec.Inferred(`every other byte unchanged: ... NUL and every byte >= 0x80.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		line := append(bytes.ReplaceAll(allBytes(), []byte("\n"), nil), '\n')
		c.Send(line)
		got, err := c.ReadLine(1024)
		t.Check(err)
		t.Check(spec.Equal("the reply line", upper(line), got))
	})

	uppercase_tcp.It("empty-line", spec.MUST, "answers an empty line with an empty line", spec.Inferred(`"\"\\n\" gives \"\\n\"."`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "\n", "\n")
	})

	uppercase_tcp.It("lines-in-order", spec.MUST, "answers several lines sent in one write, in order", spec.Inferred(`Replies come in order, one per line.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("one\ntwo\nthree\n")
		for _, want := range []string{"ONE\n", "TWO\n", "THREE\n"} {
			got, err := c.ReadLine(64)
			t.Check(err)
			t.Check(spec.Equal("the reply line", []byte(want), got))
		}
	})

	uppercase_tcp.It("line-across-writes", spec.MUST, "answers a line sent in pieces once, after its LF", spec.Inferred(`"For every complete line": a line is complete at its LF, however it was split into segments.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("hel")
		early, closed, err := c.ReadFor(c.Scaled(quiet), 64)
		t.Check(err)
		if len(early) > 0 || closed {
			t.Mismatch("no reply before the line's LF", "%s (closed: %v)", spec.Excerpt(early, 64), closed)
		}
		c.Send("lo\n")
		got, err := c.ReadLine(64)
		t.Check(err)
		t.Check(spec.Equal("the reply line", []byte("HELLO\n"), got))
	})

	uppercase_tcp.It("serves-until-close", spec.MUST, "keeps answering lines on one connection", spec.Inferred(`the server keeps serving lines until the client closes.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		for i := range 10 {
			exchangeLine(t, c, fmt.Sprintf("line %d of ten\n", i+1), fmt.Sprintf("LINE %d OF TEN\n", i+1))
		}
	})

	uppercase_tcp.It("half-close-partial-line", spec.MUST, "answers a last line without LF after the client's FIN, then closes", spec.Inferred(`if the client half-closes (EOF) while a partial line is pending, the server sends Upper of the partial line without adding an LF, then closes.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("no newline")
		t.Check(c.CloseWrite())
		got, err := c.ReadUntilClose(64)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte("NO NEWLINE"), got))
	})

	uppercase_tcp.It("half-close-closes", spec.MUST, "answers the pending lines and closes after the client's FIN", spec.Inferred(`With nothing pending it just closes.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("done\n")
		t.Check(c.CloseWrite())
		got, err := c.ReadUntilClose(64)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte("DONE\n"), got))
	})

	uppercase_tcp.It("max-line-accepted", spec.MUST, "answers a line of exactly 4096 bytes", spec.Inferred(`a line may be at most MaxLine bytes, counting its LF (default 4096).`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		line := strings.Repeat("a", maxLine-1) + "\n"
		exchangeLine(t, c, line, strings.ToUpper(line))
	})

	uppercase_tcp.It("over-long-line", spec.MUST, "answers 4096 bytes without an LF with the error line and closes", spec.Inferred(`"As soon as MaxLine bytes of one line have arrived without an LF, the server sends exactly \"error: line too long\\n\" ... and closes the connection."`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		if err := c.TrySend(strings.Repeat("b", maxLine)); err != nil {
			t.Note("send cut short: %v", err)
		}
		got, err := c.ReadUntilClose(maxLine * 2)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte(lineTooLongReply), got))
	})

	uppercase_tcp.It("over-long-after-good-lines", spec.MUST, "answers the earlier lines before the error line", spec.Inferred(`... after the replies to the earlier lines and closes the connection.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		if err := c.TrySend("ok\n" + strings.Repeat("c", maxLine)); err != nil {
			t.Note("send cut short: %v", err)
		}
		got, err := c.ReadUntilClose(maxLine * 2)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte("OK\n"+lineTooLongReply), got))
	})

	uppercase_tcp.It("replies-have-no-lowercase", spec.MUST, "never answers a line with lowercase ASCII letters", spec.Inferred(`Error replies are the only replies that contain lowercase ASCII, so a client can always tell an error from an uppercased line.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("the quick brown fox jumps over the lazy dog\n")
		got, err := c.ReadLine(128)
		t.Check(err)
		if i := bytes.IndexFunc(got, func(r rune) bool { return r >= 'a' && r <= 'z' }); i >= 0 {
			t.Mismatch("no lowercase letter in an answer", "byte %d of %s is one", i, spec.Excerpt(got, 128))
		}
	})

	uppercase_tcp.It("concurrent-connections", spec.MUST, "serves two interleaved connections, each with its own lines", spec.Inferred(`Connections are served at once, up to MaxConns (default 512).`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		a, b := t.Dial("uppercase/tcp"), t.Dial("uppercase/tcp")
		a.Send("from a\n")
		b.Send("from b\n")
		got, err := b.ReadLine(64)
		t.Check(err)
		t.Check(spec.Equal("the reply on the second connection", []byte("FROM B\n"), got))
		got, err = a.ReadLine(64)
		t.Check(err)
		t.Check(spec.Equal("the reply on the first connection", []byte("FROM A\n"), got))
	})
})

var _ = Describe("uppercase over UDP", func() {
	uppercase_udp.It("uppercases-datagram", spec.MUST, "answers a datagram with its upper case", spec.Inferred(`each datagram ... is answered with exactly one datagram holding the uppercased bytes.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte("HELLO, DATAGRAM\n"), exchangeDatagram(t, p, []byte("hello, datagram\n"))))
	})

	uppercase_udp.It("no-lf-added", spec.MUST, "adds no LF to a datagram without one", spec.Inferred(`(same byte rule, whole datagram, no line splitting, no LF added)`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte("NO NEWLINE"), exchangeDatagram(t, p, []byte("no newline"))))
	})

	uppercase_udp.It("whole-datagram", spec.MUST, "answers a datagram of several lines with one datagram", spec.Inferred(`whole datagram, no line splitting`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte("A\nB\r\nC"), exchangeDatagram(t, p, []byte("a\nb\r\nc"))))
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})

	uppercase_udp.It("other-bytes-unchanged", spec.MUST, "passes every byte value except a..z through unchanged", spec.Inferred(`"same byte rule": every byte but a..z unchanged.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", upper(allBytes()), exchangeDatagram(t, p, allBytes())))
	})

	uppercase_udp.It("reply-from-service-port", spec.MUST, "answers from the address and port the datagram was sent to", spec.Inferred(`sent from the socket that received it (so from the service port) to the datagram's source address and port.`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		_, err := p.Exchange([]byte("which port answers?"), 0)
		t.Check(err)
	})

	uppercase_udp.It("empty-datagram", spec.MUST, "answers an empty datagram with an empty datagram", spec.Inferred(`each datagram (0..65507 bytes, including empty)`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte{}, exchangeDatagram(t, p, []byte{})))
	})

	uppercase_udp.It("large-datagram", spec.MUST, "answers a 60000-byte datagram whole", spec.Inferred(`each datagram (0..65507 bytes ...)`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		data := bytes.Repeat([]byte("large udp datagram "), 60000/19+1)[:60000]
		t.Check(spec.Equal("the answering datagram", upper(data), exchangeDatagram(t, p, data)))
	})

	uppercase_udp.It("one-reply-per-datagram", spec.MUST, "answers each of several datagrams exactly once", spec.Inferred(`answered with exactly one datagram`, "the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words"), func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		want := map[string]int{}
		for i := range 5 {
			d := fmt.Sprintf("datagram %d", i)
			want[strings.ToUpper(d)]++
			p.Send(d)
		}
		for range 5 {
			got, err := p.Reply(0)
			t.Check(err)
			if want[string(got)] == 0 {
				t.Mismatch("one answer per datagram sent, each its upper case", "%s: not the upper case of a datagram sent, or answered twice", spec.Excerpt(got, 100))
			}
			want[string(got)]--
		}
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})
})
