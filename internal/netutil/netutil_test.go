package netutil

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestRetryAccept(t *testing.T) {
	wrap := func(e error) error {
		return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", e)}
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, os.ErrDeadlineExceeded} {
		if !RetryAccept(wrap(e)) {
			t.Errorf("RetryAccept(%v) = false, want true", e)
		}
	}
	for _, e := range []error{net.ErrClosed, syscall.EINVAL, errors.New("other"), fmt.Errorf("wrapped: %w", net.ErrClosed)} {
		if RetryAccept(wrap(e)) {
			t.Errorf("RetryAccept(%v) = true, want false", e)
		}
	}
}

func TestNextBackoff(t *testing.T) {
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}
	var d time.Duration
	for _, w := range want {
		if d = NextBackoff(d); d != w {
			t.Fatalf("NextBackoff = %v, want %v", d, w)
		}
	}
	if d := NextBackoff(800 * time.Millisecond); d != MaxBackoff {
		t.Fatalf("NextBackoff(800ms) = %v, want %v", d, MaxBackoff)
	}
}

func TestClientAddr(t *testing.T) {
	cases := []struct {
		a    net.Addr
		want netip.Addr
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 13), Port: 1}, netip.MustParseAddr("127.0.0.13")},
		{&net.UDPAddr{IP: net.ParseIP("::1"), Port: 1}, netip.MustParseAddr("::1")},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1")}, netip.MustParseAddr("127.0.0.1")},
		{&net.UnixAddr{Name: "x", Net: "unix"}, netip.Addr{}},
		{nil, netip.Addr{}},
	}
	for _, c := range cases {
		if got := ClientAddr(c.a); got != c.want {
			t.Errorf("ClientAddr(%v) = %v, want %v", c.a, got, c.want)
		}
	}
}

func TestClients(t *testing.T) {
	c := Clients{}
	a := netip.MustParseAddr("127.0.0.5")
	c.Add(a)
	c.Add(a)
	c.Add(netip.Addr{}) // a pipe: not counted
	if !c.Full(a, 2) || c.Full(a, 3) || c.Full(netip.Addr{}, 0) {
		t.Fatalf("counts %v", c)
	}
	c.Done(a)
	c.Done(a)
	c.Done(netip.Addr{})
	if len(c) != 0 {
		t.Fatalf("after every Done: %v", c)
	}
}
