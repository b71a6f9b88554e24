package pop3

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/netutil"
)

// Defaults of the Server's limits.
const (
	DefaultMaxConns          = 64
	DefaultMaxConnsPerClient = 8
	// DefaultIdleTimeout is RFC 1939 3's minimum: "A POP3 server MAY
	// have an inactivity autologout timer. Such a timer MUST be of at
	// least 10 minutes' duration."
	DefaultIdleTimeout = 10 * time.Minute
	// DefaultWriteTimeout bounds every write of a response (each flush
	// of a RETR's buffer too) and the TLS handshake.
	DefaultWriteTimeout = time.Minute
	// DefaultLoginDelay is the wait before a failed login is answered.
	DefaultLoginDelay = 500 * time.Millisecond
	// DefaultMaxAuthFailures closes a session after this many failed
	// logins.
	DefaultMaxAuthFailures = 3
	// DefaultMaxErrors closes a session after this many refused commands.
	DefaultMaxErrors = 20
)

// PlaintextPolicy says where USER, PASS and AUTH PLAIN, which send the
// password as it is, are accepted before TLS (STLS or ServeTLS). APOP
// sends no password and is not governed by it.
type PlaintextPolicy int

const (
	// PlaintextLoopback, the default, accepts them when both ends of the
	// connection are loopback addresses (the references of runs, on
	// 127.0.0.1 and ::1, where nobody can listen in), and refuses them
	// elsewhere.
	PlaintextLoopback PlaintextPolicy = iota
	// PlaintextNever accepts them only under TLS (RFC 8314 and RFC 2595
	// 2.1's advice).
	PlaintextNever
	// PlaintextAlways accepts them before TLS from anywhere.
	PlaintextAlways
)

// ParsePlaintextPolicy parses "loopback", "never" or "always"
// (internal/pop3's values of its plaintext-auth param).
func ParsePlaintextPolicy(s string) (PlaintextPolicy, error) {
	switch s {
	case "loopback", "":
		return PlaintextLoopback, nil
	case "never":
		return PlaintextNever, nil
	case "always":
		return PlaintextAlways, nil
	}
	return 0, fmt.Errorf("pop3: plaintext policy %q: want never, loopback or always", s)
}

// Server is the reference POP3 server: it serves the mailboxes of its
// Store as the maildrops of its users.
type Server struct {
	// Store holds the maildrops: a user's is the mailbox of the user's
	// name.
	Store *mailstore.Store
	// Users are the accounts (login and mailbox Name, Password); nil
	// means mailstore.FixtureUsers.
	Users []mailstore.User
	// Hostname is the name in the greeting and its APOP timestamp
	// (default "localhost").
	Hostname string
	// TLSConfig, when set, offers STLS (RFC 2595) on Serve's
	// connections.
	TLSConfig *tls.Config
	// Plaintext is where logins that send the password are accepted
	// before TLS.
	Plaintext PlaintextPolicy
	// DisableAPOP leaves the timestamp out of the greeting and refuses
	// APOP.
	DisableAPOP bool

	// MaxConns bounds the concurrent sessions, MaxConnsPerClient those
	// of one client IP (beyond: -ERR [SYS/TEMP] and close).
	MaxConns          int
	MaxConnsPerClient int
	// MaxAuthFailures failed logins close the session; MaxErrors refused
	// commands too.
	MaxAuthFailures int
	MaxErrors       int
	// IdleTimeout is the silence of the client after which the server
	// closes the connection without a response and without deleting
	// anything (RFC 1939 3).
	IdleTimeout time.Duration
	// WriteTimeout bounds each write (each flush of a long response) and
	// the TLS handshake.
	WriteTimeout time.Duration
	// LoginDelay is waited before a failed login is answered; a negative
	// value waits nothing.
	LoginDelay time.Duration

	// Log receives one line per session event worth telling; nil discards.
	Log io.Writer

	once  sync.Once
	users map[string]string

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	perClient netutil.Clients
	locks     map[string]*session // maildrop -> the session holding it
	closed    bool
	wg        sync.WaitGroup
	// refusing counts the goroutines answering connections over the
	// limits; beyond maxRefusing, connections are closed unanswered.
	refusing atomic.Int32
}

const maxRefusing = 64

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pop3: server closed")

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

func (s *Server) hostname() string {
	if s.Hostname != "" {
		return s.Hostname
	}
	return "localhost"
}

func (s *Server) loginDelay() time.Duration {
	if s.LoginDelay < 0 {
		return 0
	}
	return orDur(s.LoginDelay, DefaultLoginDelay)
}

func (s *Server) init() {
	s.once.Do(func() {
		users := s.Users
		if users == nil {
			users = mailstore.FixtureUsers
		}
		s.users = map[string]string{}
		for _, u := range users {
			s.users[u.Name] = u.Password
		}
	})
	s.mu.Lock()
	if s.sessions == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.sessions = map[*session]struct{}{}
		s.perClient = netutil.Clients{}
		s.locks = map[string]*session{}
	}
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", args...)
	}
}

// Serve accepts plain connections on l (STLS offered with a TLSConfig)
// until Close. Transient accept errors (out of descriptors, among others)
// are retried with back-off.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, nil) }

// ServeTLS accepts connections on l that are TLS from the first byte with
// cfg (RFC 8314 3.3, port 995), until Close.
func (s *Server) ServeTLS(l net.Listener, cfg *tls.Config) error {
	if cfg == nil {
		return errors.New("pop3: ServeTLS needs a tls.Config")
	}
	return s.serve(l, cfg)
}

func (s *Server) serve(l net.Listener, implicit *tls.Config) error {
	if s.Store == nil {
		return errors.New("pop3: Server.Store is nil")
	}
	s.init()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
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
		client := netutil.ClientAddr(c.RemoteAddr())
		s.mu.Lock()
		full := len(s.sessions) >= orInt(s.MaxConns, DefaultMaxConns) ||
			s.perClient.Full(client, orInt(s.MaxConnsPerClient, DefaultMaxConnsPerClient))
		if s.closed || full {
			s.mu.Unlock()
			if s.refusing.Add(1) > maxRefusing {
				s.refusing.Add(-1)
				c.Close()
				continue
			}
			go func() { s.refuse(c, implicit); s.refusing.Add(-1) }()
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

// ServeConn serves one connection that c already is (a net.Pipe end, for
// fuzzing the whole server without sockets), within the total limit, and
// returns when the session ends.
func (s *Server) ServeConn(c net.Conn) {
	s.init()
	s.mu.Lock()
	if s.closed || len(s.sessions) >= orInt(s.MaxConns, DefaultMaxConns) {
		s.mu.Unlock()
		s.refuse(c, nil)
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

// refuse answers a connection over the limits with a negative greeting
// and closes it. RFC 3206 4: "SYS/TEMP indicates a problem which is
// likely to be temporary in nature, and therefore there is no need to
// alarm the user, unless the failure persists." (Here: the server is
// full; the client may retry later.)
func (s *Server) refuse(c net.Conn, implicit *tls.Config) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if implicit != nil {
		tc := tls.Server(c, implicit)
		if tc.Handshake() != nil {
			return
		}
		c = tc
	}
	io.WriteString(c, "-ERR [SYS/TEMP] Too many connections, try again later\r\n")
}

// lock takes the exclusive-access lock of maildrop for sess (RFC 1939
// 4); it reports false when another session holds it.
func (s *Server) lock(maildrop string, sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, held := s.locks[maildrop]; held {
		return false
	}
	s.locks[maildrop] = sess
	return true
}

func (s *Server) unlock(maildrop string, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks[maildrop] == sess {
		delete(s.locks, maildrop)
	}
}

// Close stops the listeners, ends every session at its next read without
// a response and without deleting anything (what RFC 1939 3 asks of an
// autologout: "the session does NOT enter the UPDATE state"), and waits
// for them to end.
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
