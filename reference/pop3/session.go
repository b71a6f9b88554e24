package pop3

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/netutil"
)

// Buffer sizes of a session: with MaxConns sessions the server holds at
// most MaxConns*(readBuf+writeBuf) bytes of connection buffers (plus
// crypto/tls's records under TLS); messages stream from their files.
const (
	readBuf  = MaxAuthLine // a line must fit: ReadSlice needs it whole
	writeBuf = 4096
	// maxDiscard is how much of one overlong line is read (and dropped)
	// before the session gives up on the client.
	maxDiscard = 64 << 10
)

var (
	errTooLong  = errors.New("line too long")
	errFlood    = errors.New("line without end")
	errShutdown = errors.New("server shutting down")
	errTooMany  = errors.New("too many errors")
	errQuit     = errors.New("quit")
	errClose    = errors.New("close after the response")
)

// state is the session's state of RFC 1939 3: AUTHORIZATION until a
// login, then TRANSACTION; QUIT there is the UPDATE state.
type state int

const (
	stateAuthorization state = iota
	stateTransaction
)

// message is one message of the maildrop as the session sees it: the
// listing taken at login, numbered from 1 in this order for the whole
// session (RFC 1939 4: "Once the POP3 server has opened the maildrop, it
// assigns a message-number to each message, and notes the size of each
// message in octets.").
type message struct {
	name    string // the Maildir unique name
	size    int64  // octets with CRLF line ends; -1 until counted
	deleted bool
}

// deadlineWriter sets the write deadline before every write, so that
// bufio's flushes (a long RETR, a pipelining client's batch) each have
// one.
type deadlineWriter struct {
	c net.Conn
	d time.Duration
}

func (w deadlineWriter) Write(p []byte) (int, error) {
	w.c.SetWriteDeadline(time.Now().Add(w.d))
	return w.c.Write(p)
}

type session struct {
	s        *Server
	raw      net.Conn
	conn     net.Conn // raw, or TLS over it
	r        *bufio.Reader
	w        *bufio.Writer
	implicit *tls.Config
	closing  atomic.Bool
	peer     string
	loopback bool

	tls       bool
	timestamp string // the greeting's APOP timestamp; "" without APOP
	state     state
	user      string // the name of an accepted USER, for PASS
	maildrop  string // the locked maildrop, in TRANSACTION state
	msgs      []message
	errors    int
	failures  int
}

func newSession(s *Server, c net.Conn, implicit *tls.Config) *session {
	peer, local := netutil.ClientAddr(c.RemoteAddr()), netutil.ClientAddr(c.LocalAddr())
	sess := &session{s: s, raw: c, implicit: implicit, peer: "unknown",
		loopback: peer.IsValid() && peer.IsLoopback() && local.IsValid() && local.IsLoopback()}
	if peer.IsValid() {
		sess.peer = peer.String()
	}
	sess.setConn(c)
	return sess
}

func (c *session) setConn(conn net.Conn) {
	c.conn = conn
	c.r = bufio.NewReaderSize(conn, readBuf)
	c.w = bufio.NewWriterSize(deadlineWriter{conn, orDur(c.s.WriteTimeout, DefaultWriteTimeout)}, writeBuf)
}

func (c *session) shutdown() {
	c.closing.Store(true)
	c.raw.SetReadDeadline(time.Now())
}

// ok queues a positive response; lines after the first make a
// multi-line response, byte-stuffed and terminated (RFC 1939 3).
func (c *session) ok(text string, lines ...string) {
	if text != "" {
		c.w.WriteString(statusLine("+OK " + text))
	} else {
		c.w.WriteString("+OK\r\n")
	}
	for _, l := range lines {
		if strings.HasPrefix(l, ".") {
			c.w.WriteByte('.')
		}
		c.w.WriteString(l + "\r\n")
	}
}

// end queues the terminator of a multi-line response.
func (c *session) end() { c.w.WriteString(".\r\n") }

// fail queues a negative response and counts it. A text that starts
// with "[" carries a response code (RFC 2449 8).
func (c *session) fail(text string) {
	c.errors++
	c.w.WriteString(statusLine("-ERR " + text))
}

// statusLine ends a status line with CRLF, its text cut to keep it
// within MaxResponseLine (a long Hostname in the greeting).
func statusLine(s string) string {
	if len(s) > MaxResponseLine-2 {
		s = s[:MaxResponseLine-2]
	}
	return s + "\r\n"
}

func (c *session) flush() error { return c.w.Flush() }

// readLine reads one line, terminator included, of at most limit octets
// within the idle timeout. Responses are flushed first unless a whole next
// command is already buffered (RFC 2449 6.6: a server may batch the
// responses of pipelined commands). An overlong line is consumed through
// its LF and reported as errTooLong; one longer than maxDiscard as
// errFlood.
func (c *session) readLine(limit int) ([]byte, error) {
	if b, _ := c.r.Peek(c.r.Buffered()); bytes.IndexByte(b, '\n') < 0 {
		if err := c.flush(); err != nil {
			return nil, err
		}
	}
	c.conn.SetReadDeadline(time.Now().Add(orDur(c.s.IdleTimeout, DefaultIdleTimeout)))
	if c.closing.Load() {
		return nil, errShutdown
	}
	long := false
	total := 0
	for {
		frag, err := c.r.ReadSlice('\n')
		total += len(frag)
		switch {
		case err == nil && !long && len(frag) <= limit:
			return frag, nil
		case err == nil:
			return nil, errTooLong
		case errors.Is(err, bufio.ErrBufferFull):
			long = true
			if total > maxDiscard {
				return nil, errFlood
			}
		default:
			if c.closing.Load() {
				return nil, errShutdown
			}
			return nil, err
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *session) run() {
	defer func() {
		if c.maildrop != "" {
			c.s.unlock(c.maildrop, c)
		}
		c.conn.Close()
	}()
	if c.implicit != nil {
		tc := tls.Server(c.raw, c.implicit)
		c.raw.SetDeadline(time.Now().Add(orDur(c.s.WriteTimeout, DefaultWriteTimeout)))
		if err := tc.Handshake(); err != nil {
			c.s.logf("pop3: %s: TLS handshake: %v", c.peer, err)
			return
		}
		c.raw.SetDeadline(time.Time{})
		c.setConn(tc)
		c.tls = true
	}
	greeting := "protospec POP3 reference ready"
	if !c.s.DisableAPOP {
		// RFC 1939 7: "the timestamp MUST be different each time the
		// POP3 server issues a banner greeting".
		var r [8]byte
		rand.Read(r[:])
		c.timestamp = fmt.Sprintf("<%s.%d@%s>", hex.EncodeToString(r[:]), time.Now().UnixNano(), c.s.hostname())
		greeting += " " + c.timestamp
	}
	c.ok(greeting)
	for {
		err := c.command()
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, errQuit), errors.Is(err, errClose):
			c.flush()
		case errors.Is(err, errFlood):
			c.fail("Line too long (RFC 2449 4: 255 octets), closing connection")
			c.flush()
		case errors.Is(err, errTooMany):
			c.fail("Too many errors, closing connection")
			c.flush()
		case errors.Is(err, errShutdown), isTimeout(err):
			// RFC 1939 3: "When the timer expires, the session does NOT
			// enter the UPDATE state--the server should close the TCP
			// connection without removing any messages or sending any
			// response to the client."
			c.s.logf("pop3: %s: closed (%v), nothing deleted", c.peer, err)
		default:
			c.s.logf("pop3: %s: %v", c.peer, err)
		}
		return
	}
}

// command reads and answers one command.
func (c *session) command() error {
	raw, err := c.readLine(MaxCommandLine)
	// RFC 1939 7: PASS "may only be given in the AUTHORIZATION state
	// immediately after a successful USER command": any other line in
	// between forgets the USER.
	user := c.user
	c.user = ""
	if err != nil && !errors.Is(err, errTooLong) {
		return err
	}
	// The command after MaxErrors refused ones is answered with the
	// closing -ERR: every response answers a command.
	if c.errors >= orInt(c.s.MaxErrors, DefaultMaxErrors) {
		return errTooMany
	}
	if err != nil {
		c.fail("Line too long (RFC 2449 4: 255 octets with CRLF)")
		return nil
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		c.fail("Commands end with CRLF, not a bare LF (RFC 1939 3)")
		return nil
	}
	cmd, err := parseCommand(string(raw[:len(raw)-2]))
	if err != nil {
		c.fail("Syntax error: " + err.Error())
		return nil
	}
	if c.state == stateAuthorization {
		return c.authorization(cmd, user)
	}
	return c.transaction(cmd)
}

// transactionVerbs are the commands of the TRANSACTION state.
var transactionVerbs = map[string]bool{"STAT": true, "LIST": true, "RETR": true, "DELE": true, "NOOP": true, "RSET": true, "TOP": true, "UIDL": true}

func (c *session) authorization(cmd command, user string) error {
	switch cmd.verb {
	case "CAPA":
		c.capa(cmd)
	case "USER":
		c.userCmd(cmd)
	case "PASS":
		return c.pass(cmd, user)
	case "APOP":
		return c.apop(cmd)
	case "AUTH":
		return c.auth(cmd)
	case "STLS":
		return c.stls(cmd)
	case "QUIT":
		if len(cmd.args) != 0 {
			c.fail("Syntax: QUIT")
			return nil
		}
		// RFC 1939 4: QUIT in the AUTHORIZATION state ends the session
		// without entering the UPDATE state.
		c.ok("protospec POP3 reference signing off")
		return errQuit
	default:
		if transactionVerbs[cmd.verb] {
			c.fail("Log in first: " + cmd.verb + " is a command of the TRANSACTION state (RFC 1939 4)")
			return nil
		}
		c.fail("Unknown command")
	}
	return nil
}

func (c *session) transaction(cmd command) error {
	switch cmd.verb {
	case "CAPA":
		c.capa(cmd)
	case "STAT":
		c.stat(cmd)
	case "LIST":
		return c.list(cmd)
	case "UIDL":
		c.uidl(cmd)
	case "RETR":
		return c.retr(cmd)
	case "TOP":
		return c.top(cmd)
	case "DELE":
		c.dele(cmd)
	case "NOOP":
		if len(cmd.args) != 0 {
			c.fail("Syntax: NOOP")
			return nil
		}
		c.ok("")
	case "RSET":
		c.rset(cmd)
	case "QUIT":
		if len(cmd.args) != 0 {
			c.fail("Syntax: QUIT")
			return nil
		}
		return c.update()
	case "USER", "PASS", "APOP", "AUTH":
		c.fail("Already logged in (RFC 1939 4: a command of the AUTHORIZATION state)")
	case "STLS":
		// RFC 2595 4: "Restrictions: Only permitted in AUTHORIZATION
		// state."
		c.fail("STLS is only permitted in the AUTHORIZATION state (RFC 2595 4)")
	default:
		c.fail("Unknown command")
	}
	return nil
}

// plaintextOK reports whether a login that sends the password may be
// taken now.
func (c *session) plaintextOK() bool {
	switch {
	case c.tls:
		return true
	case c.s.Plaintext == PlaintextAlways:
		return true
	case c.s.Plaintext == PlaintextLoopback:
		return c.loopback
	}
	return false
}

// refusePlaintext is the answer to a plaintext login the policy refuses
// (RFC 2595 and RFC 8314 advise against passwords sent in the clear), with
// RFC 3206 5's [AUTH]: a matter of authentication, not a temporary one
// (Dovecot answers the same).
func (c *session) refusePlaintext() {
	if c.s.TLSConfig != nil && c.implicit == nil {
		c.fail("[AUTH] Plaintext authentication is disabled before TLS: use STLS first (RFC 2595)")
		return
	}
	c.fail("[AUTH] Plaintext authentication is disabled on this connection (RFC 8314)")
}

func (c *session) capa(cmd command) {
	if len(cmd.args) != 0 {
		c.fail("Syntax: CAPA")
		return
	}
	lines := []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER"}
	if c.state == stateAuthorization {
		if c.plaintextOK() {
			lines = append(lines, "USER", "SASL PLAIN")
		}
		if c.s.TLSConfig != nil && !c.tls {
			lines = append(lines, "STLS")
		}
	}
	lines = append(lines, "IMPLEMENTATION protospec-reference")
	c.ok("Capability list follows", lines...)
	c.end()
}

func (c *session) userCmd(cmd command) {
	if len(cmd.args) != 1 {
		c.fail("Syntax: USER name")
		return
	}
	if !c.plaintextOK() {
		c.refusePlaintext()
		return
	}
	// Any name is accepted here, known or not: RFC 1939 7 allows "-ERR
	// never heard of mailbox name", but telling which names exist helps
	// a guesser; PASS answers the same for a wrong name and a wrong
	// password.
	c.user = cmd.args[0]
	c.ok("Send PASS")
}

func (c *session) pass(cmd command, user string) error {
	if len(cmd.args) != 1 {
		c.fail("Syntax: PASS string")
		return nil
	}
	if user == "" {
		c.fail("Send USER first (RFC 1939 7)")
		return nil
	}
	if !c.plaintextOK() {
		c.refusePlaintext()
		return nil
	}
	if !c.checkPassword(user, cmd.args[0]) {
		return c.loginFailed()
	}
	return c.enter(user)
}

func (c *session) checkPassword(user, password string) bool {
	want, ok := c.s.users[user]
	if !ok {
		want = "\x00no such user"
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1 && ok
}

// loginFailed answers a failed login after the login delay, and closes
// the session after MaxAuthFailures of them.
func (c *session) loginFailed() error {
	c.failures++
	if err := c.flush(); err != nil {
		return err
	}
	time.Sleep(c.s.loginDelay())
	if c.failures >= orInt(c.s.MaxAuthFailures, DefaultMaxAuthFailures) {
		c.fail("[AUTH] Authentication failed; too many failures, closing connection")
		return errClose
	}
	// RFC 3206 5: [AUTH] tells the client the failure is one of its
	// credentials, not of the server (SYS).
	c.fail("[AUTH] Authentication failed")
	return nil
}

// enter takes the maildrop's lock and enters the TRANSACTION state (RFC
// 1939 4: "the POP3 server then acquires an exclusive-access lock on the
// maildrop").
func (c *session) enter(user string) error {
	if err := mailstore.ValidMailbox(user); err != nil {
		c.fail("[SYS/PERM] No maildrop for this user")
		return nil
	}
	if !c.s.lock(user, c) {
		// RFC 2449 8.1.2: [IN-USE] "indicates the authentication was
		// successful, but the user's maildrop is currently in use
		// (probably by another POP3 client)."
		c.fail("[IN-USE] Maildrop already locked by another session")
		return nil
	}
	list, err := c.s.Store.List(user)
	if err != nil && !errors.Is(err, mailstore.ErrNoMailbox) {
		c.s.unlock(user, c)
		c.s.logf("pop3: %s: listing %s: %v", c.peer, user, err)
		// RFC 1939 4: "(If a lock was acquired but the POP3 server
		// intends to respond with a negative status indicator, the POP3
		// server must release the lock prior to rejecting the command.)"
		c.fail("[SYS/TEMP] Cannot open the maildrop")
		return nil
	}
	c.msgs = make([]message, len(list))
	for i, m := range list {
		c.msgs[i] = message{name: m.ID, size: -1}
	}
	c.maildrop, c.state = user, stateTransaction
	c.ok(fmt.Sprintf("Maildrop locked and ready, %d messages", len(c.msgs)))
	return nil
}

// apop checks "APOP name digest" (RFC 1939 7): the digest is the MD5 of
// the greeting's timestamp followed by the shared secret, in lower-case
// hex. It sends no password, so the plaintext policy does not apply.
func (c *session) apop(cmd command) error {
	if c.timestamp == "" {
		c.fail("APOP is not offered (no timestamp in the greeting)")
		return nil
	}
	if len(cmd.args) != 2 {
		c.fail("Syntax: APOP name digest")
		return nil
	}
	digest := cmd.args[1]
	// RFC 1939 7: "The 'digest' parameter itself is a 16-octet value
	// which is sent in hexadecimal format, using lower-case ASCII
	// characters."
	if len(digest) != 32 || strings.Trim(digest, "0123456789abcdef") != "" {
		c.fail("APOP digest must be 32 lower-case hex digits (RFC 1939 7)")
		return nil
	}
	secret, known := c.s.users[cmd.args[0]]
	sum := md5.Sum([]byte(c.timestamp + secret))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(digest)) != 1 || !known {
		return c.loginFailed()
	}
	return c.enter(cmd.args[0])
}

// auth runs "AUTH PLAIN [initial-response]" (RFC 5034, RFC 4616).
func (c *session) auth(cmd command) error {
	if len(cmd.args) < 1 || len(cmd.args) > 2 {
		c.fail("Syntax: AUTH mechanism [initial-response] (RFC 5034 4); CAPA lists the mechanisms")
		return nil
	}
	if !strings.EqualFold(cmd.args[0], "PLAIN") {
		c.fail("Unrecognized authentication type (RFC 5034 4)")
		return nil
	}
	if !c.plaintextOK() {
		c.refusePlaintext()
		return nil
	}
	var resp string
	if len(cmd.args) == 2 {
		// RFC 5034 4: an initial response of "=" is an empty one.
		resp = cmd.args[1]
		if resp == "=" {
			resp = ""
		}
	} else {
		// Without an initial response the server sends an empty
		// challenge. RFC 5034 4: "A server challenge is sent as a line consisting
		// of a "+" character followed by a single space and a string
		// encoded using Base64".
		c.w.WriteString("+ \r\n")
		raw, err := c.readLine(MaxAuthLine)
		if errors.Is(err, errTooLong) {
			c.fail("Authentication response too long")
			return nil
		}
		if err != nil {
			return err
		}
		if !bytes.HasSuffix(raw, []byte("\r\n")) {
			c.fail("Lines end with CRLF, not a bare LF (RFC 1939 3)")
			return nil
		}
		resp = string(raw[:len(raw)-2])
	}
	if resp == "*" {
		// RFC 5034 4: "If the client wishes to cancel an authentication
		// exchange, it issues a line with a single "*". If the server
		// receives such a response, it MUST reject the AUTH command by
		// sending an -ERR reply."
		c.fail("Authentication cancelled")
		return nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(resp)
	if err != nil {
		// RFC 5034 4: "If the server cannot Base64 decode any client
		// response, it MUST reject the AUTH command with an -ERR reply."
		c.fail("Invalid base64 in the authentication response (RFC 5034 4)")
		return nil
	}
	// RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd.
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || parts[1] == "" {
		c.fail("[AUTH] Malformed PLAIN message (RFC 4616 2)")
		return nil
	}
	authz, user, password := parts[0], parts[1], parts[2]
	if !c.checkPassword(user, password) || (authz != "" && authz != user) {
		return c.loginFailed()
	}
	return c.enter(user)
}

// stls starts TLS (RFC 2595 4). Whatever the client sent after the STLS
// line is dropped unread: bytes before the handshake are not protected,
// and acting on them is the command injection of CVE-2011-0411.
func (c *session) stls(cmd command) error {
	switch {
	case c.tls:
		// RFC 2595 4's example: "-ERR Command not permitted when TLS
		// active".
		c.fail("Command not permitted when TLS active")
		return nil
	case c.s.TLSConfig == nil:
		c.fail("STLS is not offered")
		return nil
	case len(cmd.args) != 0:
		c.fail("Syntax: STLS")
		return nil
	}
	if n := c.r.Buffered(); n > 0 {
		c.s.logf("pop3: %s: dropped %d octets sent after STLS before the handshake", c.peer, n)
	}
	c.ok("Begin TLS negotiation")
	if err := c.flush(); err != nil {
		return err
	}
	tc := tls.Server(c.raw, c.s.TLSConfig)
	c.raw.SetDeadline(time.Now().Add(orDur(c.s.WriteTimeout, DefaultWriteTimeout)))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("STLS handshake: %w", err)
	}
	c.raw.SetDeadline(time.Time{})
	c.setConn(tc)
	c.tls = true
	return nil
}

// msgArg resolves a message-number argument. RFC 1939 5: a message
// number "may NOT refer to a message marked as deleted".
func (c *session) msgArg(arg string) (int, bool) {
	n, err := parseNumber(arg)
	if err != nil || n > len(c.msgs) {
		c.fail("No such message")
		return 0, false
	}
	if c.msgs[n-1].deleted {
		c.fail("Message " + arg + " already deleted")
		return 0, false
	}
	return n - 1, true
}

// size counts message i's octets as RETR sends them (CRLF line ends),
// once per session.
func (c *session) size(i int) (int64, error) {
	m := &c.msgs[i]
	if m.size >= 0 {
		return m.size, nil
	}
	f, err := c.s.Store.Open(c.maildrop, m.name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := transcode(nil, f, false, -1)
	if err != nil {
		return 0, err
	}
	m.size = n
	return n, nil
}

func (c *session) storeFailed(err error) {
	c.s.logf("pop3: %s: %s: %v", c.peer, c.maildrop, err)
	if errors.Is(err, mailstore.ErrNotFound) {
		c.fail("[SYS/TEMP] Message removed by another process")
		return
	}
	c.fail("[SYS/TEMP] Cannot read the maildrop")
}

func (c *session) stat(cmd command) {
	if len(cmd.args) != 0 {
		c.fail("Syntax: STAT")
		return
	}
	var n int
	var octets int64
	for i := range c.msgs {
		if c.msgs[i].deleted {
			continue
		}
		sz, err := c.size(i)
		if err != nil {
			c.storeFailed(err)
			return
		}
		n++
		octets += sz
	}
	// RFC 1939 5: "The positive response consists of "+OK" followed by a
	// single space, the number of messages in the maildrop, a single
	// space, and the size of the maildrop in octets."
	c.ok(fmt.Sprintf("%d %d", n, octets))
}

func (c *session) list(cmd command) error {
	switch len(cmd.args) {
	case 0:
	case 1:
		i, ok := c.msgArg(cmd.args[0])
		if !ok {
			return nil
		}
		sz, err := c.size(i)
		if err != nil {
			c.storeFailed(err)
			return nil
		}
		c.ok(fmt.Sprintf("%d %d", i+1, sz))
		return nil
	default:
		c.fail("Syntax: LIST [msg]")
		return nil
	}
	// Sizes first: once "+OK" is out, a failure can only cut the
	// response off.
	for i := range c.msgs {
		if !c.msgs[i].deleted {
			if _, err := c.size(i); err != nil {
				c.storeFailed(err)
				return nil
			}
		}
	}
	c.ok("Scan listing follows")
	for i, m := range c.msgs {
		if !m.deleted {
			c.w.WriteString(strconv.Itoa(i+1) + " " + strconv.FormatInt(m.size, 10) + "\r\n")
		}
	}
	c.end()
	return nil
}

func (c *session) uidl(cmd command) {
	switch len(cmd.args) {
	case 0:
	case 1:
		i, ok := c.msgArg(cmd.args[0])
		if ok {
			c.ok(strconv.Itoa(i+1) + " " + uniqueID(c.msgs[i].name))
		}
		return
	default:
		c.fail("Syntax: UIDL [msg]")
		return
	}
	c.ok("Unique-ID listing follows")
	for i, m := range c.msgs {
		if !m.deleted {
			c.w.WriteString(strconv.Itoa(i+1) + " " + uniqueID(m.name) + "\r\n")
		}
	}
	c.end()
}

func (c *session) retr(cmd command) error {
	if len(cmd.args) != 1 {
		c.fail("Syntax: RETR msg")
		return nil
	}
	i, ok := c.msgArg(cmd.args[0])
	if !ok {
		return nil
	}
	return c.send(i, -1)
}

func (c *session) top(cmd command) error {
	if len(cmd.args) != 2 {
		c.fail("Syntax: TOP msg n")
		return nil
	}
	i, ok := c.msgArg(cmd.args[0])
	if !ok {
		return nil
	}
	// RFC 1939 7: "a non-negative number of lines (required)".
	n, err := parseCount(cmd.args[1])
	if err != nil {
		c.fail("Syntax: TOP msg n, n a non-negative number of lines")
		return nil
	}
	return c.send(i, n)
}

// send streams message i (all of it, or the header and bodyLines lines of
// the body), byte-stuffed, then the terminator. The file is read as it
// is sent; a failure after "+OK" closes the connection with the
// response cut off, which the client sees as no terminator.
func (c *session) send(i, bodyLines int) error {
	f, err := c.s.Store.Open(c.maildrop, c.msgs[i].name)
	if err != nil {
		c.storeFailed(err)
		return nil
	}
	defer f.Close()
	c.ok("Message follows")
	n, err := transcode(c.w, f, true, bodyLines)
	if err != nil {
		return fmt.Errorf("sending message %d: %w", i+1, err)
	}
	if bodyLines < 0 {
		c.msgs[i].size = n
	}
	c.end()
	return nil
}

func (c *session) dele(cmd command) {
	if len(cmd.args) != 1 {
		c.fail("Syntax: DELE msg")
		return
	}
	i, ok := c.msgArg(cmd.args[0])
	if !ok {
		return
	}
	// RFC 1939 5: "The POP3 server marks the message as deleted. Any
	// future reference to the message-number associated with the message
	// in a POP3 command generates an error. The POP3 server does not
	// actually delete the message until the POP3 session enters the
	// UPDATE state."
	c.msgs[i].deleted = true
	c.ok("Message " + cmd.args[0] + " deleted")
}

func (c *session) rset(cmd command) {
	if len(cmd.args) != 0 {
		c.fail("Syntax: RSET")
		return
	}
	for i := range c.msgs {
		c.msgs[i].deleted = false
	}
	c.ok(fmt.Sprintf("Maildrop has %d messages", len(c.msgs)))
}

// update is the UPDATE state of RFC 1939 6: "the POP3 server removes all
// messages marked as deleted from the maildrop and replies as to the
// status of this operation". Each removal is durable (the directory
// fsynced) before +OK; a session that ends any other way removes nothing.
func (c *session) update() error {
	removed, failed := 0, 0
	for _, m := range c.msgs {
		if !m.deleted {
			continue
		}
		err := c.s.Store.Delete(c.maildrop, m.name)
		switch {
		case err == nil, errors.Is(err, mailstore.ErrNotFound):
			removed++
		default:
			failed++
			c.s.logf("pop3: %s: %s: removing %s: %v", c.peer, c.maildrop, m.name, err)
		}
	}
	if failed > 0 {
		// RFC 1939 6: "-ERR some deleted messages not removed".
		c.fail(fmt.Sprintf("[SYS/TEMP] Some deleted messages not removed (%d of %d)", failed, failed+removed))
		return errQuit
	}
	c.ok(fmt.Sprintf("protospec POP3 reference signing off (%d messages deleted)", removed))
	return errQuit
}
