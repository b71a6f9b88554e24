package echo

import (
	"bytes"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// The uppercase protocol is defined in the package documentation of
// reference/echo; its sentences are quoted above each spec. Its limits:
const (
	maxLine          = 4096
	lineTooLongReply = "error: line too long\n"
)

var _ = Describe("uppercase over TCP", func() {
	// "For every complete line the server sends back Upper of the line, LF
	// included."
	spec.It("echo/uppercase/tcp/uppercases-line", spec.MUST, "answers a line with the line in upper case", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "hello, world\n", "HELLO, WORLD\n")
	})

	// "Upper replaces every byte in 'a'..'z' with the matching byte in 'A'..'Z'
	// and leaves every other byte unchanged: CR, LF, digits, punctuation."
	spec.It("echo/uppercase/tcp/keeps-non-letters", spec.MUST, "leaves digits, punctuation, tabs, upper case and CR unchanged", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "a1!\tZz~ {x}|y@0\r\n", "A1!\tZZ~ {X}|Y@0\r\n")
	})

	// "UTF-8 multibyte sequences therefore pass through unchanged, valid
	// UTF-8 stays valid."
	spec.It("echo/uppercase/tcp/utf8-unchanged", spec.MUST, "changes only the ASCII letters of UTF-8 text", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "héllo wörld, ünïcode ß ж\n", "HéLLO WöRLD, üNïCODE ß ж\n")
	})

	// "every other byte unchanged: ... NUL and every byte >= 0x80."
	spec.It("echo/uppercase/tcp/other-bytes-unchanged", spec.MUST, "passes every byte value except a..z through unchanged", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		line := append(bytes.ReplaceAll(allBytes(), []byte("\n"), nil), '\n')
		c.Send(line)
		got, err := c.ReadLine(1024)
		t.Check(err)
		t.Check(spec.Equal("the reply line", upper(line), got))
	})

	// "\"\\n\" gives \"\\n\"."
	spec.It("echo/uppercase/tcp/empty-line", spec.MUST, "answers an empty line with an empty line", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		exchangeLine(t, c, "\n", "\n")
	})

	// "Replies come in order, one per line."
	spec.It("echo/uppercase/tcp/lines-in-order", spec.MUST, "answers several lines sent in one write, in order", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("one\ntwo\nthree\n")
		for _, want := range []string{"ONE\n", "TWO\n", "THREE\n"} {
			got, err := c.ReadLine(64)
			t.Check(err)
			t.Check(spec.Equal("the reply line", []byte(want), got))
		}
	})

	// "For every complete line": a line is complete at its LF, however it
	// was split into segments.
	spec.It("echo/uppercase/tcp/line-across-writes", spec.MUST, "answers a line sent in pieces once, after its LF", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("hel")
		early, closed, err := c.ReadFor(c.Scaled(quiet), 64)
		t.Check(err)
		if len(early) > 0 || closed {
			t.Failf("expected no reply before the line's LF, but received %s (closed: %v)", spec.Excerpt(early, 64), closed)
		}
		c.Send("lo\n")
		got, err := c.ReadLine(64)
		t.Check(err)
		t.Check(spec.Equal("the reply line", []byte("HELLO\n"), got))
	})

	// "the server keeps serving lines until the client closes."
	spec.It("echo/uppercase/tcp/serves-until-close", spec.MUST, "keeps answering lines on one connection", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		for i := range 10 {
			exchangeLine(t, c, fmt.Sprintf("line %d of ten\n", i+1), fmt.Sprintf("LINE %d OF TEN\n", i+1))
		}
	})

	// "if the client half-closes (EOF) while a partial line is pending, the
	// server sends Upper of the partial line without adding an LF, then
	// closes."
	spec.It("echo/uppercase/tcp/half-close-partial-line", spec.MUST, "answers a last line without LF after the client's FIN, then closes", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("no newline")
		t.Check(c.CloseWrite())
		got, err := c.ReadUntilClose(64)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte("NO NEWLINE"), got))
	})

	// "With nothing pending it just closes."
	spec.It("echo/uppercase/tcp/half-close-closes", spec.MUST, "answers the pending lines and closes after the client's FIN", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("done\n")
		t.Check(c.CloseWrite())
		got, err := c.ReadUntilClose(64)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte("DONE\n"), got))
	})

	// "a line may be at most MaxLine bytes, counting its LF (default 4096)."
	spec.It("echo/uppercase/tcp/max-line-accepted", spec.MUST, "answers a line of exactly 4096 bytes", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		line := strings.Repeat("a", maxLine-1) + "\n"
		exchangeLine(t, c, line, strings.ToUpper(line))
	})

	// "As soon as MaxLine bytes of one line have arrived without an LF, the
	// server sends exactly \"error: line too long\\n\" ... and closes the
	// connection."
	spec.It("echo/uppercase/tcp/over-long-line", spec.MUST, "answers 4096 bytes without an LF with the error line and closes", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		if err := c.TrySend(strings.Repeat("b", maxLine)); err != nil {
			t.Note("send cut short: %v", err)
		}
		got, err := c.ReadUntilClose(maxLine * 2)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte(lineTooLongReply), got))
	})

	// "... after the replies to the earlier lines and closes the
	// connection."
	spec.It("echo/uppercase/tcp/over-long-after-good-lines", spec.MUST, "answers the earlier lines before the error line", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		if err := c.TrySend("ok\n" + strings.Repeat("c", maxLine)); err != nil {
			t.Note("send cut short: %v", err)
		}
		got, err := c.ReadUntilClose(maxLine * 2)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte("OK\n"+lineTooLongReply), got))
	})

	// "Error replies are the only replies that contain lowercase ASCII, so a
	// client can always tell an error from an uppercased line."
	spec.It("echo/uppercase/tcp/replies-have-no-lowercase", spec.MUST, "never answers a line with lowercase ASCII letters", func(t *spec.T) {
		c := t.Dial("uppercase/tcp")
		c.Send("the quick brown fox jumps over the lazy dog\n")
		got, err := c.ReadLine(128)
		t.Check(err)
		if i := bytes.IndexFunc(got, func(r rune) bool { return r >= 'a' && r <= 'z' }); i >= 0 {
			t.Failf("expected no lowercase letter in an answer, but byte %d of %s is one", i, spec.Excerpt(got, 128))
		}
	})

	// Connections are served at once, up to MaxConns (default 256).
	spec.It("echo/uppercase/tcp/concurrent-connections", spec.MUST, "serves two interleaved connections, each with its own lines", func(t *spec.T) {
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
	// "each datagram ... is answered with exactly one datagram holding the
	// uppercased bytes."
	spec.It("echo/uppercase/udp/uppercases-datagram", spec.MUST, "answers a datagram with its upper case", func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte("HELLO, DATAGRAM\n"), exchangeDatagram(t, p, []byte("hello, datagram\n"))))
	})

	// "(same byte rule, whole datagram, no line splitting, no LF added)"
	spec.It("echo/uppercase/udp/no-lf-added", spec.MUST, "adds no LF to a datagram without one", func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte("NO NEWLINE"), exchangeDatagram(t, p, []byte("no newline"))))
	})

	// "whole datagram, no line splitting"
	spec.It("echo/uppercase/udp/whole-datagram", spec.MUST, "answers a datagram of several lines with one datagram", func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte("A\nB\r\nC"), exchangeDatagram(t, p, []byte("a\nb\r\nc"))))
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})

	// "same byte rule": every byte but a..z unchanged.
	spec.It("echo/uppercase/udp/other-bytes-unchanged", spec.MUST, "passes every byte value except a..z through unchanged", func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", upper(allBytes()), exchangeDatagram(t, p, allBytes())))
	})

	// "sent from the socket that received it (so from the service port) to
	// the datagram's source address and port."
	spec.It("echo/uppercase/udp/reply-from-service-port", spec.MUST, "answers from the address and port the datagram was sent to", func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		_, err := p.Exchange([]byte("which port answers?"), 0)
		t.Check(err)
	})

	// "each datagram (0..65507 bytes, including empty)"
	spec.It("echo/uppercase/udp/empty-datagram", spec.MUST, "answers an empty datagram with an empty datagram", func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		t.Check(spec.Equal("the answering datagram", []byte{}, exchangeDatagram(t, p, []byte{})))
	})

	// "each datagram (0..65507 bytes ...)"
	spec.It("echo/uppercase/udp/large-datagram", spec.MUST, "answers a 60000-byte datagram whole", func(t *spec.T) {
		p := t.DialPacket("uppercase/udp")
		data := bytes.Repeat([]byte("large udp datagram "), 60000/19+1)[:60000]
		t.Check(spec.Equal("the answering datagram", upper(data), exchangeDatagram(t, p, data)))
	})

	// "answered with exactly one datagram"
	spec.It("echo/uppercase/udp/one-reply-per-datagram", spec.MUST, "answers each of several datagrams exactly once", func(t *spec.T) {
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
				t.Failf("unexpected answer %s: not the upper case of a datagram sent, or answered twice", spec.Excerpt(got, 100))
			}
			want[string(got)]--
		}
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})
})
