package dns

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// udpBatch is the number of datagrams one recvmmsg/sendmmsg moves.
const udpBatch = 32

// serveUDPBatched answers the datagrams arriving on pc with a handler that
// never blocks (the authoritative server's): each worker reads
// up to udpBatch datagrams with one recvmmsg, answer them in turn and send
// the answers with one sendmmsg. One system call per batch instead of two
// per query is most of what an authoritative server's throughput is made
// of. workers goroutines (at least 1) read the socket. A pc that is not a
// UDP socket (an in-memory one, say) is served by serveUDP.
func (c *serveCore) serveUDPBatched(pc net.PacketConn, h handleFunc, workers int) error {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return c.serveUDP(pc, h)
	}
	if !c.track(func() bool { c.pcs[pc] = struct{}{}; return true }) {
		return ErrServerClosed
	}
	c.wg.Add(1)
	defer c.wg.Done()
	// ipv4.PacketConn's batches are plain recvmmsg/sendmmsg with the
	// address in the family the socket has, so they serve IPv6 too.
	bc := ipv4.NewPacketConn(uc)
	workers = max(1, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.udpWorker(uc, bc, h)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *serveCore) udpWorker(uc *net.UDPConn, bc *ipv4.PacketConn, h handleFunc) error {
	in := make([]ipv4.Message, udpBatch)
	for i := range in {
		// Full-size buffers: the kernel touches only what it writes, and
		// a query of any legal size is read whole.
		in[i].Buffers = [][]byte{make([]byte, maxDNSMessage)}
	}
	out := make([]ipv4.Message, 0, udpBatch)
	var deadline time.Time
	for {
		// The read deadline only lets the loop notice Close; refresh it
		// when half of it is gone rather than on every batch.
		if now := time.Now(); deadline.Sub(now) < readPoll/2 {
			deadline = now.Add(readPoll)
			_ = uc.SetReadDeadline(deadline)
		}
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if stop, ret := c.readFailed(err); stop {
				return ret
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				deadline = time.Time{} // set a new one
			}
			continue
		}
		out = out[:0]
		for i := range in[:n] {
			m := &in[i]
			if m.Flags&unix.MSG_TRUNC != 0 || m.Addr == nil {
				continue // larger than any DNS message: not a query
			}
			client := normalize(addrPort(m.Addr))
			for _, resp := range h(m.Buffers[0][:m.N], client, false) {
				out = append(out, ipv4.Message{Buffers: [][]byte{resp}, Addr: m.Addr})
			}
		}
		if len(out) == 0 {
			continue
		}
		_ = uc.SetWriteDeadline(time.Now().Add(writeTimeout))
		for sent := 0; sent < len(out); {
			k, err := bc.WriteBatch(out[sent:], 0)
			if err != nil {
				// The datagram at out[sent+k] could not go (a vanished
				// client's ICMP error, say): skip it, send the rest.
				sent += max(k, 0) + 1
				continue
			}
			sent += k
		}
		clear(out) // drop the references to the answers and addresses
	}
}
