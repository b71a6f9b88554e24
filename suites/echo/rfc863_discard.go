package echo

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// RFC 863, Discard Protocol.
var _ = Describe("RFC 863 discard", func() {
	// "Once a connection is established any data received is thrown away.
	// No response is sent."
	spec.It("echo/rfc863/tcp/sends-nothing", spec.MUST, "sends nothing back for the data it receives", func(t *spec.T) {
		c := t.Dial("discard/tcp")
		c.Send(bytes.Repeat([]byte("discard me\n"), 100))
		got, closed, err := c.ReadFor(c.Scaled(quiet), 4096)
		t.Check(err)
		if len(got) > 0 {
			t.Failf("expected no response, but received %s (%d bytes)", spec.Excerpt(got, 100), len(got))
		}
		if closed {
			t.Failf("expected the connection to stay open, but the target closed it")
		}
	})

	// "This continues until the calling user terminates the connection."
	spec.It("echo/rfc863/tcp/keeps-connection", spec.MUST, "keeps the connection open and accepting data until the client closes", func(t *spec.T) {
		c := t.Dial("discard/tcp")
		for range 3 {
			c.Send(bytes.Repeat([]byte{0, 1, 2, 0xff}, 4096))
			got, closed, err := c.ReadFor(c.Scaled(quiet/3), 4096)
			t.Check(err)
			if len(got) > 0 || closed {
				t.Failf("expected silence on an open connection, received %s, closed: %v", spec.Excerpt(got, 100), closed)
			}
		}
	})

	// "When a datagram is received, it is thrown away. No response is sent."
	spec.It("echo/rfc863/udp/no-response", spec.MUST, "sends nothing back for a datagram", func(t *spec.T) {
		p := t.DialPacket("discard/udp")
		p.Send("discard this datagram")
		t.Check(p.ExpectSilence(p.Scaled(quiet)))
	})
})
