package smtp

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
)

// Buffer sizes of a session: with MaxConns sessions the server holds at
// most MaxConns*(readBuf+writeBuf) bytes of connection buffers (plus
// crypto/tls's records when STARTTLS is on); the message text goes to
// the store as it arrives, never into memory.
const (
	readBuf  = 4096
	writeBuf = 4096
	// maxDiscard is how much of one overlong line is read (and dropped)
	// before the session gives up on the client.
	maxDiscard = 64 << 10
	// headerAllowance is what the Return-Path and Received fields add to
	// a message; SIZE announces the store's limit less this.
	headerAllowance = 2048
)

var (
	errTooLong   = errors.New("line too long")
	errFlood     = errors.New("line without end")
	errShutdown  = errors.New("server shutting down")
	errTooMany   = errors.New("too many errors")
	errTLSFailed = errors.New("tls handshake failed")
)

type session struct {
	s       *Server
	raw     net.Conn
	conn    net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	closing atomic.Bool
	ip      string
	start   time.Time

	tls    bool
	helo   string
	esmtp  bool
	errors int

	authUser  string // after AUTH (RFC 4954)
	authFails int
	// chunks is the message of the transaction so far when it comes by
	// BDAT (RFC 3030).
	chunks *chunking

	// The mail transaction.
	inTx     bool
	from     address
	smtputf8 bool
	rcpts    []string // mailboxes
	rcptAddr []string // addresses as given
	relay    []string // foreign recipients to queue (Server.Relay)
}

func newSession(s *Server, c net.Conn) *session {
	ip := "unknown"
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.IP.String()
	}
	return &session{s: s, raw: c, conn: c, r: bufio.NewReaderSize(c, readBuf), w: bufio.NewWriterSize(c, writeBuf), ip: ip, start: time.Now()}
}

func (c *session) shutdown() {
	c.closing.Store(true)
	c.raw.SetReadDeadline(time.Now())
}

func (c *session) maxMessage() int64 {
	return max(c.s.Store.MaxMessageBytes()-headerAllowance, 0)
}

// reply queues one reply; lines after the first become a multi-line
// reply (RFC 5321 4.2.1).
func (c *session) reply(code int, lines ...string) {
	// bufio flushes by itself when full (a pipelining client that does
	// not read): that write too has a deadline.
	c.conn.SetWriteDeadline(time.Now().Add(orDur(c.s.WriteTimeout, DefaultWriteTimeout)))
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 || c.s.Faults.MultilineNoHyphen {
			sep = " "
		}
		fmt.Fprintf(c.w, "%d%s%s\r\n", code, sep, l)
	}
}

// fail queues an error reply and counts it.
func (c *session) fail(code int, text string) {
	c.errors++
	c.reply(code, text)
}

func (c *session) flush() error {
	c.conn.SetWriteDeadline(time.Now().Add(orDur(c.s.WriteTimeout, DefaultWriteTimeout)))
	return c.w.Flush()
}

// readLine reads one line, terminator included, of at most limit octets
// before deadline. Replies are flushed first unless a whole next command
// is already buffered (RFC 2920 3.2: a server may batch the replies of
// pipelined commands). An overlong line is consumed through its LF and
// reported as errTooLong; one longer than maxDiscard as errFlood.
func (c *session) readLine(limit int, deadline time.Time) ([]byte, error) {
	if b, _ := c.r.Peek(c.r.Buffered()); bytes.IndexByte(b, '\n') < 0 {
		if err := c.flush(); err != nil {
			return nil, err
		}
	}
	c.conn.SetReadDeadline(deadline)
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

func (c *session) resetTx() {
	c.abortChunks()
	c.inTx, c.from, c.smtputf8, c.rcpts, c.rcptAddr, c.relay = false, address{}, false, nil, nil, nil
}

func (c *session) run() {
	defer func() { c.abortChunks(); c.conn.Close() }()
	c.reply(220, c.s.hostname()+" ESMTP protospec reference")
	for {
		err := c.command()
		if err == nil {
			continue
		}
		switch {
		case errors.Is(err, errShutdown):
			c.reply(421, "4.3.2 "+c.s.hostname()+" Service shutting down, closing transmission channel")
		case isTimeout(err):
			c.reply(421, "4.4.2 "+c.s.hostname()+" Timeout exceeded, closing transmission channel")
		case errors.Is(err, errFlood):
			c.reply(421, "4.7.0 "+c.s.hostname()+" Line too long, closing transmission channel")
		case errors.Is(err, errTooMany):
			c.reply(421, "4.7.0 "+c.s.hostname()+" Too many errors, closing transmission channel")
		case errors.Is(err, errAuthFailures):
			c.reply(421, "4.7.0 "+c.s.hostname()+" Too many failed authentications, closing transmission channel")
		case errors.Is(err, errQuit):
		default:
			c.s.logf("smtp: %s: %v", c.ip, err)
			return
		}
		c.flush()
		return
	}
}

var errQuit = errors.New("quit")

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// command reads and answers one command.
func (c *session) command() error {
	if c.errors >= orInt(c.s.MaxErrors, DefaultMaxErrors) {
		return errTooMany
	}
	deadline := min(time.Now().Add(orDur(c.s.CommandTimeout, DefaultCommandTimeout)).UnixNano(),
		c.start.Add(orDur(c.s.SessionTimeout, DefaultSessionTimeout)).UnixNano())
	raw, err := c.readLine(MaxCommandLine+mailParamAllowance, time.Unix(0, deadline))
	if errors.Is(err, errTooLong) {
		c.fail(500, "5.5.2 Line too long (RFC 5321 4.5.3.1.4: 512 octets)")
		return nil
	}
	if err != nil {
		return err
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		c.fail(500, "5.5.2 Command lines end with CRLF, not a bare LF (RFC 5321 2.3.8)")
		return nil
	}
	line := string(raw[:len(raw)-2])
	cmd, err := parseCommand(line)
	if err != nil {
		c.fail(500, "5.5.2 Syntax error, "+err.Error())
		return nil
	}
	if len(raw) > MaxCommandLine && cmd.verb != "MAIL" && cmd.verb != "RCPT" {
		c.fail(500, "5.5.2 Line too long (RFC 5321 4.5.3.1.4: 512 octets)")
		return nil
	}
	if !isASCII(line) && cmd.verb != "MAIL" && cmd.verb != "RCPT" {
		c.fail(500, "5.5.2 Non-ASCII octets in command")
		return nil
	}
	switch cmd.verb {
	case "EHLO", "HELO":
		c.hello(cmd)
	case "MAIL":
		c.mail(cmd.arg)
	case "RCPT":
		c.rcpt(cmd.arg)
	case "DATA":
		if c.chunks != nil {
			// RFC 3030 2: "If a DATA statement is issued after a BDAT
			// for the current transaction, a 503 "Bad sequence of
			// commands" MUST be issued."
			c.fail(503, "5.5.1 Bad sequence of commands: DATA after BDAT in one transaction")
			return nil
		}
		return c.data(cmd.arg)
	case "BDAT":
		return c.bdat(cmd.arg)
	case "AUTH":
		return c.auth(cmd.arg)
	case "RSET":
		if cmd.arg != "" {
			c.fail(501, "5.5.4 RSET takes no argument")
			return nil
		}
		c.resetTx()
		c.reply(250, "2.0.0 Ok")
	case "NOOP":
		c.reply(250, "2.0.0 Ok")
	case "QUIT":
		if cmd.arg != "" {
			c.fail(501, "5.5.4 QUIT takes no argument")
			return nil
		}
		c.reply(221, "2.0.0 "+c.s.hostname()+" Service closing transmission channel")
		return errQuit
	case "VRFY":
		if cmd.arg == "" {
			c.fail(501, "5.5.4 Syntax: VRFY <address>")
			return nil
		}
		// RFC 5321 3.5.3: 252 when the server will not verify.
		c.reply(252, "2.5.0 Cannot VRFY user, but will accept message and attempt delivery")
	case "HELP":
		c.reply(214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP"+map[bool]string{true: " STARTTLS AUTH"}[c.s.TLSConfig != nil],
			"2.0.0 See RFC 5321")
	case "STARTTLS":
		return c.starttls(cmd.arg)
	case "EXPN", "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML":
		c.fail(502, "5.5.1 Command not implemented")
	default:
		c.fail(500, "5.5.2 Syntax error, command unrecognized")
	}
	return nil
}

func (c *session) hello(cmd command) {
	if cmd.arg == "" || (!validDomain(cmd.arg) && !validAddressLiteral(cmd.arg)) {
		c.fail(501, "5.5.4 Syntax: "+cmd.verb+" domain or address literal")
		return
	}
	c.resetTx()
	c.helo, c.esmtp = cmd.arg, cmd.verb == "EHLO"
	greet := c.s.hostname() + " greets " + cmd.arg
	if !c.esmtp {
		c.reply(250, greet)
		return
	}
	lines := []string{greet, "PIPELINING", "SIZE " + strconv.FormatInt(c.maxMessage(), 10), "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN"}
	if c.s.TLSConfig != nil && !c.tls {
		lines = append(lines, "STARTTLS")
	}
	if c.authOffered() {
		lines = append(lines, "AUTH PLAIN LOGIN")
	}
	lines = append(lines, "HELP")
	c.reply(250, lines...)
}

func (c *session) mail(arg string) {
	switch {
	case c.helo == "":
		c.fail(503, "5.5.1 Bad sequence of commands: send EHLO or HELO first")
		return
	case c.inTx:
		c.fail(503, "5.5.1 Bad sequence of commands: nested MAIL")
		return
	case c.s.Submission && c.authUser == "":
		// RFC 6409 4.3: "The MSA MUST by default issue an error response
		// to the MAIL command if the session has not been authenticated
		// using [SMTP-AUTH] ... Reply code 530 [SMTP-AUTH] is used for
		// this purpose."
		c.fail(530, "5.7.0 Authentication required")
		return
	}
	from, params, err := parsePathArg(arg, "FROM:", true, false)
	if err != nil {
		c.fail(501, "5.5.4 "+err.Error()+" (Syntax: MAIL FROM:<address> [parameters])")
		return
	}
	if !c.submissionDomain(from) {
		return
	}
	if len(params) > 0 && !c.esmtp {
		c.fail(555, "5.5.4 MAIL parameters need EHLO")
		return
	}
	utf := false
	for _, p := range params {
		switch p.key {
		case "SIZE":
			if !p.hasValue || len(p.value) > 20 || strings.Trim(p.value, "0123456789") != "" {
				c.fail(501, "5.5.4 Syntax: SIZE=<octets>")
				return
			}
			if n, err := strconv.ParseInt(p.value, 10, 64); err != nil || n > c.maxMessage() {
				c.fail(552, "5.3.4 Message size exceeds fixed maximum message size")
				return
			}
		case "BODY":
			if v := strings.ToUpper(p.value); v != "7BIT" && v != "8BITMIME" {
				c.fail(501, "5.5.4 Syntax: BODY=7BIT or BODY=8BITMIME")
				return
			}
		case "SMTPUTF8":
			if p.hasValue {
				c.fail(501, "5.5.4 SMTPUTF8 takes no value")
				return
			}
			utf = true
		default:
			if !c.mailExtParam(p) {
				return
			}
		}
	}
	if from.utf8 && !utf {
		c.fail(553, "5.6.7 Non-ASCII address needs the SMTPUTF8 parameter (RFC 6531)")
		return
	}
	c.inTx, c.from, c.smtputf8 = true, from, utf
	c.reply(250, "2.1.0 Ok")
}

func (c *session) rcpt(arg string) {
	if !c.inTx {
		c.fail(503, "5.5.1 Bad sequence of commands: need MAIL before RCPT")
		return
	}
	to, params, err := parsePathArg(arg, "TO:", false, true)
	if err != nil {
		c.fail(501, "5.5.4 "+err.Error()+" (Syntax: RCPT TO:<address>)")
		return
	}
	if !c.submissionDomain(to) {
		return
	}
	if !c.rcptParams(params) {
		return
	}
	if to.utf8 && !c.smtputf8 {
		c.fail(553, "5.6.7 Non-ASCII address needs SMTPUTF8 on MAIL (RFC 6531)")
		return
	}
	if len(c.rcptAddr) >= orInt(c.s.MaxRecipients, DefaultMaxRecipients) {
		// RFC 5321 4.5.3.1.10: "452 Too many recipients".
		c.fail(452, "4.5.3 Too many recipients")
		return
	}
	var box string
	if to.domain == "" { // <Postmaster>
		box = mailstore.PostmasterMailbox
	} else {
		domain := strings.ToLower(to.domain)
		if !c.s.domains[domain] && c.s.Faults.OpenRelay {
			c.rcpts = append(c.rcpts, mailstore.PostmasterMailbox)
			c.rcptAddr = append(c.rcptAddr, to.String())
			c.reply(250, "2.1.5 Ok")
			return
		}
		if !c.s.domains[domain] && c.s.relayAllowed(c.authUser, c.ip) {
			c.relay = append(c.relay, to.String())
			c.rcpts = append(c.rcpts, RelaySpool)
			c.rcptAddr = append(c.rcptAddr, to.String())
			c.reply(250, "2.1.5 Ok: will relay")
			return
		}
		if !c.s.domains[domain] {
			if c.authUser != "" {
				// An authenticated client may relay, but relaying by
				// MX is not built: the recipient is refused all the same.
				c.fail(550, "5.7.1 Relaying to "+to.domain+" is not available here, even when authenticated")
				return
			}
			c.fail(550, "5.7.1 Relaying denied: "+to.domain+" is not a local domain")
			return
		}
		b, ok := c.s.mailboxes[strings.ToLower(to.local)+"@"+domain]
		if !ok {
			c.fail(550, "5.1.1 No such user here")
			return
		}
		box = b
	}
	c.rcpts = append(c.rcpts, box)
	c.rcptAddr = append(c.rcptAddr, to.String())
	c.reply(250, "2.1.5 Ok")
}

func (c *session) withProtocol() string {
	p := "SMTP"
	if c.esmtp {
		p = "ESMTP"
		if c.smtputf8 {
			p = "UTF8SMTP"
		}
	}
	if c.tls {
		p += "S"
	}
	// RFC 4954 7: "Upon successful authentication, a server SHOULD use
	// the "ESMTPA" or the "ESMTPSA" [SMTP-TT] (when appropriate) keyword
	// in the "with" clause of the Received header field."
	if c.authUser != "" {
		p += "A"
	}
	return p
}

// traceFields are the Return-Path and Received fields the server puts
// before the message (RFC 5321 4.4).
func (c *session) traceFields() string {
	var idb [6]byte
	rand.Read(idb[:])
	id := strings.ToUpper(hex.EncodeToString(idb[:]))
	var hdr strings.Builder
	fmt.Fprintf(&hdr, "Return-Path: <%s>\r\n", c.from)
	fmt.Fprintf(&hdr, "Received: from %s ([%s])\r\n\tby %s (protospec) with %s id %s", c.helo, c.ip, c.s.hostname(), c.withProtocol(), id)
	if len(c.rcptAddr) == 1 {
		fmt.Fprintf(&hdr, "\r\n\tfor <%s>", c.rcptAddr[0])
	}
	fmt.Fprintf(&hdr, "; %s\r\n", time.Now().Format(time.RFC1123Z))
	return hdr.String()
}

// data receives the message text and answers for it: 250 only once the
// store committed it (the message is then on disk).
func (c *session) data(arg string) error {
	if arg != "" {
		c.fail(501, "5.5.4 DATA takes no argument")
		return nil
	}
	if (!c.inTx || len(c.rcpts) == 0) && c.s.Faults.DataOutOfSequence {
		c.reply(250, "2.0.0 Ok")
		return nil
	}
	if !c.inTx || len(c.rcpts) == 0 {
		c.fail(503, "5.5.1 Bad sequence of commands: need MAIL and RCPT before DATA")
		return nil
	}
	draft, err := c.s.Store.NewDraft(c.rcpts...)
	if err != nil {
		c.s.logf("smtp: %s: store: %v", c.ip, err)
		c.fail(451, "4.3.0 Local error in processing")
		return nil
	}
	committed := false
	defer func() {
		if !committed {
			draft.Abort()
		}
	}()
	draft.Write([]byte(c.s.Faults.trace(c.traceFields())))

	c.reply(354, "End data with <CR><LF>.<CR><LF>")
	start := time.Now()
	var (
		size                int64
		tooBig, long, bare  bool
		inHeader            = true
		prevCRLF            = true
		hops                int
		storeErr            error
		limit               = c.maxMessage()
		perRead, totalLimit = orDur(c.s.DataTimeout, DefaultDataTimeout), orDur(c.s.DataTotal, DefaultDataTotal)
	)
	for {
		deadline := min(time.Now().Add(perRead).UnixNano(), start.Add(totalLimit).UnixNano())
		raw, err := c.readLine(MaxTextLine+1, time.Unix(0, deadline))
		if errors.Is(err, errTooLong) {
			long = true
			continue
		}
		if err != nil {
			c.resetTx()
			return err
		}
		// The end of data is <CRLF>.<CRLF>: a "." line counts only after
		// a line that ended with CRLF (the DATA command's, at first), so
		// "\n.\r\n" does not end the text (the SMTP smuggling of
		// CVE-2023-51764..51766).
		if prevCRLF && bytes.Equal(raw, []byte(".\r\n")) || c.s.Faults.BareLFEnd && bytes.Equal(raw, []byte(".\n")) {
			break
		}
		var text []byte
		if bytes.HasSuffix(raw, []byte("\r\n")) {
			text = raw[:len(raw)-2]
			prevCRLF = true
		} else {
			bare = true // a bare LF: never an end of line, never the end of data
			text = raw[:len(raw)-1]
			prevCRLF = false
		}
		if bytes.IndexByte(text, '\r') >= 0 {
			bare = true
		}
		if len(text) > 0 && text[0] == '.' {
			text = text[1:] // RFC 5321 4.5.2
		}
		if len(text)+2 > MaxTextLine {
			long = true
		}
		if inHeader {
			if len(text) == 0 {
				inHeader = false
			} else if len(text) >= 9 && strings.EqualFold(string(text[:9]), "received:") {
				hops++
			}
		}
		size += int64(len(text)) + 2
		if size > limit {
			tooBig = true
		}
		if tooBig || long || bare || storeErr != nil {
			continue
		}
		if _, err := draft.Write(text); err != nil {
			storeErr = err
		} else if _, err := draft.Write([]byte("\r\n")); err != nil {
			storeErr = err
		}
	}
	mailboxes := len(c.rcpts)
	from, relay := c.from.String(), c.relay
	c.resetTx()
	switch {
	case long:
		c.fail(500, "5.5.2 Line too long (RFC 5321 4.5.3.1.6: 1000 octets with CRLF)")
	case bare:
		c.fail(554, "5.6.0 Bare CR or LF in message text: lines end with CRLF (RFC 5321 2.3.8)")
	case tooBig || errors.Is(storeErr, mailstore.ErrTooLarge):
		c.fail(552, "5.3.4 Message size exceeds fixed maximum message size")
	case hops > MaxHops:
		c.fail(554, "5.4.6 Too many hops: mail loop detected (RFC 5321 6.3)")
	case storeErr != nil:
		c.s.logf("smtp: %s: store: %v", c.ip, storeErr)
		c.fail(451, "4.3.0 Local error in processing")
	case c.s.Faults.AckBeforeDurable:
		c.reply(250, "2.0.0 Ok: queued")
	default:
		msgID, err := draft.Commit()
		committed = true
		if err != nil {
			c.s.logf("smtp: %s: commit: %v", c.ip, err)
			c.fail(451, "4.3.0 Local error in processing")
			return nil
		}
		if err := c.s.queueSpooled(msgID, from, relay); err != nil {
			c.s.logf("smtp: %s: queue: %v", c.ip, err)
			c.fail(451, "4.3.0 Local error in processing")
			return nil
		}
		c.s.logf("smtp: %s: delivered %s to %d mailboxes", c.ip, msgID, mailboxes)
		c.reply(250, "2.0.0 Ok: queued as "+msgID)
	}
	return nil
}

// starttls switches to TLS (RFC 3207). Whatever the client sent after
// the STARTTLS line is dropped unread: bytes before the handshake are not
// protected, and acting on them is the command injection of CVE-2011-0411.
func (c *session) starttls(arg string) error {
	switch {
	case c.s.TLSConfig == nil:
		c.fail(502, "5.5.1 Command not implemented")
		return nil
	case c.tls:
		c.fail(503, "5.5.1 Bad sequence of commands: TLS already active")
		return nil
	case arg != "":
		c.fail(501, "5.5.4 STARTTLS takes no argument (RFC 3207 4)")
		return nil
	case !c.esmtp:
		c.fail(503, "5.5.1 Bad sequence of commands: send EHLO first")
		return nil
	}
	if n := c.r.Buffered(); n > 0 {
		c.s.logf("smtp: %s: dropped %d octets sent after STARTTLS before the handshake", c.ip, n)
	}
	c.reply(220, "2.0.0 Ready to start TLS")
	if err := c.flush(); err != nil {
		return err
	}
	tc := tls.Server(c.raw, c.s.TLSConfig)
	c.raw.SetDeadline(time.Now().Add(orDur(c.s.WriteTimeout, DefaultWriteTimeout)))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("%w: %v", errTLSFailed, err)
	}
	c.raw.SetDeadline(time.Time{})
	// RFC 3207 4.2: "The server MUST discard any knowledge obtained from
	// the client, such as the argument to the EHLO command".
	c.conn, c.tls = tc, true
	if c.s.Faults.STARTTLSInjection {
		c.r = injected(c.r, tc)
	} else {
		c.r = bufio.NewReaderSize(tc, readBuf)
	}
	c.w = bufio.NewWriterSize(tc, writeBuf)
	c.helo, c.esmtp = "", false
	c.resetTx()
	return nil
}
