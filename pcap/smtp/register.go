package smtp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/protospec/protospec/pcap"
)

// The offline rules' IDs.
const (
	RuleReplyGrammar  = "smtp/rfc5321/4.2/reply-grammar"
	RuleLineEnd       = "smtp/rfc5321/2.3.8/crlf/client"
	RuleReplyLineEnd  = "smtp/rfc5321/2.3.8/crlf/server"
	RuleTextLineEnd   = "smtp/rfc5321/2.3.8/crlf/text"
	RuleClientOrder   = "smtp/rfc5321/3.3/order/client"
	RuleServerOrder   = "smtp/rfc5321/3.3/order/server"
	RuleWait354       = "smtp/rfc5321/3.3/text-after-354"
	RuleEnhancedClass = "smtp/rfc3463/2/enhanced-class"
	RuleReplyCode     = "smtp/rfc5321/4.3.2/reply-codes"
)

func init() {
	pcap.Register(pcap.Protocol{
		Name:       contractName,
		Title:      "commands and (multi-line) replies, each reply linked to its command; the message text of DATA as one message with its size, BDAT with its chunk; after a 220 to STARTTLS the flow is TLS, counted, not parsed",
		Ports:      ports(),
		SniffOrder: 50,
		Sniff: func(side pcap.Side, udp bool, b, client []byte) bool {
			if udp {
				return false
			}
			if side == pcap.Server {
				return len(client) == 0 && looksLikeGreeting(b)
			}
			return looksLikeHello(b)
		},
		New: func(e *pcap.Emitter, udp bool) pcap.Dissector {
			if udp {
				return nil
			}
			return newDissector(e)
		},
		Rules: rules,
		Replay: &pcap.Replayer{
			Service: func(*pcap.ReplayParams) string { return service },
			Compare: func(*pcap.ReplayParams) (func(q, want *pcap.Message, got []byte) string, error) {
				return compare, nil
			},
		},
	})
}

// looksLikeGreeting reports whether a server's first bytes are an SMTP
// greeting: a 220 (or 554, a refusal, RFC 5321 3.1) whose first line
// names SMTP ("ESMTP" most often).
func looksLikeGreeting(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if len(line) < 4 || !(bytes.HasPrefix(line, []byte("220")) || bytes.HasPrefix(line, []byte("554"))) || (line[3] != ' ' && line[3] != '-') {
		return false
	}
	return bytes.Contains(bytes.ToLower(line), []byte("smtp"))
}

// looksLikeHello reports whether a client's first bytes (in a capture
// that missed the greeting) are an EHLO or HELO line.
func looksLikeHello(b []byte) bool {
	line, _, ok := bytes.Cut(b, []byte("\n"))
	if !ok || len(line) < 6 || len(line) > 512 {
		return false
	}
	v := strings.ToUpper(string(line[:5]))
	return v == "EHLO " || v == "HELO "
}

// problemRule is a rule judged by the problems the dissector recorded.
func problemRule(id, level, title string, side pcap.Side, applies func(in *Info) bool) pcap.Rule {
	return pcap.Rule{
		ID: id, Level: level, Title: title,
		Applies: func(m *pcap.Message) bool {
			in, ok := m.Info.(*Info)
			return ok && m.Side == side && m.Proto == contractName && applies(in)
		},
		Check: func(m *pcap.Message) string {
			for _, p := range m.Problems {
				if p.Rule == id {
					return p.Text
				}
			}
			return ""
		},
	}
}

func isReply(in *Info) bool   { return in.Reply != nil }
func isCommand(in *Info) bool { return in.Command != nil }
func isText(in *Info) bool    { return in.Text != nil }
func isOrdered(in *Info) bool {
	return in.Command != nil && (in.Command.Verb == "RCPT" || in.Command.Verb == "DATA" || in.Command.Verb == "BDAT")
}
func isAnswer(in *Info) bool   { return in.Reply != nil }
func isEnhanced(in *Info) bool { return in.Reply != nil && in.Reply.Enhanced != "" }

var rules = []pcap.Rule{
	problemRule(RuleReplyGrammar, "MUST", "a reply is lines of a three-digit code (2-5, 0-5, 0-9), the same on every line, followed by a hyphen on all lines but the last, which has a space or nothing (RFC 5321 4.2, 4.2.1)", pcap.Server, isReply),
	problemRule(RuleLineEnd, "MUST", "a command line ends with CRLF (RFC 5321 2.3.8)", pcap.Client, isCommand),
	problemRule(RuleReplyLineEnd, "MUST", "a reply line ends with CRLF (RFC 5321 2.3.8, 4.2)", pcap.Server, isReply),
	problemRule(RuleTextLineEnd, "MUST", "message text holds no CR or LF that is not part of a CRLF (RFC 5321 2.3.8)", pcap.Client, isText),
	problemRule(RuleClientOrder, "MUST", "a client sends MAIL, then RCPT, then DATA (or BDAT), in that order, in a transaction (RFC 5321 3.3)", pcap.Client, isOrdered),
	problemRule(RuleWait354, "MUST", "a client sends no message text before the 354 reply to its DATA (RFC 5321 3.3: message data MUST NOT be sent unless a 354 reply is received)", pcap.Client, isText),
	problemRule(RuleServerOrder, "MUST", "a server accepts RCPT only inside a transaction begun by an accepted MAIL, answers 354 only to DATA, never 2yz to DATA, and never accepts a message none of whose recipients it accepted (RFC 5321 3.3, 4.3.2)", pcap.Server, isReply),
	problemRule(RuleReplyCode, "SHOULD", "a command gets only the reply codes RFC 5321 4.3.2 (or the extension's RFC) lists for it", pcap.Server, isAnswer),
	problemRule(RuleEnhancedClass, "MUST", "an enhanced status code's class (2, 4 or 5) is its reply code's first digit (RFC 3463 2, RFC 2034 4)", pcap.Server, isEnhanced),
}

// replyCode reads the code of a reply's first line (0: none).
func replyCode(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	n, err := strconv.Atoi(string(b[:3]))
	if err != nil {
		return 0
	}
	return n
}

// infoVerbs get their replies compared by first digit only in replay:
// servers choose what they tell (VRFY: 250, 251 or 252; HELP: 211 or 214).
var infoVerbs = map[string]bool{"VRFY": true, "EXPN": true, "HELP": true}

// compare is the replay comparison: the reply code, or only its first
// digit for the information commands.
func compare(q, want *pcap.Message, got []byte) string {
	w, g := replyCode(want.Raw), replyCode(got)
	if w == g {
		return ""
	}
	if in, ok := q.Info.(*Info); ok && in.Command != nil && infoVerbs[in.Command.Verb] && w/100 == g/100 {
		return ""
	}
	first := func(b []byte) string {
		l, _, _ := bytes.Cut(b, []byte("\n"))
		return strings.TrimRight(string(l), "\r")
	}
	return fmt.Sprintf("recorded: %s\nreplayed: %s", first(want.Raw), first(got))
}

// InfoOf returns the SMTP Info of a message (nil for another protocol's).
func InfoOf(m *pcap.Message) *Info {
	in, _ := m.Info.(*Info)
	return in
}

// CommandOf returns the command a client message holds (an empty one for
// any other message, nil included).
func CommandOf(m *pcap.Message) *Command {
	if m != nil {
		if in, ok := m.Info.(*Info); ok && in.Command != nil {
			return in.Command
		}
	}
	return &Command{}
}

// always are the codes any command may get: the service closing (421,
// RFC 5321 3.8), syntax errors and commands not implemented or out of
// sequence (500-504), authentication required (530, RFC 4954 6) and a
// refusal by policy (554, 550: RFC 5321 3.8 and 7.9 let a server refuse
// a client at any point).
var always = []int{421, 500, 501, 502, 503, 504, 530, 550, 554}

// allowed lists, per command, the replies RFC 5321 4.3.2 (and RFC 3207,
// 4954, 3030, 1870, 6531 for their commands and parameters) let it get,
// besides always. "." is the end of a message text, "" the greeting.
var allowed = map[string][]int{
	"":     {220},
	"EHLO": {250}, "HELO": {250},
	"MAIL": {250, 552, 451, 452, 553, 455, 555},
	"RCPT": {250, 251, 551, 552, 553, 450, 451, 452, 455, 555},
	"DATA": {354, 552, 451, 452, 450},
	".":    {250, 552, 451, 452, 450},
	"RSET": {250}, "NOOP": {250}, "QUIT": {221},
	"VRFY": {250, 251, 252, 551, 553}, "EXPN": {250, 252}, "HELP": {211, 214},
	"STARTTLS": {220, 454},
	"AUTH":     {235, 334, 432, 454, 534, 535, 538},
	"BDAT":     {250, 552, 451, 452, 450},
}

// checkCode flags a reply code the command q may not get.
func checkCode(m, q *pcap.Message, code int) {
	key := ""
	if q != nil {
		in, _ := q.Info.(*Info)
		switch {
		case in == nil:
			return
		case in.Text != nil:
			key = "."
		case in.Command != nil:
			key = in.Command.Verb
		}
	}
	codes, known := allowed[key]
	if !known {
		return
	}
	for _, c := range append(codes, always...) {
		if c == code {
			return
		}
	}
	what := "the greeting"
	if q != nil {
		what = "reply to " + q.Summary
	}
	m.AddProblem(RuleReplyCode, "%d as %s, which RFC 5321 4.3.2 (or the command's RFC) does not list for it", code, what)
}
