package ftp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	fixture "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/internal/netutil"
)

// Defaults of the Server's limits (the contract's params document them).
const (
	DefaultMaxConns          = 64
	DefaultMaxConnsPerClient = 16
	DefaultIdleTimeout       = 5 * time.Minute
	DefaultStallTimeout      = time.Minute
	DefaultDataTimeout       = 30 * time.Second
	DefaultLoginDelay        = 500 * time.Millisecond
	DefaultMaxLine           = 512
	DefaultMaxUploadBytes    = 64 << 20
	DefaultMaxUploadFiles    = 1000
	DefaultMaxUploadTotal    = 256 << 20
	// maxFailedLogins closes the connection after this many failed PASS.
	maxFailedLogins = 3
)

// User is one account of the server.
type User struct {
	Name, Password string
	// Home is the user's root directory (absolute, or relative to Root).
	Home string
	// Anonymous users log in with any password and may not write.
	Anonymous bool
	// WritableDir is the one directory (client path, "/upload") under
	// which the user may write; "" means nowhere.
	WritableDir string
}

// Server is the reference FTP server. Its zero value (with Root set)
// serves the internal/ftp fixture's users with the default limits.
type Server struct {
	// Root is the fixture directory, as internal/ftp.Write lays it out.
	Root string
	// Users are the accounts; nil means the fixture's (bob, anonymous, ftp).
	Users []User
	// TLSConfig, when set, offers AUTH TLS on plain control connections.
	TLSConfig *tls.Config

	// PasvMin and PasvMax bound the passive ports (0: any free port).
	PasvMin, PasvMax int

	MaxConns          int
	MaxConnsPerClient int
	IdleTimeout       time.Duration
	StallTimeout      time.Duration
	DataTimeout       time.Duration
	// LoginDelay is the wait before a 530 for a failed PASS; negative
	// means none (tests of other things only).
	LoginDelay     time.Duration
	MaxLine        int
	MaxUploadBytes int64
	// MaxUploadFiles and MaxUploadTotal bound what a user's writable area
	// holds (files and directories; bytes): an upload or MKD beyond
	// answers 552 (550 for MKD).
	MaxUploadFiles int
	MaxUploadTotal int64

	// Log receives one line per session event worth telling; nil discards.
	Log io.Writer

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	perClient netutil.Clients
	closed    bool
	wg        sync.WaitGroup
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("ftp: server closed")

func (s *Server) maxConns() int           { return orInt(s.MaxConns, DefaultMaxConns) }
func (s *Server) maxPerClient() int       { return orInt(s.MaxConnsPerClient, DefaultMaxConnsPerClient) }
func (s *Server) maxLine() int            { return orInt(s.MaxLine, DefaultMaxLine) }
func (s *Server) idle() time.Duration     { return orDur(s.IdleTimeout, DefaultIdleTimeout) }
func (s *Server) stall() time.Duration    { return orDur(s.StallTimeout, DefaultStallTimeout) }
func (s *Server) dataWait() time.Duration { return orDur(s.DataTimeout, DefaultDataTimeout) }
func (s *Server) maxUpload() int64 {
	if s.MaxUploadBytes > 0 {
		return s.MaxUploadBytes
	}
	return DefaultMaxUploadBytes
}
func (s *Server) maxUploadFiles() int { return orInt(s.MaxUploadFiles, DefaultMaxUploadFiles) }
func (s *Server) maxUploadTotal() int64 {
	if s.MaxUploadTotal > 0 {
		return s.MaxUploadTotal
	}
	return DefaultMaxUploadTotal
}
func (s *Server) loginDelay() time.Duration {
	if s.LoginDelay < 0 {
		return 0
	}
	return orDur(s.LoginDelay, DefaultLoginDelay)
}

func orInt(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

func orDur(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}

func (s *Server) users() []User {
	if s.Users != nil {
		return s.Users
	}
	var out []User
	for _, u := range fixture.Users {
		w := ""
		if !u.Anonymous {
			w = fixture.UploadDir
		}
		out = append(out, User{Name: u.Name, Password: u.Password, Home: u.Home, Anonymous: u.Anonymous, WritableDir: w})
	}
	return out
}

func (s *Server) home(u User) string {
	if filepath.IsAbs(u.Home) {
		return u.Home
	}
	return filepath.Join(s.Root, u.Home)
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", args...)
	}
}

// Serve accepts plain control connections on l until Close.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, nil) }

// ServeTLS accepts control connections on l that are TLS from the first
// byte (implicit FTPS) with cfg, until Close.
// Its sessions protect data connections with cfg too when TLSConfig is nil.
func (s *Server) ServeTLS(l net.Listener, cfg *tls.Config) error {
	return s.serve(l, cfg)
}

func (s *Server) serve(l net.Listener, implicit *tls.Config) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.sessions = map[*session]struct{}{}
		s.perClient = netutil.Clients{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			if netutil.RetryAccept(err) {
				backoff = netutil.NextBackoff(backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		setOOBInline(c)
		client := netutil.ClientAddr(c.RemoteAddr())
		s.mu.Lock()
		full := len(s.sessions) >= s.maxConns() || s.perClient.Full(client, s.maxPerClient())
		if s.closed || full {
			s.mu.Unlock()
			go refuse(c, implicit)
			continue
		}
		sess := newSession(s, c, implicit)
		s.sessions[sess] = struct{}{}
		s.perClient.Add(client)
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			sess.run()
			s.mu.Lock()
			delete(s.sessions, sess)
			s.perClient.Done(client)
			s.mu.Unlock()
		}()
	}
}

// ServeConn serves one control connection that c already is (a
// net.Pipe end, for fuzzing the whole server without sockets), within the
// same limits as accepted ones, and returns when the session ends. A
// connection without an IP peer can open no data connection.
func (s *Server) ServeConn(c net.Conn) {
	s.mu.Lock()
	if s.sessions == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.sessions = map[*session]struct{}{}
		s.perClient = netutil.Clients{}
	}
	if s.closed || len(s.sessions) >= s.maxConns() {
		s.mu.Unlock()
		refuse(c, nil)
		return
	}
	sess := newSession(s, c, nil)
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	sess.run()
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// refuse answers a connection over the limits: RFC 959 5.4 lists 421 for
// connection establishment, "Service not available, closing control
// connection".
func refuse(c net.Conn, implicit *tls.Config) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if implicit != nil {
		tc := tls.Server(c, implicit)
		if tc.Handshake() != nil {
			return
		}
		c = tc
	}
	io.WriteString(c, "421 Too many connections, closing control connection.\r\n")
}

// Close stops the listeners, sends 421 to every session (RFC 959 5.4:
// "421 Service not available, closing control connection. This may be a
// reply to any command if the service knows it must shut down.") and
// waits for the sessions to end.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	sessions := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.shutdown()
	}
	s.wg.Wait()
	return nil
}

// openRoot opens a user's home as an os.Root, through which every file
// of the session is reached: no name can leave it.
func openRoot(dir string) (*os.Root, error) { return os.OpenRoot(dir) }
