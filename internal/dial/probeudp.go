package dial

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// ProbeUDP is the liveness exchange of a UDP service: it sends payload to
// addr up to tries times within ctx's deadline (a lost datagram is
// retransmitted, as a UDP client does) and succeeds on the first datagram
// from the addressed host that accept takes, from whichever port: a
// server that answers from another port is alive (the specs judge the
// port), where a connected socket would hear nothing. It reads at most
// 64 KiB a datagram.
func ProbeUDP(ctx context.Context, addr string, payload []byte, tries int, accept func([]byte) bool) error {
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return err
	}
	lc := net.ListenConfig{}
	local := "0.0.0.0:0"
	if to.IP.To4() == nil {
		local = "[::]:0"
	}
	pc, err := lc.ListenPacket(ctx, "udp", local)
	if err != nil {
		return err
	}
	defer pc.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Second)
	}
	tries = max(tries, 1)
	buf := make([]byte, 64<<10)
	var last error
	for i := 0; i < tries; i++ {
		try := deadline
		if i < tries-1 {
			try = time.Now().Add(time.Until(deadline) / time.Duration(tries-i))
		}
		if err := pc.SetDeadline(try); err != nil {
			return err
		}
		if _, err := pc.WriteTo(payload, to); err != nil {
			return err
		}
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					return err
				}
				last = err
				break
			}
			if ua, ok := from.(*net.UDPAddr); ok && ua.IP.Equal(to.IP) && accept(buf[:n]) {
				return nil
			}
			last = fmt.Errorf("a datagram from %s that is no answer", from)
		}
	}
	return fmt.Errorf("no answer from %s in %d tries: %w", addr, tries, last)
}
