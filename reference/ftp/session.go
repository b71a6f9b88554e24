package ftp

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/protospec/protospec/internal/netutil"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

// session is one control connection.
type session struct {
	s        *Server
	raw      net.Conn // the socket
	c        net.Conn // raw, or TLS over it
	br       *bufio.Reader
	implicit *tls.Config
	peer     netip.Addr // the client's address: data connections go there only
	local    netip.Addr

	wmu sync.Mutex // serialises replies

	tlsOn bool
	pbsz  bool
	protP bool

	pendingUser string
	userGiven   bool
	loggedIn    bool
	account     User
	root        *os.Root
	cwd         string
	failed      int
	hostSeen    bool

	typeA     bool
	rest      int64
	rnfr      string
	epsvAll   bool
	mlstFacts map[string]bool

	// Data connection set up by PASV/EPSV (pasv) or PORT/EPRT (port).
	pasv net.Listener
	port netip.AddrPort

	xmu  sync.Mutex
	xfer *transfer

	done     chan struct{}
	shutOnce sync.Once
	closing  atomic.Bool
}

// tlsConfig is the configuration of AUTH TLS and of protected data
// connections: the server's, or the implicit listener's.
func (ss *session) tlsConfig() *tls.Config {
	if ss.s.TLSConfig != nil {
		return ss.s.TLSConfig
	}
	return ss.implicit
}

// shutdownWait bounds the writes of a session being shut down.
const shutdownWait = 2 * time.Second

func newSession(s *Server, c net.Conn, implicit *tls.Config) *session {
	// RFC 959 4.1.2: "The default representation type is ASCII
	// Non-print."
	ss := &session{s: s, raw: c, c: c, implicit: implicit, cwd: "/", typeA: true, done: make(chan struct{}),
		peer: netutil.ClientAddr(c.RemoteAddr()), local: netutil.ClientAddr(c.LocalAddr()),
		mlstFacts: map[string]bool{"type": true, "size": true, "modify": true, "perm": true}}
	return ss
}

// errClose ends a session after its reply.
var errClose = errors.New("close the session")

// run serves the session until QUIT, an error, a timeout or shutdown.
func (ss *session) run() {
	defer ss.cleanup()
	if ss.implicit != nil {
		tc := tls.Server(ss.raw, ss.implicit)
		ss.raw.SetDeadline(time.Now().Add(ss.s.dataWait()))
		if err := tc.Handshake(); err != nil {
			return
		}
		ss.raw.SetDeadline(time.Time{})
		ss.c, ss.tlsOn = tc, true
	}
	ss.br = bufio.NewReaderSize(ss.c, 1024)
	// RFC 959 5.4, connection establishment: 220 Service ready for new user.
	if ss.reply(220, "protospec reference FTP server ready.") != nil {
		return
	}
	for {
		line, err := ss.readLine()
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				// A line over the bound: 500 and on with the next one.
				if ss.reply(500, "Command line too long (at most "+strconv.Itoa(ss.s.maxLine())+" bytes).") != nil {
					return
				}
				continue
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// RFC 959 5.4: 421 "This may be a reply to any command
				// if the service knows it must shut down."
				ss.reply(421, "Idle timeout, closing control connection.")
			}
			return
		}
		if err := ss.command(line); err != nil {
			return
		}
	}
}

// errLineTooLong marks a command line over MaxLine, consumed up to its LF.
var errLineTooLong = errors.New("command line too long")

// maxDiscard bounds what is thrown away of an overlong line before the
// session gives up on it.
const maxDiscard = 64 << 10

// readLine reads one command line (CRLF included) within the idle
// timeout, Telnet commands removed. A running transfer keeps the session
// from idling out.
func (ss *session) readLine() ([]byte, error) {
	var line []byte
	discarding, discarded := false, 0
	for {
		ss.raw.SetReadDeadline(time.Now().Add(ss.s.idle()))
		frag, err := ss.br.ReadSlice('\n')
		if discarding {
			discarded += len(frag)
			if discarded > maxDiscard {
				return nil, io.ErrUnexpectedEOF
			}
		} else if len(line)+len(frag) > ss.s.maxLine() {
			discarding = true
			discarded = len(line) + len(frag)
			line = nil
		} else {
			line = append(line, frag...)
		}
		if err == nil {
			if discarding {
				return nil, errLineTooLong
			}
			return stripTelnet(line), nil
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && ss.transferring() {
			continue
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// stripTelnet removes Telnet commands (RFC 854) from a command line: IAC IAC
// is a 0xFF data byte, IAC WILL/WONT/DO/DONT take an option byte, other IAC
// sequences (IP, DM before ABOR) are two bytes. A DM sent alone as urgent
// data arrives as a lone 0xF2 and is dropped too.
func stripTelnet(b []byte) []byte {
	if bytes.IndexByte(b, 0xff) < 0 && bytes.IndexByte(b, 0xf2) < 0 {
		return b
	}
	out := b[:0:0]
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == 0xff && i+1 < len(b) && b[i+1] == 0xff:
			out = append(out, 0xff)
			i++
		case b[i] == 0xff && i+1 < len(b) && b[i+1] >= 251 && b[i+1] <= 254:
			i += 2
		case b[i] == 0xff:
			i++
		case b[i] == 0xf2 && len(out) == 0:
		default:
			out = append(out, b[i])
		}
	}
	return out
}

// reply sends one reply (several lines make a multi-line reply) within the
// stall timeout.
func (ss *session) reply(code int, lines ...string) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	wait := ss.s.stall()
	if ss.closing.Load() {
		wait = shutdownWait
	}
	ss.raw.SetWriteDeadline(time.Now().Add(wait))
	_, err := ss.c.Write(ftpwire.FormatReply(code, lines...))
	return err
}

// shutdown is Close's 421 and close, once.
func (ss *session) shutdown() {
	ss.shutOnce.Do(func() {
		ss.closing.Store(true)
		// A reply blocked on a client that reads nothing gives up soon.
		ss.raw.SetWriteDeadline(time.Now().Add(shutdownWait))
		close(ss.done)
		ss.abortTransfer()
		ss.reply(421, "Service shutting down, closing control connection.")
		ss.raw.Close()
	})
}

func (ss *session) cleanup() {
	ss.shutOnce.Do(func() { close(ss.done) })
	ss.abortTransfer()
	ss.closeData()
	if ss.root != nil {
		ss.root.Close()
	}
	ss.raw.Close()
}

// parseCommand splits a command line strictly (RFC 959 5.3): a verb of
// three or four letters (case-insensitive, returned in upper case), SP and
// an argument, CRLF. hasArg tells "VERB" from "VERB " with an empty
// argument. The reference keeps this parser of its own; the observers
// share internal/wire/ftp.
func parseCommand(line []byte) (verb, arg string, hasArg bool, problem string) {
	body, ok := bytes.CutSuffix(line, []byte("\r\n"))
	if !ok {
		// RFC 959 5.3: commands end with Telnet end-of-line, CRLF.
		return "", "", false, "Syntax error: command not ended by CRLF."
	}
	v, a, sp := bytes.Cut(body, []byte(" "))
	if len(v) < 3 || len(v) > 4 {
		return "", "", false, "Syntax error, command unrecognized."
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "", "", false, "Syntax error, command unrecognized."
		}
	}
	if bytes.IndexByte(a, '\n') >= 0 {
		return "", "", false, "Syntax error: LF inside the argument."
	}
	// RFC 2640 3.1: a CR in a pathname is sent as CR NUL.
	a = bytes.ReplaceAll(a, []byte("\r\x00"), []byte("\r"))
	if bytes.IndexByte(a, '\r') >= 0 || bytes.IndexByte(a, 0) >= 0 {
		return "", "", false, "Syntax error: CR or NUL inside the argument."
	}
	return strings.ToUpper(string(v)), string(a), sp, ""
}

// argument kinds of a command.
const (
	argNone     = iota // no argument: one is 501
	argRequired        // an argument: none is 501
	argOptional
)

type handler struct {
	fn    func(ss *session, arg string) error
	arg   int
	login bool // 530 before login
	// duringTransfer marks the commands answered while a transfer runs.
	duringTransfer bool
}

var handlers map[string]handler

// unimplemented are commands of RFC 959 and RFC 2228 the reference knows
// but does not implement: 502 (RFC 959 5.4), not 500.
var unimplemented = map[string]bool{"SMNT": true, "CCC": true, "ADAT": true, "MIC": true, "CONF": true, "ENC": true, "LANG": true}

// command handles one command line.
func (ss *session) command(line []byte) error {
	verb, arg, hasArg, problem := parseCommand(line)
	if problem != "" {
		return ss.reply(500, problem)
	}
	h, ok := handlers[verb]
	if !ok {
		if unimplemented[verb] {
			return ss.reply(502, verb+" not implemented.")
		}
		return ss.reply(500, "Syntax error, command unrecognized.")
	}
	if ss.transferring() && !h.duringTransfer {
		return ss.reply(503, "A transfer is in progress: only ABOR, STAT, NOOP and QUIT now.")
	}
	// RNTO must come right after RNFR (RFC 959 4.1.3); any other command
	// forgets the RNFR.
	if verb != "RNTO" && verb != "RNFR" {
		defer func() { ss.rnfr = "" }()
	}
	switch {
	case h.arg == argNone && hasArg:
		return ss.reply(501, "Syntax error: "+verb+" takes no argument.")
	case h.arg == argRequired && arg == "" && verb != "PASS":
		return ss.reply(501, "Syntax error: "+verb+" needs an argument.")
	case hasArg && arg == "" && verb != "PASS":
		return ss.reply(501, "Syntax error: SP without an argument.")
	}
	if h.login && !ss.loggedIn {
		return ss.reply(530, "Not logged in.")
	}
	return h.fn(ss, arg)
}

func (ss *session) transferring() bool {
	ss.xmu.Lock()
	defer ss.xmu.Unlock()
	return ss.xfer != nil
}
