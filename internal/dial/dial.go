// Package dial is the one way every pillar of protospec (suites, fuzzers,
// load clients, replay, readiness probes) reaches a server: an Endpoint
// (network, address, transport security, server name) dialled with a
// deadline, from an optional loopback source address, over TLS when the
// endpoint says so, verified against the run's CA pool and with the
// session keys logged for captures.
//
//	d := dial.Dialer{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: pool}}
//	c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: "127.0.0.1:8443", Security: dial.TLS})
package dial

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Security is how an endpoint's bytes are protected.
type Security string

// Securities of an endpoint.
const (
	// Plain is no protection: the application bytes are on the wire.
	Plain Security = ""
	// TLS is TLS from the first byte (HTTPS, IMAPS, ...).
	TLS Security = "tls"
	// StartTLS is a plaintext connection that the protocol upgrades to
	// TLS in place (SMTP, IMAP, POP3, FTP); the dialer does not upgrade.
	StartTLS Security = "starttls"
)

// ParseSecurity accepts "plain" (or ""), "tls" and "starttls".
func ParseSecurity(s string) (Security, error) {
	switch strings.ToLower(s) {
	case "", "plain":
		return Plain, nil
	case "tls":
		return TLS, nil
	case "starttls":
		return StartTLS, nil
	}
	return Plain, fmt.Errorf("dial: unknown security %q (plain, tls or starttls)", s)
}

func (s Security) String() string {
	if s == Plain {
		return "plain"
	}
	return string(s)
}

// Endpoint is a network address of one service and how it is protected.
type Endpoint struct {
	Network string // "tcp" or "udp"
	Addr    string // host:port
	// Security is Plain, TLS or StartTLS.
	Security Security
	// ServerName is the name a TLS client sends (SNI) and verifies the
	// certificate against; empty means the host of Addr.
	ServerName string
}

func (e Endpoint) String() string {
	scheme := e.Network
	if e.Security != Plain {
		scheme = string(e.Security)
	}
	return scheme + "://" + e.Addr
}

// Name is the server name a TLS client uses: ServerName, or Addr's host.
func (e Endpoint) Name() string {
	if e.ServerName != "" {
		return e.ServerName
	}
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return e.Addr
	}
	return host
}

// Dialer connects to endpoints. The zero value dials plain TCP and UDP
// with no deadline but the context's and verifies TLS against the
// system's roots.
type Dialer struct {
	// Timeout bounds the connection and the TLS handshake together; zero
	// means only the context's deadline.
	Timeout time.Duration
	// Source is the local address to dial from ("127.0.0.66"); empty
	// means the system's choice.
	Source string
	// TLS is the base client configuration (RootCAs, InsecureSkipVerify);
	// the dialer copies it and sets ServerName and KeyLogWriter.
	TLS *tls.Config
	// KeyLog, when set, receives the NSS key log lines of every TLS
	// session, for decrypting captures.
	KeyLog io.Writer
	// Wrap, when set, wraps the socket before TLS runs over it, so that a
	// recorder sees the bytes on the wire (the TLS records).
	Wrap func(net.Conn) net.Conn
}

// ErrNotTCP is returned by Dial for an endpoint that is not TCP.
var ErrNotTCP = errors.New("dial: not a TCP endpoint")

// Dial connects to a TCP endpoint and, when it is TLS, runs the handshake.
// A StartTLS endpoint is returned plain: the protocol upgrades it with
// Client.
func (d *Dialer) Dial(ctx context.Context, ep Endpoint) (net.Conn, error) {
	if ep.Network != "tcp" {
		return nil, fmt.Errorf("%w: %s", ErrNotTCP, ep)
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	c, err := d.dialSocket(ctx, "tcp", ep.Addr)
	if err != nil {
		return nil, err
	}
	if d.Wrap != nil {
		c = d.Wrap(c)
	}
	if ep.Security != TLS {
		return c, nil
	}
	tc, err := d.Client(ctx, c, ep.Name())
	if err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// DialUDP opens a connected UDP socket to ep from the source address (or
// the system's choice), for clients that exchange datagrams with one
// server (a query and its answer). A server's own sockets and a client
// that must send from a fresh random port per query use ListenPacket or
// their own sockets instead.
func (d *Dialer) DialUDP(ctx context.Context, ep Endpoint) (*net.UDPConn, error) {
	if ep.Network != "udp" {
		return nil, fmt.Errorf("dial: %s is not a UDP endpoint", ep)
	}
	ctx, cancel := d.withTimeout(ctx)
	defer cancel()
	c, err := d.dialSocket(ctx, "udp", ep.Addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

// withTimeout bounds ctx by the dialer's timeout, when one is set.
func (d *Dialer) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d.Timeout > 0 {
		return context.WithTimeout(ctx, d.Timeout)
	}
	return ctx, func() {}
}

// dialSocket dials addr over network ("tcp" or "udp") from the source
// address when one is set.
func (d *Dialer) dialSocket(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{}
	if d.Source != "" {
		ip, err := sourceIP(d.Source)
		if err != nil {
			return nil, err
		}
		if network == "udp" {
			nd.LocalAddr = &net.UDPAddr{IP: ip}
		} else {
			nd.LocalAddr = &net.TCPAddr{IP: ip}
		}
	}
	return nd.DialContext(ctx, network, addr)
}

// Connect dials a TCP endpoint (with TLS when it says so) or opens a
// connected UDP socket to a UDP one: the dial of a client that speaks to
// whichever transport a service names.
func (d *Dialer) Connect(ctx context.Context, ep Endpoint) (net.Conn, error) {
	if ep.Network == "udp" {
		return d.DialUDP(ctx, ep)
	}
	return d.Dial(ctx, ep)
}

// TCPConn returns the TCP socket under c (a TLS connection's, or c
// itself), or nil when there is none, for socket options (SetLinger,
// SetNoDelay) that a TLS connection does not offer.
func TCPConn(c net.Conn) *net.TCPConn {
	for c != nil {
		switch x := c.(type) {
		case *net.TCPConn:
			return x
		case *tls.Conn:
			c = x.NetConn()
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// CloseWrite half-closes c: a TLS connection sends its close_notify and
// shuts the socket's sending side (tls.Conn.CloseWrite alone leaves the
// socket open); a TCP connection shuts its sending side. It reports
// whether c could be half-closed.
func CloseWrite(c net.Conn) bool {
	switch x := c.(type) {
	case *tls.Conn:
		if x.CloseWrite() != nil {
			return false
		}
		tc := TCPConn(x)
		return tc != nil && tc.CloseWrite() == nil
	case interface{ CloseWrite() error }:
		return x.CloseWrite() == nil
	}
	return false
}

// Config is the client configuration for serverName: a copy of d.TLS
// with ServerName and KeyLogWriter set.
func (d *Dialer) Config(serverName string) *tls.Config {
	var cfg *tls.Config
	if d.TLS != nil {
		cfg = d.TLS.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	if d.KeyLog != nil && cfg.KeyLogWriter == nil {
		cfg.KeyLogWriter = d.KeyLog
	}
	return cfg
}

// Client runs a TLS client handshake over c (an upgrade in place, or the
// start of a TLS endpoint) within ctx's deadline.
func (d *Dialer) Client(ctx context.Context, c net.Conn, serverName string) (*tls.Conn, error) {
	tc := tls.Client(c, d.Config(serverName))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", serverName, err)
	}
	return tc, nil
}

// ListenPacket opens a UDP socket for talking to ep, bound to the source
// address (or the loopback address of ep's family), and returns it with
// ep's resolved address.
func (d *Dialer) ListenPacket(ep Endpoint) (net.PacketConn, *net.UDPAddr, error) {
	if ep.Network != "udp" {
		return nil, nil, fmt.Errorf("dial: %s is not a UDP endpoint", ep)
	}
	raddr, err := net.ResolveUDPAddr("udp", ep.Addr)
	if err != nil {
		return nil, nil, err
	}
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	if raddr.IP.To4() == nil {
		local.IP = net.IPv6loopback
	}
	if d.Source != "" {
		ip, err := sourceIP(d.Source)
		if err != nil {
			return nil, nil, err
		}
		local.IP = ip
	}
	pc, err := net.ListenUDP("udp", local)
	if err != nil {
		return nil, nil, err
	}
	return pc, raddr, nil
}

// sourceIP parses a source address; only loopback addresses are
// accepted, since protospec never reaches beyond the machine it runs on
// from a chosen source.
func sourceIP(s string) (net.IP, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, fmt.Errorf("dial: bad source address %q: %v", s, err)
	}
	if !a.IsLoopback() {
		return nil, fmt.Errorf("dial: source address %s is not a loopback address", s)
	}
	return net.IP(a.AsSlice()), nil
}
