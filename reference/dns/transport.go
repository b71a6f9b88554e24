package dns

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Transport limits shared by the servers.
const (
	// DefaultMaxTCPConns is the default limit of concurrent TCP connections.
	DefaultMaxTCPConns = 512
	// DefaultMaxTCPConnsPerClient is the default share of one client
	// address: one client cannot hold every connection slot.
	DefaultMaxTCPConnsPerClient = 32
	// DefaultTCPMaxLifetime bounds how long one TCP connection is served,
	// however busy: a client trickling queries cannot keep it forever.
	DefaultTCPMaxLifetime = 2 * time.Minute
	// DefaultTCPIdleTimeout is how long an idle TCP connection is kept;
	// RFC 7766 6.2.3 recommends timeouts of the order of seconds.
	DefaultTCPIdleTimeout = 10 * time.Second
	// maxInflightUDP bounds the UDP queries processed concurrently; more
	// are dropped, as a loaded server would.
	maxInflightUDP = 1024
	// readPoll is the read deadline of the UDP loop, so it notices Close.
	readPoll = time.Second
	// writeTimeout bounds every write.
	writeTimeout = 5 * time.Second
	// maxDNSMessage is the largest DNS message: the TCP length prefix is 16 bits.
	maxDNSMessage = 65535
)

// handleFunc answers one raw query; it returns the packed responses (none to
// drop the query, several for a zone transfer).
type handleFunc func(query []byte, client netip.AddrPort, tcp bool) [][]byte

// serveCore runs the UDP and TCP loops of a server and tracks what Close
// must shut down.
type serveCore struct {
	mu     sync.Mutex
	closed bool
	pcs    map[net.PacketConn]struct{}
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
	// perClient counts the TCP connections of each client address.
	perClient map[netip.Addr]int
	wg        sync.WaitGroup
}

// tcpLimits are the bounds of a server's TCP service; zero fields take
// the defaults.
type tcpLimits struct {
	maxConns  int           // concurrent connections
	perClient int           // concurrent connections of one client address
	idle      time.Duration // wait for the next query
	lifetime  time.Duration // a connection's whole life
}

func (l tcpLimits) withDefaults() tcpLimits {
	if l.maxConns <= 0 {
		l.maxConns = DefaultMaxTCPConns
	}
	if l.perClient <= 0 {
		l.perClient = DefaultMaxTCPConnsPerClient
	}
	l.perClient = min(l.perClient, l.maxConns)
	if l.idle <= 0 {
		l.idle = DefaultTCPIdleTimeout
	}
	if l.lifetime <= 0 {
		l.lifetime = DefaultTCPMaxLifetime
	}
	return l
}

func (c *serveCore) track(add func() bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if c.pcs == nil {
		c.pcs = make(map[net.PacketConn]struct{})
		c.lns = make(map[net.Listener]struct{})
		c.conns = make(map[net.Conn]struct{})
		c.perClient = make(map[netip.Addr]int)
	}
	return add()
}

func (c *serveCore) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// close shuts every socket and waits for the handlers still running.
func (c *serveCore) close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var errs []error
	for pc := range c.pcs {
		errs = append(errs, pc.Close())
	}
	for ln := range c.lns {
		errs = append(errs, ln.Close())
	}
	for conn := range c.conns {
		conn.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}

// addrPort converts a net.Addr to netip.AddrPort; unknown kinds map to the
// zero value, which no allow-list contains.
func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.UDPAddr:
		return v.AddrPort()
	case *net.TCPAddr:
		return v.AddrPort()
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func normalize(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// DefaultMaxInflightPerClient is the default share of one client address
// of the UDP queries processed concurrently.
const DefaultMaxInflightPerClient = 64

// udpOptions are the optional parts of a UDP loop.
type udpOptions struct {
	// fast answers a query at once, without taking an in-flight slot,
	// when it can (a resolver's cache hit); ok=false sends the query to
	// the slow path.
	fast func(query []byte, client netip.AddrPort) (out [][]byte, ok bool)
	// perClient bounds the in-flight queries of one client address
	// (DefaultMaxInflightPerClient).
	perClient int
}

// serveUDP reads datagrams from pc until Close and answers each in its own
// goroutine.
func (c *serveCore) serveUDP(pc net.PacketConn, h handleFunc) error {
	return c.serveUDPWith(pc, h, udpOptions{})
}

// serveUDPWith is serveUDP with a fast path and a per-client share of the
// in-flight slots.
func (c *serveCore) serveUDPWith(pc net.PacketConn, h handleFunc, o udpOptions) error {
	if !c.track(func() bool { c.pcs[pc] = struct{}{}; return true }) {
		return ErrServerClosed
	}
	c.wg.Add(1)
	defer c.wg.Done()
	if o.perClient <= 0 {
		o.perClient = DefaultMaxInflightPerClient
	}
	sem := make(chan struct{}, maxInflightUDP)
	var mu sync.Mutex
	inflight := map[netip.Addr]int{}
	buf := make([]byte, maxDNSMessage)
	for {
		_ = pc.SetReadDeadline(time.Now().Add(readPoll))
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if stop, ret := c.readFailed(err); stop {
				return ret
			}
			continue
		}
		client := normalize(addrPort(from))
		if o.fast != nil {
			if outs, ok := o.fast(buf[:n], client); ok {
				for _, out := range outs {
					_ = pc.SetWriteDeadline(time.Now().Add(writeTimeout))
					if _, err := pc.WriteTo(out, from); err != nil {
						break
					}
				}
				continue
			}
		}
		addr := client.Addr()
		mu.Lock()
		over := inflight[addr] >= o.perClient
		if !over {
			inflight[addr]++
		}
		mu.Unlock()
		if over {
			continue // this client's share is taken: drop, it retries
		}
		release := func() {
			mu.Lock()
			if inflight[addr]--; inflight[addr] <= 0 {
				delete(inflight, addr)
			}
			mu.Unlock()
		}
		select {
		case sem <- struct{}{}:
		default:
			release()
			continue // overloaded: drop, the client retries
		}
		pkt := append([]byte(nil), buf[:n]...)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer func() { <-sem; release() }()
			for _, out := range h(pkt, client, false) {
				_ = pc.SetWriteDeadline(time.Now().Add(writeTimeout))
				if _, err := pc.WriteTo(out, from); err != nil {
					return
				}
			}
		}()
	}
}

// readFailed classifies an error of a UDP socket's read: the loop stops
// (returning ret) once the server is closed or the socket is; it goes on
// after a read deadline (which only lets it notice Close) and after
// ICMP-induced and other transient errors.
func (c *serveCore) readFailed(err error) (stop bool, ret error) {
	switch {
	case c.isClosed():
		return true, nil
	case errors.Is(err, net.ErrClosed):
		return true, err
	}
	return false, nil
}

// serveTCP accepts connections until Close; each carries any number of
// length-prefixed queries (RFC 1035 4.2.2, RFC 7766 6.2.1), answered in
// order.
func (c *serveCore) serveTCP(ln net.Listener, h handleFunc, lim tcpLimits) error {
	if !c.track(func() bool { c.lns[ln] = struct{}{}; return true }) {
		return ErrServerClosed
	}
	c.wg.Add(1)
	defer c.wg.Done()
	lim = lim.withDefaults()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if c.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: back off
			continue
		}
		client := normalize(addrPort(conn.RemoteAddr())).Addr()
		ok := c.track(func() bool {
			// RFC 7766 6.2.2: "servers MAY impose limits on the number
			// of concurrent TCP connections being handled for any
			// particular client IP address or subnet"; beyond that
			// share or the total limit, close at once.
			if len(c.conns) >= lim.maxConns || c.perClient[client] >= lim.perClient {
				return false
			}
			c.conns[conn] = struct{}{}
			c.perClient[client]++
			c.wg.Add(1)
			return true
		})
		if !ok {
			conn.Close()
			continue
		}
		go func() {
			defer c.wg.Done()
			defer func() {
				c.mu.Lock()
				delete(c.conns, conn)
				if c.perClient[client]--; c.perClient[client] <= 0 {
					delete(c.perClient, client)
				}
				c.mu.Unlock()
				conn.Close()
			}()
			serveConn(conn, h, lim)
		}()
	}
}

// serveConn answers the queries of one TCP connection until EOF, an error,
// the idle timeout or the end of the connection's lifetime.
func serveConn(conn net.Conn, h handleFunc, lim tcpLimits) {
	client := normalize(addrPort(conn.RemoteAddr()))
	end := time.Now().Add(lim.lifetime)
	var lenbuf [2]byte
	for {
		// RFC 7766 6.2.3: the server closes a connection idle for longer
		// than its timeout; no connection outlives its lifetime, so
		// queries trickled in just under the idle timeout cannot hold a
		// slot forever.
		now := time.Now()
		if !now.Before(end) {
			return
		}
		_ = conn.SetReadDeadline(minTime(now.Add(lim.idle), end))
		if _, err := io.ReadFull(conn, lenbuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenbuf[:]))
		if n == 0 {
			return // ErrZeroLength: nothing sensible follows
		}
		msg := make([]byte, n)
		_ = conn.SetReadDeadline(minTime(time.Now().Add(min(lim.idle, writeTimeout)), end))
		if _, err := io.ReadFull(conn, msg); err != nil {
			return
		}
		for _, out := range h(msg, client, true) {
			if len(out) > maxDNSMessage {
				return
			}
			frame := make([]byte, 2+len(out))
			binary.BigEndian.PutUint16(frame, uint16(len(out)))
			copy(frame[2:], out)
			_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := conn.Write(frame); err != nil {
				return
			}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// rateLimiter counts responses per client address per second; it is the
// simple form of response rate limiting (RRL), off when limit is 0.
type rateLimiter struct {
	mu     sync.Mutex
	second int64
	counts map[netip.Addr]int
}

// allow reports whether one more response to addr fits this second.
func (r *rateLimiter) allow(addr netip.Addr, limit int) bool {
	if limit <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().Unix()
	if now != r.second || r.counts == nil || len(r.counts) > 1<<16 {
		r.second = now
		r.counts = make(map[netip.Addr]int)
	}
	r.counts[addr]++
	return r.counts[addr] <= limit
}
