// Package ftp is the pcap dissector of FTP (RFC 959 and its extensions):
// the control connection's commands and replies (multi-line replies
// included), each reply linked to the command it answers, and the data
// connections. A PORT or EPRT command, or a 227 (PASV) or 229 (EPSV)
// reply, announces the endpoint a data connection will be made to; the
// engine gives the next connection to that endpoint to this room's
// "ftp-data" dissector, linked to the command that opened it and to the
// transfer command (RETR, STOR, STOU, APPE, LIST, NLST, MLSD) that used
// it, so `protospec pcap ls` lists each transfer with its bytes and
// Flow.OpenedBy.
//
// Offline checks (`protospec pcap check`): the reply grammar (RFC 959
// 4.2), the reply codes RFC 959 5.4 and the extensions allow per command,
// CRLF line ends, and PORT/EPRT naming a host other than the client (the
// RFC 2577 bounce), accepted or not.
//
// Replay re-sends each control connection and makes its data
// connections live (pcap.Replayer.Session): a PORT or EPRT is rewritten
// to name a listener of the replay's, a 227 or 229 reply of the target is
// dialled when the transfer command follows; downloads are read to their
// end, uploads send an empty file (the capture's data bytes are counted,
// not kept). Replies are compared by code, those to PORT, EPRT, PASV,
// EPSV and the transfer commands by their first digit. Data flows are
// not replayed on their own ("ftp-data names no service to replay to").
//
//	import _ "github.com/protospec/protospec/pcap/ftp"
package ftp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
	"github.com/protospec/protospec/pcap"
)

// DataProto is the protocol name of FTP data connections in captures.
const DataProto = "ftp-data"

// maxLine bounds one command or reply line; a longer one is cut.
const maxLine = 8 << 10

// maxReplyLines bounds the lines of one multi-line reply kept in Info.
const maxReplyLines = 256

// Command is what the dissector read from a client line.
type Command struct {
	Verb string `json:"verb"`
	Arg  string `json:"arg,omitempty"`
}

// Reply is what the dissector read from a reply.
type Reply struct {
	Code  int      `json:"code"`
	Lines []string `json:"lines"`
	// Multi is set for a multi-line reply ("211-" ... "211 ").
	Multi bool `json:"multi,omitempty"`
}

// Info is a control-connection message's Info.
type Info struct {
	Command *Command `json:"command,omitempty"`
	Reply   *Reply   `json:"reply,omitempty"`
	// Data is the endpoint a PORT/EPRT command or a 227/229 reply
	// announces ("127.0.0.1:40001").
	Data string `json:"data,omitempty"`
	// ThirdParty is set on a PORT or EPRT naming another host than the
	// control connection's client (RFC 2577 bounce).
	ThirdParty bool `json:"third_party,omitempty"`
	// Transfer, on a transfer command, is the data setup it uses
	// ("PASV #7"), empty when none was announced.
	Transfer string `json:"transfer,omitempty"`
	// BareLF is set when the line ended with LF alone.
	BareLF bool `json:"bare_lf,omitempty"`
}

// DataInfo is a data-connection message's Info: the transfer.
type DataInfo struct {
	// ControlFlow is the control connection's flow.
	ControlFlow int `json:"control_flow"`
	// Mode is "passive" (PASV/EPSV) or "active" (PORT/EPRT).
	Mode string `json:"mode"`
	// Setup is the command that announced the connection, SetupN its
	// number among the control client's messages.
	Setup  string `json:"setup"`
	SetupN int    `json:"setup_n"`
	// Command is the transfer command that used it ("RETR pub/f"),
	// CommandN its number; empty and -1 when none was seen.
	Command  string `json:"command,omitempty"`
	CommandN int    `json:"command_n"`
	// Bytes is what the data connection carried.
	Bytes int64 `json:"bytes"`
}

// link is what a control dissector attaches to an announced data
// connection: the command that opened it and, once sent, the transfer
// command that used it.
type link struct {
	control int
	mode    string
	setup   *pcap.Message
	listen  netip.AddrPort
	xfer    *pcap.Message
}

func (l *link) setupText() string {
	return fmt.Sprintf("%s #%d", commandOf(l.setup).Verb, l.setup.N)
}

// String says what opened the connection (Flow.OpenedBy).
func (l *link) String() string {
	s := fmt.Sprintf("flow %d: %s (%s %s)", l.control, l.setupText(), l.mode, l.listen)
	if l.xfer != nil {
		c := commandOf(l.xfer)
		s += fmt.Sprintf(", %s #%d", strings.TrimSpace(c.Verb+" "+c.Arg), l.xfer.N)
	}
	return s
}

func commandOf(m *pcap.Message) *Command {
	if in, ok := m.Info.(*Info); ok && in.Command != nil {
		return in.Command
	}
	return &Command{}
}

// transferVerbs use the data connection set up last.
var transferVerbs = map[string]bool{"RETR": true, "STOR": true, "STOU": true, "APPE": true, "LIST": true, "NLST": true, "MLSD": true}

// dissector is one control connection.
type dissector struct {
	e       *pcap.Emitter
	raw     [2]pcap.RawBuf
	line    [2][]byte // the line being read
	start   [2]time.Time
	partial [2]bool
	holes   [2]bool
	// reply being gathered (a multi-line one spans lines).
	reply    *Reply
	replyAt  time.Time
	replyBad bool // its first line is not a reply line
	replyLF  bool // a line of it ended with LF alone
	greeted  bool // the greeting came
	// tls is set once AUTH was answered 234: the rest is TLS records,
	// counted in encrypted and summed up at the end.
	tls       bool
	encrypted [2]int64
	tlsAt     time.Time
	// waiting are the commands not yet finally answered, oldest first.
	waiting []*pcap.Message
	// setup is the data connection announced last and not yet used.
	setup *link
}

func newDissector(e *pcap.Emitter) *dissector {
	d := &dissector{e: e}
	for i := range d.raw {
		d.raw[i] = pcap.NewRawBuf(e.KeepRaw(), e.MaxMessage())
	}
	return d
}

// Data splits each side into lines.
func (d *dissector) Data(side pcap.Side, t time.Time, b []byte) {
	if d.tls {
		d.encrypted[side] += int64(len(b))
		return
	}
	for len(b) > 0 {
		if d.tls {
			// The rest of this segment is the TLS handshake that AUTH TLS
			// began.
			d.encrypted[side] += int64(len(b))
			return
		}
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
			// An over-long line is cut into a line of its own.
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
}

func (d *dissector) Lost(side pcap.Side, n int) {
	d.raw[side].Hole(n)
	d.holes[side] = true
	d.partial[side] = true
}

func (d *dissector) End(side pcap.Side, t time.Time, reset bool) {
	if d.tls {
		if d.encrypted[side] > 0 {
			m := d.e.NewMessage(side, d.tlsAt)
			m.Len, m.Truncated = d.encrypted[side], true
			m.Summary = fmt.Sprintf("TLS after AUTH: %d bytes", m.Len)
			m.Info = &Info{}
			d.encrypted[side] = 0
			d.e.Emit(m)
		}
		return
	}
	if d.partial[side] {
		d.endLine(side, t, true)
	}
	if side == pcap.Server && d.reply != nil {
		d.emitReply(true)
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
		d.raw[side].Take(m)
		m.Incomplete = incomplete || holes
		m.Truncated = m.Truncated || holes
		d.command(m, text, bareLF)
		return
	}
	if d.reply == nil {
		d.reply = &Reply{}
		d.replyAt = d.start[side]
		d.replyBad, d.replyLF = false, false
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
		d.reply.Code, d.replyBad = code, !ok
		d.emitReply(incomplete || holes)
	case ok && code == d.reply.Code && sep == ' ':
		d.emitReply(incomplete || holes)
	case incomplete || holes:
		d.emitReply(true)
	}
}

// replyStart reads a reply line's code and the character after it (' '
// or '-'); ok is false when the line does not start a reply as RFC 959
// 4.2 writes it (three digits, the first 1-5, the second 0-5).
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
	if len(s) > 3 {
		sep = s[3]
	} else {
		sep = ' ' // "200" alone: tolerated as the text is optional
	}
	ok = s[0] >= '1' && s[0] <= '5' && s[1] <= '5' && (sep == ' ' || sep == '-')
	return code, sep, ok
}

// command handles one client line.
func (d *dissector) command(m *pcap.Message, text string, bareLF bool) {
	verb, arg, _ := strings.Cut(text, " ")
	c := &Command{Verb: strings.ToUpper(verb), Arg: arg}
	in := &Info{Command: c, BareLF: bareLF}
	m.Info = in
	m.Summary = pcap.Excerpt([]byte(text), 80)
	if c.Verb == "PASS" {
		m.Summary = `"PASS ****"`
	}
	if bareLF {
		m.AddProblem(RuleLineEnd, "command line ends with LF alone, not CRLF")
	}
	client := d.e.Flow().Client
	switch c.Verb {
	case "PORT", "EPRT":
		var ap netip.AddrPort
		var err error
		if c.Verb == "PORT" {
			ap, err = ftpwire.ParseHostPort(strings.TrimSpace(arg))
		} else {
			ap, err = ftpwire.ParseEPRT(strings.TrimSpace(arg))
		}
		if err != nil {
			m.AddProblem(RuleDataAddress, "%s argument %q: %v", c.Verb, arg, err)
			break
		}
		in.Data = ap.String()
		if client.IsValid() && ap.Addr().Unmap() != client.Addr().Unmap() {
			in.ThirdParty = true
			m.AddProblem(RuleThirdParty, "%s names %s, not the client %s (RFC 2577: a bounce)", c.Verb, ap, client.Addr())
		}
		d.announce(m, "active", ap)
	case "PASV", "EPSV", "LPSV":
		// Announced by the reply.
	}
	if transferVerbs[c.Verb] {
		if d.setup != nil {
			d.setup.xfer = m
			in.Transfer = d.setup.setupText()
			d.setup = nil
		}
	}
	if len(d.waiting) < 1024 {
		d.waiting = append(d.waiting, m)
	}
	d.e.Emit(m)
}

// announce makes a data setup the current one and tells the engine which
// endpoint its connection goes to; extra are other endpoints the client
// may use instead (the control connection's server address, when a 227
// names another).
func (d *dissector) announce(m *pcap.Message, mode string, ap netip.AddrPort, extra ...netip.AddrPort) {
	l := &link{control: d.e.Flow().ID, mode: mode, setup: m, listen: ap}
	d.setup = l
	for _, e := range append([]netip.AddrPort{ap}, extra...) {
		d.e.Expect(e, DataProto, l, m.Time)
	}
}

// emitReply emits the reply gathered, answering the oldest command
// waiting; a preliminary (1yz) reply leaves it waiting for the final one.
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
	if d.replyBad {
		m.AddProblem(RuleReplyGrammar, "reply line %s does not start with a three-digit code (first digit 1-5, second 0-5) and a space or hyphen", pcap.Excerpt([]byte(r.Lines[0]), 40))
	}
	if d.replyLF {
		m.AddProblem(RuleReplyLineEnd, "reply line ends with LF alone, not CRLF")
	}
	greeting := false
	if !d.greeted {
		// The first replies are the greeting (120 then 220, or 421),
		// answering nothing, even when the client spoke first.
		greeting = r.Code == 120 || r.Code == 220 || r.Code == 421
		d.greeted = r.Code != 120
	}
	if len(d.waiting) > 0 && !greeting {
		q := d.waiting[0]
		m.Peer = q
		if r.Code >= 200 || r.Code < 100 {
			d.waiting = d.waiting[1:]
		}
		if !d.replyBad {
			checkCode(m, commandOf(q).Verb, r.Code)
		}
		d.passive(q, m, r)
		if r.Code == 234 && commandOf(q).Verb == "AUTH" {
			d.tls, d.tlsAt = true, m.Time
		}
	}
	d.e.Emit(m)
}

// passive announces the data connection a 227 or 229 reply names.
func (d *dissector) passive(q, m *pcap.Message, r *Reply) {
	server := d.e.Flow().Server
	var ap netip.AddrPort
	var err error
	switch {
	case r.Code == 227:
		ap, err = ftpwire.ParsePASV(strings.Join(r.Lines, " "))
	case r.Code == 229:
		var port int
		port, err = ftpwire.ParseEPSV(strings.Join(r.Lines, " "))
		if err == nil {
			ap = netip.AddrPortFrom(server.Addr(), uint16(port))
		}
	default:
		return
	}
	in := m.Info.(*Info)
	if err != nil {
		m.AddProblem(RuleDataAddress, "%d reply: %v", r.Code, err)
		return
	}
	in.Data = ap.String()
	var extra []netip.AddrPort
	if server.IsValid() && ap.Addr().Unmap() != server.Addr().Unmap() {
		// Clients often ignore a 227 address that is not the server's
		// (a NAT's inside address, 0.0.0.0) and use the control one.
		extra = append(extra, netip.AddrPortFrom(server.Addr(), ap.Port()))
	}
	d.announce(q, "passive", ap, extra...)
}

// dataDissector is one data connection: it counts what each side sends
// and, when the sending side closes, emits the transfer as one message.
type dataDissector struct {
	e     *pcap.Emitter
	start [2]time.Time
	n     [2]int64
	lost  [2]bool
	done  bool
}

func (d *dataDissector) Data(side pcap.Side, t time.Time, b []byte) {
	if d.n[side] == 0 {
		d.start[side] = t
	}
	d.n[side] += int64(len(b))
}

func (d *dataDissector) Lost(side pcap.Side, n int) {
	d.n[side] += int64(n)
	d.lost[side] = true
}

func (d *dataDissector) End(side pcap.Side, t time.Time, reset bool) {
	if d.done || (d.n[side] == 0 && d.n[1-side] == 0 && !reset) {
		return
	}
	if d.n[side] == 0 {
		side = 1 - side
	}
	d.done = true
	m := d.e.NewMessage(side, d.start[side])
	m.Len = d.n[side]
	m.Incomplete = reset || d.lost[side]
	m.Truncated = true // the data is counted, not kept
	di := &DataInfo{Bytes: d.n[side], CommandN: -1}
	m.Info = di
	what := "data"
	if l, ok := d.e.Link().(*link); ok {
		di.ControlFlow, di.Mode, di.Setup, di.SetupN = l.control, l.mode, commandOf(l.setup).Verb, l.setup.N
		if l.xfer != nil {
			c := commandOf(l.xfer)
			di.Command, di.CommandN = strings.TrimSpace(c.Verb+" "+c.Arg), l.xfer.N
			what = di.Command
		}
		m.Summary = fmt.Sprintf("%s: %d bytes (%s, flow %d %s #%d)", what, m.Len, l.mode, l.control, di.Setup, di.SetupN)
	} else {
		m.Summary = fmt.Sprintf("data: %d bytes", m.Len)
	}
	d.e.Emit(m)
}

// CommandOf returns the command a client message of a control connection
// holds (an empty one for any other message).
func CommandOf(m *pcap.Message) *Command { return commandOf(m) }
