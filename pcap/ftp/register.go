package ftp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/protospec/protospec/pcap"
)

// The offline rules' IDs.
const (
	RuleReplyGrammar = "ftp/rfc959/4.2/reply-grammar"
	RuleReplyCode    = "ftp/rfc959/5.4/reply-codes"
	RuleLineEnd      = "ftp/rfc959/4.1/crlf/client"
	RuleReplyLineEnd = "ftp/rfc959/4.2/crlf/server"
	RuleThirdParty   = "ftp/rfc2577/port-third-party"
	RuleDataAddress  = "ftp/rfc959/4.1.2/data-address"
	RuleBounceOK     = "ftp/rfc2577/bounce-accepted"
)

func init() {
	pcap.Register(pcap.Protocol{
		Name:       contractName,
		Title:      "control connection: commands and (multi-line) replies, each reply linked to its command; data connections linked to the PORT/EPRT/PASV/EPSV that opened them",
		Ports:      ports(),
		SniffOrder: 50,
		Sniff: func(side pcap.Side, udp bool, b, client []byte) bool {
			return !udp && side == pcap.Server && len(client) == 0 && looksLikeGreeting(b)
		},
		New: func(e *pcap.Emitter, udp bool) pcap.Dissector {
			if udp {
				return nil
			}
			return newDissector(e)
		},
		Rules: rules,
		Replay: &pcap.Replayer{
			Service: func(*pcap.ReplayParams) string { return controlService },
			Interim: func(m *pcap.Message) bool {
				in, ok := m.Info.(*Info)
				return ok && in.Reply != nil && in.Reply.Code < 200
			},
			Compare: func(*pcap.ReplayParams) (func(q, want *pcap.Message, got []byte) string, error) {
				return compare, nil
			},
			Session: newReplaySession,
		},
	})
	pcap.Register(pcap.Protocol{
		Name:  DataProto,
		Title: "FTP data connections (found through their control connection, never by port): the bytes of one transfer, linked to the command that opened the connection and the one that used it",
		New: func(e *pcap.Emitter, udp bool) pcap.Dissector {
			if udp {
				return nil
			}
			return &dataDissector{e: e}
		},
	})
}

// looksLikeGreeting reports whether a server's first bytes are an FTP
// greeting: a 220 (or 120) reply whose text names FTP, and not SMTP,
// which greets with 220 too.
func looksLikeGreeting(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if len(line) < 4 || !(bytes.HasPrefix(line, []byte("220")) || bytes.HasPrefix(line, []byte("120"))) || (line[3] != ' ' && line[3] != '-') {
		return false
	}
	l := bytes.ToLower(line)
	return bytes.Contains(l, []byte("ftp")) && !bytes.Contains(l, []byte("smtp"))
}

// always are the codes any command may get: the service closing (421),
// syntax errors and unimplemented commands (500-502), a bad sequence
// (503), not logged in (530) and a refused protection level (534).
var always = []int{421, 500, 501, 502, 503, 530, 534}

// allowed lists, per command, the replies RFC 959 5.4 (and RFC 2228,
// 2389, 2428, 3659, 4217, 7151 for their commands) let it get, besides
// always.
var allowed = map[string][]int{
	"USER": {230, 331, 332}, "PASS": {230, 202, 332}, "ACCT": {230, 202},
	"CWD": {250, 550}, "XCWD": {250, 550}, "CDUP": {200, 250, 550}, "XCUP": {200, 250, 550}, "SMNT": {202, 250, 550},
	"REIN": {120, 220}, "QUIT": {221},
	"PORT": {200, 504}, "PASV": {227}, "MODE": {200, 504}, "TYPE": {200, 504}, "STRU": {200, 504},
	"ALLO": {200, 202, 504}, "REST": {350, 504},
	"STOR": {110, 125, 150, 226, 250, 425, 426, 451, 551, 552, 532, 450, 452, 553, 550},
	"STOU": {110, 125, 150, 226, 250, 425, 426, 451, 551, 552, 532, 450, 452, 553, 550},
	"APPE": {110, 125, 150, 226, 250, 425, 426, 451, 551, 552, 532, 450, 550, 452, 553},
	"RETR": {110, 125, 150, 226, 250, 425, 426, 451, 450, 550},
	"LIST": {125, 150, 226, 250, 425, 426, 451, 450, 550},
	"NLST": {125, 150, 226, 250, 425, 426, 451, 450, 550},
	"RNFR": {350, 450, 550}, "RNTO": {250, 532, 553, 550},
	"DELE": {250, 450, 550}, "RMD": {250, 550}, "XRMD": {250, 550}, "MKD": {257, 550}, "XMKD": {257, 550},
	"PWD": {257, 550}, "XPWD": {257, 550}, "ABOR": {225, 226}, "SYST": {215}, "STAT": {211, 212, 213, 450},
	"HELP": {211, 214}, "SITE": {200, 202, 214}, "NOOP": {200},
	// RFC 2389, 3659, 2428, 2228/4217, 7151.
	"FEAT": {211}, "OPTS": {200, 451}, "MDTM": {213, 550}, "SIZE": {213, 550},
	"MLST": {250, 550}, "MLSD": {125, 150, 226, 250, 425, 426, 451, 450, 550},
	"EPRT": {200, 522}, "EPSV": {229, 200, 522},
	"AUTH": {234, 334, 431, 504, 535}, "PBSZ": {200}, "PROT": {200, 504, 536}, "CCC": {200, 533},
	"HOST": {220, 120, 504},
}

// checkCode flags a reply code the command may not get.
func checkCode(m *pcap.Message, verb string, code int) {
	codes, known := allowed[verb]
	if !known {
		return
	}
	for _, c := range append(codes, always...) {
		if c == code {
			return
		}
	}
	m.AddProblem(RuleReplyCode, "%d in reply to %s, which RFC 959 5.4 (or the command's RFC) does not list for it", code, verb)
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
func isPort(in *Info) bool {
	return in.Command != nil && (in.Command.Verb == "PORT" || in.Command.Verb == "EPRT")
}

var rules = []pcap.Rule{
	problemRule(RuleReplyGrammar, "MUST", "a reply starts with a three-digit code and a space, or a hyphen for a multi-line reply that ends with a line of the same code and a space (RFC 959 4.2)", pcap.Server, isReply),
	problemRule(RuleReplyCode, "SHOULD", "a command gets only the reply codes RFC 959 5.4 (or the command's own RFC) lists for it", pcap.Server, isReply),
	problemRule(RuleLineEnd, "MUST", "a command line ends with CRLF (RFC 959 4.1.3)", pcap.Client, isCommand),
	problemRule(RuleReplyLineEnd, "MUST", "a reply line ends with CRLF (RFC 959 4.2)", pcap.Server, isReply),
	problemRule(RuleDataAddress, "MUST", "PORT and EPRT arguments and 227 and 229 replies name a data endpoint in their RFC's syntax (RFC 959 4.1.2, RFC 2428)", pcap.Client, isPort),
	problemRule(RuleThirdParty, "SHOULD", "a client's PORT or EPRT names the client's own address: one naming another host is an FTP bounce (RFC 2577 3)", pcap.Client, isPort),
	{
		ID: RuleBounceOK, Level: "SHOULD",
		Title: "a server refuses a PORT or EPRT naming another host than the client (RFC 2577 3: 504 or 500)",
		Applies: func(m *pcap.Message) bool {
			if m.Side != pcap.Server || m.Peer == nil {
				return false
			}
			in, ok := m.Peer.Info.(*Info)
			return ok && in.ThirdParty
		},
		Check: func(m *pcap.Message) string {
			in, ok := m.Info.(*Info)
			if ok && in.Reply != nil && in.Reply.Code/100 == 2 {
				return fmt.Sprintf("%d accepted %s", in.Reply.Code, m.Peer.Summary)
			}
			return ""
		},
	},
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

// dataVerbs get their replies compared by first digit only in replay
// (a server may answer EPSV or PORT 200 or 229 alike).
var dataVerbs = map[string]bool{"PORT": true, "EPRT": true, "PASV": true, "EPSV": true}

// compare is the replay comparison: the reply code, or only its first
// digit for the commands that set up and use data connections (whose
// endpoints and texts differ from run to run).
func compare(q, want *pcap.Message, got []byte) string {
	w, g := replyCode(want.Raw), replyCode(got)
	verb := commandOf(q).Verb
	if w == g {
		return ""
	}
	if (dataVerbs[verb] || transferVerbs[verb]) && w/100 == g/100 {
		return ""
	}
	first := func(b []byte) string {
		l, _, _ := bytes.Cut(b, []byte("\n"))
		return strings.TrimRight(string(l), "\r")
	}
	return fmt.Sprintf("recorded: %s\nreplayed: %s", first(want.Raw), first(got))
}
