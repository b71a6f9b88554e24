package pop3

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// MaxUniqueID is RFC 1939 7's bound on a unique-id: "The unique-id of a
// message is an arbitrary server-determined string, consisting of one to
// 70 characters in the range 0x21 to 0x7E".
const MaxUniqueID = 70

// uniqueID derives a message's unique-id from its Maildir unique name,
// which stays the same while the message is in the maildrop, across
// sessions and restarts. A name of at most 70 characters is the id
// itself (mailstore's names are of [A-Za-z0-9._-]); a longer one is "~"
// and 40 hex digits of its SHA-256, which no name can equal ("~" is not a
// character of a name).
func uniqueID(name string) string {
	if len(name) <= MaxUniqueID {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return "~" + hex.EncodeToString(sum[:20])
}

// transcoder turns a message file into its lines on the wire: every line
// ended by CRLF (a bare LF, as other Maildir writers store lines, becomes
// CRLF; a bare CR inside a line is kept), a last line without an end
// given one, and, when stuff is set, each line that starts with "."
// prefixed with another (RFC 1939 3: "If any line begins with the
// termination octet, the line is "byte-stuffed" by pre-pending the
// termination octet to that line of the response."). With bodyLines >= 0
// it stops after the header, the blank line and that many lines of the
// body (TOP). It counts the octets of the message, stuffing not included:
// the size LIST and STAT report is the size RETR sends before its
// stuffing and terminator.
type transcoder struct {
	w         *bufio.Writer // nil: count only
	stuff     bool
	bodyLines int

	n         int64
	atStart   bool
	pendingCR bool
	lineLen   int
	inHeader  bool
	body      int
	done      bool
	err       error // the first write error: the rest is not read
}

func (t *transcoder) emit(b byte) {
	t.n++
	if t.w != nil && t.err == nil {
		if t.err = t.w.WriteByte(b); t.err != nil {
			t.done = true
		}
	}
}

func (t *transcoder) endLine() {
	t.emit('\r')
	t.emit('\n')
	if t.inHeader {
		if t.lineLen == 0 {
			t.inHeader = false
			if t.bodyLines == 0 {
				t.done = true
			}
		}
	} else if t.bodyLines >= 0 {
		t.body++
		if t.body >= t.bodyLines {
			t.done = true
		}
	}
	t.atStart, t.lineLen = true, 0
}

// content writes a run of a line's octets (no CR, no LF among them but
// a bare CR handed over alone).
func (t *transcoder) content(p []byte) {
	if t.atStart && p[0] == '.' && t.stuff && t.w != nil && t.err == nil {
		t.err = t.w.WriteByte('.')
	}
	t.n += int64(len(p))
	if t.w != nil && t.err == nil {
		_, t.err = t.w.Write(p)
	}
	if t.err != nil {
		t.done = true
	}
	t.atStart = false
	t.lineLen += len(p)
}

var bareCR = []byte{'\r'}

// feed transcodes one chunk of the file, a run of line octets at a time.
func (t *transcoder) feed(p []byte) {
	for len(p) > 0 && !t.done {
		if t.pendingCR {
			t.pendingCR = false
			if p[0] == '\n' {
				t.endLine()
				p = p[1:]
				continue
			}
			t.content(bareCR)
			continue
		}
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			t.content(p)
			return
		}
		if i > 0 {
			t.content(p[:i])
		}
		if p[i] == '\r' {
			t.pendingCR = true
		} else {
			t.endLine()
		}
		p = p[i+1:]
	}
}

// finish ends a last line that had no end.
func (t *transcoder) finish() {
	if t.done {
		return
	}
	if t.pendingCR {
		t.pendingCR = false
		t.endLine()
		return
	}
	if !t.atStart {
		t.endLine()
	}
}

// transcode copies src through a transcoder into w (nil: count only) and
// returns the message's octets.
func transcode(w *bufio.Writer, src io.Reader, stuff bool, bodyLines int) (int64, error) {
	t := &transcoder{w: w, stuff: stuff, bodyLines: bodyLines, atStart: true, inHeader: true}
	buf := make([]byte, 4096)
	for !t.done {
		n, err := src.Read(buf)
		t.feed(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return t.n, err
		}
	}
	t.finish()
	return t.n, t.err
}
