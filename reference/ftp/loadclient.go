package ftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	contract "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/protocol"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

// The contract's names the load client uses: it logs in as the fixture's
// user and retrieves its 64 KiB file by default.
const (
	loadContractName = contract.Name
	loadFixtureUser  = contract.UserBob
	loadFixturePass  = contract.PasswordBob
	loadFixtureFile  = contract.BinaryFile
	loadService      = contract.ServiceTCP
)

func init() {
	loadgen.Register(loadContractName, loadgen.Client{
		Service: loadService,
		Params: []protocol.Param{
			{Name: "mode", Doc: "session: each request connects, logs in and quits (sessions/s); retr: each request retrieves file over a new passive data connection of a logged-in control connection (transfers/s; MB/s is that times the file's size)", Default: "session"},
			{Name: "file", Doc: "the file retr retrieves (its size is read with SIZE first and every transfer must deliver it whole)", Default: loadFixtureFile},
			{Name: "user", Doc: "the user logged in as", Default: loadFixtureUser},
			{Name: "pass", Doc: "the user's password", Default: loadFixturePass},
		},
		Examples: []string{
			"--target reference --duration 10s",
			"--target vsftpd --connections 4 --param mode=retr --param file=" + loadFixtureFile,
		},
		Plan: planLoad,
	})
}

func planLoad(params map[string]string) (*loadgen.Load, error) {
	o := LoadClientOptions{Addr: "localhost", Mode: params["mode"], File: params["file"], User: params["user"], Pass: params["pass"]}
	if _, err := NewLoadClient(o); err != nil {
		return nil, err
	}
	p, _ := NewLoadClient(o)
	l := &loadgen.Load{Service: loadService}
	if p.retr {
		l.Workload = []string{"RETR " + p.file + " (EPSV, TYPE I)"}
		l.Options = []string{"passive", "logged in as " + p.user}
	} else {
		l.Workload = []string{"connect, USER/PASS " + p.user + ", QUIT"}
		l.Options = []string{"one session per connection"}
	}
	l.Open = func(to loadgen.Target, _ time.Duration) (loadgen.Protocol, error) {
		o := o
		o.Addr, o.Target = to.Endpoint.Addr, to
		return NewLoadClient(o)
	}
	return l, nil
}

// LoadClientOptions configure the FTP load client.
type LoadClientOptions struct {
	// Addr is the control connection's host:port.
	Addr string
	// Target, when its endpoint is set, is how Addr is reached (from a
	// source address); otherwise plain TCP.
	Target loadgen.Target
	// Mode is "session" (default) or "retr".
	Mode string
	// File is what retr retrieves; User and Pass log in (defaults: the
	// fixture's).
	File, User, Pass string
}

// LoadClient is the FTP load client (`protospec bench ftp`). In session
// mode each request is a whole session on a new connection: the 220
// greeting, USER, PASS (230 wanted), QUIT (221). In retr mode each
// connection logs in once and reads the file's SIZE, and each request is
// EPSV (or PASV), a data connection, RETR, every byte of the file on it
// and the 226. A reply out of place, a transfer that is short or long, or
// a data connection that fails is a bad response.
type LoadClient struct {
	to               loadgen.Target
	retr             bool
	file, user, pass string
}

// NewLoadClient returns the FTP load client.
func NewLoadClient(o LoadClientOptions) (*LoadClient, error) {
	if o.Addr == "" {
		return nil, errors.New("ftp load client: no address")
	}
	p := &LoadClient{to: o.Target, file: o.File, user: o.User, pass: o.Pass}
	switch o.Mode {
	case "", "session":
	case "retr":
		p.retr = true
	default:
		return nil, fmt.Errorf("ftp load client: mode %q: want session or retr", o.Mode)
	}
	if p.file == "" {
		p.file = loadFixtureFile
	}
	if p.user == "" {
		p.user, p.pass = loadFixtureUser, loadFixturePass
	}
	for _, s := range []string{p.file, p.user, p.pass} {
		if strings.ContainsAny(s, "\r\n\x00") || len(s) > 1024 {
			return nil, fmt.Errorf("ftp load client: %q holds CR, LF or NUL, or is too long", s)
		}
	}
	if p.to.Endpoint.Addr == "" {
		p.to = loadgen.TCP(o.Addr)
	}
	return p, nil
}

// Name implements loadgen.Protocol.
func (p *LoadClient) Name() string { return loadContractName }

// Dial implements loadgen.Protocol: in retr mode the connection is logged
// in, in binary type, with the file's size known.
func (p *LoadClient) Dial(ctx context.Context, timeout time.Duration) (loadgen.Conn, error) {
	s, err := loadgen.DialStream(ctx, p.to, timeout)
	if err != nil {
		return nil, err
	}
	c := &loadConn{Stream: s, p: p, timeout: timeout, reusable: true}
	if !p.retr {
		return c, nil
	}
	at := loadgen.Now()
	if err := c.login(at); err != nil {
		s.Close()
		return nil, err
	}
	for _, step := range []struct {
		cmd  string
		want int
	}{{"TYPE I", 200}, {"SIZE " + p.file, 213}} {
		code, text, err := c.exchange(at, step.cmd)
		if err == nil && code != step.want {
			err = loadgen.BadResponse("%s: %d %q, want %d", step.cmd, code, text, step.want)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		if step.want == 213 {
			n, perr := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(text, "213")), 10, 64)
			if perr != nil || n < 0 {
				s.Close()
				return nil, loadgen.BadResponse("SIZE: %q is not a size", text)
			}
			c.size = n
		}
	}
	return c, nil
}

type loadConn struct {
	*loadgen.Stream
	p        *LoadClient
	q        loadgen.FIFO
	timeout  time.Duration
	size     int64
	reusable bool
	buf      []byte
}

func (c *loadConn) Send(at int64) error {
	c.q.Push(loadgen.Pending{At: at})
	if !c.p.retr {
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
	if c.p.retr {
		err = c.transfer(at)
	} else {
		err = c.session(at)
	}
	c.q.Pop()
	if err != nil {
		c.reusable = false
	}
	return at, err
}

// session is one whole session: greeting, login, QUIT.
func (c *loadConn) session(at int64) error {
	if err := c.login(at); err != nil {
		return err
	}
	code, text, err := c.exchange(at, "QUIT")
	if err == nil && code != 221 {
		err = loadgen.BadResponse("QUIT: %d %q, want 221", code, text)
	}
	return err
}

func (c *loadConn) login(at int64) error {
	code, text, err := c.reply(at)
	if err != nil {
		return err
	}
	if code != 220 {
		return loadgen.BadResponse("greeting %d %q, want 220", code, text)
	}
	code, text, err = c.exchange(at, "USER "+c.p.user)
	if err == nil && code == 331 {
		code, text, err = c.exchange(at, "PASS "+c.p.pass)
	}
	if err == nil && code != 230 {
		err = &loadgen.Error{Kind: loadgen.KindStatus, Fatal: true, Err: fmt.Errorf("login as %s: %d %q", c.p.user, code, text)}
	}
	return err
}

// transfer is one RETR over a new passive data connection.
func (c *loadConn) transfer(at int64) error {
	addr, err := c.passive(at)
	if err != nil {
		return err
	}
	d := dial.Dialer{}
	if c.p.to.Dialer != nil {
		d = *c.p.to.Dialer
	}
	d.Timeout = c.timeout
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	dc, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return err
	}
	defer dc.Close()
	dc.SetDeadline(loadgen.ClockTime(at + int64(c.timeout)))
	c.Out = append(c.Out, "RETR "+c.p.file+"\r\n"...)
	if err := c.Flush(); err != nil {
		return err
	}
	if c.buf == nil {
		c.buf = make([]byte, 256<<10)
	}
	var n int64
	for {
		k, rerr := dc.Read(c.buf)
		n += int64(k)
		if n > c.size {
			return loadgen.BadResponse("RETR %s: more than the %d bytes SIZE announced", c.p.file, c.size)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			var ne net.Error
			if errors.As(rerr, &ne) && ne.Timeout() {
				return &loadgen.Error{Kind: loadgen.KindTimeout, Fatal: true, Err: fmt.Errorf("data connection: %w", rerr)}
			}
			return rerr
		}
	}
	code, text, err := c.reply(at)
	if err != nil {
		return err
	}
	switch {
	case code != 226 && code != 250:
		return loadgen.BadResponse("RETR %s: %d %q, want 226", c.p.file, code, text)
	case n != c.size:
		return loadgen.BadResponse("RETR %s: %d bytes came, SIZE announced %d", c.p.file, n, c.size)
	}
	return nil
}

// passive asks for a passive endpoint: EPSV, or PASV when EPSV is refused.
func (c *loadConn) passive(at int64) (string, error) {
	host, _, _ := net.SplitHostPort(c.p.to.Endpoint.Addr)
	code, text, err := c.exchange(at, "EPSV")
	if err != nil {
		return "", err
	}
	if code == 229 {
		if p, err := ftpwire.ParseEPSV(text); err == nil {
			return net.JoinHostPort(host, strconv.Itoa(p)), nil
		}
		return "", loadgen.BadResponse("EPSV: %q names no port", text)
	}
	code, text, err = c.exchange(at, "PASV")
	if err != nil {
		return "", err
	}
	if code != 227 {
		return "", loadgen.BadResponse("PASV: %d %q, want 227", code, text)
	}
	ap, err := ftpwire.ParsePASV(text)
	if err != nil {
		return "", loadgen.BadResponse("PASV: %v", err)
	}
	return ap.String(), nil
}

// exchange sends one command and reads its final reply.
func (c *loadConn) exchange(at int64, cmd string) (int, string, error) {
	c.Out = append(c.Out, cmd...)
	c.Out = append(c.Out, '\r', '\n')
	if err := c.Flush(); err != nil {
		return 0, "", err
	}
	return c.reply(at)
}

// reply reads the next final reply, passing over preliminary ones.
func (c *loadConn) reply(at int64) (int, string, error) {
	for {
		code, lines, n, err := loadNextReply(c.Buffered())
		if err != nil {
			return 0, "", loadgen.BadResponse("%v", err)
		}
		if n > 0 {
			c.Consume(n)
			if code < 200 {
				continue
			}
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

// loadNextReply reads one complete reply at the start of b (RFC 959 4.2):
// its code, lines and length, 0 when more bytes are needed.
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
		ok := len(line) >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' && line[1] <= '5' && line[2] >= '0' && line[2] <= '9' &&
			(len(line) == 3 || line[3] == ' ' || line[3] == '-')
		c := 0
		if ok {
			c, _ = strconv.Atoi(line[:3])
		}
		last := ok && (len(line) == 3 || line[3] == ' ')
		if code < 0 {
			if !ok {
				return 0, nil, 0, fmt.Errorf("reply %q does not start with a three-digit code", line[:min(len(line), 60)])
			}
			code = c
		}
		if len(lines) < 256 {
			lines = append(lines, line)
		}
		if last && c == code {
			return code, lines, off, nil
		}
	}
}
