package ftp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Reply is one FTP reply (RFC 959 4.2).
type Reply struct {
	// Code is the three-digit reply code.
	Code int
	// Lines is the text of every line: for a multi-line reply the first
	// without "123-", the last without "123 ", the ones between as sent.
	Lines []string
	// Raw is the reply's bytes as read, line ends included.
	Raw []byte
}

// Text is the lines joined by "\n".
func (r Reply) Text() string { return strings.Join(r.Lines, "\n") }

// Class is the first digit of the code (1 to 5: RFC 959 4.2.1).
func (r Reply) Class() int { return r.Code / 100 }

// String is the reply's first line as sent, for messages: "227 Entering...".
func (r Reply) String() string {
	first := ""
	if len(r.Lines) > 0 {
		first = r.Lines[0]
	}
	return strconv.Itoa(r.Code) + " " + first
}

// Limits bound what ReadReply and the line readers take.
type Limits struct {
	// MaxLine is the longest line, line end included (0: DefaultMaxLine).
	MaxLine int
	// MaxLines is the most lines of one reply (0: DefaultMaxLines).
	MaxLines int
}

// Default limits: long enough for a STAT listing of a directory line by
// line, short enough to bound memory.
const (
	DefaultMaxLine  = 8192
	DefaultMaxLines = 10000
)

func (l Limits) maxLine() int {
	if l.MaxLine > 0 {
		return l.MaxLine
	}
	return DefaultMaxLine
}

func (l Limits) maxLines() int {
	if l.MaxLines > 0 {
		return l.MaxLines
	}
	return DefaultMaxLines
}

// ErrLineTooLong is the Err of a ProblemError for a line over the limit.
var ErrLineTooLong = errors.New("ftp: line too long")

// ReadLine reads one line of at most max bytes (line end included) and
// returns it without its line end, with the raw bytes. A line ended by a
// bare LF is returned with a non-fatal problem (RuleCRLF); a line over max
// with a fatal one (RuleLimitLine), after the whole line was consumed up to
// max bytes; end of stream inside a line with a fatal one (RuleIncomplete,
// wrapping io.ErrUnexpectedEOF). End of stream before any byte is io.EOF.
func ReadLine(r *bufio.Reader, max int) (line, raw []byte, err error) {
	if max <= 0 {
		max = DefaultMaxLine
	}
	for {
		frag, e := r.ReadSlice('\n')
		if len(raw)+len(frag) > max {
			raw = append(raw, frag[:max-len(raw)]...)
			return raw, raw, &ProblemError{Rule: RuleLimitLine, Fatal: true, Err: ErrLineTooLong,
				Detail: "line longer than " + strconv.Itoa(max) + " bytes"}
		}
		raw = append(raw, frag...)
		if e == nil {
			break
		}
		if errors.Is(e, bufio.ErrBufferFull) {
			continue
		}
		if e == io.EOF {
			if len(raw) == 0 {
				return nil, nil, io.EOF
			}
			return raw, raw, &ProblemError{Rule: RuleIncomplete, Fatal: true, Err: io.ErrUnexpectedEOF,
				Detail: "the stream ended inside a line"}
		}
		return raw, raw, e
	}
	line = raw[:len(raw)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	} else {
		err = problem(RuleCRLF, false, "line ended by a bare LF")
	}
	if i := bareCR(line); i >= 0 && err == nil {
		err = problem(RuleNoBareCR, false, "CR not followed by LF or NUL at byte %d", i)
	}
	return line, raw, err
}

// bareCR is the index of the first CR in b followed neither by LF nor by
// NUL (Telnet's CR NUL is a CR as data), or -1.
func bareCR(b []byte) int {
	for i := bytes.IndexByte(b, '\r'); i >= 0; {
		if i+1 >= len(b) || (b[i+1] != '\n' && b[i+1] != 0) {
			return i
		}
		j := bytes.IndexByte(b[i+1:], '\r')
		if j < 0 {
			return -1
		}
		i += 1 + j
	}
	return -1
}

// ReadReply reads one reply. RFC 959 4.2: a reply is a three-digit code
// followed by SP and text on one line, or by "-" and text, then any lines,
// until a line that starts with the same code followed by SP. Lines end
// with CRLF.
//
// A grammar problem is returned as a *ProblemError together with the reply
// read so far: non-fatal ones (bare LF, bare CR, "220" without the SP)
// after the whole reply; fatal ones (no code, line over lim, end of stream
// inside the reply) as soon as seen. End of stream before any byte is
// io.EOF; other read errors are returned as they are.
func ReadReply(r *bufio.Reader, lim Limits) (Reply, error) {
	var rep Reply
	var first error
	note := func(err error) {
		if first == nil {
			first = err
		}
	}
	line, raw, err := ReadLine(r, lim.maxLine())
	rep.Raw = append(rep.Raw, raw...)
	if err != nil {
		var pe *ProblemError
		if !errors.As(err, &pe) || pe.Fatal {
			return rep, err
		}
		note(err)
	}
	code, ok := replyCode(line)
	if !ok {
		return rep, problem(RuleReplyCode, true, "reply does not start with a three-digit code: %q", excerpt(line))
	}
	rep.Code = code
	switch {
	case len(line) == 3:
		// "220" alone: the SP and text are missing.
		note(problem(RuleReplySP, false, "code %d without SP and text", code))
		rep.Lines = []string{""}
		return rep, first
	case line[3] == ' ':
		rep.Lines = []string{string(line[4:])}
		return rep, first
	case line[3] != '-':
		return rep, problem(RuleReplySP, true, "code %d followed by %q, not SP or \"-\"", code, line[3:4])
	}
	rep.Lines = []string{string(line[4:])}
	end := []byte(strconv.Itoa(code) + " ")
	for {
		if len(rep.Lines) >= lim.maxLines() {
			return rep, problem(RuleLimitLines, true, "multi-line reply %d longer than %d lines", code, lim.maxLines())
		}
		line, raw, err := ReadLine(r, lim.maxLine())
		rep.Raw = append(rep.Raw, raw...)
		if err != nil {
			var pe *ProblemError
			if errors.Is(err, io.EOF) {
				return rep, &ProblemError{Rule: RuleIncomplete, Fatal: true, Err: io.ErrUnexpectedEOF,
					Detail: "the stream ended inside multi-line reply " + strconv.Itoa(code)}
			}
			if !errors.As(err, &pe) || pe.Fatal {
				return rep, err
			}
			note(err)
		}
		if bytes.HasPrefix(line, end) {
			rep.Lines = append(rep.Lines, string(line[4:]))
			return rep, first
		}
		if bytes.Equal(line, end[:3]) {
			// "123" alone ends the reply, without its SP.
			note(problem(RuleReplySP, false, "multi-line reply %d ended by the code without SP", code))
			rep.Lines = append(rep.Lines, "")
			return rep, first
		}
		rep.Lines = append(rep.Lines, string(line))
	}
}

// replyCode reads the three-digit code at the start of line: first digit
// 1-5 (RFC 959 4.2.1), second 0-5 (4.2.1's function groupings), third any.
func replyCode(line []byte) (int, bool) {
	if len(line) < 3 {
		return 0, false
	}
	a, b, c := line[0], line[1], line[2]
	if a < '1' || a > '5' || b < '0' || b > '9' || c < '0' || c > '9' {
		return 0, false
	}
	return int(a-'0')*100 + int(b-'0')*10 + int(c-'0'), true
}

// FormatReply is the wire form of a reply: one line "code SP text CRLF",
// or for several lines "code-first", the middle lines (a middle line that
// starts with a digit is indented by one SP, as RFC 959 4.2 asks), and
// "code SP last".
func FormatReply(code int, lines ...string) []byte {
	if len(lines) == 0 {
		lines = []string{""}
	}
	c := strconv.Itoa(code)
	var b []byte
	if len(lines) == 1 {
		return append(append(append(b, c...), ' '), lines[0]+"\r\n"...)
	}
	b = append(append(append(b, c...), '-'), lines[0]+"\r\n"...)
	for _, l := range lines[1 : len(lines)-1] {
		if l != "" && l[0] >= '0' && l[0] <= '9' {
			b = append(b, ' ')
		}
		b = append(b, l+"\r\n"...)
	}
	return append(append(append(b, c...), ' '), lines[len(lines)-1]+"\r\n"...)
}

func excerpt(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}
