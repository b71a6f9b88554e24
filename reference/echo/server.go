package echo

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/netutil"
)

// Service names one of the services a [Server] can run.
type Service string

// The services of this package; see the package documentation for their
// exact behaviour.
const (
	Echo      Service = "echo"      // RFC 862
	Uppercase Service = "uppercase" // protospec line protocol
	Discard   Service = "discard"   // RFC 863
	Daytime   Service = "daytime"   // RFC 867
	Chargen   Service = "chargen"   // RFC 864
)

// Services lists every [Service] in a fixed order, for CLIs and launchers.
var Services = []Service{Echo, Uppercase, Discard, Daytime, Chargen}

// Defaults used when the matching [Server] field is zero or negative.
const (
	DefaultMaxLine      = 4096
	DefaultIdleTimeout  = 60 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

// Default connection limits: well under the usual descriptor limit of
// 1024, and an eighth of them for one client address, so that one client
// cannot take every slot.
const (
	DefaultMaxConns          = 512
	DefaultMaxConnsPerClient = 64
)

// Wire texts of the uppercase error replies. They are the only uppercase
// replies that contain lowercase ASCII.
const (
	LineTooLongReply  = "error: line too long\n"
	TooManyConnsReply = "error: too many connections\n"
)

// Sentinel errors. ErrServerClosed is returned by Serve and ServePacket;
// the others are what the server logs when it ends a connection.
var (
	// ErrServerClosed is returned by Serve and ServePacket after Close.
	ErrServerClosed = errors.New("echo: server closed")
	// ErrUnknownService means Server.Service is not one of Services.
	ErrUnknownService = errors.New("echo: unknown service")
	// ErrLineTooLong means an uppercase line reached MaxLine bytes without an LF.
	ErrLineTooLong = errors.New("echo: line too long")
	// ErrTooManyConns means a connection arrived while MaxConns were being
	// served, or while MaxConnsPerClient of its client address were.
	ErrTooManyConns = errors.New("echo: too many connections")
)

const (
	// readBufSize is the size of each TCP read and so the most one write
	// sends back at a time.
	readBufSize = 32 << 10
	// maxDatagram is the largest UDP payload over IPv4. The read buffer is
	// larger so that IPv6 datagrams (up to 65527 bytes) are answered too.
	maxDatagram = 65507
	packetBuf   = 1 << 16
	// lingerTimeout and lingerBytes bound how long and how much the server
	// keeps reading after it has sent its last byte and a FIN, so that
	// closing with unread input does not reset the connection and destroy
	// the reply before the client has read it.
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 256 << 10
	// maxRejecting bounds the goroutines that send the over-limit reply;
	// beyond it, over-limit connections are closed without a reply.
	maxRejecting = 64
)

// Server runs one [Service] on any number of stream listeners and packet
// conns. The zero value of every field but Service selects its default.
// A Server must not be changed after its first Serve or ServePacket call.
type Server struct {
	Service      Service
	MaxLine      int           // longest uppercase line, LF included; 0: 4096
	IdleTimeout  time.Duration // 0: 60s
	WriteTimeout time.Duration // deadline of each write; 0: 10s
	MaxConns     int           // concurrent TCP connections; 0: 512
	ErrorLog     *log.Logger   // nil: errors are discarded
	// AccessLog, if set, gets one line per TCP connection (when it ends)
	// and per datagram: service, transport, client, bytes in and out.
	AccessLog *log.Logger
	Now       func() time.Time // clock for daytime; nil: time.Now
	// MaxConnsPerClient bounds the concurrent TCP connections of one
	// client (source) address (0: 64, at most MaxConns; negative: no
	// share). Connections without an IP address have no share.
	MaxConnsPerClient int

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	packets   map[net.PacketConn]struct{}
	conns     map[net.Conn]struct{}
	active    int                // counted connections, those under MaxConns
	perClient map[netip.Addr]int // counted connections of each client address
	rejecting int                // over-limit connections still being answered
	wg        sync.WaitGroup
}

func (s *Server) maxLine() int {
	if s.MaxLine > 0 {
		return s.MaxLine
	}
	return DefaultMaxLine
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return DefaultWriteTimeout
}

func (s *Server) maxConns() int {
	if s.MaxConns > 0 {
		return s.MaxConns
	}
	return DefaultMaxConns
}

func (s *Server) maxConnsPerClient() int {
	n := s.MaxConnsPerClient
	if n == 0 {
		n = DefaultMaxConnsPerClient
	}
	return min(n, s.maxConns())
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	}
}

func (s *Server) checkService() error {
	if !slices.Contains(Services, s.Service) {
		return fmt.Errorf("%w: %q", ErrUnknownService, s.Service)
	}
	return nil
}

// Serve accepts connections on l and serves each in its own goroutine until
// l fails or Close is called. It always closes l and returns a non-nil
// error: ErrServerClosed after Close. Transient accept errors (out of
// descriptors or memory, an aborted connection; see [netutil.RetryAccept])
// are retried with a back-off from 5 ms up to 1 s, as net/http does, since
// the connections being served free what accept lacks.
func (s *Server) Serve(l net.Listener) error {
	if err := s.checkService(); err != nil {
		l.Close()
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[l] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
		s.wg.Done()
	}()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if netutil.RetryAccept(err) {
				backoff = netutil.NextBackoff(backoff)
				s.logf("echo: accept error: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.startConn(c)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// startConn registers c and starts its goroutine, or turns it away when the
// server is closed or full, or c's client has its share of the connections.
func (s *Server) startConn(c net.Conn) {
	ip := netutil.ClientAddr(c.RemoteAddr())
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
		s.perClient = make(map[netip.Addr]int)
	}
	share := s.maxConnsPerClient()
	if s.active >= s.maxConns() || share > 0 && ip.IsValid() && s.perClient[ip] >= share {
		if s.Service != Uppercase || s.rejecting >= maxRejecting {
			s.mu.Unlock()
			s.logf("%v from %v", ErrTooManyConns, c.RemoteAddr())
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.rejecting++
		s.wg.Add(1)
		s.mu.Unlock()
		s.logf("%v from %v", ErrTooManyConns, c.RemoteAddr())
		go s.reject(c)
		return
	}
	s.conns[c] = struct{}{}
	s.active++
	s.perClient[ip]++
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serveConn(c, ip)
}

// reject sends the over-limit reply of the uppercase service and closes c.
func (s *Server) reject(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.rejecting--
		s.mu.Unlock()
		s.wg.Done()
	}()
	if s.write(c, []byte(TooManyConnsReply)) != nil {
		c.Close()
		return
	}
	lingerClose(c)
}

// serveConn serves c, a connection counted against ip's share.
func (s *Server) serveConn(c net.Conn, ip netip.Addr) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.active--
		if s.perClient[ip]--; s.perClient[ip] <= 0 {
			delete(s.perClient, ip)
		}
		s.mu.Unlock()
		s.wg.Done()
	}()
	var cc *countConn
	var start time.Time
	if s.AccessLog != nil {
		cc, start = &countConn{Conn: c}, time.Now()
		c = cc
	}
	switch s.Service {
	case Uppercase:
		s.serveUppercase(c)
	case Echo:
		s.serveEcho(c)
	case Discard:
		s.serveDiscard(c)
	case Daytime:
		s.serveDaytime(c)
	case Chargen:
		s.serveChargen(c)
	default:
		c.Close()
	}
	if cc != nil {
		s.AccessLog.Printf("%s tcp %v in=%d out=%d %v", s.Service, c.RemoteAddr(), cc.in, cc.out, time.Since(start).Round(time.Microsecond))
	}
}

// countConn counts the bytes read and written on a connection, for the
// access log. Reads and writes may run in two goroutines (chargen), each
// counter is touched by one only, and read once both are done.
type countConn struct {
	net.Conn
	in, out int64
}

func (c *countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.in += int64(n)
	return n, err
}

func (c *countConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.out += int64(n)
	return n, err
}

// CloseWrite half-closes the connection underneath, if it can.
func (c *countConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// write sends b on c under a fresh WriteTimeout deadline.
func (s *Server) write(c net.Conn, b []byte) error {
	if err := c.SetWriteDeadline(time.Now().Add(s.writeTimeout())); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

// lingerClose ends the server's side of c gracefully: it sends a FIN after
// everything written so far, reads and drops what the client still sends
// (at most lingerBytes for at most lingerTimeout), then closes. Closing at
// once with unread input would make the kernel answer with a reset, which
// can destroy a reply the client has not read yet.
func lingerClose(c net.Conn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		c.Close()
		return
	}
	if cw.CloseWrite() != nil || c.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		c.Close()
		return
	}
	io.CopyN(io.Discard, c, lingerBytes)
	c.Close()
}

// ServePacket answers the datagrams read from pc until pc fails or Close is
// called. It always closes pc and returns a non-nil error: ErrServerClosed
// after Close. Replies go out through pc itself, so they come from the
// service port. The blocking read has no deadline on purpose: a packet
// service waits for datagrams for as long as it runs, and Close unblocks it.
func (s *Server) ServePacket(pc net.PacketConn) error {
	if err := s.checkService(); err != nil {
		pc.Close()
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		pc.Close()
		return ErrServerClosed
	}
	if s.packets == nil {
		s.packets = make(map[net.PacketConn]struct{})
	}
	s.packets[pc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.packets, pc)
		s.mu.Unlock()
		pc.Close()
		s.wg.Done()
	}()

	buf := make([]byte, packetBuf)
	var out []byte
	var backoff time.Duration
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("echo: packet read error: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if n == len(buf) {
			// Possibly truncated (a jumbogram): answering part of it
			// would break the one-datagram-in, same-datagram-out rule.
			s.logf("echo: datagram from %v of %d bytes or more dropped", addr, n)
			continue
		}
		var reply bool
		out, reply = s.packetReply(out[:0], buf[:n])
		if s.AccessLog != nil {
			sent := 0
			if reply {
				sent = len(out)
			}
			s.AccessLog.Printf("%s udp %v in=%d out=%d", s.Service, addr, n, sent)
		}
		if !reply {
			continue
		}
		if err := pc.SetWriteDeadline(time.Now().Add(s.writeTimeout())); err != nil {
			s.logf("echo: reply to %v: %v", addr, err)
			continue
		}
		if _, err := pc.WriteTo(out, addr); err != nil {
			s.logf("echo: reply to %v: %v", addr, err)
		}
	}
}

// packetReply appends the reply to datagram in to out and reports whether
// there is a reply at all.
func (s *Server) packetReply(out, in []byte) ([]byte, bool) {
	switch s.Service {
	case Uppercase:
		return appendUpper(out, in), true
	case Echo:
		return append(out, in...), true
	case Daytime:
		return appendDaytime(out, s.now()), true
	case Chargen:
		return append(out, chargenCycle[:chargenDatagram]...), true
	default:
		return out, false
	}
}

// Close stops the server: it closes every listener and packet conn given to
// Serve and ServePacket and every live connection, then waits until all of
// the server's goroutines have returned. Serve and ServePacket called after
// Close return ErrServerClosed at once. Close returns the first error from
// closing a listener or packet conn, other than one already closed.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var first error
	keep := func(err error) {
		if err != nil && first == nil && !errors.Is(err, net.ErrClosed) {
			first = err
		}
	}
	for l := range s.listeners {
		keep(l.Close())
	}
	for pc := range s.packets {
		keep(pc.Close())
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return first
}
