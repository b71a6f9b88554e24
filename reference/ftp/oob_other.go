//go:build !linux

package ftp

import "net"

// setOOBInline does nothing where the option is not known.
func setOOBInline(net.Conn) {}
