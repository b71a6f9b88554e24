package loadgen

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/tlsfixture"
)

// DialStream reaches a TLS endpoint through the target's dialer (trusting
// the fixture CA, from its source address) and turns Nagle off on the
// socket under TLS; DialUDP sends from the source address.
func TestTargetDials(t *testing.T) {
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", fx.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peer := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		peer <- c.RemoteAddr().String()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(c, io.LimitReader(c, 4))
	}()
	d := &dial.Dialer{Source: "127.0.0.7", TLS: &tls.Config{RootCAs: fx.Pool()}}
	to := Target{Endpoint: dial.Endpoint{Network: "tcp", Addr: l.Addr().String(), Security: dial.TLS, ServerName: "localhost"}, Dialer: d}
	s, err := DialStream(context.Background(), to, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.c.(*tls.Conn); !ok {
		t.Fatalf("stream over %T, want TLS", s.c)
	}
	if p := <-peer; !strings.HasPrefix(p, "127.0.0.7:") {
		t.Errorf("server saw %s, want 127.0.0.7", p)
	}
	s.Out = append(s.Out, "ping"...)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(s.c, buf); err != nil || string(buf) != "ping" {
		t.Errorf("echo %q, %v", buf, err)
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	uc, err := Target{Endpoint: dial.Endpoint{Network: "udp", Addr: pc.LocalAddr().String()}, Dialer: d}.DialUDP(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if !strings.HasPrefix(uc.LocalAddr().String(), "127.0.0.7:") {
		t.Errorf("UDP from %s, want 127.0.0.7", uc.LocalAddr())
	}
}
