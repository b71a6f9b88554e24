package ftp

import (
	"context"
	"net"
	"testing"
	"time"
)

// serveOnce greets one connection with greeting and returns the address.
func serveOnce(t *testing.T, greeting string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if greeting == "" {
			return
		}
		c.Write([]byte(greeting))
		buf := make([]byte, 64)
		c.Read(buf)
	}()
	return l.Addr().String()
}

func TestLivenessProbe(t *testing.T) {
	for _, g := range []string{"220 ready\r\n", "421 too many\r\n", "220-hello\r\n220 ready\r\n", "120 wait\r\n220 ok\r\n"} {
		if err := LivenessProbe(withTimeout(t), ServiceTCP, serveOnce(t, g)); err != nil {
			t.Errorf("greeting %q: %v", g, err)
		}
	}
	for _, g := range []string{"", "HTTP/1.1 200 OK\r\n"} {
		if err := LivenessProbe(withTimeout(t), ServiceTCP, serveOnce(t, g)); err == nil {
			t.Errorf("greeting %q: probe passed", g)
		}
	}
	if err := LivenessProbe(withTimeout(t), "ftp/udp", "127.0.0.1:1"); err == nil {
		t.Errorf("unknown service passed")
	}
	if err := GreetingProbe(serveOnce(t, "220 ok\r\n"))(withTimeout(t)); err != nil {
		t.Error(err)
	}
	if err := GreetingProbe(serveOnce(t, "421 no\r\n"))(withTimeout(t)); err == nil {
		t.Error("GreetingProbe passed a 421")
	}
}

func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
