// Package smtp is the pcap dissector of SMTP (RFC 5321 and the
// extensions of the contract): the commands, one message a line (a
// pipelined group, RFC 2920, is one message per command), the replies,
// a multi-line one as one message, each linked to the command it
// answers, and the message text after a 354 as one client message up to
// and including its end-of-data line, with its size once the stuffed
// periods are taken away (Info.Text). A BDAT command (RFC 3030) and the
// chunk of octets it announces are one message (Info.Chunk). After a 220
// to STARTTLS (RFC 3207) the rest of the flow is TLS: the reply is
// marked (Info.StartTLS) and the encrypted bytes of each side are one
// message at the end, counted, not parsed.
//
// The bytes a client sends after DATA before its reply are held until
// the reply comes: after a 354 they are the message text (sent too
// early, RFC 5321 3.3), after any other reply commands.
//
// Offline checks (`protospec pcap check`): the reply grammar (RFC 5321
// 4.2, one code on every line of a multi-line reply), the reply codes
// RFC 5321 4.3.2 and the extensions list per command, CRLF line ends of
// commands, replies and text, the order of a transaction (MAIL before
// RCPT before DATA, RFC 5321 3.3) on both sides, no message text before
// the 354, and an enhanced status code's class matching its reply's
// (RFC 3463 2, RFC 2034).
//
// Replay re-sends each flow's commands and texts and compares the reply
// codes (the first digit only for VRFY, EXPN and HELP, whose answers
// servers choose); a flow that went TLS is not replayed, its encrypted
// bytes were not kept.
//
//	import _ "github.com/protospec/protospec/pcap/smtp"
package smtp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/pcap"
)

// maxLine bounds one command or reply line; a longer one is cut.
const maxLine = 8 << 10

// maxReplyLines bounds the lines of one multi-line reply kept in Info.
const maxReplyLines = 256

// maxHeld bounds what is held after DATA while its reply is awaited;
// beyond, the bytes are taken as the text.
const maxHeld = 1 << 20

// Command is what the dissector read from a client line.
type Command struct {
	Verb string `json:"verb"`
	Arg  string `json:"arg,omitempty"`
}

// Reply is what the dissector read from a reply.
type Reply struct {
	Code  int      `json:"code"`
	Lines []string `json:"lines"`
	// Multi is set for a multi-line reply ("250-" ... "250 ").
	Multi bool `json:"multi,omitempty"`
	// Enhanced is the enhanced status code of its first line
	// ("2.1.5", RFC 3463), when it has one.
	Enhanced string `json:"enhanced,omitempty"`
}

// Text is the message text of a DATA.
type Text struct {
	// Size is the message's octets as the server stores them: the
	// stuffed periods taken away, the end-of-data line left out, every
	// CRLF counted.
	Size int64 `json:"size"`
	// Lines counts its lines, Stuffed those that began with a period
	// doubled on the wire.
	Lines   int `json:"lines"`
	Stuffed int `json:"stuffed,omitempty"`
	// BareLF and BareCR are set when a LF or CR not part of a CRLF was
	// in it (RFC 5321 2.3.8), which never ended it here.
	BareLF bool `json:"bare_lf,omitempty"`
	BareCR bool `json:"bare_cr,omitempty"`
	// Early is set when the text began before the 354 came.
	Early bool `json:"early,omitempty"`
}

// Chunk is the chunk a BDAT command announced (RFC 3030).
type Chunk struct {
	Size int64 `json:"size"`
	Last bool  `json:"last,omitempty"`
	// Got is how many of its octets the capture holds (less than Size
	// when the flow ended first).
	Got int64 `json:"got"`
}

// Info is an SMTP message's Info.
type Info struct {
	Command *Command `json:"command,omitempty"`
	Reply   *Reply   `json:"reply,omitempty"`
	Text    *Text    `json:"text,omitempty"`
	Chunk   *Chunk   `json:"chunk,omitempty"`
	// StartTLS is set on the 220 reply to STARTTLS: the flow is TLS
	// after it.
	StartTLS bool `json:"starttls,omitempty"`
	// TLS is set on the message of a side's encrypted bytes.
	TLS bool `json:"tls,omitempty"`
	// BareLF is set when a command or reply line ended with LF alone.
	BareLF bool `json:"bare_lf,omitempty"`
}

// client modes.
const (
	modeCommand = iota
	modeHold    // after DATA, its reply awaited
	modeText    // after 354
	modeChunk   // inside a BDAT chunk
)

// dissector is one SMTP flow.
type dissector struct {
	e       *pcap.Emitter
	raw     [2]pcap.RawBuf
	line    [2][]byte
	start   [2]time.Time
	partial [2]bool
	holes   [2]bool

	// The reply being gathered.
	reply    *Reply
	replyAt  time.Time
	replyBad string // why its lines break the grammar
	replyLF  bool
	greeted  bool

	// The client side.
	mode   int
	held   []byte
	heldAt time.Time
	early  bool
	// releaseAt, once the reply to DATA is in, is when the hold ends,
	// releaseText whether the held bytes are text.
	releaseAt   time.Time
	releaseText bool
	// The text being read: its start, counts, and the line state.
	text      *Text
	textAt    time.Time
	lineStart bool
	linePos   int64
	dotFirst  bool
	prevCR    bool
	// The BDAT message being read and the octets still to come.
	chunk     *pcap.Message
	remaining int64

	// tls is set once STARTTLS was answered 220.
	tls       bool
	encrypted [2]int64
	tlsAt     time.Time

	// waiting are the client messages not yet answered, oldest first.
	waiting []*pcap.Message

	// The transaction: as the client sent it, as the server accepted it.
	sentMail, sentRcpt bool
	mailOK             bool
	rcptOK             int
}

func newDissector(e *pcap.Emitter) *dissector {
	d := &dissector{e: e}
	for i := range d.raw {
		d.raw[i] = pcap.NewRawBuf(e.KeepRaw(), e.MaxMessage())
	}
	return d
}

// Data splits the client side into commands, texts and chunks, the
// server side into replies.
func (d *dissector) Data(side pcap.Side, t time.Time, b []byte) {
	if d.tls {
		d.encrypted[side] += int64(len(b))
		return
	}
	if side == pcap.Server {
		d.lines(side, t, b)
		return
	}
	d.client(t, b)
}

func (d *dissector) client(t time.Time, b []byte) {
	for len(b) > 0 {
		if d.tls {
			d.encrypted[pcap.Client] += int64(len(b))
			return
		}
		switch d.mode {
		case modeHold:
			if len(d.held) == 0 {
				d.heldAt = t
			}
			d.held = append(d.held, b...)
			if len(d.held) > maxHeld {
				d.release(t, true)
			}
			return
		case modeChunk:
			n := min(int64(len(b)), d.remaining)
			d.raw[pcap.Client].Write(b[:n])
			d.remaining -= n
			d.chunk.Info.(*Info).Chunk.Got += n
			b = b[n:]
			if d.remaining == 0 {
				d.endChunk(false)
			}
		case modeText:
			b = d.textBytes(t, b)
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				i = len(b)
			} else {
				i++
			}
			d.lines(pcap.Client, t, b[:i])
			b = b[i:]
		}
	}
}

// lines splits b (of one side; for the client, up to one line end at
// most) into lines.
func (d *dissector) lines(side pcap.Side, t time.Time, b []byte) {
	for len(b) > 0 && !d.tls {
		if !d.partial[side] {
			d.start[side] = t
			d.partial[side] = true
		}
		i := bytes.IndexByte(b, '\n')
		chunk := b
		if i >= 0 {
			chunk = b[:i+1]
		}
		if room := maxLine - len(d.line[side]); len(chunk) > room {
			chunk = chunk[:max(room, 0)]
			i = -2
		}
		d.line[side] = append(d.line[side], chunk...)
		d.raw[side].Write(chunk)
		b = b[len(chunk):]
		if i != -1 {
			d.endLine(side, t, false)
		}
	}
	if d.tls && len(b) > 0 {
		d.encrypted[side] += int64(len(b))
	}
}

func (d *dissector) Lost(side pcap.Side, n int) {
	d.raw[side].Hole(n)
	d.holes[side] = true
	if side == pcap.Client && d.mode == modeChunk {
		d.remaining = max(0, d.remaining-int64(n))
		if d.remaining == 0 {
			d.endChunk(true)
		}
		return
	}
	d.partial[side] = true
}

func (d *dissector) End(side pcap.Side, t time.Time, reset bool) {
	if d.tls {
		if d.encrypted[side] > 0 {
			m := d.e.NewMessage(side, d.tlsAt)
			m.Len, m.Truncated = d.encrypted[side], true
			m.Summary = fmt.Sprintf("TLS after STARTTLS: %d bytes", m.Len)
			m.Info = &Info{TLS: true}
			d.encrypted[side] = 0
			d.e.Emit(m)
		}
		return
	}
	if side == pcap.Server {
		if d.partial[side] {
			d.endLine(side, t, true)
		}
		if d.reply != nil {
			d.emitReply(true)
		}
		return
	}
	if d.mode == modeHold {
		d.release(t, false)
	}
	switch d.mode {
	case modeText:
		d.emitText(true)
	case modeChunk:
		d.endChunk(true)
	}
	if d.partial[side] {
		d.endLine(side, t, true)
	}
}

// release ends the hold after DATA: the held bytes are the text (asText)
// or commands.
func (d *dissector) release(t time.Time, asText bool) {
	held := d.held
	d.held = nil
	if asText {
		var at time.Time
		if len(held) > 0 {
			at = d.heldAt
		}
		d.startText(at)
		d.early = len(held) > 0
	} else {
		d.mode = modeCommand
	}
	if len(held) > 0 {
		d.client(t, held)
	}
}

func (d *dissector) startText(t time.Time) {
	d.mode = modeText
	d.text = &Text{}
	d.textAt = t
	d.lineStart, d.linePos, d.dotFirst, d.prevCR = true, 0, false, false
	d.early = false
}

// textBytes reads message text up to its end-of-data line (<CRLF>.<CRLF>,
// the DATA command's CRLF counting for the first line) and returns what
// follows it.
func (d *dissector) textBytes(t time.Time, b []byte) []byte {
	if d.textAt.IsZero() {
		d.textAt = t
	}
	tx := d.text
	for i := 0; i < len(b); i++ {
		c := b[i]
		if d.linePos == 0 {
			d.dotFirst = d.lineStart && c == '.'
		}
		d.linePos++
		switch {
		case c == '\n' && d.prevCR:
			if d.dotFirst && d.linePos == 3 {
				d.raw[pcap.Client].Write(b[:i+1])
				d.emitText(false)
				return b[i+1:]
			}
			tx.Lines++
			if d.dotFirst {
				tx.Stuffed++
				tx.Size += d.linePos - 1
			} else {
				tx.Size += d.linePos
			}
			d.linePos, d.lineStart = 0, true
		case c == '\n':
			// A bare LF ends no line: what follows is not at a line
			// start (so "\n.\n" and "\n.\r\n" end nothing).
			tx.BareLF = true
			if d.dotFirst {
				tx.Stuffed++
				tx.Size += d.linePos - 1
			} else {
				tx.Size += d.linePos
			}
			d.linePos, d.lineStart = 0, false
		case d.prevCR:
			tx.BareCR = true
		}
		d.prevCR = c == '\r'
	}
	d.raw[pcap.Client].Write(b)
	return nil
}

// emitText emits the text read, answered by the reply to come.
func (d *dissector) emitText(incomplete bool) {
	tx := d.text
	if incomplete && d.linePos > 0 {
		tx.Size += d.linePos
	}
	tx.Early = d.early
	d.mode, d.text, d.early = modeCommand, nil, false
	m := d.e.NewMessage(pcap.Client, d.textAt)
	d.raw[pcap.Client].Take(m)
	m.Incomplete = incomplete || d.holes[pcap.Client]
	m.Truncated = m.Truncated || d.holes[pcap.Client]
	d.holes[pcap.Client] = false
	m.Info = &Info{Text: tx}
	m.Summary = fmt.Sprintf("message text: %d octets, %d lines", tx.Size, tx.Lines)
	if tx.Stuffed > 0 {
		m.Summary += fmt.Sprintf(", %d stuffed", tx.Stuffed)
	}
	if tx.BareLF || tx.BareCR {
		m.AddProblem(RuleTextLineEnd, "message text holds a bare %s (not part of CRLF)", map[bool]string{true: "LF", false: "CR"}[tx.BareLF])
	}
	if tx.Early {
		m.AddProblem(RuleWait354, "the message text began before the reply to DATA came")
	}
	d.sentMail, d.sentRcpt = false, false
	d.wait(m)
	d.e.Emit(m)
}

// endChunk emits the BDAT command with its chunk.
func (d *dissector) endChunk(incomplete bool) {
	m := d.chunk
	d.chunk, d.mode, d.remaining = nil, modeCommand, 0
	d.raw[pcap.Client].Take(m)
	m.Incomplete = m.Incomplete || incomplete || d.holes[pcap.Client]
	m.Truncated = m.Truncated || d.holes[pcap.Client]
	d.holes[pcap.Client] = false
	in := m.Info.(*Info)
	m.Summary += fmt.Sprintf(" (%d octets)", in.Chunk.Got)
	if in.Chunk.Last {
		d.sentMail, d.sentRcpt = false, false
	}
	d.wait(m)
	d.e.Emit(m)
}

func (d *dissector) wait(m *pcap.Message) {
	if len(d.waiting) < 1024 {
		d.waiting = append(d.waiting, m)
	}
}

// endLine handles one complete (or cut) line of side.
func (d *dissector) endLine(side pcap.Side, t time.Time, incomplete bool) {
	line := d.line[side]
	d.line[side] = d.line[side][:0]
	d.partial[side] = false
	holes := d.holes[side]
	d.holes[side] = false
	bareLF := bytes.HasSuffix(line, []byte("\n")) && !bytes.HasSuffix(line, []byte("\r\n"))
	text := string(bytes.TrimRight(line, "\r\n"))
	if side == pcap.Client {
		m := d.e.NewMessage(pcap.Client, d.start[side])
		m.Incomplete = incomplete || holes
		m.Truncated = holes
		d.command(m, text, bareLF)
		return
	}
	if d.reply == nil {
		d.reply = &Reply{}
		d.replyAt = d.start[side]
		d.replyBad, d.replyLF = "", false
	}
	if len(d.reply.Lines) < maxReplyLines {
		d.reply.Lines = append(d.reply.Lines, text)
	}
	d.replyLF = d.replyLF || bareLF
	first := len(d.reply.Lines) == 1
	code, sep, ok := replyStart(text)
	switch {
	case first && ok && sep == '-':
		d.reply.Code, d.reply.Multi = code, true
	case first:
		d.reply.Code = code
		if !ok {
			d.replyBad = fmt.Sprintf("reply line %s does not start with a code of RFC 5321 4.2 (2-5, 0-5, 0-9) and a space or hyphen", pcap.Excerpt([]byte(text), 40))
		}
		d.emitReply(incomplete || holes)
	case ok && code != d.reply.Code:
		// A line of another code ends the reply as far as framing goes.
		d.replyBad = fmt.Sprintf("multi-line reply of code %d goes on with a line of code %d (RFC 5321 4.2.1: the code on each line MUST be the same)", d.reply.Code, code)
		d.emitReply(incomplete || holes)
	case ok && sep == ' ':
		d.emitReply(incomplete || holes)
	case !ok:
		d.replyBad = fmt.Sprintf("line %s of a multi-line reply does not start with its code", pcap.Excerpt([]byte(text), 40))
		if incomplete || holes {
			d.emitReply(true)
		}
	case incomplete || holes:
		d.emitReply(true)
	}
}

// replyStart reads a reply line's code and the character after it (' '
// or '-'; ' ' when the code stands alone); ok is false when the line does
// not start a reply as RFC 5321 4.2 writes it.
func replyStart(s string) (code int, sep byte, ok bool) {
	if len(s) < 3 {
		return 0, 0, false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, false
		}
	}
	code = int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	sep = ' '
	if len(s) > 3 {
		sep = s[3]
	}
	ok = s[0] >= '2' && s[0] <= '5' && s[1] <= '5' && (sep == ' ' || sep == '-')
	return code, sep, ok
}

// command handles one client line.
func (d *dissector) command(m *pcap.Message, text string, bareLF bool) {
	verb, arg, _ := strings.Cut(text, " ")
	c := &Command{Verb: strings.ToUpper(verb), Arg: arg}
	in := &Info{Command: c, BareLF: bareLF}
	m.Info = in
	m.Summary = pcap.Excerpt([]byte(text), 80)
	if c.Verb == "AUTH" && strings.Contains(arg, " ") {
		m.Summary = `"AUTH ` + strings.Fields(arg)[0] + ` ****"`
	}
	if bareLF {
		m.AddProblem(RuleLineEnd, "command line ends with LF alone, not CRLF")
	}
	switch c.Verb {
	case "EHLO", "HELO", "RSET":
		d.sentMail, d.sentRcpt = false, false
	case "MAIL":
		d.sentMail = true
	case "RCPT":
		if !d.sentMail {
			m.AddProblem(RuleClientOrder, "RCPT with no MAIL sent before it in the transaction")
		}
		d.sentRcpt = true
	case "DATA":
		if !d.sentRcpt {
			m.AddProblem(RuleClientOrder, "DATA with no RCPT sent before it in the transaction")
		}
		if arg == "" && !m.Incomplete {
			d.mode = modeHold
		}
	case "BDAT":
		if n, last, ok := parseBDAT(arg); ok && !m.Incomplete {
			if !d.sentRcpt {
				m.AddProblem(RuleClientOrder, "BDAT with no RCPT sent before it in the transaction")
			}
			in.Chunk = &Chunk{Size: n, Last: last}
			d.chunk, d.remaining = m, n
			if n == 0 {
				d.endChunk(false)
			} else {
				d.mode = modeChunk
			}
			return // emitted with its chunk
		}
	}
	d.raw[pcap.Client].Take(m)
	d.wait(m)
	d.e.Emit(m)
}

// parseBDAT reads "chunk-size [LAST]" (RFC 3030 2).
func parseBDAT(arg string) (int64, bool, bool) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 || (len(f) == 2 && !strings.EqualFold(f[1], "LAST")) {
		return 0, false, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 || len(f[0]) > 18 {
		return 0, false, false
	}
	return n, len(f) == 2, true
}

// enhancedCode reads the enhanced status code at the start of a reply
// line's text (RFC 3463 2: class "." subject "." detail, the class 2, 4
// or 5, the others of one to three digits).
func enhancedCode(text string) string {
	f, _, _ := strings.Cut(text, " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || len(parts[0]) != 1 {
		return ""
	}
	for _, p := range parts {
		if len(p) < 1 || len(p) > 3 {
			return ""
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return ""
			}
		}
	}
	return f
}

// emitReply emits the reply gathered, answering the oldest client
// message waiting.
func (d *dissector) emitReply(incomplete bool) {
	r := d.reply
	d.reply = nil
	m := d.e.NewMessage(pcap.Server, d.replyAt)
	d.raw[pcap.Server].Take(m)
	m.Incomplete = incomplete
	in := &Info{Reply: r, BareLF: d.replyLF}
	m.Info = in
	m.Summary = pcap.Excerpt([]byte(r.Lines[0]), 80)
	if r.Multi {
		m.Summary += fmt.Sprintf(" (+%d lines)", len(r.Lines)-1)
	}
	if d.replyBad != "" {
		m.AddProblem(RuleReplyGrammar, "%s", d.replyBad)
	}
	if d.replyLF {
		m.AddProblem(RuleReplyLineEnd, "reply line ends with LF alone, not CRLF")
	}
	if d.replyBad == "" && len(r.Lines[0]) > 4 {
		r.Enhanced = enhancedCode(r.Lines[0][4:])
		for _, l := range r.Lines {
			if len(l) <= 4 {
				continue
			}
			if e := enhancedCode(l[4:]); e != "" && r.Code/100 != 3 && int(e[0]-'0') != r.Code/100 {
				m.AddProblem(RuleEnhancedClass, "enhanced code %s in a %d reply: its class is not the reply's first digit", e, r.Code)
				break
			}
		}
	}
	greeting := false
	if !d.greeted {
		// The first reply is the greeting (220, or 554 or 421 refusing
		// the client), answering nothing, even when the client spoke
		// first; a capture begun later has none.
		greeting = r.Code == 220 || r.Code == 554 || r.Code == 421
		d.greeted = true
	}
	if greeting && d.replyBad == "" {
		checkCode(m, nil, r.Code)
	}
	if len(d.waiting) > 0 && !greeting {
		q := d.waiting[0]
		d.waiting = d.waiting[1:]
		m.Peer = q
		if d.replyBad == "" {
			checkCode(m, q, r.Code)
		}
		d.answered(q, m, r)
	}
	d.e.Emit(m)
	if !d.releaseAt.IsZero() {
		// The hold after DATA ends once its reply is out.
		at := d.releaseAt
		d.releaseAt = time.Time{}
		d.release(at, d.releaseText)
	}
}

// answered follows the transaction through the reply r to q, judges its
// order, and ends a DATA's hold or switches to TLS.
func (d *dissector) answered(q, m *pcap.Message, r *Reply) {
	qi, _ := q.Info.(*Info)
	if qi == nil {
		return
	}
	ok := r.Code/100 == 2
	verb := ""
	if qi.Command != nil {
		verb = qi.Command.Verb
	}
	if r.Code == 354 && verb != "DATA" {
		m.AddProblem(RuleServerOrder, "354 in reply to %s, not DATA (RFC 5321 4.3.2)", q.Summary)
	}
	switch {
	case qi.Text != nil || qi.Chunk != nil && qi.Chunk.Last:
		if ok && d.rcptOK == 0 {
			m.AddProblem(RuleServerOrder, "%d to the end of a message no RCPT of which was accepted", r.Code)
		}
		d.mailOK, d.rcptOK = false, 0
	case qi.Chunk != nil:
	case verb == "EHLO" || verb == "HELO" || verb == "RSET":
		if ok {
			d.mailOK, d.rcptOK = false, 0
		}
	case verb == "MAIL":
		d.mailOK = d.mailOK || ok
	case verb == "RCPT":
		if ok && !d.mailOK {
			m.AddProblem(RuleServerOrder, "%d to RCPT with no MAIL accepted (RFC 5321 3.3: 503)", r.Code)
		}
		if ok {
			d.rcptOK++
		}
	case verb == "DATA":
		if d.mode == modeHold {
			d.releaseAt, d.releaseText = m.Time, r.Code == 354
		}
		if r.Code/100 == 2 {
			m.AddProblem(RuleServerOrder, "%d to DATA: RFC 5321 4.3.2 lists 354 or an error", r.Code)
		}
		if r.Code != 354 {
			d.mailOK, d.rcptOK = false, 0
		}
	case verb == "STARTTLS":
		if r.Code == 220 {
			m.Info.(*Info).StartTLS = true
			m.Summary += " (TLS from here)"
			d.tls, d.tlsAt = true, m.Time
			// A client line begun before the 220 is the handshake's
			// first bytes: TLS too.
			for _, side := range []pcap.Side{pcap.Client, pcap.Server} {
				if len(d.line[side]) > 0 {
					d.encrypted[side] += int64(len(d.line[side]))
					d.line[side] = d.line[side][:0]
					d.partial[side] = false
					d.raw[side] = pcap.NewRawBuf(d.e.KeepRaw(), d.e.MaxMessage())
				}
			}
		}
	}
}
