package pcap

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// Event is one step of a conversation to be written as packets: the
// transcript of a spec (suites/spec.Event) converted by the caller, so this
// package need not import the suites.
type Event struct {
	// At is the time since the conversation started.
	At time.Duration
	// Conn names the connection: "tcp#1 127.0.0.1:7" or "udp#2 ...";
	// the prefix before '#' gives the transport.
	Conn string
	// Dir is "open", "send", "recv", "close" or "note".
	Dir string
	// Local and Remote are the client's and the server's addresses
	// (host:port). When empty they are taken from the connection's "open"
	// event, whose Data reads "LOCAL -> REMOTE".
	Local, Remote string
	Data          []byte
}

// TranscriptOptions say how WriteTranscript stamps the packets.
type TranscriptOptions struct {
	// Base is the time of the first event (At zero). Zero means
	// 2000-01-01T00:00:00Z, so the same transcript gives the same file.
	Base time.Time
	// Comment is attached to every packet (opt_comment): the spec's ID.
	Comment string
	// ServerPort, when not zero, replaces the server's port in every
	// conversation, so that a dissector finds the protocol by its
	// well-known port (tshark decodes DNS on 53, not on a test's ephemeral
	// port). Datagrams that came from another port keep theirs.
	ServerPort uint16
	// TLSServerPort is ServerPort for the TLS connections (those whose
	// Conn starts with "tls"), so that tshark finds TLS (on 443, say)
	// and the protocol inside it.
	TLSServerPort uint16
	// KeyLog, when not empty, is the NSS key log of the conversation's
	// TLS sessions, written as a Decryption Secrets Block before the
	// packets so that Wireshark and tshark decrypt them.
	KeyLog []byte
}

// pcapng Decryption Secrets Block (pcapng draft, section 4.7).
const (
	blockTypeDSB   = 0x0000000A
	secretsTypeTLS = 0x544c534b // "TLSK": an NSS key log
)

// writeDSB writes a Decryption Secrets Block holding an NSS key log, in
// the little-endian byte order of the section pcapgo writes.
func writeDSB(out io.Writer, keyLog []byte) error {
	pad := (4 - len(keyLog)%4) % 4
	total := 16 + len(keyLog) + pad + 4 // type, length, secrets type and length; data; length
	b := make([]byte, 0, total)
	b = binary.LittleEndian.AppendUint32(b, blockTypeDSB)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	b = binary.LittleEndian.AppendUint32(b, secretsTypeTLS)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keyLog)))
	b = append(b, keyLog...)
	b = append(b, make([]byte, pad)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	_, err := out.Write(b)
	return err
}

// WriteTranscript writes a conversation as a pcapng capture: each TCP
// connection as a three-way handshake, its data segmented at MSS with ACKs,
// and a FIN exchange (or a RST when the transcript says the connection was
// reset); each UDP datagram as a packet. Notes are left out. A key log
// goes first, as a Decryption Secrets Block.
func WriteTranscript(out io.Writer, events []Event, o TranscriptOptions) error {
	if o.Base.IsZero() {
		o.Base = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	w, err := NewWriter(out)
	if err != nil {
		return err
	}
	if len(o.KeyLog) > 0 {
		if len(o.KeyLog) > 1<<24 {
			return errors.New("pcap: key log larger than 16 MiB")
		}
		// The section header and interface go out first: the block
		// follows them and precedes every packet.
		if err := w.Flush(); err != nil {
			return err
		}
		if err := writeDSB(out, o.KeyLog); err != nil {
			return fmt.Errorf("pcap: writing the decryption secrets: %w", err)
		}
	}
	type conn struct {
		tcp           *TCPConn
		udp           bool
		local, remote netip.AddrPort
		seen          netip.AddrPort // the server's address in the run
	}
	conns := map[string]*conn{}
	var order []*conn
	var last time.Time
	for i, e := range events {
		if e.Dir == "note" || e.Conn == "" {
			continue
		}
		key, _, _ := strings.Cut(e.Conn, " ")
		ts := o.Base.Add(e.At)
		if ts.Before(last) {
			ts = last
		}
		last = ts
		c := conns[key]
		if c == nil {
			local, remote := e.Local, e.Remote
			if local == "" || remote == "" {
				local, remote, _ = strings.Cut(string(e.Data), " -> ")
			}
			l, err1 := netip.ParseAddrPort(strings.TrimSpace(local))
			r, err2 := netip.ParseAddrPort(strings.TrimSpace(remote))
			if err1 != nil || err2 != nil {
				continue // no addresses: cannot make packets
			}
			c = &conn{udp: strings.HasPrefix(key, "udp"), local: l, remote: r, seen: r}
			port := o.ServerPort
			if strings.HasPrefix(key, "tls") {
				port = o.TLSServerPort
			}
			if port != 0 {
				c.remote = netip.AddrPortFrom(r.Addr(), port)
			}
			if !c.udp {
				c.tcp = w.TCP(l, c.remote, o.Comment)
			}
			conns[key] = c
			order = append(order, c)
		}
		if c.udp {
			if e.Dir != "send" && e.Dir != "recv" {
				continue
			}
			src, dst, fromClient := c.local, c.remote, true
			if e.Dir == "recv" {
				src, dst, fromClient = c.remote, c.local, false
				if r, err := netip.ParseAddrPort(e.Remote); err == nil && r != c.seen {
					src = r
				}
			}
			if err := w.UDP(ts, src, dst, fromClient, e.Data, o.Comment); err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
			continue
		}
		var err error
		switch e.Dir {
		case "open":
			err = c.tcp.Handshake(ts)
		case "send", "recv":
			if len(e.Data) == 0 || c.tcp.reset {
				continue
			}
			fromClient := e.Dir == "send"
			if c.tcp.FinSent(fromClient) {
				continue // the transcript kept data the wire could not carry
			}
			err = c.tcp.Data(ts, fromClient, e.Data)
		case "close":
			text := string(e.Data)
			switch {
			case strings.Contains(text, "reset"):
				err = c.tcp.Reset(ts, false)
			case strings.HasPrefix(text, "client"):
				if err = c.tcp.Ack(ts, true); err == nil {
					err = c.tcp.Fin(ts, true)
				}
			case strings.HasPrefix(text, "target closed"):
				if err = c.tcp.Ack(ts, false); err == nil {
					err = c.tcp.Fin(ts, false)
				}
			}
		}
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	end := last.Add(time.Millisecond)
	for _, c := range order {
		if c.tcp == nil {
			continue
		}
		if err := c.tcp.Ack(end, true); err != nil {
			return err
		}
		if err := c.tcp.Ack(end, false); err != nil {
			return err
		}
		if err := c.tcp.Close(end); err != nil {
			return err
		}
	}
	return w.Flush()
}

// WriteTranscriptFile is WriteTranscript into a new file at path.
func WriteTranscriptFile(path string, events []Event, o TranscriptOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := WriteTranscript(bw, events, o); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Recorder is a recording proxy: it accepts connections (or datagrams) on
// Listen, forwards them to Upstream and writes both directions as a
// pcapng capture, as if captured between the client and the upstream.
type Recorder struct {
	Listen, Upstream string
	// UDP proxies datagrams instead of TCP connections.
	UDP bool
	// Out receives the capture.
	Out io.Writer
	// IdleTimeout closes a connection (or forgets a UDP client) silent
	// for that long (default 30s); every read and write has this deadline.
	IdleTimeout time.Duration
	// MaxConns bounds concurrent connections or UDP clients (default 64).
	MaxConns int
	// MaxBytes bounds what one connection may carry in each direction
	// (default 64 MiB); beyond it the connection is closed.
	MaxBytes int64
	// Log receives one line per connection; nil discards.
	Log io.Writer
	// Ready, if set, is called with the listening address once listening.
	Ready func(addr net.Addr)
	// Dialer reaches the upstream (its source address); nil is a plain
	// dialer. The proxy carries TLS records as they are: it dials the
	// upstream plain whatever the dialer's TLS configuration.
	Dialer *dial.Dialer

	mu    sync.Mutex
	w     *Writer
	conns int
}

func (r *Recorder) defaults() {
	if r.IdleTimeout <= 0 {
		r.IdleTimeout = 30 * time.Second
	}
	if r.MaxConns <= 0 {
		r.MaxConns = 64
	}
	if r.MaxBytes <= 0 {
		r.MaxBytes = 64 << 20
	}
	if r.Log == nil {
		r.Log = io.Discard
	}
}

// Run proxies until ctx is done, then flushes the capture.
func (r *Recorder) Run(ctx context.Context) error {
	r.defaults()
	w, err := NewWriter(r.Out)
	if err != nil {
		return err
	}
	r.w = w
	if r.UDP {
		err = r.runUDP(ctx)
	} else {
		err = r.runTCP(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ferr := r.w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// Packets is how many packets were written so far.
func (r *Recorder) Packets() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return 0
	}
	return r.w.Packets()
}

func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.AddrPort()
	case *net.UDPAddr:
		return v.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func (r *Recorder) runTCP(ctx context.Context) error {
	ln, err := net.Listen("tcp", r.Listen)
	if err != nil {
		return err
	}
	if r.Ready != nil {
		r.Ready(ln.Addr())
	}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			wg.Wait()
			return err
		}
		r.mu.Lock()
		full := r.conns >= r.MaxConns
		if !full {
			r.conns++
		}
		r.mu.Unlock()
		if full {
			fmt.Fprintf(r.Log, "record: refusing %s: %d connections already\n", c.RemoteAddr(), r.MaxConns)
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.proxyTCP(ctx, c)
			r.mu.Lock()
			r.conns--
			r.mu.Unlock()
		}()
	}
	wg.Wait()
	return nil
}

// dialer is the recorder's upstream dialer with the idle deadline.
func (r *Recorder) dialer() dial.Dialer {
	var d dial.Dialer
	if r.Dialer != nil {
		d = *r.Dialer
	}
	d.Timeout = r.IdleTimeout
	d.TLS = nil
	return d
}

func (r *Recorder) proxyTCP(ctx context.Context, client net.Conn) {
	defer client.Close()
	d := r.dialer()
	up, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: r.Upstream})
	if err != nil {
		fmt.Fprintf(r.Log, "record: %s: upstream %s: %v\n", client.RemoteAddr(), r.Upstream, err)
		return
	}
	defer up.Close()
	stop := context.AfterFunc(ctx, func() { client.Close(); up.Close() })
	defer stop()
	r.mu.Lock()
	tc := r.w.TCP(addrPort(client.RemoteAddr()), addrPort(up.RemoteAddr()), "protospec record")
	tc.Handshake(time.Now())
	r.mu.Unlock()
	fmt.Fprintf(r.Log, "record: %s -> %s\n", client.RemoteAddr(), up.RemoteAddr())

	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn, fromClient bool) {
		defer wg.Done()
		buf := make([]byte, 32<<10)
		var total int64
		for {
			_ = src.SetReadDeadline(time.Now().Add(r.IdleTimeout))
			n, err := src.Read(buf)
			if n > 0 {
				total += int64(n)
				r.mu.Lock()
				werr := tc.Data(time.Now(), fromClient, buf[:n])
				r.mu.Unlock()
				_ = dst.SetWriteDeadline(time.Now().Add(r.IdleTimeout))
				if _, err := dst.Write(buf[:n]); err != nil || werr != nil || total > r.MaxBytes {
					r.mu.Lock()
					tc.Reset(time.Now(), !fromClient)
					r.mu.Unlock()
					client.Close()
					up.Close()
					return
				}
			}
			if err != nil {
				r.mu.Lock()
				if errors.Is(err, io.EOF) {
					tc.Ack(time.Now(), fromClient)
					tc.Fin(time.Now(), fromClient)
				} else if !tc.Closed() {
					tc.Reset(time.Now(), fromClient)
				}
				r.mu.Unlock()
				if !errors.Is(err, io.EOF) || !dial.CloseWrite(dst) {
					client.Close()
					up.Close()
				}
				return
			}
		}
	}
	go pipe(up, client, true)
	go pipe(client, up, false)
	wg.Wait()
	r.mu.Lock()
	tc.Close(time.Now())
	r.mu.Unlock()
}

func (r *Recorder) runUDP(ctx context.Context) error {
	pc, err := net.ListenPacket("udp", r.Listen)
	if err != nil {
		return err
	}
	defer pc.Close()
	if r.Ready != nil {
		r.Ready(pc.LocalAddr())
	}
	upstream := dial.Endpoint{Network: "udp", Addr: r.Upstream}
	d := r.dialer()
	upAddr, err := net.ResolveUDPAddr("udp", r.Upstream)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	type session struct {
		up   net.PacketConn
		last time.Time
	}
	var smu sync.Mutex
	sessions := map[string]*session{}
	var wg sync.WaitGroup
	defer func() {
		smu.Lock()
		for _, s := range sessions {
			s.up.Close()
		}
		smu.Unlock()
		wg.Wait()
	}()
	buf := make([]byte, 65536)
	for {
		_ = pc.SetReadDeadline(time.Now().Add(r.IdleTimeout))
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		now := time.Now()
		smu.Lock()
		s := sessions[from.String()]
		// Forget idle clients before admitting a new one.
		for k, old := range sessions {
			if now.Sub(old.last) > r.IdleTimeout {
				old.up.Close()
				delete(sessions, k)
			}
		}
		if s == nil && len(sessions) < r.MaxConns {
			up, _, err := d.ListenPacket(upstream)
			if err == nil {
				s = &session{up: up}
				sessions[from.String()] = s
				client := from
				wg.Add(1)
				go func() {
					defer wg.Done()
					rb := make([]byte, 65536)
					for {
						_ = up.SetReadDeadline(time.Now().Add(r.IdleTimeout))
						n, src, err := up.ReadFrom(rb)
						if err != nil {
							up.Close()
							return
						}
						r.mu.Lock()
						r.w.UDP(time.Now(), addrPort(src), addrPort(client), false, rb[:n], "protospec record")
						r.mu.Unlock()
						_ = pc.SetWriteDeadline(time.Now().Add(r.IdleTimeout))
						pc.WriteTo(rb[:n], client)
					}
				}()
			}
		}
		if s != nil {
			s.last = now
		}
		smu.Unlock()
		if s == nil {
			fmt.Fprintf(r.Log, "record: dropping a datagram from %s: %d clients already\n", from, r.MaxConns)
			continue
		}
		r.mu.Lock()
		r.w.UDP(now, addrPort(from), upAddr.AddrPort(), true, buf[:n], "protospec record")
		r.mu.Unlock()
		_ = s.up.SetWriteDeadline(now.Add(r.IdleTimeout))
		s.up.WriteTo(buf[:n], upAddr)
	}
}
