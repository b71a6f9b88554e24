package echo

import (
	"bytes"
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc862_tcp = spec.Section("echo", "rfc862", "tcp", "TCP Based Echo Service")
var rfc862_udp = spec.Section("echo", "rfc862", "udp", "UDP Based Echo Service")

// RFC 862, Echo Protocol.
var _ = Describe("RFC 862 echo over TCP", func() {
	rfc862_tcp.It("echoes-line", spec.MUST, "sends back a line it receives, unchanged", spec.Inferred(`Once a connection is established any data received is sent back.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		exchangeLine(t, c, "hello, world\n", "hello, world\n")
	})

	rfc862_tcp.It("preserves-case", spec.MUST, "sends back mixed-case text without changing it", spec.Inferred(`Once a connection is established any data received is sent back.`, "RFC 862 predates RFC 2119's key words").SharedBecause("one sentence, several cases of it"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		exchangeLine(t, c, "MiXeD CaSe 123 abc XYZ\n", "MiXeD CaSe 123 abc XYZ\n")
	})

	rfc862_tcp.It("echoes-binary", spec.MUST, "sends back every byte value 0x00..0xff unchanged", spec.Inferred(`Once a connection is established any data received is sent back.`, "RFC 862 predates RFC 2119's key words").SharedBecause("one sentence, several cases of it"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		c.Send(allBytes())
		t.Check(spec.Equal("the echoed bytes", allBytes(), readStream(t, c, 256)))
	})

	rfc862_tcp.It("no-line-semantics", spec.MUST, "sends back data that has no line end without waiting for one", spec.Inferred(`"any data received is sent back": data, not lines; the server must not wait for a line end.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		c.Send("partial")
		t.Check(spec.Equal("the echoed bytes", []byte("partial"), readStream(t, c, 7)))
	})

	rfc862_tcp.It("continues-until-close", spec.MUST, "keeps echoing on one connection over several exchanges", spec.Inferred(`This continues until the calling user terminates the connection.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		for i := range 5 {
			line := fmt.Sprintf("round %d of 5\n", i+1)
			exchangeLine(t, c, line, line)
		}
	})

	rfc862_tcp.It("large-stream", spec.MUST, "sends back 256 KiB sent while it is still echoing", spec.Inferred(`"any data received is sent back": all of it, also in bulk.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		data := bytes.Repeat([]byte("0123456789abcdef"), 16<<10)
		errc := make(chan error, 1)
		go func() { errc <- c.TrySend(data) }()
		got, err := c.ReadN(len(data))
		t.Check(err)
		t.Check(<-errc)
		t.Check(spec.Equal("the echoed stream", data, got))
	})

	rfc862_tcp.It("echoes-after-half-close", spec.MUST, "still sends back what arrived before the client's FIN", spec.Inferred(`"any data received is sent back": data that arrived before the client half-closed is still data received.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		c.Send("last words\n")
		t.Check(c.CloseWrite())
		got, err := c.ReadN(len("last words\n"))
		t.Check(err)
		t.Check(spec.Equal("the echoed bytes", []byte("last words\n"), got))
	})

	rfc862_tcp.It("closes-after-client", spec.SHOULD, "closes its side once the client has closed its side", spec.Inferred(`"This continues until the calling user terminates the connection." Once the user has, the server has nothing left to do and should close.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("echo/tcp")
		c.Send("bye\n")
		t.Check(c.CloseWrite())
		got, err := c.ReadUntilClose(64)
		t.Check(err)
		t.Check(spec.Equal("everything received before the close", []byte("bye\n"), got))
	})

	rfc862_tcp.It("concurrent-connections", spec.SHOULD, "serves two interleaved connections, each with its own data", spec.Inferred(`"A server listens for TCP connections on TCP port 7." RFC 862 says no more about several users; a listening server serves each connection it accepts, two at once as well as one.`, "RFC 862 predates RFC 2119's key words, and has no sentence on concurrent connections"), func(t *spec.T) {
		a, b := t.Dial("echo/tcp"), t.Dial("echo/tcp")
		a.Send("first connection\n")
		b.Send("second connection\n")
		got, err := b.ReadLine(64)
		t.Check(err)
		t.Check(spec.Equal("the reply on the second connection", []byte("second connection\n"), got))
		got, err = a.ReadLine(64)
		t.Check(err)
		t.Check(spec.Equal("the reply on the first connection", []byte("first connection\n"), got))
	})
})

var _ = Describe("RFC 862 echo over UDP", func() {
	rfc862_udp.It("echoes-datagram", spec.MUST, "answers a datagram with one holding the same data", spec.Inferred(`When a datagram is received, the data from it is sent back in an answering datagram.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("echo/udp")
		t.Check(spec.Equal("the answering datagram", []byte("hello, datagram"), exchangeDatagram(t, p, []byte("hello, datagram"))))
	})

	rfc862_udp.It("echoes-binary", spec.MUST, "sends back every byte value 0x00..0xff unchanged", spec.Inferred(`the data from it is sent back in an answering datagram.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("echo/udp")
		t.Check(spec.Equal("the answering datagram", allBytes(), exchangeDatagram(t, p, allBytes())))
	})

	rfc862_udp.It("reply-from-service-port", spec.MUST, "answers from the address and port the datagram was sent to", spec.Inferred(`The answering datagram goes back from the port the request was sent to: RFC 768's source port "may be assumed to be the port to which a reply should be addressed", and a client matches the reply by that port.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("echo/udp")
		_, err := p.Exchange([]byte("which port answers?"), 0)
		t.Check(err)
	})

	rfc862_udp.It("one-answer-per-datagram", spec.MUST, "answers each of several datagrams exactly once", spec.Inferred(`"When a datagram is received ... an answering datagram": one each.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("echo/udp")
		want := map[string]int{}
		for i := range 4 {
			d := fmt.Sprintf("datagram %d", i)
			want[d]++
			p.Send(d)
		}
		for range 4 {
			got, err := p.Reply(0)
			t.Check(err)
			if want[string(got)] == 0 {
				t.Mismatch("one answer per datagram sent, each the same data", "%s: not one of the datagrams sent, or answered twice", spec.Excerpt(got, 100))
			}
			want[string(got)]--
		}
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})

	rfc862_udp.It("large-datagram", spec.SHOULD, "sends back a 4096-byte datagram whole", spec.Inferred(`"the data from it is sent back": all of the data of a large datagram.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("echo/udp")
		data := bytes.Repeat([]byte("udp-echo"), 512)
		t.Check(spec.Equal("the answering datagram", data, exchangeDatagram(t, p, data)))
	})

	rfc862_udp.It("empty-datagram", spec.SHOULD, "answers an empty datagram with an empty datagram", spec.Inferred(`"When a datagram is received ... an answering datagram": an empty datagram is a datagram too.`, "RFC 862 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("echo/udp")
		t.Check(spec.Equal("the answering datagram", []byte{}, exchangeDatagram(t, p, []byte{})))
	})
})
