package smtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/protocol"
)

// The contract's names the load client uses. They are spelled here, not
// imported from internal/smtp, whose own tests import this package (a
// cycle); loadclient_contract_test.go checks that they agree.
const (
	loadContractName = "smtp"     // smtp.Name
	loadService      = "smtp/tcp" // smtp.ServiceTCP
	loadAddressBob   = "bob@bob.test"
)

// The load client's defaults: mail from a client address of no local
// domain to the fixture's bob, a 1 KiB body.
const (
	loadDefaultFrom = "load@client.protospec.test"
	loadDefaultRcpt = loadAddressBob
	loadDefaultSize = 1024
	loadMaxSize     = 64 << 20
	loadEHLOName    = "loadgen.protospec.test"
)

func init() {
	loadgen.Register(loadContractName, loadgen.Client{
		Service: loadService,
		Params: []protocol.Param{
			{Name: "mode", Doc: "session: each message is a whole session on a new connection (greeting, EHLO, MAIL, RCPT, DATA, QUIT); reuse: each connection is greeted and says EHLO once, then sends message after message (RSET between)", Default: "session"},
			{Name: "rcpt", Doc: "the recipient of every message", Default: loadDefaultRcpt},
			{Name: "from", Doc: "the reverse-path of every message", Default: loadDefaultFrom},
			{Name: "size", Doc: "the size of every message's body in octets (lines of 78 octets with CRLF)", Default: strconv.Itoa(loadDefaultSize)},
			{Name: "pipelining", Doc: "send MAIL, RCPT and DATA in one write (RFC 2920; the server must announce PIPELINING)", Default: "false"},
			{Name: "starttls", Doc: "after EHLO, STARTTLS (RFC 3207), the handshake with the run's CA (--ca, --insecure) and EHLO again; in session mode each message pays for a handshake", Default: "false"},
		},
		Examples: []string{
			"--target reference --connections 4 --duration 10s",
			"--target postfix --connections 4 --param mode=reuse --param size=10240",
			"--target exim4 --param mode=reuse --param pipelining=true",
			"--target postfix --param starttls=true",
		},
		Plan: planSMTPLoad,
	})
}

func planSMTPLoad(params map[string]string) (*loadgen.Load, error) {
	o := LoadClientOptions{Addr: "localhost", Mode: params["mode"], From: params["from"], Rcpt: params["rcpt"]}
	if s := params["size"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("smtp load client: size %q is not a number", s)
		}
		o.Size = n
	}
	pl, err := loadgen.BoolParam(params, "pipelining")
	if err != nil {
		return nil, err
	}
	o.Pipelining = pl
	if o.StartTLS, err = loadgen.BoolParam(params, "starttls"); err != nil {
		return nil, err
	}
	p, err := NewLoadClient(o)
	if err != nil {
		return nil, err
	}
	l := &loadgen.Load{Service: loadService}
	l.Workload = []string{fmt.Sprintf("MAIL FROM:<%s> RCPT TO:<%s> DATA, %d octets of body", p.from, p.rcpt, p.size)}
	if p.reuse {
		l.Options = []string{"connections reused (RSET between messages)"}
	} else {
		l.Options = []string{"one session per message"}
	}
	if p.pipelining {
		l.Options = append(l.Options, "PIPELINING")
	}
	if p.starttls {
		l.Options = append(l.Options, "STARTTLS")
	}
	l.Open = func(to loadgen.Target, _ time.Duration) (loadgen.Protocol, error) {
		o := o
		o.Addr, o.Target = to.Endpoint.Addr, to
		return NewLoadClient(o)
	}
	return l, nil
}

// LoadClientOptions configure the SMTP load client.
type LoadClientOptions struct {
	// Addr is the server's host:port.
	Addr string
	// Target, when its endpoint is set, is how Addr is reached (from a
	// source address); otherwise plain TCP.
	Target loadgen.Target
	// Mode is "session" (default) or "reuse".
	Mode string
	// From and Rcpt are every message's reverse-path and recipient
	// (defaults: a client address, the fixture's bob@bob.test).
	From, Rcpt string
	// Size is the body's size in octets (default 1024).
	Size int
	// Pipelining sends MAIL, RCPT and DATA in one write.
	Pipelining bool
	// StartTLS upgrades each session with STARTTLS after EHLO, with the
	// TLS configuration of Target's dialer, and says EHLO again.
	StartTLS bool
}

// LoadClient is the SMTP load client (`protospec bench smtp`): each
// request is one message, from the request's first byte to the 250 that
// accepts the message after DATA (RFC 5321 4.1.1.4). In session mode a
// request is a whole session on a new connection: the 220 greeting, EHLO,
// MAIL, RCPT, DATA, the text and its 250, then QUIT (written, not waited
// for: the message is already the server's). In reuse mode a connection
// is greeted and says EHLO once, and each request is RSET (from the
// second message on), MAIL, RCPT, DATA and the text. A reply of another
// code than the exchange wants is an unexpected status and drops the
// connection (a server that limits messages per session answers 4xx: the
// next request opens a new one); a reply that is not a reply is a bad
// response. With starttls, each session says STARTTLS after EHLO, runs the
// TLS handshake and says EHLO again before its first message.
type LoadClient struct {
	to         loadgen.Target
	reuse      bool
	pipelining bool
	starttls   bool
	from, rcpt string
	size       int
	message    []byte // the text after DATA, its final "." line included
}

// NewLoadClient returns the SMTP load client.
func NewLoadClient(o LoadClientOptions) (*LoadClient, error) {
	if o.Addr == "" {
		return nil, errors.New("smtp load client: no address")
	}
	p := &LoadClient{to: o.Target, from: o.From, rcpt: o.Rcpt, size: o.Size, pipelining: o.Pipelining, starttls: o.StartTLS}
	switch o.Mode {
	case "", "session":
	case "reuse":
		p.reuse = true
	default:
		return nil, fmt.Errorf("smtp load client: mode %q: want session or reuse", o.Mode)
	}
	if p.from == "" {
		p.from = loadDefaultFrom
	}
	if p.rcpt == "" {
		p.rcpt = loadDefaultRcpt
	}
	if o.Size == 0 {
		p.size = loadDefaultSize
	}
	if p.size < 0 || p.size > loadMaxSize {
		return nil, fmt.Errorf("smtp load client: size %d: want 0 to %d octets", p.size, loadMaxSize)
	}
	for _, s := range []string{p.from, p.rcpt} {
		if strings.ContainsAny(s, "\r\n\x00<> ") || len(s) > 256 {
			return nil, fmt.Errorf("smtp load client: address %q holds CR, LF, NUL, <, > or a space, or is too long", s)
		}
	}
	if p.to.Endpoint.Addr == "" {
		p.to = loadgen.TCP(o.Addr)
	}
	p.message = loadMessage(p.from, p.rcpt, p.size)
	return p, nil
}

// loadMessage is the text sent after DATA: a header section, a body of
// size octets (size-1 when a last line would be a lone octet, too short
// for its CRLF) in lines of 78 (CRLF included) that never start with a
// dot, and the terminating "." line.
func loadMessage(from, rcpt string, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: protospec bench smtp\r\nMessage-ID: <bench@loadgen.protospec.test>\r\n\r\n", from, rcpt)
	const line = "the quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstu\r\n"
	for size >= len(line) {
		b.WriteString(line)
		size -= len(line)
	}
	if size >= 2 {
		b.WriteString(line[:size-2])
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}

// Name implements loadgen.Protocol.
func (p *LoadClient) Name() string { return loadContractName }

// dialer is the target's dialer with timeout as its default deadline.
func (p *LoadClient) dialer(timeout time.Duration) dial.Dialer {
	var d dial.Dialer
	if p.to.Dialer != nil {
		d = *p.to.Dialer
	}
	if d.Timeout <= 0 {
		d.Timeout = timeout
	}
	return d
}

// Dial implements loadgen.Protocol: in reuse mode the connection is
// greeted and past EHLO (and STARTTLS).
func (p *LoadClient) Dial(ctx context.Context, timeout time.Duration) (loadgen.Conn, error) {
	d := p.dialer(timeout)
	raw, err := d.Dial(ctx, p.to.Endpoint)
	if err != nil {
		return nil, err
	}
	if tc := dial.TCPConn(raw); tc != nil {
		tc.SetNoDelay(true)
	}
	c := &loadConn{Stream: loadgen.NewStream(raw, timeout), p: p, raw: raw, timeout: timeout, reusable: true}
	if !p.reuse {
		return c, nil
	}
	if err := c.hello(loadgen.Now()); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

type loadConn struct {
	*loadgen.Stream
	p        *LoadClient
	raw      net.Conn // the socket, which STARTTLS upgrades
	timeout  time.Duration
	q        loadgen.FIFO
	reusable bool
	sent     int // messages of this connection
	once     sync.Once
	cerr     error
}

// Close closes the socket (under TLS too: STARTTLS replaces the Stream,
// not the socket), from any goroutine.
func (c *loadConn) Close() error {
	c.once.Do(func() { c.cerr = c.raw.Close() })
	return c.cerr
}

func (c *loadConn) Send(at int64) error {
	c.q.Push(loadgen.Pending{At: at})
	if !c.p.reuse {
		c.reusable = false
	}
	return nil
}

func (c *loadConn) Reusable() bool { return c.reusable }

func (c *loadConn) Recv(wake int64) (int64, error) {
	if c.q.Len() == 0 {
		return 0, loadgen.ErrNothingPending
	}
	at := c.q.Front().At
	var err error
	if !c.p.reuse {
		err = c.hello(at)
	}
	if err == nil {
		err = c.transaction(at)
	}
	if err == nil && !c.p.reuse {
		// The message is the server's: QUIT is written, its 221 not
		// waited for (the connection is closed after the request).
		c.Out = append(c.Out, "QUIT\r\n"...)
		c.Flush()
	}
	c.q.Pop()
	if err != nil {
		c.reusable = false
	}
	return at, err
}

// hello reads the greeting and says EHLO (checking PIPELINING when the
// client pipelines).
func (c *loadConn) hello(at int64) error {
	code, text, err := c.reply(at)
	if err != nil {
		return err
	}
	if code != 220 {
		return loadStatus("greeting", code, text, "220")
	}
	code, text, err = c.exchange(at, "EHLO "+loadEHLOName)
	if err != nil {
		return err
	}
	if code != 250 {
		return loadStatus("EHLO", code, text, "250")
	}
	if c.p.starttls {
		if !loadHasKeyword(text, "STARTTLS") {
			return &loadgen.Error{Kind: loadgen.KindStatus, Fatal: true, Err: errors.New("the server does not announce STARTTLS (RFC 3207), which starttls=true needs")}
		}
		if err := c.upgrade(at); err != nil {
			return err
		}
		if code, text, err = c.exchange(at, "EHLO "+loadEHLOName); err != nil {
			return err
		}
		if code != 250 {
			return loadStatus("EHLO inside TLS", code, text, "250")
		}
	}
	if c.p.pipelining && !loadHasKeyword(text, "PIPELINING") {
		return &loadgen.Error{Kind: loadgen.KindStatus, Fatal: true, Err: errors.New("the server does not announce PIPELINING (RFC 2920), which pipelining=true needs")}
	}
	return nil
}

// upgrade sends STARTTLS and, after its 220, runs the TLS handshake over
// the socket; the session goes on inside TLS.
func (c *loadConn) upgrade(at int64) error {
	code, text, err := c.exchange(at, "STARTTLS")
	if err != nil {
		return err
	}
	if code != 220 {
		return loadStatus("STARTTLS", code, text, "220")
	}
	if len(c.Buffered()) > 0 {
		// RFC 3207 6: what came before the handshake is not protected.
		return loadgen.BadResponse("%d octets after the 220 to STARTTLS, before the TLS handshake", len(c.Buffered()))
	}
	name := c.p.to.Endpoint.ServerName
	if name == "" {
		name, _, _ = net.SplitHostPort(c.p.to.Endpoint.Addr)
	}
	ctx, cancel := context.WithDeadline(context.Background(), loadgen.ClockTime(at+int64(c.timeout)))
	defer cancel()
	d := c.p.dialer(c.timeout)
	tc, err := d.Client(ctx, c.raw, name)
	if err != nil {
		return &loadgen.Error{Kind: loadgen.KindOther, Fatal: true, Err: err}
	}
	c.Stream = loadgen.NewStream(tc, c.timeout)
	return nil
}

// transaction sends one message: RSET (after the first of a reused
// connection), MAIL, RCPT, DATA, the text.
func (c *loadConn) transaction(at int64) error {
	if c.sent > 0 {
		code, text, err := c.exchange(at, "RSET")
		if err != nil {
			return err
		}
		if code != 250 {
			return loadStatus("RSET", code, text, "250")
		}
	}
	c.sent++
	steps := []struct {
		cmd  string
		want func(int) bool
		name string
	}{
		{"MAIL FROM:<" + c.p.from + ">", func(code int) bool { return code == 250 }, "250"},
		{"RCPT TO:<" + c.p.rcpt + ">", func(code int) bool { return code == 250 || code == 251 }, "250 or 251"},
		{"DATA", func(code int) bool { return code == 354 }, "354"},
	}
	if c.p.pipelining {
		// RFC 2920 3.1: DATA is the last command of a group.
		for _, s := range steps {
			c.Out = append(c.Out, s.cmd...)
			c.Out = append(c.Out, '\r', '\n')
		}
		if err := c.Flush(); err != nil {
			return err
		}
	}
	for _, s := range steps {
		var code int
		var text string
		var err error
		if c.p.pipelining {
			code, text, err = c.reply(at)
		} else {
			code, text, err = c.exchange(at, s.cmd)
		}
		if err != nil {
			return err
		}
		if !s.want(code) {
			return loadStatus(strings.Fields(s.cmd)[0], code, text, s.name)
		}
	}
	c.Out = append(c.Out, c.p.message...)
	if err := c.Flush(); err != nil {
		return err
	}
	code, text, err := c.reply(at)
	if err != nil {
		return err
	}
	if code != 250 {
		return loadStatus("end of data", code, text, "250")
	}
	return nil
}

// loadStatus is a reply of another code than the exchange wants.
func loadStatus(what string, code int, text, want string) error {
	return &loadgen.Error{Kind: loadgen.KindStatus, Fatal: true, Err: fmt.Errorf("%s: %d %q, want %s", what, code, loadShort(text), want)}
}

func loadShort(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// loadHasKeyword reports whether an EHLO reply's text announces kw.
func loadHasKeyword(text, kw string) bool {
	for _, line := range strings.Split(text, "\n") {
		if len(line) > 4 {
			if f := strings.Fields(line[4:]); len(f) > 0 && strings.EqualFold(f[0], kw) {
				return true
			}
		}
	}
	return false
}

// exchange sends one command and reads its reply.
func (c *loadConn) exchange(at int64, cmd string) (int, string, error) {
	c.Out = append(c.Out, cmd...)
	c.Out = append(c.Out, '\r', '\n')
	if err := c.Flush(); err != nil {
		return 0, "", err
	}
	return c.reply(at)
}

// reply reads the next reply.
func (c *loadConn) reply(at int64) (int, string, error) {
	for {
		code, lines, n, err := loadNextReply(c.Buffered())
		if err != nil {
			return 0, "", loadgen.BadResponse("%v", err)
		}
		if n > 0 {
			c.Consume(n)
			return code, strings.Join(lines, "\n"), nil
		}
		if err := c.Fill(at, 0); err != nil {
			if err == loadgen.ErrWaitAgain {
				continue
			}
			if errors.Is(err, io.EOF) {
				return 0, "", &loadgen.Error{Kind: loadgen.KindClosed, Fatal: true, Err: errors.New("connection closed before the reply")}
			}
			return 0, "", err
		}
	}
}

// loadMaxLines bounds the lines of one reply.
const loadMaxLines = 256

// loadNextReply reads one complete reply at the start of b (RFC 5321
// 4.2: "Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code
// [ SP textstring ] CRLF", every line with the same code): its code,
// lines and length, 0 when more bytes are needed.
func loadNextReply(b []byte) (int, []string, int, error) {
	var lines []string
	code, off := -1, 0
	for {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return 0, nil, 0, nil
		}
		line := strings.TrimRight(string(b[off:off+i]), "\r")
		off += i + 1
		if len(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' || line[2] < '0' || line[2] > '9' ||
			(len(line) > 3 && line[3] != ' ' && line[3] != '-') {
			return 0, nil, 0, fmt.Errorf("reply line %q does not start with a reply code", loadShort(line))
		}
		c, _ := strconv.Atoi(line[:3])
		if code < 0 {
			code = c
		} else if c != code {
			return 0, nil, 0, fmt.Errorf("reply line %q: code %d inside a reply of %d", loadShort(line), c, code)
		}
		if len(lines) >= loadMaxLines {
			return 0, nil, 0, fmt.Errorf("a reply of more than %d lines", loadMaxLines)
		}
		lines = append(lines, line)
		if len(line) == 3 || line[3] == ' ' {
			return code, lines, off, nil
		}
	}
}
