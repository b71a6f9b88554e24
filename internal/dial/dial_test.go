package dial

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/tlsfixture"
)

func TestParseSecurity(t *testing.T) {
	for in, want := range map[string]Security{"": Plain, "plain": Plain, "TLS": TLS, "starttls": StartTLS} {
		if got, err := ParseSecurity(in); err != nil || got != want {
			t.Errorf("ParseSecurity(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseSecurity("ssl"); err == nil {
		t.Error("ParseSecurity accepted ssl")
	}
}

func TestEndpointNames(t *testing.T) {
	e := Endpoint{Network: "tcp", Addr: "127.0.0.1:8443", Security: TLS}
	if e.String() != "tls://127.0.0.1:8443" || e.Name() != "127.0.0.1" {
		t.Errorf("String %q Name %q", e, e.Name())
	}
	e.ServerName = "localhost"
	if e.Name() != "localhost" {
		t.Errorf("Name %q, want the ServerName", e.Name())
	}
	if s := (Endpoint{Network: "udp", Addr: "[::1]:53"}).String(); s != "udp://[::1]:53" {
		t.Errorf("String %q", s)
	}
}

// echoTLS serves TLS on a loopback port, echoing, and reports each
// client's address.
func echoTLS(t *testing.T, fx *tlsfixture.Fixture) (string, <-chan string) {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", fx.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	peers := make(chan string, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			peers <- c.RemoteAddr().String()
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String(), peers
}

// Dial runs the TLS handshake against the fixture CA from the chosen
// source, logs the keys, and lets a wrapper see the records.
func TestDialTLSFromSource(t *testing.T) {
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	addr, peers := echoTLS(t, fx)
	var keys bytes.Buffer
	var wire int
	d := Dialer{Timeout: 5 * time.Second, Source: "127.0.0.3", TLS: &tls.Config{RootCAs: fx.Pool()}, KeyLog: &keys,
		Wrap: func(c net.Conn) net.Conn { return &counting{Conn: c, n: &wire} }}
	c, err := d.Dial(context.Background(), Endpoint{Network: "tcp", Addr: addr, Security: TLS, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := <-peers; !strings.HasPrefix(p, "127.0.0.3:") {
		t.Errorf("server saw %s, want 127.0.0.3", p)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	if !strings.Contains(keys.String(), "CLIENT_TRAFFIC_SECRET_0 ") {
		t.Errorf("no key log: %q", keys.String())
	}
	if wire == 0 {
		t.Error("the wrapper saw no bytes")
	}
	if c.(*tls.Conn).ConnectionState().ServerName != "localhost" {
		t.Error("SNI is not the endpoint's server name")
	}
}

type counting struct {
	net.Conn
	n *int
}

func (c *counting) Write(p []byte) (int, error) { *c.n += len(p); return c.Conn.Write(p) }

// A certificate from another CA fails the dial; --insecure's
// configuration accepts it; a StartTLS endpoint is returned plain.
func TestDialVerification(t *testing.T) {
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	other, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := echoTLS(t, fx)
	ep := Endpoint{Network: "tcp", Addr: addr, Security: TLS}
	d := Dialer{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: other.Pool()}}
	if _, err := d.Dial(context.Background(), ep); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted: %v", err)
	}
	d.TLS = &tls.Config{InsecureSkipVerify: true}
	c, err := d.Dial(context.Background(), ep)
	if err != nil {
		t.Fatalf("insecure: %v", err)
	}
	c.Close()
	ep.Security = StartTLS
	c, err = d.Dial(context.Background(), ep)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*tls.Conn); ok {
		t.Error("a StartTLS endpoint came back as TLS")
	}
}

func TestDialRefusals(t *testing.T) {
	var d Dialer
	if _, err := d.Dial(context.Background(), Endpoint{Network: "udp", Addr: "127.0.0.1:53"}); !errors.Is(err, ErrNotTCP) {
		t.Errorf("udp: %v", err)
	}
	d.Source = "192.0.2.1"
	if _, err := d.Dial(context.Background(), Endpoint{Network: "tcp", Addr: "127.0.0.1:9"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("non-loopback source: %v", err)
	}
	if _, _, err := d.ListenPacket(Endpoint{Network: "udp", Addr: "127.0.0.1:53"}); err == nil {
		t.Error("ListenPacket accepted a non-loopback source")
	}
}

func TestListenPacketSource(t *testing.T) {
	d := Dialer{Source: "127.0.0.4"}
	pc, raddr, err := d.ListenPacket(Endpoint{Network: "udp", Addr: "127.0.0.1:53"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if !strings.HasPrefix(pc.LocalAddr().String(), "127.0.0.4:") || raddr.Port != 53 {
		t.Errorf("local %s remote %s", pc.LocalAddr(), raddr)
	}
	var six Dialer
	pc6, _, err := six.ListenPacket(Endpoint{Network: "udp", Addr: "[::1]:53"})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer pc6.Close()
	if !strings.HasPrefix(pc6.LocalAddr().String(), "[::1]:") {
		t.Errorf("IPv6 local %s", pc6.LocalAddr())
	}
}

// DialUDP sends from the chosen source; Connect picks the transport;
// TCPConn finds the socket under TLS; CloseWrite half-closes TLS.
func TestDialUDPAndHelpers(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	d := Dialer{Timeout: 5 * time.Second, Source: "127.0.0.5"}
	c, err := d.Connect(context.Background(), Endpoint{Network: "udp", Addr: pc.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8)
	_, from, err := pc.ReadFrom(buf)
	if err != nil || !strings.HasPrefix(from.String(), "127.0.0.5:") {
		t.Fatalf("datagram from %v, %v; want 127.0.0.5", from, err)
	}
	if _, err := d.DialUDP(context.Background(), Endpoint{Network: "tcp", Addr: "127.0.0.1:9"}); err == nil {
		t.Error("DialUDP accepted a TCP endpoint")
	}

	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := echoTLS(t, fx)
	d = Dialer{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: fx.Pool()}}
	tc, err := d.Connect(context.Background(), Endpoint{Network: "tcp", Addr: addr, Security: TLS, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if TCPConn(tc) == nil || TCPConn(c) != nil {
		t.Errorf("TCPConn: %v under TLS, %v under UDP", TCPConn(tc), TCPConn(c))
	}
	if _, err := tc.Write([]byte("bye")); err != nil {
		t.Fatal(err)
	}
	if !CloseWrite(tc) {
		t.Fatal("CloseWrite of a TLS connection failed")
	}
	_ = tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(tc)
	if err != nil || string(got) != "bye" {
		t.Errorf("after half-close read %q, %v; want the echo then EOF", got, err)
	}
	if CloseWrite(c) {
		t.Error("CloseWrite half-closed a UDP socket")
	}
}
