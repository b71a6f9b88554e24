package spec

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/protospec/protospec/targets"
)

// Protocols with out-of-band data connections (FTP's data connection,
// opened to a port the server names, or by the server to a port the
// client names) reach addresses that are no service of the target: the
// target hands them out on a service's connection. DialAddr dials one,
// Listen waits for the target to connect. Both stay on loopback, record
// everything in the transcript like Dial, and give a Conn whose reads and
// writes have the step deadline.

// loopbackAddr parses host:port and refuses a host that is not a loopback
// address: protospec never reaches beyond the machine, whatever address a
// target hands out.
func loopbackAddr(addr string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("spec: %q is not an IP address and port: %v", addr, err)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return netip.AddrPort{}, fmt.Errorf("spec: %s is not a loopback address: protospec does not connect there", addr)
	}
	return ap, nil
}

// DialAddr connects over TCP to addr (a host:port the target handed out
// on a connection to service, such as an FTP passive data port) from the
// chosen loopback source address ("" for the system's choice). The
// connection is plain; StartTLS upgrades it, with service's server name.
// A failed connection is returned as an error, and counts as a refusal of
// service (see Refused).
func (t *T) DialAddr(service, addr, source string) (*Conn, error) {
	ep := t.Endpoint(service)
	service = t.Service(service)
	if _, err := loopbackAddr(addr); err != nil {
		return nil, err
	}
	data := targets.Endpoint{Network: "tcp", Addr: addr, ServerName: ep.Name()}
	name := t.connName("tcp", data)
	from := ""
	if source != "" {
		from = " from " + source
	}
	ctx, cancel := context.WithDeadline(t.ctx, t.deadline(t.cfg.StepTimeout))
	defer cancel()
	nc, err := t.dialer(source).Dial(ctx, data)
	if err != nil {
		t.Refused(service)
		t.rec.add(event{conn: name, dir: dirNote, data: []byte("connect" + from + " failed: " + err.Error())})
		return nil, fmt.Errorf("could not connect to %s%s (handed out by %s): %v", addr, from, service, unwrapOp(err))
	}
	return t.adopt(nc, name, service, data), nil
}

// adopt makes a Conn of a connected socket and records its opening.
func (t *T) adopt(nc net.Conn, name, service string, ep targets.Endpoint) *Conn {
	local, remote := nc.LocalAddr().String(), nc.RemoteAddr().String()
	t.rec.add(event{conn: name, local: local, remote: remote, dir: dirOpen, data: []byte(local + " -> " + remote)})
	c := &Conn{t: t, ep: ep, name: name, service: service, local: local, remote: remote}
	c.sock = &wireConn{Conn: nc, c: c}
	c.nc = c.sock
	t.track(c)
	return c
}

// LocalAddr is the connection's own address (host:port).
func (c *Conn) LocalAddr() string { return c.local }

// RemoteAddr is the peer's address (host:port).
func (c *Conn) RemoteAddr() string { return c.remote }

// Listener waits for connections the target opens to the spec (an FTP
// server's active-mode data connection).
type Listener struct {
	t       *T
	ln      *net.TCPListener
	service string
	name    string
}

// Listen opens a TCP listener on a loopback address (source, or
// 127.0.0.1 when empty) and a port the system chooses, for connections
// the target opens when asked on a connection to service. It is closed
// when the spec ends.
func (t *T) Listen(service, source string) (*Listener, error) {
	t.Endpoint(service)
	service = t.Service(service)
	if source == "" {
		source = "127.0.0.1"
	}
	ap, err := loopbackAddr(net.JoinHostPort(source, "0"))
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("spec: cannot listen on %s: %v", source, err)
	}
	t.mu.Lock()
	t.nconn++
	n := t.nconn
	t.mu.Unlock()
	l := &Listener{t: t, ln: ln, service: service, name: fmt.Sprintf("listener#%d %s", n, ln.Addr())}
	t.rec.add(event{conn: l.name, dir: dirNote, data: []byte("listening on " + ln.Addr().String())})
	t.track(l)
	return l, nil
}

// Addr is the listener's address (host:port).
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// Port is the listener's port.
func (l *Listener) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }

func (l *Listener) closeQuietly() { l.ln.Close() }

// Close stops listening.
func (l *Listener) Close() error {
	l.t.rec.add(event{conn: l.name, dir: dirClose, data: []byte("listener closed")})
	return l.ln.Close()
}

// ErrNoConnection is what Accept returns when no connection came within
// its wait.
var ErrNoConnection = errors.New("spec: no connection came")

// Accept waits up to d (the step timeout when 0) for the target to
// connect, and returns the connection, plain. No connection within d is
// ErrNoConnection (and a refusal of the service: see Refused).
func (l *Listener) Accept(d time.Duration) (*Conn, error) {
	if d <= 0 {
		d = l.t.cfg.StepTimeout
	}
	_ = l.ln.SetDeadline(l.t.deadline(d))
	nc, err := l.ln.Accept()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			l.t.Refused(l.service)
			l.t.rec.add(event{conn: l.name, dir: dirNote, data: []byte(fmt.Sprintf("no connection within %v", d))})
			return nil, fmt.Errorf("%w on %s within %v", ErrNoConnection, l.Addr(), d)
		}
		return nil, fmt.Errorf("spec: accepting on %s: %v", l.Addr(), err)
	}
	ep, _ := l.t.Target().Endpoint(l.service)
	data := targets.Endpoint{Network: "tcp", Addr: nc.RemoteAddr().String(), ServerName: ep.Name()}
	name := l.t.connName("tcp", data) + " (accepted)"
	return l.t.adopt(nc, name, l.service, data), nil
}

// ExpectNoConnection checks that nothing connects within d; a connection
// that comes is closed and reported with its source.
func (l *Listener) ExpectNoConnection(d time.Duration) error {
	_ = l.ln.SetDeadline(time.Now().Add(d))
	nc, err := l.ln.Accept()
	if err == nil {
		from := nc.RemoteAddr().String()
		nc.Close()
		l.t.rec.add(event{conn: l.name, dir: dirNote, data: []byte("unexpected connection from " + from)})
		return fmt.Errorf("expected no connection to %s within %v, but %s connected", l.Addr(), d, from)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return fmt.Errorf("spec: accepting on %s: %v", l.Addr(), err)
}

// TLSConfig is the run's TLS client configuration for service (its CA
// pool or --insecure, the service's server name, the spec's key log), for
// a protocol that upgrades connections itself (AUTH TLS and the data
// connections of FTP) and wants to share one session cache among them.
func (t *T) TLSConfig(service string) *tls.Config {
	ep := t.Endpoint(service)
	return t.dialer("").Config(ep.Name())
}

// NetConn is the socket under the recording wrapper, so that
// dial.TCPConn reaches it for socket options and urgent data.
func (w *wireConn) NetConn() net.Conn { return w.Conn }
