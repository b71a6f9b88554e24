package echofuzz

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/protospec/protospec/internal/dial"
	contract "github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/internal/stress"
)

// The echo stress battery (`protospec stress echo`), in the
// hostile-client room beside the fuzz model.
func init() {
	const svc = "echo/tcp"
	stress.Register(contract.Name, stress.Battery{
		Examples: []string{"--list", "--target xinetd"},
		Attacks: []stress.Attack{
			stress.ConnFlood(svc, nil),
			// Every byte comes back: 8 MiB each is more than a loopback
			// socket's send and receive buffers together hold.
			stress.SlowReader(svc, 16, 8<<20, bytes.Repeat([]byte("protospec stress line\r\n"), 64)),
		},
		Probe: probeEcho,
	})
}

// probeEcho is the legitimate echo client: a line sent on a new
// connection to echo/tcp comes back unchanged within ctx's deadline.
func probeEcho(ctx context.Context, service, addr string) error {
	if service != "echo/tcp" {
		return fmt.Errorf("echo stress probe: no service %q", service)
	}
	var d dial.Dialer
	c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Second)
	}
	c.SetDeadline(deadline)
	line := []byte("protospec legitimate client\r\n")
	if _, err := c.Write(line); err != nil {
		return err
	}
	got := make([]byte, len(line))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("echo/tcp: %w", err)
	}
	if !bytes.Equal(got, line) {
		return fmt.Errorf("echo/tcp answered %q, want %q", got, line)
	}
	return nil
}
