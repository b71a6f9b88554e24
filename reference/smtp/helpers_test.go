package smtp

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/mailstore"
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

// start serves srv (its Store made in a temp dir when nil) on a loopback
// port until the test ends.
func start(t *testing.T, srv *Server) (string, *Server) {
	t.Helper()
	if srv == nil {
		srv = &Server{}
	}
	if srv.Store == nil {
		st, err := mailstore.Open(t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		srv.Store = st
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

// conv is a raw client conversation.
type conv struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialConv(t *testing.T, addr string) *conv {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	v := &conv{t: t, c: c, r: bufio.NewReader(c)}
	v.expect("220 ")
	return v
}

func (v *conv) send(s string) {
	v.t.Helper()
	if _, err := v.c.Write([]byte(s)); err != nil {
		v.t.Fatalf("write %q: %v", s, err)
	}
}

// reply reads one whole (possibly multi-line) reply.
func (v *conv) reply() string {
	v.t.Helper()
	var b strings.Builder
	for {
		l, err := v.r.ReadString('\n')
		b.WriteString(l)
		if err != nil {
			v.t.Fatalf("reading a reply after %q: %v", b.String(), err)
		}
		if len(l) < 4 || l[3] != '-' {
			return b.String()
		}
	}
}

// expect reads one reply and checks its last line starts with prefix.
func (v *conv) expect(prefix string) string {
	v.t.Helper()
	r := v.reply()
	lines := strings.Split(strings.TrimSuffix(r, "\r\n"), "\r\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, prefix) {
		v.t.Fatalf("got %q, want %q...", r, prefix)
	}
	return r
}

// do sends one command line and expects a reply.
func (v *conv) do(cmd, prefix string) string {
	v.t.Helper()
	v.send(cmd + "\r\n")
	return v.expect(prefix)
}

func (v *conv) closed() bool {
	v.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := v.r.ReadByte()
	return err != nil
}

func messages(t *testing.T, st *mailstore.Store, box string) []string {
	t.Helper()
	list, err := st.List(box)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range list {
		b, err := st.Read(box, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func body(msg string) string {
	_, b, _ := strings.Cut(msg, "\r\n\r\n")
	return b
}

var _ = fmt.Sprintf

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// dialRaw connects and returns the first line the server sends.
func dialRaw(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return bufio.NewReader(c).ReadString('\n')
}
