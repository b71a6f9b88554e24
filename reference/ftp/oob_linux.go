package ftp

import (
	"net"
	"syscall"
)

// setOOBInline keeps TCP urgent data in the stream: clients send ABOR's
// Telnet Synch (or its last byte) as urgent data (RFC 959 4.1.3), which
// the socket would otherwise set aside.
func setOOBInline(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
	})
}
