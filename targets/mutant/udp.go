package mutant

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// UDPProxy forwards the datagrams received on a loopback socket to an
// upstream address, each client through its own upstream socket, and the
// upstream's answers back to the client, through a Datagram mutation.
type UDPProxy struct {
	pc       net.PacketConn
	other    net.PacketConn // replies leave from here when the mutation says OtherPort
	upstream *net.UDPAddr
	m        *Datagram
	lim      Limits

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
	wg       sync.WaitGroup
}

// ListenUDP starts a proxy on a free port of listen's host forwarding to
// upstream. A nil m forwards unchanged.
func ListenUDP(listen, upstream string, m *Datagram, lim Limits) (*UDPProxy, error) {
	up, err := net.ResolveUDPAddr("udp", upstream)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", listen)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = &Datagram{}
	}
	p := &UDPProxy{pc: pc, upstream: up, m: m, lim: lim.withDefaults(), sessions: map[string]*session{}}
	if m.OtherPort {
		host, _, _ := net.SplitHostPort(pc.LocalAddr().String())
		other, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			pc.Close()
			return nil, err
		}
		p.other = other
	}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is where the proxy listens.
func (p *UDPProxy) Addr() string { return p.pc.LocalAddr().String() }

// Close closes every socket of the proxy and waits until its goroutines
// have returned.
func (p *UDPProxy) Close() error {
	err := p.pc.Close()
	p.mu.Lock()
	p.closed = true
	for _, s := range p.sessions {
		s.up.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if p.other != nil {
		p.other.Close()
	}
	return err
}

// serve reads the clients' datagrams until the socket is closed.
func (p *UDPProxy) serve() {
	defer p.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := p.pc.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		data := buf[:n]
		if p.m.ToServer != nil {
			if data = p.m.ToServer(append([]byte(nil), data...)); data == nil {
				continue
			}
		}
		up := p.session(from)
		if up == nil {
			continue
		}
		up.SetWriteDeadline(time.Now().Add(p.lim.WriteTimeout))
		up.Write(data)
	}
}

// session is one client's upstream socket.
type session struct {
	up       *net.UDPConn
	lastSeen time.Time // guarded by UDPProxy.mu
}

// session returns the upstream socket of client, opening it (and the
// goroutine relaying its answers) on the client's first datagram; with
// MaxConns clients already proxied, the one heard from least recently is
// dropped to make room. nil when the proxy is closed.
func (p *UDPProxy) session(client net.Addr) *net.UDPConn {
	key := client.String()
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sessions[key]; ok {
		s.lastSeen = time.Now()
		return s.up
	}
	if p.closed {
		return nil
	}
	if len(p.sessions) >= p.lim.MaxConns {
		var oldest string
		for k, s := range p.sessions {
			if oldest == "" || s.lastSeen.Before(p.sessions[oldest].lastSeen) {
				oldest = k
			}
		}
		p.sessions[oldest].up.Close() // its relay removes it
		delete(p.sessions, oldest)
	}
	d := dial.Dialer{Timeout: p.lim.DialTimeout, Source: sameSource(client)}
	ep := dial.Endpoint{Network: "udp", Addr: p.upstream.String()}
	up, err := d.DialUDP(context.Background(), ep)
	if err != nil && d.Source != "" {
		d.Source = ""
		up, err = d.DialUDP(context.Background(), ep)
	}
	if err != nil {
		return nil
	}
	s := &session{up: up, lastSeen: time.Now()}
	p.sessions[key] = s
	p.wg.Add(1)
	go p.relay(client, key, s)
	return up
}

// relay sends the upstream's answers to client until it has been silent
// for Limits.Idle.
func (p *UDPProxy) relay(client net.Addr, key string, s *session) {
	defer p.wg.Done()
	up := s.up
	defer func() {
		p.mu.Lock()
		if p.sessions[key] == s {
			delete(p.sessions, key)
		}
		p.mu.Unlock()
		up.Close()
	}()
	out := p.pc
	if p.other != nil {
		out = p.other
	}
	buf := make([]byte, maxDatagram)
	for {
		up.SetReadDeadline(time.Now().Add(p.lim.Idle))
		n, err := up.Read(buf)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue // an ICMP port unreachable of an earlier datagram
		}
		if err != nil {
			return // silent for Limits.Idle, or closed
		}
		data := buf[:n]
		if p.m.ToClient != nil {
			if data = p.m.ToClient(append([]byte(nil), data...)); data == nil {
				continue
			}
		}
		out.SetWriteDeadline(time.Now().Add(p.lim.WriteTimeout))
		out.WriteTo(data, client)
	}
}
