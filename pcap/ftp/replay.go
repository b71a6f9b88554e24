package ftp

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/dial"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
	"github.com/protospec/protospec/pcap"
)

// dataTimeout bounds one data connection of a replay.
const dataTimeout = 10 * time.Second

// maxData bounds what one replayed download reads.
const maxData = 64 << 20

// replaySession makes a replayed control connection's data connections
// live: the target's 227 or 229 reply is dialled when a transfer command
// follows, and a PORT or EPRT is rewritten to name a listener of the
// replay's, on the control connection's local address. A download is
// read to its end (and dropped), an upload sends an empty file: the
// capture's data bytes are counted, not kept.
type replaySession struct {
	d      dial.Dialer
	local  net.Addr
	remote net.Addr
	data   string       // the passive endpoint announced last
	active net.Listener // the listener the last PORT/EPRT named
	mu     sync.Mutex
	open   []io.Closer
	wg     sync.WaitGroup
}

func newReplaySession(d dial.Dialer, local, remote net.Addr) pcap.ReplaySession {
	return &replaySession{d: d, local: local, remote: remote}
}

func (s *replaySession) keep(c io.Closer) {
	s.mu.Lock()
	s.open = append(s.open, c)
	s.mu.Unlock()
}

// Send rewrites PORT and EPRT, and starts the data connection of a
// transfer command.
func (s *replaySession) Send(q *pcap.Message) []byte {
	c := commandOf(q)
	switch {
	case c.Verb == "PORT" || c.Verb == "EPRT":
		host, _, _ := net.SplitHostPort(s.local.String())
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil
		}
		s.keep(l)
		if s.active != nil {
			s.active.Close()
		}
		s.active = l
		ap := l.Addr().(*net.TCPAddr)
		if ip4 := ap.IP.To4(); c.Verb == "PORT" && ip4 != nil {
			return []byte(fmt.Sprintf("PORT %d,%d,%d,%d,%d,%d\r\n", ip4[0], ip4[1], ip4[2], ip4[3], ap.Port>>8, ap.Port&0xff))
		}
		af := "2"
		if ap.IP.To4() != nil {
			af = "1"
		}
		return []byte(fmt.Sprintf("EPRT |%s|%s|%d|\r\n", af, ap.IP, ap.Port))
	case transferVerbs[c.Verb]:
		upload := c.Verb == "STOR" || c.Verb == "APPE" || c.Verb == "STOU"
		switch {
		case s.data != "":
			addr := s.data
			s.data = ""
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), dataTimeout)
				defer cancel()
				dc, err := s.d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
				if err != nil {
					return
				}
				s.keep(dc)
				transferData(dc, upload)
			}()
		case s.active != nil:
			l := s.active
			s.active = nil
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer l.Close()
				if tl, ok := l.(*net.TCPListener); ok {
					tl.SetDeadline(time.Now().Add(dataTimeout))
				}
				dc, err := l.Accept()
				if err != nil {
					return
				}
				s.keep(dc)
				transferData(dc, upload)
			}()
		}
	}
	return nil
}

// transferData is the replay's side of one data connection.
func transferData(c net.Conn, upload bool) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(dataTimeout))
	if !upload {
		io.Copy(io.Discard, io.LimitReader(c, maxData))
	}
}

// Answer takes the endpoint of a 227 or 229 reply.
func (s *replaySession) Answer(q, m *pcap.Message) {
	in, ok := m.Info.(*Info)
	if !ok || in.Reply == nil {
		return
	}
	text := strings.Join(in.Reply.Lines, " ")
	rhost, _, _ := net.SplitHostPort(s.remote.String())
	switch in.Reply.Code {
	case 227:
		if ap, err := ftpwire.ParsePASV(text); err == nil {
			// A 227 naming another host than the control connection's is
			// a NAT's or a bounce: the replay dials the target it knows.
			s.data = net.JoinHostPort(rhost, strconv.Itoa(int(ap.Port())))
		}
	case 229:
		if p, err := ftpwire.ParseEPSV(text); err == nil {
			s.data = net.JoinHostPort(rhost, strconv.Itoa(p))
		}
	}
}

func (s *replaySession) Close() {
	s.mu.Lock()
	for _, c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
