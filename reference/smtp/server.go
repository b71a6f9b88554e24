package smtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
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
	// DefaultMaxRecipients is RFC 5321 4.5.3.1.8's minimum: "The minimum
	// total number of recipients that MUST be buffered is 100."
	DefaultMaxRecipients = 100
	// DefaultCommandTimeout is RFC 5321 4.5.3.2.7: "An SMTP server SHOULD
	// have a timeout of at least 5 minutes while it is awaiting the next
	// command from the sender."
	DefaultCommandTimeout = 5 * time.Minute
	// DefaultDataTimeout bounds the wait for each read of the message
	// text: the client's own data-block timeout is 3 minutes (4.5.3.2.5),
	// the server waits the 5 minutes of 4.5.3.2.7.
	DefaultDataTimeout = 5 * time.Minute
	// DefaultDataTotal bounds the whole message text, so a client that
	// sends one byte every few minutes cannot hold a session forever.
	DefaultDataTotal = 30 * time.Minute
	// DefaultSessionTimeout bounds a whole session: a client that sends
	// a NOOP every few minutes cannot keep its connection slot forever.
	DefaultSessionTimeout = time.Hour
	// DefaultWriteTimeout bounds every write of replies.
	DefaultWriteTimeout = time.Minute
	// DefaultMaxErrors closes a session after this many refused commands.
	DefaultMaxErrors = 20
	// MaxHops is the Received count past which a message is refused as a
	// loop (RFC 5321 6.3: "a simple counter of the number of 'Received:'
	// headers ... a threshold of 100").
	MaxHops = 100
)

// Server is the reference SMTP server: it accepts mail for its local
// domains and delivers it into the Store. Unless Relay is set it relays
// nothing: every foreign recipient is refused with 550, from an
// authenticated client too.
type Server struct {
	// Store receives the mail; it bounds the message size (SIZE).
	Store *mailstore.Store
	// Hostname is the name in the greeting and the Received fields
	// (default "localhost").
	Hostname string
	// Mailboxes maps local addresses (lower case, local@domain) to
	// mailboxes; nil means mailstore.FixtureMailboxes. A domain is local
	// when some address of it is listed.
	Mailboxes map[string]string
	// TLSConfig, when set, offers STARTTLS (RFC 3207), and under TLS
	// AUTH PLAIN and LOGIN (RFC 4954).
	TLSConfig *tls.Config
	// Auth checks the credentials of AUTH; nil means the fixture users
	// of internal/mailstore (bob/bob, alice/alice).
	Auth func(user, pass string) bool
	// Submission makes the server a message submission agent (RFC
	// 6409): MAIL needs AUTH first (530 5.7.0 before).
	Submission bool
	// AuthFailDelay is the wait before each 535 (default
	// DefaultAuthFailDelay); MaxAuthFailures the failed AUTH commands
	// after which the session is closed with 421 (default
	// DefaultMaxAuthFailures).
	AuthFailDelay   time.Duration
	MaxAuthFailures int

	MaxConns          int
	MaxConnsPerClient int
	MaxRecipients     int
	MaxErrors         int
	CommandTimeout    time.Duration
	DataTimeout       time.Duration
	DataTotal         time.Duration
	SessionTimeout    time.Duration
	WriteTimeout      time.Duration

	// Log receives one line per session event worth telling; nil discards.
	Log io.Writer

	// Faults, when set, break the server on purpose (faults.go): the
	// mutants of suites/smtp.
	Faults Faults

	// Relay turns on relaying by MX (queue.go), off by default: a
	// foreign recipient from an authenticated client or a RelayNets
	// client is then accepted, queued durably in QueueDir (default the
	// store's root/.queue) and sent on by a worker that asks Resolver for
	// the MX and connects to RelayPort (default 25), retrying after each
	// wait of RetrySchedule (default DefaultRetrySchedule) and bouncing
	// to the reverse-path on a 5xx or when the schedule runs out.
	Relay         bool
	RelayNets     []netip.Prefix
	QueueDir      string
	Resolver      Resolver
	RelayPort     int
	RetrySchedule []time.Duration
	// RelayPoll is how often the worker scans the queue (default 1 s).
	RelayPoll time.Duration
	// RelayPaused holds the worker (a test hook: the queue is then only
	// on disk).
	RelayPaused atomic.Bool

	relayOnce     sync.Once
	relayStopOnce sync.Once
	relayKick     chan struct{}
	relayStop     chan struct{}
	relayDone     chan struct{}

	once      sync.Once
	mailboxes map[string]string
	domains   map[string]bool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	perClient netutil.Clients
	closed    bool
	wg        sync.WaitGroup
	// refusing counts the goroutines answering 421 to connections over
	// the limits; beyond maxRefusing, connections are closed unanswered.
	refusing atomic.Int32
}

const maxRefusing = 64

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("smtp: server closed")

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

func (s *Server) init() {
	s.once.Do(func() {
		m := s.Mailboxes
		if m == nil {
			m = mailstore.FixtureMailboxes()
		}
		s.mailboxes = map[string]string{}
		s.domains = map[string]bool{}
		for addr, box := range m {
			addr = strings.ToLower(addr)
			s.mailboxes[addr] = box
			if _, d, ok := strings.Cut(addr, "@"); ok {
				s.domains[d] = true
			}
		}
	})
	s.mu.Lock()
	if s.sessions == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.sessions = map[*session]struct{}{}
		s.perClient = netutil.Clients{}
	}
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", args...)
	}
}

// Serve accepts connections on l until Close. Transient accept errors
// (out of descriptors, among others) are retried with back-off.
func (s *Server) Serve(l net.Listener) error {
	if s.Store == nil {
		return errors.New("smtp: Server.Store is nil")
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
	s.startRelay()
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
			go func() { s.refuse(c); s.refusing.Add(-1) }()
			continue
		}
		sess := newSession(s, c)
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
		s.refuse(c)
		return
	}
	sess := newSession(s, c)
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	sess.run()
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// refuse answers a connection over the limits with 421 (RFC 5321 3.1: "it
// MAY ... respond with a 554 ... or 421"; 421 says "try again later").
func (s *Server) refuse(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "421 4.7.0 %s Too many connections, try again later\r\n", s.hostname())
}

// Close stops the listeners, has every session answer 421 (RFC 5321
// 3.8: "the server ... MUST ... close the transmission channel after
// sending a 421"), and waits for them to end.
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
	s.stopRelay()
	return nil
}
