package spec

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/protospec/protospec/targets"
)

// ErrTooLong is returned by a read helper when the target sent more than
// the limit it was given.
var ErrTooLong = errors.New("spec: more data than the limit")

// ReadError says what a read helper was waiting for and what happened
// instead: a timeout, the target closing the connection, a reset, or too
// much data. Got holds what did arrive.
type ReadError struct {
	Conn    string
	Waiting string // "a line", "6 bytes", "the connection to close"
	Got     []byte
	Timeout time.Duration // set when the step's deadline passed
	Closed  bool          // the target closed the connection (EOF)
	Err     error         // anything else: a reset, ErrTooLong
}

func (e *ReadError) Error() string {
	var what string
	switch {
	case e.Timeout > 0:
		what = fmt.Sprintf("no answer within %v", e.Timeout)
	case e.Closed:
		what = "the target closed the connection"
	case isReset(e.Err):
		what = "the target closed the connection with a reset (" + e.Err.Error() + ")"
	case errors.Is(e.Err, ErrTooLong):
		what = "the target sent more than the limit"
	default:
		what = e.Err.Error()
	}
	got := "nothing"
	if len(e.Got) > 0 {
		got = fmt.Sprintf("%s (%d bytes)", Excerpt(e.Got, 200), len(e.Got))
	}
	return fmt.Sprintf("waiting on %s for %s: %s; received %s", e.Conn, e.Waiting, what, got)
}

func (e *ReadError) Unwrap() error { return e.Err }

// IsTimeout reports whether err is a read that ran out of time.
func IsTimeout(err error) bool {
	var re *ReadError
	return errors.As(err, &re) && re.Timeout > 0
}

// IsClosed reports whether err is a read that found the connection closed
// by the target, by FIN or by reset.
func IsClosed(err error) bool {
	var re *ReadError
	if !errors.As(err, &re) {
		return false
	}
	return re.Closed || isReset(re.Err)
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// Conn is a TCP connection to the target, plain or TLS. Every read and
// write has the step deadline and a size limit, and everything is
// recorded: the application bytes (marked when they travel in TLS) and,
// for a TLS connection, the records on the wire, for captures.
type Conn struct {
	t       *T
	nc      net.Conn // what the spec reads and writes: the socket or TLS over it
	sock    *wireConn
	ep      targets.Endpoint
	name    string
	service string
	// local and remote are the socket's addresses, recorded with each
	// event so a transcript can be turned into packets.
	local, remote string
	pending       []byte
	eof           bool
	rerr          error
}

// Scaled is T.Scaled: d, tuned at the default step timeout, scaled by the
// run's.
func (c *Conn) Scaled(d time.Duration) time.Duration { return c.t.Scaled(d) }

// Name identifies the connection in transcripts ("tcp#1 127.0.0.1:7",
// "tls#2 127.0.0.1:8443").
func (c *Conn) Name() string { return c.name }

// Raw is the underlying connection, for specs that need socket options:
// a *tls.Conn once the connection is TLS.
func (c *Conn) Raw() net.Conn { return c.nc }

// TLS reports the connection's TLS state; ok is false while it is plain.
func (c *Conn) TLS() (state tls.ConnectionState, ok bool) {
	if tc, isTLS := c.nc.(*tls.Conn); isTLS {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// StartTLS upgrades the connection to TLS in place, after the protocol's
// own command (STARTTLS, STLS, AUTH TLS) was accepted, and returns the
// handshake's error. cfg nil means the run's client configuration with the
// endpoint's server name. Bytes already read but not consumed are an
// error: a server must not send anything between its go-ahead and the
// handshake. The transcript keeps recording the application bytes after
// the upgrade, marked as TLS, and the records on the wire for captures.
func (c *Conn) StartTLS(cfg *tls.Config) error {
	if _, ok := c.nc.(*tls.Conn); ok {
		return fmt.Errorf("spec: %s is already TLS", c.name)
	}
	if len(c.pending) > 0 {
		return fmt.Errorf("the target sent %s before the TLS handshake on %s", Excerpt(c.pending, 100), c.name)
	}
	tc, err := c.handshake(cfg)
	if err != nil {
		return err
	}
	c.nc = tc
	return nil
}

// handshake runs a TLS client handshake over the socket within the step
// deadline, recording the records on the wire and the outcome.
func (c *Conn) handshake(cfg *tls.Config) (*tls.Conn, error) {
	d := c.t.dialer("")
	if cfg == nil {
		cfg = d.Config(c.ep.Name())
	} else {
		cfg = cfg.Clone()
		if cfg.KeyLogWriter == nil {
			cfg.KeyLogWriter = c.t.rec
		}
	}
	c.sock.wire.Store(true)
	tc := tls.Client(c.sock, cfg)
	ctx, cancel := context.WithDeadline(c.t.ctx, c.t.deadline(c.t.cfg.StepTimeout))
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirNote, data: []byte("TLS handshake failed: " + err.Error())})
		return nil, fmt.Errorf("TLS handshake on %s (server name %q): %v", c.name, cfg.ServerName, unwrapOp(err))
	}
	st := tc.ConnectionState()
	note := fmt.Sprintf("TLS handshake done: %s, %s, server name %q", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), cfg.ServerName)
	if st.NegotiatedProtocol != "" {
		note += ", ALPN " + st.NegotiatedProtocol
	}
	c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirNote, data: []byte(note)})
	return tc, nil
}

// secure reports whether application bytes now travel in TLS.
func (c *Conn) secure() bool {
	_, ok := c.nc.(*tls.Conn)
	return ok
}

// wireConn is the socket under a Conn: once TLS starts, it records what
// the wire carries (the TLS records) as Wire events.
type wireConn struct {
	net.Conn
	c    *Conn
	wire atomic.Bool
}

func (w *wireConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 && w.wire.Load() {
		w.c.t.rec.add(event{conn: w.c.name, local: w.c.local, remote: w.c.remote, dir: dirRecv, data: p[:n], wire: true})
	}
	return n, err
}

func (w *wireConn) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if n > 0 && w.wire.Load() {
		w.c.t.rec.add(event{conn: w.c.name, local: w.c.local, remote: w.c.remote, dir: dirSend, data: p[:n], wire: true})
	}
	return n, err
}

// Send writes s (a string or []byte) and fails the spec if the write
// fails.
func (c *Conn) Send(s any) {
	if err := c.TrySend(s); err != nil {
		c.t.Failf("%v", err)
	}
}

// TrySend writes s (a string or []byte) and returns the error, for specs
// where the target may already have closed the connection.
func (c *Conn) TrySend(s any) error {
	var b []byte
	switch v := s.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("spec: Send takes a string or []byte, not %T", s)
	}
	c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirSend, data: b, tls: c.secure()})
	_ = c.nc.SetWriteDeadline(c.t.deadline(c.t.cfg.StepTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Refused(c.service)
		return fmt.Errorf("sending %d bytes on %s: %v", len(b), c.name, unwrapOp(err))
	}
	return nil
}

// CloseWrite half-closes the connection (sends FIN, after TLS's
// close_notify on a TLS connection); the target can still answer.
func (c *Conn) CloseWrite() error {
	c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirClose, data: []byte("client half-close (FIN)")})
	tlsClosed := false
	if tc, ok := c.nc.(*tls.Conn); ok {
		_ = tc.SetWriteDeadline(c.t.deadline(c.t.cfg.StepTimeout))
		if err := tc.CloseWrite(); err != nil {
			return err
		}
		tlsClosed = true
	}
	tc, ok := c.sock.Conn.(*net.TCPConn)
	if !ok {
		return errors.New("spec: not a TCP connection")
	}
	err := tc.CloseWrite()
	if err != nil && tlsClosed && errors.Is(err, syscall.ENOTCONN) {
		// The target dropped the connection on the close_notify before
		// the FIN could follow it: what it answered is still to be read.
		c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirNote, data: []byte("FIN after close_notify: " + unwrapOp(err).Error())})
		return nil
	}
	return err
}

// Close closes the connection.
func (c *Conn) Close() error {
	c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirClose, data: []byte("client close")})
	return c.nc.Close()
}

func (c *Conn) closeQuietly() { c.nc.Close() }

// fill reads once into pending, waiting no later than dl. It returns a
// timeout error, io.EOF, or another read error.
func (c *Conn) fill(dl time.Time) error {
	if c.eof {
		return io.EOF
	}
	if c.rerr != nil {
		return c.rerr
	}
	_ = c.nc.SetReadDeadline(dl)
	buf := make([]byte, 32<<10)
	n, err := c.nc.Read(buf)
	if n > 0 {
		c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirRecv, data: buf[:n], tls: c.secure()})
		c.pending = append(c.pending, buf[:n]...)
	}
	if err != nil {
		c.t.Refused(c.service)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if err == io.EOF {
			c.eof = true
			c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirClose, data: []byte("target closed (FIN)")})
		} else {
			c.rerr = unwrapOp(err)
			c.t.rec.add(event{conn: c.name, local: c.local, remote: c.remote, dir: dirClose, data: []byte("read error: " + c.rerr.Error())})
		}
		if n > 0 {
			return nil
		}
		return err
	}
	return nil
}

// readUntil reads until done reports how many bytes of pending make the
// answer (n > 0), the limit is passed, the connection ends or the step
// deadline passes.
func (c *Conn) readUntil(waiting string, timeout time.Duration, limit int, done func([]byte) int) ([]byte, error) {
	dl := c.t.deadline(timeout)
	for {
		if n := done(c.pending); n > 0 {
			out := append([]byte(nil), c.pending[:n]...)
			c.pending = c.pending[n:]
			return out, nil
		}
		if len(c.pending) > limit {
			got := c.take()
			return got, &ReadError{Conn: c.name, Waiting: waiting, Got: got, Err: ErrTooLong}
		}
		if err := c.fill(dl); err != nil {
			got := c.take()
			re := &ReadError{Conn: c.name, Waiting: waiting, Got: got}
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				re.Timeout = timeout
			case err == io.EOF:
				re.Closed = true
			default:
				re.Err = unwrapOp(err)
			}
			return got, re
		}
	}
}

func (c *Conn) take() []byte {
	out := c.pending
	c.pending = nil
	return out
}

// ReadLine reads up to and including the next LF, accepting at most max
// bytes (0: the configured MaxRead).
func (c *Conn) ReadLine(max int) ([]byte, error) {
	if max <= 0 {
		max = c.t.cfg.MaxRead
	}
	return c.readUntil("a line", c.t.cfg.StepTimeout, max, func(p []byte) int {
		if i := bytes.IndexByte(p, '\n'); i >= 0 && i < max {
			return i + 1
		}
		return 0
	})
}

// ReadN reads exactly n bytes.
func (c *Conn) ReadN(n int) ([]byte, error) {
	return c.readUntil(fmt.Sprintf("%d bytes", n), c.t.cfg.StepTimeout, n, func(p []byte) int {
		if len(p) >= n {
			return n
		}
		return 0
	})
}

// ReadUntil reads up to and including the first occurrence of delim,
// accepting at most max bytes (0: MaxRead).
func (c *Conn) ReadUntil(delim []byte, max int) ([]byte, error) {
	if max <= 0 {
		max = c.t.cfg.MaxRead
	}
	return c.readUntil(fmt.Sprintf("%s", Excerpt(delim, 40)), c.t.cfg.StepTimeout, max, func(p []byte) int {
		if i := bytes.Index(p, delim); i >= 0 && i+len(delim) <= max {
			return i + len(delim)
		}
		return 0
	})
}

// ReadUntilClose reads until the target closes the connection, accepting
// at most max bytes (0: MaxRead). It is an error if the connection is
// still open when the step deadline passes.
func (c *Conn) ReadUntilClose(max int) ([]byte, error) {
	if max <= 0 {
		max = c.t.cfg.MaxRead
	}
	got, err := c.readUntil("the connection to close", c.t.cfg.StepTimeout, max, func([]byte) int { return 0 })
	var re *ReadError
	if errors.As(err, &re) && (re.Closed || isReset(re.Err)) {
		return got, nil
	}
	return got, err
}

// ReadFor reads whatever arrives within d, up to max bytes (0: MaxRead).
// It returns early, with closed set, when the target closes. Silence is
// not an error.
func (c *Conn) ReadFor(d time.Duration, max int) (got []byte, closed bool, err error) {
	if max <= 0 {
		max = c.t.cfg.MaxRead
	}
	got, err = c.readUntil(fmt.Sprintf("data for %v", d), d, max, func([]byte) int { return 0 })
	var re *ReadError
	if errors.As(err, &re) {
		switch {
		case re.Timeout > 0:
			return got, false, nil
		case re.Closed || isReset(re.Err):
			return got, true, nil
		}
	}
	return got, false, err
}

// ExpectClosed checks that the target closes the connection within d
// without sending more than the bytes it already sent.
func (c *Conn) ExpectClosed(d time.Duration) error {
	got, closed, err := c.ReadFor(d, 64<<10)
	if err != nil {
		return err
	}
	if len(got) > 0 {
		return fmt.Errorf("expected %s to be closed without more data, but received %s (%d bytes)", c.name, Excerpt(got, 200), len(got))
	}
	if !closed {
		return fmt.Errorf("expected the target to close %s within %v, but it is still open", c.name, d)
	}
	return nil
}

// PacketConn is a UDP socket that talks to one service of the target.
type PacketConn struct {
	t       *T
	pc      net.PacketConn
	remote  *net.UDPAddr
	local   string
	name    string
	service string
}

// Name identifies the socket in transcripts.
func (p *PacketConn) Name() string { return p.name }

// Scaled is T.Scaled: d, tuned at the default step timeout, scaled by the
// run's.
func (p *PacketConn) Scaled(d time.Duration) time.Duration { return p.t.Scaled(d) }

// Remote is the service's address.
func (p *PacketConn) Remote() *net.UDPAddr { return p.remote }

// LocalAddr is the socket's own address.
func (p *PacketConn) LocalAddr() net.Addr { return p.pc.LocalAddr() }

func (p *PacketConn) closeQuietly() { p.pc.Close() }

// Close closes the socket.
func (p *PacketConn) Close() error { return p.pc.Close() }

// Send sends one datagram to the service and fails the spec if it cannot.
func (p *PacketConn) Send(s any) {
	var b []byte
	switch v := s.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		p.t.Failf("spec: Send takes a string or []byte, not %T", s)
	}
	p.t.rec.add(event{conn: p.name, local: p.local, remote: p.remote.String(), dir: dirSend, data: b})
	_ = p.pc.SetWriteDeadline(p.t.deadline(p.t.cfg.StepTimeout))
	if _, err := p.pc.WriteTo(b, p.remote); err != nil {
		p.t.Failf("sending a %d-byte datagram on %s: %v", len(b), p.name, unwrapOp(err))
	}
}

// Recv waits up to the step deadline for one datagram from anyone and
// returns it with its source. Datagrams over max bytes (0: 65535) are an
// error.
func (p *PacketConn) Recv(max int) ([]byte, net.Addr, error) {
	return p.recv(p.t.cfg.StepTimeout, max)
}

func (p *PacketConn) recv(timeout time.Duration, max int) ([]byte, net.Addr, error) {
	if max <= 0 {
		max = 65535
	}
	_ = p.pc.SetReadDeadline(p.t.deadline(timeout))
	buf := make([]byte, 65536)
	n, from, err := p.pc.ReadFrom(buf)
	if err != nil {
		p.t.Refused(p.service)
		re := &ReadError{Conn: p.name, Waiting: "a datagram"}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			re.Timeout = timeout
		} else {
			re.Err = unwrapOp(err)
		}
		p.t.rec.add(event{conn: p.name, local: p.local, remote: p.remote.String(), dir: dirNote, data: []byte("no datagram: " + re.Error())})
		return nil, nil, re
	}
	data := append([]byte(nil), buf[:n]...)
	note := ""
	if from.String() != p.remote.String() {
		note = " from " + from.String()
	}
	p.t.rec.add(event{conn: p.name + note, local: p.local, remote: from.String(), dir: dirRecv, data: data})
	if n > max {
		return data, from, &ReadError{Conn: p.name, Waiting: "a datagram", Got: data, Err: ErrTooLong}
	}
	return data, from, nil
}

// RecvWithin is Recv with a wait of d instead of the step timeout, for a
// spec where silence is an acceptable answer (give d through Scaled).
func (p *PacketConn) RecvWithin(d time.Duration, max int) ([]byte, net.Addr, error) {
	return p.recv(d, max)
}

// Reply waits for one datagram and checks that it came from the service's
// own address and port, as a reply to a datagram must.
func (p *PacketConn) Reply(max int) ([]byte, error) {
	return p.ReplyWithin(p.t.cfg.StepTimeout, max)
}

// ReplyWithin is Reply with a wait of d instead of the step timeout.
func (p *PacketConn) ReplyWithin(d time.Duration, max int) ([]byte, error) {
	data, from, err := p.recv(d, max)
	if err != nil {
		return data, err
	}
	if ua, ok := from.(*net.UDPAddr); !ok || !ua.IP.Equal(p.remote.IP) || ua.Port != p.remote.Port {
		return data, fmt.Errorf("the reply %s came from %s, not from the service's address %s", Excerpt(data, 100), from, p.remote)
	}
	return data, nil
}

// ExpectSilence checks that no datagram arrives within d.
func (p *PacketConn) ExpectSilence(d time.Duration) error {
	data, from, err := p.recv(d, 0)
	if IsTimeout(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("expected no datagram within %v, but received %s (%d bytes) from %s", d, Excerpt(data, 200), len(data), from)
}

// Retransmits is how many times Exchange sends a datagram that got no
// answer, counting the first: UDP may lose a datagram, and a client that
// asks over UDP retransmits before it concludes that nothing answers.
const Retransmits = 3

// Exchange sends one datagram and waits for the reply from the service's
// own address, sending the datagram again (up to Retransmits times in all,
// within one step deadline) when no answer comes.
func (p *PacketConn) Exchange(data []byte, max int) ([]byte, error) {
	per := p.t.cfg.StepTimeout / Retransmits
	var err error
	for try := 1; try <= Retransmits; try++ {
		if try > 1 {
			p.t.rec.add(event{conn: p.name, local: p.local, remote: p.remote.String(), dir: dirNote, data: []byte(fmt.Sprintf("no answer within %v: sending again (try %d of %d)", per, try, Retransmits))})
		}
		p.Send(data)
		var got []byte
		var from net.Addr
		got, from, err = p.recv(per, max)
		if IsTimeout(err) {
			continue
		}
		if err != nil {
			return got, err
		}
		if ua, ok := from.(*net.UDPAddr); !ok || !ua.IP.Equal(p.remote.IP) || ua.Port != p.remote.Port {
			return got, fmt.Errorf("the reply %s came from %s, not from the service's address %s", Excerpt(got, 100), from, p.remote)
		}
		return got, nil
	}
	var re *ReadError
	if errors.As(err, &re) {
		re.Timeout = p.t.cfg.StepTimeout
		re.Waiting = fmt.Sprintf("an answer to a datagram sent %d times", Retransmits)
	}
	return nil, err
}
