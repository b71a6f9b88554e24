package echo

import (
	"context"
	"fmt"

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
	if transport == "udp" {
		// Any answer counts, from whichever port: liveness, not
		// conformance. A lost datagram is sent again.
		if err := dial.ProbeUDP(ctx, addr, []byte(send), 3, func([]byte) bool { return true }); err != nil {
			return fmt.Errorf("echo: %s at %s answered nothing: %w", service, addr, err)
		}
		return nil
	}
	var d dial.Dialer
	c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return fmt.Errorf("echo: %s at %s: %w", service, addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	if send != "" {
		if _, err := c.Write([]byte(send)); err != nil {
			return fmt.Errorf("echo: %s at %s: sending a line: %w", service, addr, err)
		}
	}
	buf := make([]byte, 512)
	if n, err := c.Read(buf); n == 0 {
		return fmt.Errorf("echo: %s at %s answered nothing: %v", service, addr, err)
	}
	return nil
}
