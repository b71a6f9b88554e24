package ftp

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/internal/tlsfixture"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

// testDeadline bounds every step of the test client: generous, for a
// loaded machine.
const testDeadline = 20 * time.Second

type env struct {
	s    *Server
	addr string // plain, 127.0.0.1
	tls  string // implicit TLS
	root string
	fx   *tlsfixture.Fixture
	v6   string
}

var sharedFixture *tlsfixture.Fixture

func fixtureTLS(t *testing.T) *tlsfixture.Fixture {
	if sharedFixture == nil {
		fx, err := tlsfixture.New()
		if err != nil {
			t.Fatal(err)
		}
		sharedFixture = fx
	}
	return sharedFixture
}

// newEnv serves a fresh fixture tree; tweak adjusts the server first.
func newEnv(t *testing.T, tweak func(*Server)) *env {
	t.Helper()
	root := t.TempDir()
	if err := fixture.Write(root); err != nil {
		t.Fatal(err)
	}
	fx := fixtureTLS(t)
	s := &Server{Root: root, TLSConfig: fx.ServerConfig(), LoginDelay: 10 * time.Millisecond}
	if tweak != nil {
		tweak(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{s: s, addr: l.Addr().String(), tls: tl.Addr().String(), root: root, fx: fx}
	go s.Serve(l)
	go s.ServeTLS(tl, fx.ServerConfig())
	if l6, err := net.Listen("tcp", "[::1]:0"); err == nil {
		e.v6 = l6.Addr().String()
		go s.Serve(l6)
	}
	t.Cleanup(func() { s.Close() })
	return e
}

// client is a small FTP client over ftpwire.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testDeadline)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(testDeadline))
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) connect(t *testing.T) *client {
	t.Helper()
	return greet(t, dialRaw(t, e.addr), 220)
}

func greet(t *testing.T, c net.Conn, want int) *client {
	t.Helper()
	cl := &client{t: t, c: c, br: bufio.NewReader(c)}
	if r := cl.read(); r.Code != want {
		t.Fatalf("greeting %v, want %d", r, want)
	}
	return cl
}

func (cl *client) read() ftpwire.Reply {
	cl.t.Helper()
	cl.c.SetDeadline(time.Now().Add(testDeadline))
	r, err := ftpwire.ReadReply(cl.br, ftpwire.Limits{})
	if err != nil {
		cl.t.Fatalf("reading a reply: %v (got %q)", err, r.Raw)
	}
	return r
}

func (cl *client) send(line string) {
	cl.t.Helper()
	cl.c.SetDeadline(time.Now().Add(testDeadline))
	if _, err := io.WriteString(cl.c, line); err != nil {
		cl.t.Fatal(err)
	}
}

// cmd sends a command and returns its reply.
func (cl *client) cmd(verb string, arg ...string) ftpwire.Reply {
	cl.t.Helper()
	cl.send(ftpwire.Command{Verb: verb, Arg: strings.Join(arg, " ")}.String())
	return cl.read()
}

// expect sends a command and checks the reply code.
func (cl *client) expect(code int, verb string, arg ...string) ftpwire.Reply {
	cl.t.Helper()
	r := cl.cmd(verb, arg...)
	if r.Code != code {
		cl.t.Fatalf("%s %s: %v, want %d", verb, strings.Join(arg, " "), r, code)
	}
	return r
}

func (cl *client) login(user, pass string) {
	cl.t.Helper()
	cl.expect(331, "USER", user)
	cl.expect(230, "PASS", pass)
}

// pasv opens a passive data connection (EPSV, or PASV with ipv4).
func (cl *client) pasv(epsv bool) func() net.Conn {
	cl.t.Helper()
	host, _, _ := net.SplitHostPort(cl.c.RemoteAddr().String())
	var addr string
	if epsv {
		r := cl.expect(229, "EPSV")
		port, err := ftpwire.ParseEPSV(r.Text())
		if err != nil {
			cl.t.Fatal(err)
		}
		addr = net.JoinHostPort(host, itoa(port))
	} else {
		r := cl.expect(227, "PASV")
		ap, err := ftpwire.ParsePASV(r.Text())
		if err != nil {
			cl.t.Fatal(err)
		}
		addr = ap.String()
	}
	return func() net.Conn { return dialRaw(cl.t, addr) }
}

// active listens for an active data connection and sends PORT or EPRT.
func (cl *client) active(eprt bool) func() net.Conn {
	cl.t.Helper()
	host, _, _ := net.SplitHostPort(cl.c.LocalAddr().String())
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		cl.t.Fatal(err)
	}
	cl.t.Cleanup(func() { l.Close() })
	ap := netip.MustParseAddrPort(l.Addr().String())
	if eprt {
		cl.expect(200, "EPRT", ftpwire.FormatEPRT(ap))
	} else {
		cl.expect(200, "PORT", ftpwire.FormatHostPort(ap))
	}
	return func() net.Conn {
		l.(*net.TCPListener).SetDeadline(time.Now().Add(testDeadline))
		c, err := l.Accept()
		if err != nil {
			cl.t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(testDeadline))
		cl.t.Cleanup(func() { c.Close() })
		return c
	}
}

// retr downloads path over a data connection from open, wrapping it with
// wrap (TLS) if set.
func (cl *client) retr(open func() net.Conn, wrap func(net.Conn) net.Conn, verb, path string) ([]byte, ftpwire.Reply) {
	cl.t.Helper()
	cl.send(ftpwire.Command{Verb: verb, Arg: path}.String())
	r := cl.read()
	if r.Class() != 1 {
		return nil, r
	}
	c := open()
	if wrap != nil {
		c = wrap(c)
	}
	data, err := io.ReadAll(c)
	if err != nil {
		cl.t.Fatalf("%s %s: reading data: %v", verb, path, err)
	}
	c.Close()
	return data, cl.read()
}

// stor uploads data to path.
func (cl *client) stor(open func() net.Conn, wrap func(net.Conn) net.Conn, verb, path string, data []byte) ftpwire.Reply {
	cl.t.Helper()
	cl.send(ftpwire.Command{Verb: verb, Arg: path}.String())
	r := cl.read()
	if r.Class() != 1 {
		return r
	}
	c := open()
	if wrap != nil {
		c = wrap(c)
	}
	if _, err := c.Write(data); err != nil {
		cl.t.Fatal(err)
	}
	c.Close()
	return cl.read()
}

func (e *env) tlsClient(t *testing.T) func(net.Conn) net.Conn {
	return func(c net.Conn) net.Conn {
		tc := tls.Client(c, &tls.Config{RootCAs: e.fx.Pool(), ServerName: "localhost"})
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS handshake: %v", err)
		}
		return tc
	}
}

func itoa(n int) string { return intString(n) }

func intString(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func (e *env) bobFile(p string) string {
	return filepath.Join(e.root, fixture.BobHome, filepath.FromSlash(p))
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
