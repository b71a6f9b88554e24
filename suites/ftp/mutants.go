package ftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/targets/mutant"
)

// FTP's mutants: the reference behind a proxy of its control connection
// that breaks one rule, killed by the specs each names. The proxy sees
// the control connection only, so the mutants that break data
// connections rewrite the ports the control connection names to a relay
// of theirs, which carries the data connection the broken way: to a
// third party (a bounce), from any peer (a stolen file), or short of its
// last byte (a truncated upload acknowledged by 226).
func init() {
	mutant.Register(proto,
		mutant.Mutant{
			Name:   "bounce",
			Doc:    "PORT and EPRT naming another host are rewritten to a relay on the client's address, which forwards the server's data connection to that host: the server bounces",
			Kills:  []string{"ftp/rfc2577/3/no-bounce-port", "ftp/rfc2577/3/no-bounce-eprt"},
			Filter: "rfc2577:3",
			Stream: controlStreams(func(rl *relays) (func(string) string, func(string) string) {
				return nil, rl.bounceActive
			}),
		},
		mutant.Mutant{
			Name:   "passive-any-peer",
			Doc:    "227 and 229 name a relay that takes the first connection from any address and forwards it from the control connection's: whoever connects first gets the file",
			Kills:  []string{"ftp/rfc2577/4/passive-peer-checked", "ftp/rfc2577/4/passive-peer-checked-epsv", "ftp/rfc2577/4/passive-upload-peer-checked"},
			Filter: "rfc2577:4",
			Stream: controlStreams(func(rl *relays) (func(string) string, func(string) string) {
				return func(line string) string { return rl.passive(line, controlSource, nil) }, nil
			}),
		},
		mutant.Mutant{
			Name:   "truncate-upload",
			Doc:    "passive uploads reach the server without their last byte, and the server's 226 still comes: the acknowledged file is not the one sent",
			Kills:  []string{"ftp/rfc959/4.1.3/stor-complete-at-226", "ftp/rfc959/4.1.3/stor-stores", "ftp/rfc959/3.1.1.3/image-exact"},
			Filter: "rfc959:4.1.3 || rfc959:3.1.1.3",
			Stream: controlStreams(func(rl *relays) (func(string) string, func(string) string) {
				return func(line string) string { return rl.passive(line, peerSource, dropLastByte) }, nil
			}),
		},
		mutant.Mutant{
			Name:   "ignore-type-a",
			Doc:    "TYPE A becomes TYPE I on its way to the server (the 200 is left as it is): text travels with the server's own line ends",
			Kills:  []string{"ftp/rfc959/3.1.1.1/ascii-sends-crlf"},
			Filter: "rfc959:3.1.1.1",
			Stream: controlStreams(func(rl *relays) (func(string) string, func(string) string) {
				return nil, func(line string) string {
					if f := strings.Fields(line); len(f) >= 2 && strings.EqualFold(f[0], "TYPE") && strings.EqualFold(f[1], "A") {
						return "TYPE I\r\n"
					}
					return line
				}
			}),
		},
	)
}

// relayIdle bounds every wait of a relay: an accept, a read, a write.
const relayIdle = 30 * time.Second

// controlStreams makes a Mutant.Stream for the control connection from
// line rewrites (nil: unchanged) of each direction, sharing one set of
// relays that closes with the connection. After AUTH the directions pass
// unchanged: the bytes are TLS.
func controlStreams(rewrites func(rl *relays) (toClient, toServer func(string) string)) func(string) (mutant.Stream, mutant.Stream) {
	return func(svc string) (mutant.Stream, mutant.Stream) {
		if svc != service {
			return nil, nil
		}
		rl := &relays{}
		down, up := rewrites(rl)
		return lineStream(rl, down, "234 "), lineStream(rl, up, "AUTH ")
	}
}

// lineStream rewrites one direction line by line with rewrite (nil:
// unchanged), passes the rest unchanged once a line starts with stop, and
// closes the relays at the end of the direction.
func lineStream(rl *relays, rewrite func(string) string, stop string) mutant.Stream {
	framed := mutant.Framed(bufio.ScanLines, 64<<10, func(_ int, msg []byte) ([]byte, mutant.Action) {
		line := string(msg)
		if strings.HasPrefix(strings.ToUpper(line), stop) {
			return msg, mutant.PassRest
		}
		if rewrite != nil {
			line = rewrite(line)
		}
		return []byte(line), mutant.Continue
	})
	return mutant.StreamFunc(func(p []byte, eof bool) ([]byte, bool) {
		out, closeConn := framed.Next(p, eof)
		if eof {
			rl.close()
		}
		return out, closeConn
	})
}

// relays are the listeners one control connection's mutation opened.
type relays struct {
	mu     sync.Mutex
	lns    []net.Listener
	closed bool
}

func (rl *relays) close() {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.closed = true
	for _, ln := range rl.lns {
		ln.Close()
	}
	rl.lns = nil
}

// listen opens a relay listener on the loopback address.
func (rl *relays) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.closed {
		ln.Close()
		return nil, errors.New("the control connection is closed")
	}
	rl.lns = append(rl.lns, ln)
	return ln, nil
}

// forward accepts one connection on ln and carries it to target, dialled
// from the source address source picks; up, when set, filters the bytes
// from the accepted side to target.
func forward(ln net.Listener, target string, source func(accepted net.Conn) string, up func(io.Writer, io.Reader) error) {
	defer ln.Close()
	if tl, ok := ln.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Now().Add(relayIdle))
	}
	a, err := ln.Accept()
	if err != nil {
		return
	}
	defer a.Close()
	d := dial.Dialer{Timeout: 5 * time.Second, Source: source(a)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	b, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: target})
	cancel()
	if err != nil {
		return
	}
	defer b.Close()
	if up == nil {
		up = copyAll
	}
	done := make(chan struct{}, 2)
	go func() {
		_ = up(idleWriter{b}, idleReader{a})
		dial.CloseWrite(b)
		done <- struct{}{}
	}()
	go func() {
		_ = copyAll(idleWriter{a}, idleReader{b})
		dial.CloseWrite(a)
		done <- struct{}{}
	}()
	<-done
	<-done
}

// idleReader and idleWriter give each read and write of a relay the idle
// deadline.
type idleReader struct{ c net.Conn }

func (r idleReader) Read(p []byte) (int, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(relayIdle))
	return r.c.Read(p)
}

type idleWriter struct{ c net.Conn }

func (w idleWriter) Write(p []byte) (int, error) {
	_ = w.c.SetWriteDeadline(time.Now().Add(relayIdle))
	return w.c.Write(p)
}

func copyAll(w io.Writer, r io.Reader) error {
	_, err := io.Copy(w, r)
	return err
}

// dropLastByte copies r to w but for its last byte.
func dropLastByte(w io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	var held []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			chunk := append(held, buf[:n]...)
			if _, werr := w.Write(chunk[:len(chunk)-1]); werr != nil {
				return werr
			}
			held = []byte{chunk[len(chunk)-1]}
		}
		if err != nil {
			return err
		}
	}
}

// The sources a passive relay dials the server from.
var (
	// controlSource is the control connection's client address (the
	// suite's default): the server takes any peer for its own client.
	controlSource = func(net.Conn) string { return "127.0.0.1" }
	// peerSource is the accepted peer's own address: the server's peer
	// checks see the truth.
	peerSource = func(a net.Conn) string {
		ap, err := netip.ParseAddrPort(a.RemoteAddr().String())
		if err != nil {
			return ""
		}
		return ap.Addr().Unmap().String()
	}
)

var (
	pasv227  = regexp.MustCompile(`^227 .*?(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)`)
	epsv229  = regexp.MustCompile(`^229 .*\((.)(.)(.)(\d+)(.)\)`)
	portLine = regexp.MustCompile(`(?i)^PORT (\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\s*$`)
	eprtLine = regexp.MustCompile(`(?i)^EPRT (.)([12])(.)([^|]+)(.)(\d+)(.)\s*$`)
)

// passive rewrites a 227 or 229 reply to name a relay to the port it
// named.
func (rl *relays) passive(line string, source func(net.Conn) string, up func(io.Writer, io.Reader) error) string {
	var target string
	if m := pasv227.FindStringSubmatch(line); m != nil {
		p1, _ := strconv.Atoi(m[5])
		p2, _ := strconv.Atoi(m[6])
		target = net.JoinHostPort(strings.Join(m[1:5], "."), strconv.Itoa(p1<<8|p2))
	} else if m := epsv229.FindStringSubmatch(line); m != nil {
		target = net.JoinHostPort("127.0.0.1", m[4])
	} else {
		return line
	}
	ln, err := rl.listen()
	if err != nil {
		return line
	}
	go forward(ln, target, source, up)
	port := ln.Addr().(*net.TCPAddr).Port
	if strings.HasPrefix(line, "229") {
		return fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", port)
	}
	return fmt.Sprintf("227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n", port>>8, port&0xff)
}

// bounceActive rewrites a PORT or EPRT naming a host other than the
// loopback client to name a relay on the client's address, which
// forwards the server's connection to the host named.
func (rl *relays) bounceActive(line string) string {
	var target string
	trimmed := strings.TrimRight(line, "\r\n")
	if m := portLine.FindStringSubmatch(trimmed); m != nil {
		p1, _ := strconv.Atoi(m[5])
		p2, _ := strconv.Atoi(m[6])
		target = net.JoinHostPort(strings.Join(m[1:5], "."), strconv.Itoa(p1<<8|p2))
	} else if m := eprtLine.FindStringSubmatch(trimmed); m != nil {
		target = net.JoinHostPort(m[4], m[6])
	} else {
		return line
	}
	host, _, _ := net.SplitHostPort(target)
	if host == "127.0.0.1" {
		return line
	}
	ln, err := rl.listen()
	if err != nil {
		return line
	}
	go forward(ln, target, func(net.Conn) string { return "" }, nil)
	port := ln.Addr().(*net.TCPAddr).Port
	if strings.HasPrefix(strings.ToUpper(trimmed), "EPRT") {
		return fmt.Sprintf("EPRT |1|127.0.0.1|%d|\r\n", port)
	}
	return fmt.Sprintf("PORT 127,0,0,1,%d,%d\r\n", port>>8, port&0xff)
}
