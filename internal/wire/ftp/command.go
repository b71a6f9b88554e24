package ftp

import (
	"bytes"
	"strings"
)

// Command is one FTP command (RFC 959 5.3.1): a verb and its argument.
type Command struct {
	// Verb is the command in upper case ("RETR").
	Verb string
	// Arg is everything after the SP that follows the verb, without the
	// line end; "" for a command without an argument.
	Arg string
}

// String is the command's wire form: "VERB", an SP and the argument if any,
// CRLF.
func (c Command) String() string {
	if c.Arg == "" {
		return c.Verb + "\r\n"
	}
	return c.Verb + " " + c.Arg + "\r\n"
}

// MaxVerb is the longest verb ParseCommand takes: RFC 959's commands have
// three or four letters, and so do the extensions' (EPSV, MLSD, AUTH).
const MaxVerb = 4

// ParseCommand parses one command line, line end included. RFC 959 5.3:
// "The command codes themselves are alphabetic characters terminated by
// the character <SP> (Space) if parameters follow and Telnet-EOL
// otherwise", and "The command codes ... upper or lower case alphabetic
// characters are to be treated identically". The verb is returned in upper
// case.
//
// Problems are *ProblemError: a verb that is not three or four letters,
// an SP with no argument, a line not ended by CRLF (a bare LF is
// reported, non-fatally, with the command parsed). The Command is returned
// filled wherever the line allowed it.
func ParseCommand(line []byte) (Command, error) {
	var c Command
	var first error
	body, ok := bytes.CutSuffix(line, []byte("\r\n"))
	if !ok {
		if b, lf := bytes.CutSuffix(line, []byte("\n")); lf {
			body = b
			first = problem(RuleCRLF, false, "command ended by a bare LF")
		} else {
			body = line
			first = problem(RuleCommandCRLF, false, "command not ended by CRLF")
		}
	}
	verb, arg, hasSP := bytes.Cut(body, []byte(" "))
	c.Verb = strings.ToUpper(string(verb))
	c.Arg = string(arg)
	if len(verb) == 0 || len(verb) > MaxVerb {
		return c, problem(RuleCommandVerb, true, "verb %q is not three or four letters", excerpt(verb))
	}
	for _, b := range verb {
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z') {
			return c, problem(RuleCommandVerb, true, "verb %q is not alphabetic", excerpt(verb))
		}
	}
	if len(verb) < 3 {
		return c, problem(RuleCommandVerb, true, "verb %q is not three or four letters", excerpt(verb))
	}
	if hasSP && len(arg) == 0 {
		return c, problem(RuleCommandSP, false, "SP after %s but no argument", c.Verb)
	}
	if i := bytes.IndexAny(arg, "\n"); i >= 0 {
		return c, problem(RuleCommandCRLF, true, "LF inside the argument")
	}
	if i := bareCR(arg); i >= 0 {
		return c, problem(RuleNoBareCR, false, "CR not followed by NUL inside the argument")
	}
	return c, first
}
