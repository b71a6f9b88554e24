package ftp

import (
	"net/netip"
	"sort"

	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

// The host-port forms come from internal/wire/ftp, whose parsers are
// strict (six numbers without spaces; RFC 2428's delimited form).
func ftpwireParseHostPort(s string) (netip.AddrPort, error) { return ftpwire.ParseHostPort(s) }
func ftpwireParseEPRT(s string) (netip.AddrPort, error)     { return ftpwire.ParseEPRT(s) }
func ftpwireFormatPASV(ap netip.AddrPort) string            { return ftpwire.FormatPASV(ap) }
func ftpwireFormatEPSV(port int) string                     { return ftpwire.FormatEPSV(port) }

func sortStrings(s []string) { sort.Strings(s) }

type netipAddrPort = netip.AddrPort

var netipZero netip.AddrPort
