package smtpfuzz

import (
	"bytes"
	"fmt"
	"strconv"
)

// Reply is one SMTP reply (RFC 5321 4.2): its code and the text of each
// of its lines, after the code and the separator.
type Reply struct {
	Code  int
	Lines []string
}

// maxReplyLine bounds one reply line the parser waits for; RFC 5321
// 4.5.3.1.5 says 512 octets, but a longer one is a size, not a grammar,
// matter: only a line longer than this is an error.
const maxReplyLine = 64 << 10

// maxKeptLines bounds the lines of one reply kept in Reply.Lines.
const maxKeptLines = 1024

// ParseReply reads the one complete reply at the start of b and returns
// it with its length; n is 0 (and err nil) when the reply is not complete
// yet. The grammar is RFC 5321 4.2's:
//
//	Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//	             Reply-code [ SP textstring ] CRLF
//	Reply-code = %x32-35 %x30-35 %x30-39
//
// with every line of a multi-line reply carrying the same code (4.2.1:
// "the reply code on each of the lines MUST be the same"). A line that
// ends with LF alone is an error; a final line "ddd " with no text is
// taken as "ddd".
func ParseReply(b []byte) (Reply, int, error) {
	var r Reply
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			if len(b)-off > maxReplyLine {
				return Reply{}, 0, fmt.Errorf("reply line longer than %d octets", maxReplyLine)
			}
			return Reply{}, 0, nil
		}
		raw := b[off : off+i+1]
		off += i + 1
		if len(raw) < 2 || raw[len(raw)-2] != '\r' {
			return Reply{}, 0, fmt.Errorf("reply line %q ends with LF alone, not CRLF (RFC 5321 4.2)", excerpt(raw, 60))
		}
		line := raw[:len(raw)-2]
		code, sep, ok := replyStart(line)
		if !ok {
			return Reply{}, 0, fmt.Errorf("reply line %q does not start with a code of RFC 5321 4.2 (2-5, 0-5, 0-9) and a space, a hyphen or CRLF", excerpt(line, 60))
		}
		if len(r.Lines) > 0 && code != r.Code {
			return Reply{}, 0, fmt.Errorf("multi-line reply of code %d goes on with a line of code %d (RFC 5321 4.2.1: the code on each line MUST be the same)", r.Code, code)
		}
		r.Code = code
		if len(r.Lines) < maxKeptLines {
			text := ""
			if len(line) > 4 {
				text = string(line[4:])
			}
			r.Lines = append(r.Lines, text)
		}
		if sep != '-' {
			return r, off, nil
		}
	}
}

// replyStart reads a reply line's code and separator: ' ' for a final
// line (also when the code stands alone), '-' for a continued one.
func replyStart(s []byte) (int, byte, bool) {
	if len(s) < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' || s[2] < '0' || s[2] > '9' {
		return 0, 0, false
	}
	code := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	if len(s) == 3 {
		return code, ' ', true
	}
	if s[3] != ' ' && s[3] != '-' {
		return 0, 0, false
	}
	return code, s[3], true
}

// FormatReply writes a reply as RFC 5321 4.2.1 does: "ddd-text" lines,
// then "ddd text" (or "ddd" when the last text is empty). The texts must
// hold no CR or LF; a reply with no line is one empty line.
func FormatReply(code int, lines []string) []byte {
	if len(lines) == 0 {
		lines = []string{""}
	}
	c := strconv.Itoa(code)
	var b []byte
	for i, l := range lines {
		b = append(b, c...)
		switch {
		case i < len(lines)-1:
			b = append(b, '-')
			b = append(b, l...)
		case l != "":
			b = append(b, ' ')
			b = append(b, l...)
		}
		b = append(b, '\r', '\n')
	}
	return b
}

// Stuff encodes message text for DATA (RFC 5321 4.5.2): a line that
// starts with a period gets another one before it, text that does not
// end with CRLF gets one, and the end-of-data line ".\r\n" follows. A
// line is what ends with CRLF: a bare LF or CR inside does not start a
// new line.
func Stuff(text []byte) []byte {
	out := make([]byte, 0, len(text)+len(text)/64+5)
	start := true
	for i := 0; i < len(text); i++ {
		if start && text[i] == '.' {
			out = append(out, '.')
		}
		out = append(out, text[i])
		start = text[i] == '\n' && i > 0 && text[i-1] == '\r'
	}
	if len(text) > 0 && !bytes.HasSuffix(text, []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	return append(out, '.', '\r', '\n')
}

// Unstuff decodes the DATA text at the start of wire, up to and
// including the end-of-data line: the text with the stuffed periods
// taken away, and the octets used. ok is false when the end has not come
// yet. The end is <CRLF>.<CRLF> only (the DATA command's own CRLF counts
// for the first line): "\n.\n", "\r.\r" and "\n.\r\n" are text.
func Unstuff(wire []byte) (text []byte, n int, ok bool) {
	p := 0
	for p < len(wire) {
		rest := wire[p:]
		if bytes.HasPrefix(rest, []byte(".\r\n")) {
			return text, p + 3, true
		}
		if rest[0] == '.' {
			if len(rest) < 3 {
				return nil, 0, false // "." or ".\r": the end may be coming
			}
			p++
			rest = rest[1:]
		}
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			return nil, 0, false
		}
		text = append(text, rest[:i+2]...)
		p += i + 2
	}
	return nil, 0, false
}

// excerpt quotes at most n bytes of b.
func excerpt(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
