// Package netutil holds the protocol-free network helpers the reference
// servers share: which accept errors to retry, the back-off between the
// retries, and the client address a connection counts against.
package netutil

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Bounds of [NextBackoff], as net/http uses them.
const (
	MinBackoff = 5 * time.Millisecond
	MaxBackoff = time.Second
)

// RetryAccept reports whether an accept error is transient: a timeout, or
// the process or system out of descriptors or memory (EMFILE, ENFILE,
// ENOBUFS, ENOMEM), or a connection aborted before it was accepted
// (ECONNABORTED). A server that gives up on these stops serving for good
// over a condition the connections it serves will soon clear.
func RetryAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// NextBackoff is the wait before the next retry after a wait of d (0 for the
// first retry): double d, from MinBackoff up to MaxBackoff.
func NextBackoff(d time.Duration) time.Duration {
	return min(max(2*d, MinBackoff), MaxBackoff)
}

// ClientAddr is the IP address of a TCP or UDP peer address, IPv4-mapped
// IPv6 addresses unmapped, or the zero Addr for any other address (such as
// net.Pipe's), which has no client to count against.
func ClientAddr(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	default:
		return netip.Addr{}
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// Clients counts a server's open connections per client address, for the
// per-client share of its connection limit. A connection without an IP
// peer (a pipe) is not counted. The caller holds the server's lock.
type Clients map[netip.Addr]int

// Full reports whether a already has max connections.
func (c Clients) Full(a netip.Addr, max int) bool { return a.IsValid() && c[a] >= max }

// Add counts a new connection of a.
func (c Clients) Add(a netip.Addr) {
	if a.IsValid() {
		c[a]++
	}
}

// Done counts a connection of a that ended.
func (c Clients) Done(a netip.Addr) {
	if !a.IsValid() {
		return
	}
	if c[a]--; c[a] <= 0 {
		delete(c, a)
	}
}
