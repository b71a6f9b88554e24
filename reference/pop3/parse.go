package pop3

import (
	"errors"
	"strconv"
	"strings"
)

// Limits of the command grammar.
const (
	// MaxCommandLine is RFC 2449 4: "The maximum length of a command is
	// increased from 47 characters (4 character command, single space,
	// 40 character argument, CRLF) to 255 octets, including the
	// terminating CRLF."
	MaxCommandLine = 255
	// MaxResponseLine is RFC 2449 4's bound on a status line: "The
	// maximum length of the first line of a command response (including
	// the initial greeting) is unchanged at 512 octets (including the
	// terminating CRLF)."
	MaxResponseLine = 512
	// MaxAuthLine bounds a client's line inside an AUTH exchange (RFC
	// 5034 4 sets none; PLAIN's authcid, authzid and password of 255
	// octets each fit in base64 with room to spare).
	MaxAuthLine = 2048
	// maxNumber bounds the digits of a message number or a line count.
	maxNumber = 9
)

// Errors of the command grammar.
var (
	errEmpty      = errors.New("empty command line")
	errKeyword    = errors.New("a keyword is three or four letters (RFC 1939 3)")
	errSpace      = errors.New("keywords and arguments are separated by a single SPACE (RFC 1939 3)")
	errPrintable  = errors.New("keywords and arguments are printable ASCII (RFC 1939 3)")
	errArgCount   = errors.New("wrong number of arguments")
	errNumber     = errors.New("not a message number")
	errLineNumber = errors.New("not a non-negative number of lines")
)

// command is one parsed command line: the keyword in upper case, the
// arguments, and for PASS the whole rest of the line (RFC 1939 7: "a
// POP3 server may treat spaces in the argument as part of the
// password").
type command struct {
	verb string
	args []string
	rest string
}

// parseCommand parses a command line without its CRLF.
func parseCommand(line string) (command, error) {
	if line == "" {
		return command{}, errEmpty
	}
	for i := 0; i < len(line); i++ {
		// RFC 1939 3: "Keywords and arguments consist of printable
		// ASCII characters."
		if c := line[i]; c < 0x20 || c > 0x7e {
			return command{}, errPrintable
		}
	}
	verb, rest, hasRest := strings.Cut(line, " ")
	// RFC 1939 3: "Keywords are three or four characters long."
	if len(verb) < 3 || len(verb) > 4 {
		return command{}, errKeyword
	}
	for i := 0; i < len(verb); i++ {
		if c := verb[i] | 0x20; c < 'a' || c > 'z' {
			return command{}, errKeyword
		}
	}
	cmd := command{verb: strings.ToUpper(verb), rest: rest}
	if !hasRest {
		return cmd, nil
	}
	if cmd.verb == "PASS" {
		if rest == "" {
			return command{}, errSpace
		}
		cmd.args = []string{rest}
		return cmd, nil
	}
	cmd.args = strings.Split(rest, " ")
	for _, a := range cmd.args {
		if a == "" {
			return command{}, errSpace
		}
	}
	return cmd, nil
}

// parseNumber parses a message number: digits only, at least 1.
func parseNumber(s string) (int, error) {
	n, err := parseCount(s)
	if err != nil || n < 1 {
		return 0, errNumber
	}
	return n, nil
}

// parseCount parses a non-negative decimal of at most maxNumber digits
// (no sign, no space).
func parseCount(s string) (int, error) {
	if s == "" || len(s) > maxNumber || strings.Trim(s, "0123456789") != "" {
		return 0, errLineNumber
	}
	return strconv.Atoi(s)
}
