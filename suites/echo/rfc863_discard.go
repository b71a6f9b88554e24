package echo

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc863_tcp = spec.Section("echo", "rfc863", "tcp", "TCP Based Discard Service")
var rfc863_udp = spec.Section("echo", "rfc863", "udp", "UDP Based Discard Service")

// RFC 863, Discard Protocol.
var _ = Describe("RFC 863 discard", func() {
	rfc863_tcp.It("sends-nothing", spec.MUST, "sends nothing back for the data it receives", spec.Inferred(`Once a connection is established any data received is thrown away. No response is sent.`, "RFC 863 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("discard/tcp")
		c.Send(bytes.Repeat([]byte("discard me\n"), 100))
		got, closed, err := c.ReadFor(c.Scaled(quiet), 4096)
		t.Check(err)
		if len(got) > 0 {
			t.Mismatch("no response", "%s (%d bytes)", spec.Excerpt(got, 100), len(got))
		}
		if closed {
			t.Mismatch("the connection to stay open", "the target closed it")
		}
	})

	rfc863_tcp.It("keeps-connection", spec.MUST, "keeps the connection open and accepting data until the client closes", spec.Inferred(`This continues until the calling user terminates the connection.`, "RFC 863 predates RFC 2119's key words"), func(t *spec.T) {
		c := t.Dial("discard/tcp")
		for range 3 {
			c.Send(bytes.Repeat([]byte{0, 1, 2, 0xff}, 4096))
			got, closed, err := c.ReadFor(c.Scaled(quiet/3), 4096)
			t.Check(err)
			if len(got) > 0 || closed {
				t.Mismatch("silence on an open connection", "%s, closed: %v", spec.Excerpt(got, 100), closed)
			}
		}
	})

	rfc863_udp.It("no-response", spec.MUST, "sends nothing back for a datagram", spec.Inferred(`When a datagram is received, it is thrown away. No response is sent.`, "RFC 863 predates RFC 2119's key words"), func(t *spec.T) {
		p := t.DialPacket("discard/udp")
		p.Send("discard this datagram")
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})
})
