package spec_test

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

// The package documentation's example, compiled so that it stays true.
var tcpEcho = spec.Section("echo", "rfc862", "tcp", "TCP Based Echo Service")

func ExampleSpecs_It() {
	_ = Describe("RFC 862 TCP echo", func() {
		tcpEcho.It("echoes-data", spec.MUST, "sends back the data it receives",
			spec.Inferred("Once a connection is established any data received is sent back.", "RFC 862 predates RFC 2119"),
			func(t *spec.T) {
				c := t.Dial("echo/tcp")
				c.Send("hello\n")
				got, err := c.ReadN(6)
				t.Check(err)
				t.Check(spec.Equal("the echoed bytes", []byte("hello\n"), got))
			})
	})
}
