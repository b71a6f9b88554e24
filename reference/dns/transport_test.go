package dns

import (
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// tcpConnFrom connects to addr from the loopback address src.
func tcpConnFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// TestTCPPerClientShare checks one client address cannot take every TCP
// slot: its third connection is closed, another client's is served.
func TestTCPPerClientShare(t *testing.T) {
	_, tcp := startAuth(t, &AuthServer{MaxTCPConns: 10, MaxTCPConnsPerClient: 2})
	q := packQ(t, "www.test.", mdns.TypeA, nil)
	for range 2 {
		c := tcpConnFrom(t, "127.0.0.1", tcp)
		writeFrame(t, c, q)
		if _, err := readFrame(c); err != nil {
			t.Fatal(err)
		}
	}
	c := tcpConnFrom(t, "127.0.0.1", tcp)
	c.Write(append([]byte{0, byte(len(q))}, q...))
	if _, err := readFrame(c); err == nil {
		t.Fatal("third connection of one client served beyond its share")
	}
	o := tcpConnFrom(t, "127.0.0.2", tcp)
	writeFrame(t, o, q)
	if _, err := readFrame(o); err != nil {
		t.Fatalf("another client: %v", err)
	}
}

// TestTCPLifetime checks a connection that keeps sending queries just
// inside the idle timeout is still closed at the end of its lifetime.
func TestTCPLifetime(t *testing.T) {
	_, tcp := startAuth(t, &AuthServer{TCPMaxLifetime: 300 * time.Millisecond})
	q := packQ(t, "www.test.", mdns.TypeA, nil)
	c := tcpConnFrom(t, "127.0.0.1", tcp)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	for {
		if _, err := c.Write(append([]byte{0, byte(len(q))}, q...)); err != nil {
			break
		}
		if _, err := readFrame(c); err != nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("a busy connection was served for 5 s with a lifetime of 300 ms")
		}
	}
}

// TestTCPDefaults checks the default limits: more than 128 connections,
// a per-client share below the total, a lifetime.
func TestTCPDefaults(t *testing.T) {
	l := tcpLimits{}.withDefaults()
	if l.maxConns <= 128 || l.perClient <= 0 || l.perClient >= l.maxConns || l.lifetime <= 0 {
		t.Fatalf("defaults %+v", l)
	}
}
