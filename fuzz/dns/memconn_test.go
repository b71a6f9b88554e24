package dnsfuzz

import (
	"net"
	"sync"
	"time"
)

// memConn is an in-memory net.PacketConn: it delivers one datagram from a
// loopback client, records what is written back, and reports once the server
// has taken the datagram and come back for more.
type memConn struct {
	in       chan []byte
	closed   chan struct{}
	consumed chan struct{}
	once     sync.Once
	reads    int
	mu       sync.Mutex
	out      [][]byte
}

var memClient = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}

func newMemConn(pkt []byte) *memConn {
	c := &memConn{in: make(chan []byte, 1), closed: make(chan struct{}), consumed: make(chan struct{})}
	c.in <- pkt
	return c
}

func (c *memConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.mu.Lock()
	c.reads++
	if c.reads == 2 {
		close(c.consumed)
	}
	c.mu.Unlock()
	select {
	case p := <-c.in:
		return copy(b, p), memClient, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *memConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, append([]byte(nil), b...))
	return len(b), nil
}

func (c *memConn) written() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out
}

func (c *memConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *memConn) LocalAddr() net.Addr              { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
