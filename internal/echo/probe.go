package echo

import (
	"context"
	"errors"
	"fmt"
	"net"

	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
)

// probeLine is what the liveness probe sends to echo and uppercase.
const probeLine = "protospec liveness\r\n"

// probe checks that a service of the family is alive at addr: echo and
// uppercase answer a line (any bytes: liveness, not conformance), daytime
// and chargen send something, over TCP on connect and over UDP to a
// datagram. Discard answers nothing by design and cannot be probed.
func probe(ctx context.Context, service, addr string) error {
	name, transport, _ := strings.Cut(service, "/")
	if transport != "tcp" && transport != "udp" {
		return fmt.Errorf("echo: no probe for %s", service)
	}
	send := ""
	switch name {
	case "echo", "uppercase":
		send = probeLine
	case "daytime", "chargen":
		if transport == "udp" {
			send = "\n"
		}
	case "discard":
		return fmt.Errorf("echo: %s at %s: %w", service, addr, protocol.ErrUnprobed)
	default:
		return fmt.Errorf("echo: no probe for %s", service)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Second)
	}
	// A connected UDP socket reports a closed port at once.
	var d dial.Dialer
	c, err := d.Connect(ctx, dial.Endpoint{Network: transport, Addr: addr})
	if err != nil {
		return fmt.Errorf("echo: %s at %s: %w", service, addr, err)
	}
	defer c.Close()
	// Over UDP a datagram may be lost (xinetd drops one now and then): the
	// probe sends it up to three times within the deadline, as a UDP
	// client does.
	tries := 1
	if transport == "udp" {
		tries = 3
	}
	buf := make([]byte, 512)
	for i := 0; ; i++ {
		try := deadline
		if left := time.Until(deadline); i < tries-1 {
			try = time.Now().Add(left / time.Duration(tries-i))
		}
		if err := c.SetDeadline(try); err != nil {
			return err
		}
		if send != "" {
			if _, err := c.Write([]byte(send)); err != nil {
				return fmt.Errorf("echo: %s at %s: sending a line: %w", service, addr, err)
			}
		}
		n, err := c.Read(buf)
		if n > 0 {
			return nil
		}
		if i == tries-1 || !isTimeout(err) {
			return fmt.Errorf("echo: %s at %s answered nothing: %v", service, addr, err)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
