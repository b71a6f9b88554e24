package smtp

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of RFC 5321 4.5.3.1.
const (
	MaxLocalPart   = 64   // 4.5.3.1.1
	MaxDomain      = 255  // 4.5.3.1.2
	MaxPath        = 256  // 4.5.3.1.3, angle brackets included
	MaxCommandLine = 512  // 4.5.3.1.4, CRLF included
	MaxTextLine    = 1000 // 4.5.3.1.6, CRLF included
	// mailParamAllowance is what MAIL and RCPT lines may exceed
	// MaxCommandLine by for the parameters of the extensions announced:
	// 64 for SIZE, BODY and SMTPUTF8 (RFC 1870 3: SIZE adds 26 octets;
	// RFC 6531 3.1: SMTPUTF8 10), 500 for AUTH= (RFC 4954 3: "extends the
	// maximum line length of the MAIL FROM command by 500 characters") and
	// 100 for DSN's RET and ENVID (RFC 3461 4); a RCPT line gets the same
	// allowance, of which NOTIFY and ORCPT need 500 (RFC 3461 4).
	mailParamAllowance = 64 + 500 + 100
)

// command is one parsed command line.
type command struct {
	verb string // upper case
	arg  string // after the single space, "" when none
}

// parseCommand splits a command line (without CRLF): a verb of letters,
// then nothing or one SP and the argument. It refuses control characters
// (other than HT in arguments), which RFC 5321 2.3.8 forbids.
func parseCommand(line string) (command, error) {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return command{}, errors.New("control character in command")
		}
	}
	verb, arg, _ := strings.Cut(line, " ")
	if len(verb) < 4 || len(verb) > 8 {
		return command{}, errors.New("command unrecognized")
	}
	for i := 0; i < len(verb); i++ {
		if c := verb[i] | 0x20; c < 'a' || c > 'z' {
			return command{}, errors.New("command unrecognized")
		}
	}
	return command{verb: strings.ToUpper(verb), arg: arg}, nil
}

// address is a parsed mailbox (local@domain); the null path has both "".
type address struct {
	local, domain string
	utf8          bool // non-ASCII in either part
}

func (a address) String() string {
	if a.local == "" && a.domain == "" {
		return ""
	}
	if a.domain == "" {
		return a.local
	}
	return a.local + "@" + a.domain
}

// parsePathArg parses the argument of MAIL ("FROM:") or RCPT ("TO:"):
// the keyword, the path in angle brackets with no space before it (RFC
// 5321 3.3, 4.1.2), then SP-separated ESMTP parameters. allowNull permits
// "<>"; postmaster permits "<Postmaster>" without a domain (4.1.1.3).
func parsePathArg(arg, keyword string, allowNull, postmaster bool) (address, []param, error) {
	if len(arg) < len(keyword) || !strings.EqualFold(arg[:len(keyword)], keyword) {
		return address{}, nil, errors.New("syntax: expected " + keyword)
	}
	rest := arg[len(keyword):]
	if !strings.HasPrefix(rest, "<") {
		return address{}, nil, errors.New("syntax: path must follow " + keyword + " in angle brackets")
	}
	end := closingBracket(rest)
	if end < 0 {
		return address{}, nil, errors.New("syntax: unterminated path")
	}
	path, after := rest[:end+1], rest[end+1:]
	if len(path) > MaxPath {
		return address{}, nil, errors.New("path too long")
	}
	var params []param
	if after != "" {
		if after[0] != ' ' {
			return address{}, nil, errors.New("syntax: garbage after path")
		}
		var err error
		if params, err = parseParams(after[1:]); err != nil {
			return address{}, nil, err
		}
	}
	inner := path[1 : len(path)-1]
	if inner == "" {
		if !allowNull {
			return address{}, nil, errors.New("null path not allowed here")
		}
		return address{}, params, nil
	}
	if postmaster && strings.EqualFold(inner, "postmaster") {
		return address{local: "postmaster"}, params, nil
	}
	// A source route (A-d-l ":") is accepted and ignored (RFC 5321 4.1.2,
	// 3.6.1: "SHOULD ignore the route information").
	if inner[0] == '@' {
		colon := strings.IndexByte(inner, ':')
		if colon < 0 {
			return address{}, nil, errors.New("syntax: bad source route")
		}
		for _, hop := range strings.Split(inner[1:colon], ",") {
			hop = strings.TrimPrefix(hop, "@")
			if !validDomain(hop) {
				return address{}, nil, errors.New("syntax: bad source route")
			}
		}
		inner = inner[colon+1:]
	}
	a, err := parseMailbox(inner)
	return a, params, err
}

// closingBracket finds the '>' that closes the path, skipping quoted
// strings of the local part.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '>':
			return i
		}
	}
	return -1
}

// parseMailbox parses Local-part "@" (Domain / address-literal).
func parseMailbox(s string) (address, error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return address{}, errors.New("syntax: mailbox needs local-part@domain")
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > MaxLocalPart {
		return address{}, errors.New("local part too long")
	}
	if len(domain) > MaxDomain {
		return address{}, errors.New("domain too long")
	}
	if !utf8.ValidString(s) {
		return address{}, errors.New("invalid UTF-8 in address")
	}
	if !validLocal(local) {
		return address{}, errors.New("syntax: bad local part")
	}
	if !validDomain(domain) && !validAddressLiteral(domain) {
		return address{}, errors.New("syntax: bad domain")
	}
	return address{local: local, domain: domain, utf8: !isASCII(s)}, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// atext of RFC 5322 3.2.3, and any non-ASCII (UTF8-non-ascii of RFC 6531,
// refused later when SMTPUTF8 is not in effect).
func isAtext(c byte) bool {
	return c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// validLocal: Dot-string or Quoted-string (RFC 5321 4.1.2).
func validLocal(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '"' {
		if len(s) < 2 || s[len(s)-1] != '"' {
			return false
		}
		for i := 1; i < len(s)-1; i++ {
			c := s[i]
			switch {
			case c == '\\':
				i++
				if i >= len(s)-1 || s[i] < 32 || s[i] > 126 {
					return false
				}
			case c == '"' || c < 32 || c == 127:
				return false
			}
		}
		return true
	}
	for _, atom := range strings.Split(s, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return false
			}
		}
	}
	return true
}

// validDomain: sub-domain *("." sub-domain), each Let-dig [Ldh-str], at
// most 63 octets a label (U-labels of RFC 6531 pass as non-ASCII octets).
func validDomain(s string) bool {
	if s == "" || len(s) > MaxDomain {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 0x80 || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validAddressLiteral: "[" IPv4 "]" or "[IPv6:" ... "]" (RFC 5321 4.1.3).
func validAddressLiteral(s string) bool {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return false
	}
	in := s[1 : len(s)-1]
	if v6, ok := strings.CutPrefix(in, "IPv6:"); ok {
		return strings.Count(v6, ":") >= 2 && strings.Trim(v6, "0123456789abcdefABCDEF:.") == ""
	}
	parts := strings.Split(in, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 || len(p) > 3 || p[0] == '+' {
			return false
		}
	}
	return true
}

// param is one ESMTP parameter (RFC 5321 4.1.2 esmtp-param).
type param struct {
	key, value string
	hasValue   bool
}

func parseParams(s string) ([]param, error) {
	var out []param
	seen := map[string]bool{}
	for _, f := range strings.Split(s, " ") {
		if f == "" {
			return nil, errors.New("syntax: empty parameter")
		}
		k, v, has := strings.Cut(f, "=")
		if k == "" || !isAlnumByte(k[0]) {
			return nil, errors.New("syntax: bad parameter keyword")
		}
		for i := 0; i < len(k); i++ {
			if !isAlnumByte(k[i]) && k[i] != '-' {
				return nil, errors.New("syntax: bad parameter keyword")
			}
		}
		if has {
			if v == "" {
				return nil, errors.New("syntax: empty parameter value")
			}
			for i := 0; i < len(v); i++ {
				if c := v[i]; c < 33 || c == '=' || c == 127 {
					return nil, errors.New("syntax: bad parameter value")
				}
			}
		}
		k = strings.ToUpper(k)
		if seen[k] {
			return nil, errors.New("syntax: parameter " + k + " repeated")
		}
		seen[k] = true
		out = append(out, param{key: k, value: v, hasValue: has})
	}
	return out, nil
}

func isAlnumByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// decodeXtext decodes an xtext (RFC 3461 4): xchar is "any ASCII CHAR
// between "!" (33) and "~" (126) inclusive, except for "+" and "="", and
// hexchar is "+" followed by two upper case hexadecimal digits.
func decodeXtext(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			if i+2 >= len(s) {
				return "", errors.New("syntax: xtext: \"+\" needs two hexadecimal digits")
			}
			h, l := unhex(s[i+1]), unhex(s[i+2])
			if h < 0 || l < 0 {
				return "", errors.New("syntax: xtext: \"+\" needs two upper case hexadecimal digits")
			}
			b.WriteByte(byte(h<<4 | l))
			i += 2
		case c < '!' || c > '~' || c == '=':
			return "", errors.New("syntax: xtext: octet not allowed")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isPrintableASCII: graphic and white space characters of US-ASCII, what
// RFC 3461 4.2 and 4.4 allow in a decoded ORCPT or ENVID.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 || c > 0x7e) && c != '\t' {
			return false
		}
	}
	return true
}
