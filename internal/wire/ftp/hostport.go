package ftp

import (
	"net/netip"
	"strconv"
	"strings"
)

// ParseHostPort parses the argument of PORT (RFC 959 4.1.2): six decimal
// numbers 0-255 separated by commas, h1,h2,h3,h4 the IPv4 address and
// p1,p2 the port (p1*256+p2), without spaces.
func ParseHostPort(s string) (netip.AddrPort, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 6 {
		return netip.AddrPort{}, problem(RuleHostPort, true, "%q is not six comma-separated numbers", s)
	}
	var n [6]byte
	for i, p := range parts {
		v, ok := byteNumber(p)
		if !ok {
			return netip.AddrPort{}, problem(RuleHostPort, true, "%q: %q is not a number 0-255", s, p)
		}
		n[i] = v
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{n[0], n[1], n[2], n[3]}), uint16(n[4])<<8|uint16(n[5])), nil
}

// byteNumber parses 1 to 3 decimal digits of a value 0-255.
func byteNumber(p string) (byte, bool) {
	if len(p) == 0 || len(p) > 3 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, false
		}
		v = v*10 + int(p[i]-'0')
	}
	if v > 255 {
		return 0, false
	}
	return byte(v), true
}

// FormatHostPort is the PORT argument (and 227 numbers) of an IPv4 address
// and port: "127,0,0,1,4,1". An address that is not IPv4 (or IPv4-mapped)
// has no such form: the result is "".
func FormatHostPort(ap netip.AddrPort) string {
	a := ap.Addr().Unmap()
	if !a.Is4() {
		return ""
	}
	b := a.As4()
	p := ap.Port()
	return strconv.Itoa(int(b[0])) + "," + strconv.Itoa(int(b[1])) + "," + strconv.Itoa(int(b[2])) + "," +
		strconv.Itoa(int(b[3])) + "," + strconv.Itoa(int(p>>8)) + "," + strconv.Itoa(int(p&0xff))
}

// ParsePASV finds the address in the text of a 227 reply. RFC 1123
// 4.1.2.6: "The User-FTP program must scan the reply for the first digit of
// the host and port numbers", since RFC 959 does not fix the text around
// them: "Entering Passive Mode (h1,h2,h3,h4,p1,p2)", with or without the
// parentheses. The first run of six comma-separated numbers wins.
func ParsePASV(text string) (netip.AddrPort, error) {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && isDigit(text[i-1])) {
			continue
		}
		j := i
		for j < len(text) && (isDigit(text[j]) || text[j] == ',') {
			j++
		}
		run := strings.TrimRight(text[i:j], ",")
		if strings.Count(run, ",") < 5 {
			continue
		}
		parts := strings.SplitN(run, ",", 7)
		if ap, err := ParseHostPort(strings.Join(parts[:6], ",")); err == nil {
			return ap, nil
		}
	}
	return netip.AddrPort{}, problem(RuleHostPort, true, "no h1,h2,h3,h4,p1,p2 in %q", text)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ParseEPSV finds the port in the text of a 229 reply. RFC 2428 3: "The
// response to this command includes only the TCP port number of the
// listening connection. The text returned in response to the EPSV command
// MUST be: <text indicating server is entering extended passive mode>
// (<d><d><d><tcp-port><d>)", where <d> is one delimiter character in the
// range 33-126 ("|" recommended).
func ParseEPSV(text string) (int, error) {
	for i := strings.IndexByte(text, '('); i >= 0; {
		if port, ok := epsvAt(text[i+1:]); ok {
			return port, nil
		}
		j := strings.IndexByte(text[i+1:], '(')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return 0, problem(RuleEPSV, true, "no (<d><d><d>port<d>) in %q", text)
}

func epsvAt(s string) (int, bool) {
	if len(s) < 6 {
		return 0, false
	}
	d := s[0]
	if d < 33 || d > 126 || isDigit(d) || s[1] != d || s[2] != d {
		return 0, false
	}
	end := strings.IndexByte(s[3:], d)
	if end <= 0 || 3+end+1 >= len(s) || s[3+end+1] != ')' {
		return 0, false
	}
	port, ok := portNumber(s[3 : 3+end])
	return port, ok
}

// portNumber parses a decimal TCP port 1-65535.
func portNumber(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, v >= 1 && v <= 65535
}

// ParseEPRT parses the argument of EPRT. RFC 2428 2: "EPRT<space><d><net-prt><d><net-addr><d><tcp-port><d>",
// net-prt 1 for IPv4 and 2 for IPv6, the address in its string form, the
// delimiter one character in the range 33-126 ("|" recommended).
func ParseEPRT(arg string) (netip.AddrPort, error) {
	if len(arg) < 2 {
		return netip.AddrPort{}, problem(RuleEPRT, true, "%q is too short", arg)
	}
	d := arg[0]
	if d < 33 || d > 126 || isDigit(d) {
		return netip.AddrPort{}, problem(RuleEPRT, true, "%q: delimiter %q not in 33-126", arg, d)
	}
	parts := strings.Split(arg, string(d))
	// "", af, addr, port, ""
	if len(parts) != 5 || parts[0] != "" || parts[4] != "" {
		return netip.AddrPort{}, problem(RuleEPRT, true, "%q is not <d>proto<d>addr<d>port<d>", arg)
	}
	addr, err := netip.ParseAddr(parts[2])
	if err != nil || addr.Zone() != "" {
		return netip.AddrPort{}, problem(RuleEPRT, true, "%q: bad address %q", arg, parts[2])
	}
	switch parts[1] {
	case "1":
		if !addr.Is4() {
			return netip.AddrPort{}, problem(RuleEPRT, true, "%q: protocol 1 with a non-IPv4 address", arg)
		}
	case "2":
		if !addr.Is6() || addr.Is4In6() {
			return netip.AddrPort{}, problem(RuleEPRT, true, "%q: protocol 2 with a non-IPv6 address", arg)
		}
	default:
		return netip.AddrPort{}, problem(RuleEPRT, true, "%q: unknown network protocol %q", arg, parts[1])
	}
	port, ok := portNumber(parts[3])
	if !ok {
		return netip.AddrPort{}, problem(RuleEPRT, true, "%q: bad port %q", arg, parts[3])
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// FormatEPRT is the EPRT argument of an address and port, with "|" as the
// delimiter: "|1|127.0.0.1|6275|" or "|2|::1|6275|" (an IPv4-mapped
// address is written as IPv4).
func FormatEPRT(ap netip.AddrPort) string {
	a := ap.Addr().Unmap()
	proto := "2"
	if a.Is4() {
		proto = "1"
	}
	return "|" + proto + "|" + a.WithZone("").String() + "|" + strconv.Itoa(int(ap.Port())) + "|"
}

// FormatEPSV is the text of a 229 reply for port: "Entering Extended
// Passive Mode (|||port|)".
func FormatEPSV(port int) string {
	return "Entering Extended Passive Mode (|||" + strconv.Itoa(port) + "|)"
}

// FormatPASV is the text of a 227 reply for ap: "Entering Passive Mode
// (h1,h2,h3,h4,p1,p2)".
func FormatPASV(ap netip.AddrPort) string {
	return "Entering Passive Mode (" + FormatHostPort(ap) + ")"
}
