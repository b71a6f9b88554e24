package pop3

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
	ipop3 "github.com/protospec/protospec/internal/pop3"
	"github.com/protospec/protospec/internal/tlsfixture"
)

var fixtureTLS = func() *tlsfixture.Fixture {
	f, err := tlsfixture.New()
	if err != nil {
		panic(err)
	}
	return f
}()

func clientTLS() *tls.Config {
	return &tls.Config{RootCAs: fixtureTLS.Pool(), ServerName: "localhost"}
}

// fixtureStore writes internal/pop3's fixture into a temp dir and opens
// it.
func fixtureStore(t testing.TB) *mailstore.Store {
	t.Helper()
	st, err := fixtureStoreAt(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func fixtureStoreAt(dir string) (*mailstore.Store, error) {
	if err := ipop3.WriteFixture(dir); err != nil {
		return nil, err
	}
	return mailstore.Open(dir, 0)
}

// start serves srv (its Store the fixture when nil, LoginDelay a
// millisecond unless set) on a loopback port until the test ends.
func start(t *testing.T, srv *Server) (string, *Server) {
	t.Helper()
	if srv == nil {
		srv = &Server{}
	}
	if srv.Store == nil {
		srv.Store = fixtureStore(t)
	}
	if srv.LoginDelay == 0 {
		srv.LoginDelay = time.Millisecond
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String(), srv
}

// startTLS serves srv with ServeTLS on a loopback port.
func startTLS(t *testing.T, srv *Server) string {
	t.Helper()
	if srv.Store == nil {
		srv.Store = fixtureStore(t)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.ServeTLS(l, fixtureTLS.ServerConfig()); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String()
}

// conv is a raw client conversation.
type conv struct {
	t        *testing.T
	c        net.Conn
	r        *bufio.Reader
	greeting string
}

func newConv(t *testing.T, c net.Conn) *conv {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	v := &conv{t: t, c: c, r: bufio.NewReader(c)}
	v.greeting = v.expect("+OK ")
	return v
}

func dialConv(t *testing.T, addr string) *conv {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return newConv(t, c)
}

func (v *conv) send(s string) {
	v.t.Helper()
	if _, err := v.c.Write([]byte(s)); err != nil {
		v.t.Fatalf("write %q: %v", s, err)
	}
}

func (v *conv) line() string {
	v.t.Helper()
	l, err := v.r.ReadString('\n')
	if err != nil {
		v.t.Fatalf("reading a line after %q: %v", l, err)
	}
	if !strings.HasSuffix(l, "\r\n") {
		v.t.Fatalf("line %q does not end with CRLF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// expect reads one status line and checks its prefix.
func (v *conv) expect(prefix string) string {
	v.t.Helper()
	l := v.line()
	if !strings.HasPrefix(l, prefix) {
		v.t.Fatalf("got %q, want %q...", l, prefix)
	}
	return l
}

// do sends one command line and expects a status line.
func (v *conv) do(cmd, prefix string) string {
	v.t.Helper()
	v.send(cmd + "\r\n")
	return v.expect(prefix)
}

// multi reads the body of a multi-line response, unstuffed, one element
// per line.
func (v *conv) multi() []string {
	v.t.Helper()
	var out []string
	for {
		l := v.line()
		if l == "." {
			return out
		}
		if strings.HasPrefix(l, ".") {
			l = l[1:]
		}
		out = append(out, l)
	}
}

// text is a multi-line body joined back with CRLF line ends.
func text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func (v *conv) login(user, pass string) {
	v.t.Helper()
	v.do("USER "+user, "+OK")
	v.do("PASS "+pass, "+OK")
}

func (v *conv) closed() bool {
	v.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := v.r.ReadByte()
	return err != nil
}

// startTLSConv sends STLS and hands the conversation over to TLS.
func (v *conv) startTLS() {
	v.t.Helper()
	v.do("STLS", "+OK")
	tc := tls.Client(v.c, clientTLS())
	if err := tc.Handshake(); err != nil {
		v.t.Fatal(err)
	}
	v.c, v.r = tc, bufio.NewReader(tc)
}

func ids(t *testing.T, st *mailstore.Store, box string) []string {
	t.Helper()
	list, err := st.List(box)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range list {
		out = append(out, m.ID)
	}
	return out
}

// reopen opens the server's store again from its directory.
func reopen(t *testing.T, srv *Server) *mailstore.Store {
	t.Helper()
	st, err := mailstore.Open(srv.Store.Root(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
