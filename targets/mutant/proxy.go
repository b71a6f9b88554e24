package mutant

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// Limits bound a proxy. The zero value of a field means its default.
type Limits struct {
	// MaxConns is how many TCP connections (or UDP clients) are proxied
	// at once: more connections are closed at once; a new UDP client
	// displaces the one heard from least recently.
	MaxConns int // default 256
	// Idle is how long a direction may stay silent (and a UDP client
	// unheard from) before the proxy gives up on it.
	Idle time.Duration // default 2m
	// WriteTimeout is the deadline of each write.
	WriteTimeout time.Duration // default 10s
	// DialTimeout is the deadline of dialling the upstream.
	DialTimeout time.Duration // default 5s
	// ReadSize is the most read at once, and so the most handed to a
	// Stream's Next in one call.
	ReadSize int // default 32 KiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxConns <= 0 {
		l.MaxConns = 256
	}
	if l.Idle <= 0 {
		l.Idle = 2 * time.Minute
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 10 * time.Second
	}
	if l.DialTimeout <= 0 {
		l.DialTimeout = 5 * time.Second
	}
	if l.ReadSize <= 0 {
		l.ReadSize = 32 << 10
	}
	return l
}

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// StreamFactory returns the Streams of one new TCP connection (nil: that
// direction unchanged).
type StreamFactory func() (toClient, toServer Stream)

// sameSource returns the address to dial from so that the upstream sees the
// client's own loopback address (allow-lists keyed by source address keep
// working behind the proxy), or "" to let the system choose.
func sameSource(client net.Addr) string {
	var ip net.IP
	switch a := client.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	if ip == nil || !ip.IsLoopback() {
		return ""
	}
	return ip.String()
}

// TCPProxy forwards every connection accepted on a loopback listener to an
// upstream address through the Streams of a factory.
type TCPProxy struct {
	ln       net.Listener
	upstream string
	factory  StreamFactory
	lim      Limits
	slots    chan struct{}

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// ListenTCP starts a proxy on a free port of listen's host (listen
// "127.0.0.1:0") forwarding to upstream. A nil factory forwards unchanged.
func ListenTCP(listen, upstream string, factory StreamFactory, lim Limits) (*TCPProxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	lim = lim.withDefaults()
	p := &TCPProxy{ln: ln, upstream: upstream, factory: factory, lim: lim,
		slots: make(chan struct{}, lim.MaxConns), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is where the proxy listens.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, closes every proxied connection and waits until
// every goroutine of the proxy has returned.
func (p *TCPProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// track records c so that Close closes it; false when the proxy is closed.
func (p *TCPProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *TCPProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

func (p *TCPProxy) accept() {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of descriptors, or a connection aborted before it was
			// accepted: try again, more slowly each time.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		select {
		case p.slots <- struct{}{}:
		default:
			c.Close() // over MaxConns
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer func() { <-p.slots }()
			p.serve(c)
		}()
	}
}

// serve proxies one connection until both directions have ended or one
// failed.
func (p *TCPProxy) serve(client net.Conn) {
	defer client.Close()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	d := dial.Dialer{Timeout: p.lim.DialTimeout, Source: sameSource(client.RemoteAddr())}
	up := dial.Endpoint{Network: "tcp", Addr: p.upstream}
	server, err := d.Dial(context.Background(), up)
	if err != nil && d.Source != "" {
		d.Source = ""
		server, err = d.Dial(context.Background(), up)
	}
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	var toClient, toServer Stream
	if p.factory != nil {
		toClient, toServer = p.factory()
	}
	abort := make(chan struct{})
	var once sync.Once
	stop := func(reset bool) {
		once.Do(func() {
			if reset {
				// Pass a reset on as a reset.
				if tc, ok := client.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				if tc, ok := server.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
			close(abort)
			client.Close()
			server.Close()
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(server, client, toClient, stop) }()
	go func() { defer wg.Done(); p.pipe(client, server, toServer, stop) }()
	wg.Wait()
	stop(false)
}

// pipe copies src to dst through s until src ends (then dst's write side is
// closed) or something fails (then stop ends both directions).
func (p *TCPProxy) pipe(src, dst net.Conn, s Stream, stop func(reset bool)) {
	buf := make([]byte, p.lim.ReadSize)
	write := func(b []byte) bool {
		if len(b) == 0 {
			return true
		}
		dst.SetWriteDeadline(time.Now().Add(p.lim.WriteTimeout))
		_, err := dst.Write(b)
		return err == nil
	}
	for {
		src.SetReadDeadline(time.Now().Add(p.lim.Idle))
		n, err := src.Read(buf)
		if n > 0 {
			out, closeAfter := buf[:n], false
			if s != nil {
				out, closeAfter = s.Next(buf[:n], false)
			}
			if !write(out) {
				stop(true)
				return
			}
			if closeAfter {
				stop(false)
				return
			}
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) {
			stop(true)
			return
		}
		if s != nil {
			out, closeAfter := s.Next(nil, true)
			if !write(out) {
				stop(true)
				return
			}
			if closeAfter {
				stop(false)
				return
			}
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			stop(false)
		}
		return
	}
}
