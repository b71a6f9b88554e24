package smtpfuzz

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/protospec/protospec/fuzz/engine"
)

func init() { engine.Register(contractName, func() engine.Model { return smtpModel{} }) }

// smtpModel fuzzes SMTP servers (RFC 5321 and the extensions of the
// contract) on smtp/tcp: the session's commands one step each (or a
// pipelined group, RFC 2920), the message text after DATA one step,
// stuffed and ended with its final dot. The fixture's addresses are the
// values the seeds reuse: the local users, the postmaster, a local
// address that does not exist and a foreign domain (a relay attempt).
type smtpModel struct{}

func (smtpModel) Name() string                  { return contractName }
func (smtpModel) Services() []string            { return []string{smtpService} }
func (smtpModel) SeedStep(b []byte) engine.Step { return engine.Step{Service: smtpService, Data: b} }

// seedText is a message of the seeds: header, empty line, a body with
// lines that begin with a period (stuffed on the wire).
const seedText = "From: <" + fixtureFrom + ">\r\nTo: <" + fixtureTo + ">\r\nSubject: protospec fuzz\r\n\r\nhello\r\n.leading period\r\n..two\r\n.\r\nend\r\n"

func (smtpModel) Seeds() []engine.Input {
	st := func(conn int, s string) engine.Step {
		return engine.Step{Service: smtpService, Conn: conn, Data: []byte(s)}
	}
	text := func(conn int, s string) engine.Step {
		return engine.Step{Service: smtpService, Conn: conn, Data: Stuff([]byte(s))}
	}
	seq := func(steps ...any) engine.Input {
		var in engine.Input
		for _, x := range steps {
			switch v := x.(type) {
			case string:
				in.Steps = append(in.Steps, st(0, v+"\r\n"))
			case engine.Step:
				in.Steps = append(in.Steps, v)
			}
		}
		return in
	}
	mail := "MAIL FROM:<" + fixtureFrom + ">"
	rcpt := "RCPT TO:<" + fixtureTo + ">"
	return []engine.Input{
		seq("EHLO fuzz.test", mail, rcpt, "DATA", text(0, seedText), "QUIT"),
		seq("HELO fuzz.test", "MAIL FROM:<>", "RCPT TO:<Postmaster>", "RCPT TO:<"+fixtureAlice+">", "DATA", text(0, "Subject: bounce\r\n\r\n.\r\n..\r\n"), "RSET", "QUIT"),
		seq("EHLO fuzz.test", st(0, mail+" SIZE=200 BODY=8BITMIME\r\n"+rcpt+"\r\nRCPT TO:<"+fixtureNobody+">\r\nDATA\r\n"), text(0, seedText)),
		seq("EHLO fuzz.test", "RSET", "NOOP", "VRFY "+fixtureTo, "HELP", "HELP MAIL", "NOOP hello", "QUIT"),
		seq("EHLO fuzz.test", mail, "RCPT TO:<x@"+foreignDomain+">", rcpt, "RSET", mail+" SMTPUTF8", "RCPT TO:<"+fixturePost+">", "DATA", text(0, "Subject: one\r\n\r\n1\r\n"),
			mail, rcpt, "DATA", text(0, "Subject: two\r\n\r\n2\r\n")),
		seq("RCPT TO:<"+fixtureTo+">", "MAIL FROM:<"+fixtureFrom+">", "DATA", "EHLO fuzz.test", "DATA", rcpt, mail, mail, "RCPT TO:<bob>", "DATA"),
		{Steps: []engine.Step{st(0, "EHLO one.test\r\n"), st(1, "HELO two.test\r\n"), st(0, mail+"\r\n"), st(1, mail+"\r\n"), st(1, rcpt+"\r\n"),
			st(0, "RCPT TO:<"+fixtureAlice+">\r\n"), st(0, "DATA\r\n"), st(1, "DATA\r\n"), text(1, "x\r\n"), text(0, "y\r\n")}},
		seq("EHLO [127.0.0.1]", "EHLO [IPv6:::1]", "HELO fuzz.test", "MAIL FROM:<@alice.test:"+fixtureFrom+">", "RCPT TO:<\"quoted name\"@bob.test>", "RCPT TO:<"+fixtureTo+">", "DATA",
			text(0, strings.Repeat("a", 998)+"\r\n"), "QUIT"),
	}
}

func (smtpModel) Probe() engine.Input {
	return engine.Input{Steps: []engine.Step{{Service: smtpService, Data: []byte("EHLO probe.test\r\n")}}}
}

func (smtpModel) NewSession(string) engine.Session { return &smtpSession{} }

func (smtpModel) Render(st engine.Step, vars map[string]string) []byte {
	return engine.RenderTemplate(st.Data, vars)
}

// verbs are RFC 5321's commands, the extensions' and the obsolete ones,
// and one unknown; never STARTTLS (the model does not negotiate TLS).
var verbs = []string{"EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP",
	"BDAT", "AUTH", "ETRN", "TURN", "ATRN", "SEND", "SOML", "SAML", "XFOO", "MAIL FROM:", "RCPT TO:"}

// paths are reverse and forward paths at and past RFC 5321 4.1.2's
// grammar and 4.5.3.1's sizes.
var paths = []string{"<>", "<" + fixtureTo + ">", "<" + fixtureAlice + ">", "<Postmaster>", "<" + fixturePost + ">", "<" + fixtureNobody + ">",
	"<x@" + foreignDomain + ">", "<@alice.test,@bob.test:" + fixtureTo + ">", `<"a b"@bob.test>`, `<"a\"b"@bob.test>`, "<bob@[127.0.0.1]>",
	"<bob@[IPv6:::1]>", "<bob@[300.1.1.1]>", fixtureTo, "<" + fixtureTo, fixtureTo + ">", "<<" + fixtureTo + ">>", "< " + fixtureTo + ">",
	"<" + fixtureTo + " >", "<bob@@bob.test>", "<.bob@bob.test>", "<bob.@bob.test>", "<bob..x@bob.test>", "<bob@-bob.test>",
	"<bob@bob.test.>", "<bob%" + foreignDomain + "@bob.test>", "<" + foreignDomain + "!bob@bob.test>", "<jøran@bob.test>",
	"<" + strings.Repeat("l", 64) + "@bob.test>", "<" + strings.Repeat("l", 65) + "@bob.test>",
	"<bob@" + strings.Repeat("d", 63) + ".test>", "<bob@" + strings.Repeat("d.", 130) + "test>", "<postmaster>", "<POSTMASTER@BOB.TEST>", "<\x00@bob.test>", ""}

// params are ESMTP parameters of MAIL and RCPT, valid and not.
var params = []string{"SIZE=0", "SIZE=100", "SIZE=10485760", "SIZE=99999999999999999999", "SIZE=-1", "SIZE=", "SIZE", "BODY=8BITMIME",
	"BODY=7BIT", "BODY=BINARYMIME", "BODY=x", "SMTPUTF8", "SMTPUTF8=yes", "RET=HDRS", "RET=FULL", "ENVID=x+2B", "NOTIFY=SUCCESS,FAILURE",
	"NOTIFY=NEVER", "ORCPT=rfc822;bob@bob.test", "AUTH=<>", "X-PARAM=\x01", "SIZE=1 SIZE=2", "=x", "size=5", "BODY=8BITMIME SMTPUTF8 SIZE=9"}

var cmdMutations = []string{"verb", "path", "param", "case", "line-ending", "long-line", "split", "pipeline", "nul", "space", "8bit"}

var textMutations = []string{"dot", "dot", "end", "line-ending", "long-line", "split", "nul", "8bit"}

// isText reports whether a step is message text: stuffed lines ending
// with the end-of-data line.
func isText(b []byte) bool {
	return bytes.Equal(b, []byte(".\r\n")) || bytes.HasSuffix(b, []byte("\r\n.\r\n"))
}

func (smtpModel) Mutate(r *rand.Rand, in *engine.Input, i int) string {
	st := &in.Steps[i]
	if isText(st.Data) {
		return mutateText(r, in, i)
	}
	name := cmdMutations[r.IntN(len(cmdMutations))]
	line := strings.TrimRight(string(st.Data), "\r\n")
	if k := strings.Index(line, "\r\n"); k >= 0 && name != "split" && name != "pipeline" {
		line = line[:k] // a pipelined group: the first command is mutated
	}
	verb, arg, _ := strings.Cut(line, " ")
	eol := "\r\n"
	switch name {
	case "verb":
		verb = verbs[r.IntN(len(verbs))]
		if strings.HasSuffix(verb, ":") {
			verb, arg = verb[:4], verb[5:]+paths[r.IntN(len(paths))]
		}
	case "path":
		kw := "FROM:"
		if r.IntN(2) == 0 {
			verb, kw = "RCPT", "TO:"
		} else {
			verb = "MAIL"
		}
		_, ps := splitPath(arg)
		arg = kw + paths[r.IntN(len(paths))] + ps
	case "param":
		p, ps := splitPath(arg)
		if p == "" {
			verb, p = "MAIL", "FROM:<"+fixtureFrom+">"
		}
		if r.IntN(2) == 0 {
			ps = ""
		}
		arg = p + ps + " " + params[r.IntN(len(params))]
	case "case":
		verb = strings.ToLower(verb)
		if r.IntN(2) == 0 && len(verb) > 1 {
			verb = strings.ToUpper(verb[:1]) + verb[1:]
		}
		arg = strings.ToLower(arg)
	case "line-ending":
		eol = []string{"\n", "\r", "", "\r\r\n", "\n\r", "\r\n\r\n", " \r\n", "\t\r\n"}[r.IntN(8)]
	case "long-line":
		n := []int{500, 506, 507, 508, 512, 513, 576, 1000, 1024, 4096, 65536}[r.IntN(11)]
		if verb == "MAIL" || verb == "RCPT" || r.IntN(2) == 0 {
			p, _ := splitPath(arg)
			if p == "" {
				verb, p = "RCPT", "TO:<"+fixtureTo+">"
			}
			arg = p + " X-PAD=" + strings.Repeat("a", n)
		} else {
			arg = strings.Repeat(string(rune('a'+r.IntN(26))), n)
		}
	case "split":
		if len(st.Data) < 2 || len(in.Steps) >= 32 {
			return ""
		}
		splitStep(in, i, 1+r.IntN(len(st.Data)-1))
		return name
	case "pipeline":
		other := verbs[r.IntN(len(verbs))]
		if strings.HasSuffix(other, ":") {
			other += paths[r.IntN(len(paths))]
		}
		st.Data = []byte(strings.TrimRight(string(st.Data), "\r\n") + "\r\n" + other + "\r\n")
		return name
	case "nul":
		k := r.IntN(len(line) + 1)
		st.Data = []byte(line[:k] + "\x00" + line[k:] + eol)
		return name
	case "space":
		// RFC 5321 4.1.2 has no space after the colon; some servers take
		// one, or tabs between the parameters.
		arg = strings.Replace(arg, ":", []string{": ", " :", ":\t", " : "}[r.IntN(4)], 1)
		if r.IntN(2) == 0 {
			verb += " "
		}
	case "8bit":
		arg += []string{"é", "\xff", "\x80", "\u00a0", "\x1b[0m", "\x7f"}[r.IntN(6)]
	}
	out := verb
	if arg != "" {
		out += " " + arg
	}
	st.Data = []byte(out + eol)
	return name
}

// splitPath splits a MAIL or RCPT argument after its keyword and path:
// "FROM:<a@b>" and " SIZE=1" (the parameters with their space).
func splitPath(arg string) (string, string) {
	c := strings.IndexByte(arg, ':')
	if c < 0 {
		return "", ""
	}
	rest := arg[c+1:]
	if j := strings.IndexByte(rest, '>'); j >= 0 {
		return arg[:c+1+j+1], arg[c+1+j+1:]
	}
	if j := strings.IndexByte(rest, ' '); j >= 0 {
		return arg[:c+1+j], arg[c+1+j:]
	}
	return arg, ""
}

// splitStep cuts step i in two at byte k: the halves are sent apart.
func splitStep(in *engine.Input, i, k int) {
	st := &in.Steps[i]
	rest := *st
	rest.Data = bytes.Clone(st.Data[k:])
	rest.Use = ""
	st.Data = bytes.Clone(st.Data[:k])
	in.Steps = append(in.Steps[:i+1], append([]engine.Step{rest}, in.Steps[i+1:]...)...)
}

// mutateText changes a message text's stuffing, line ends, lengths and
// end: the text-smuggling inputs of CVE-2023-51764 (an end of data made
// of bare LFs or CRs) are among them.
func mutateText(r *rand.Rand, in *engine.Input, i int) string {
	st := &in.Steps[i]
	body := st.Data[:len(st.Data)-3] // without the final ".\r\n"
	name := textMutations[r.IntN(len(textMutations))]
	at := func() int {
		// a line start inside the body
		var starts []int
		for k := 0; k < len(body); k++ {
			if k == 0 || (body[k-1] == '\n' && k > 1 && body[k-2] == '\r') {
				starts = append(starts, k)
			}
		}
		if len(starts) == 0 {
			return 0
		}
		return starts[r.IntN(len(starts))]
	}
	ins := func(k int, s string) []byte {
		return append(append(append([]byte{}, body[:k]...), s...), body[k:]...)
	}
	end := ".\r\n"
	switch name {
	case "dot":
		k := at()
		switch r.IntN(7) {
		case 0:
			body = ins(k, ".\n")
		case 1:
			body = ins(k, "\n.\n")
		case 2:
			body = ins(k, "x\n.\r\n")
		case 3:
			body = ins(k, "x\r.\r\n")
		case 4:
			// an end of data in the middle, a command after it
			body = ins(k, ".\r\nMAIL FROM:<x@"+foreignDomain+">\r\n")
		case 5:
			body = ins(k, ".")
		case 6:
			if k < len(body) && body[k] == '.' {
				body = append(append([]byte{}, body[:k]...), body[k+1:]...) // unstuffed
			} else {
				body = ins(k, "..\r\n")
			}
		}
	case "end":
		end = []string{".\n", "\n.\n", "\r.\r", ". \r\n", "..\r\n", "", ".", "\r\n.\r\n"}[r.IntN(8)]
	case "line-ending":
		k := at()
		if j := bytes.Index(body[k:], []byte("\r\n")); j >= 0 {
			eol := []string{"\n", "\r", "\r\r\n", "\n\r\n", ""}[r.IntN(5)]
			body = append(append(append([]byte{}, body[:k+j]...), eol...), body[k+j+2:]...)
		}
	case "long-line":
		n := []int{997, 998, 999, 1000, 1001, 4096, 65536}[r.IntN(7)]
		body = ins(at(), strings.Repeat("x", n)+"\r\n")
	case "split":
		if len(st.Data) < 2 || len(in.Steps) >= 32 {
			return ""
		}
		splitStep(in, i, 1+r.IntN(len(st.Data)-1))
		return name
	case "nul":
		k := r.IntN(len(body) + 1)
		body = append(append(append([]byte{}, body[:k]...), 0), body[k:]...)
	case "8bit":
		body = ins(at(), "caf\xc3\xa9 \xff\x80\r\n")
	}
	if len(body)+len(end) > engine.MaxStepBytes {
		return ""
	}
	st.Data = append(body, end...)
	return name
}

// plainLine reports whether a command line (without its CRLF) is of a
// shape every server answers with exactly one reply: printable ASCII,
// a verb of letters, no longer than RFC 5321 4.5.3.1.4's 512 octets.
func plainLine(l string) bool {
	if len(l) > 500 {
		return false
	}
	for i := 0; i < len(l); i++ {
		if l[i] < ' ' || l[i] > '~' {
			return false
		}
	}
	verb, _, _ := strings.Cut(l, " ")
	if len(verb) < 4 || len(verb) > 8 {
		return false
	}
	for _, c := range verb {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// owed is what a reply owed answers.
type owed struct {
	verb string // "" for the greeting, "." for the end of a message text
	// text is set on DATA when Sent took the bytes after it as message
	// text (it expected 354).
	text bool
}

// smtpSession counts the replies owed, frames them and judges their
// order.
type smtpSession struct {
	greeted bool
	queue   []owed
	buf     []byte
	// inText: Sent is inside a message text; lineStart: at the start of
	// one of its lines.
	inText, lineStart bool
	quit              bool
	// tls is set once STARTTLS was answered 220: the rest is not judged.
	tls bool
	// lost is set once the replies owed cannot be matched to the
	// commands anymore (a line of doubtful shape, a guess proved wrong):
	// the order oracle is off from there.
	lost bool
	// The transaction as the replies told it (helo, mail, rcpt) and as
	// Sent expects it once the replies owed come (p*).
	helo, mail, rcpt    bool
	pHelo, pMail, pRcpt bool
}

// Sent counts the replies owed: the greeting, one per command line, one
// per message text (at its end-of-data line). A DATA command's bytes
// after it are message text when a 354 is expected: when the replies to
// the transaction's commands have come, that is sure; when they are
// still owed (pipelining) it is a guess that Parse checks.
func (s *smtpSession) Sent(data []byte) (int, bool) {
	n, sure := 0, true
	if !s.greeted {
		s.greeted = true
		s.queue = append(s.queue, owed{})
		n++
	}
	if s.quit || s.tls {
		return n, false
	}
	s.buf = append(s.buf, data...)
	for len(s.buf) > 0 && !s.quit {
		if s.inText {
			done, ok := s.scanText()
			if !ok {
				sure = false
			}
			if !done {
				break
			}
			s.queue = append(s.queue, owed{verb: "."})
			n++
			s.pMail, s.pRcpt = false, false
			continue
		}
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		raw := s.buf[:i+1]
		s.buf = s.buf[i+1:]
		crlf := bytes.HasSuffix(raw, []byte("\r\n"))
		line := strings.TrimRight(string(raw), "\r\n")
		n++
		if !crlf || !plainLine(line) {
			sure = false
			s.lost = true
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		o := owed{verb: verb}
		switch verb {
		case "EHLO", "HELO":
			s.pHelo, s.pMail, s.pRcpt = arg != "", false, false
		case "RSET":
			s.pMail, s.pRcpt = false, false
		case "MAIL":
			s.pMail = s.pMail || s.pHelo && strings.HasPrefix(strings.ToUpper(arg), "FROM:<")
		case "RCPT":
			s.pRcpt = s.pRcpt || s.pMail && localRcpt(arg)
		case "DATA":
			if len(s.queue) > 0 {
				sure = false // the replies that decide it are still owed
			}
			if arg == "" && s.pMail && s.pRcpt {
				o.text = true
				s.inText, s.lineStart = true, true
			}
		case "QUIT":
			if arg != "" {
				// Refused (501) or taken, closing: servers differ.
				sure, s.lost = false, true
				break
			}
			s.quit = true
		case "STARTTLS", "BDAT", "AUTH":
			// TLS, a chunk of octets or a SASL exchange follows: the
			// count is lost.
			sure, s.lost = false, true
		}
		s.queue = append(s.queue, o)
	}
	if len(s.buf) > 0 && !s.inText {
		sure = false // a partial line is owed nothing yet
	}
	if len(s.buf) > 1<<20 {
		s.buf = nil
		s.lost = true
	}
	if s.lost {
		sure = false
	}
	return n, sure && n > 0
}

// scanText consumes message text from s.buf up to its end-of-data line;
// done reports the end was reached, ok that the text had no bare CR or
// LF (whose reading servers differ on).
func (s *smtpSession) scanText() (done, ok bool) {
	ok = true
	for len(s.buf) > 0 {
		if s.lineStart {
			if bytes.HasPrefix(s.buf, []byte(".\r\n")) {
				s.buf = s.buf[3:]
				s.inText = false
				return true, ok
			}
			if len(s.buf) < 3 && bytes.HasPrefix([]byte(".\r\n"), s.buf) {
				return false, ok // the end may be coming
			}
		}
		i := bytes.Index(s.buf, []byte("\r\n"))
		if i < 0 {
			keep := 0
			if s.buf[len(s.buf)-1] == '\r' {
				keep = 1
			}
			if bytes.ContainsAny(s.buf[:len(s.buf)-keep], "\r\n") {
				ok = false
			}
			s.lineStart = s.lineStart && len(s.buf)-keep == 0
			s.buf = s.buf[len(s.buf)-keep:]
			return false, ok
		}
		if bytes.ContainsAny(s.buf[:i], "\r\n") {
			ok = false
		}
		s.buf = s.buf[i+2:]
		s.lineStart = true
	}
	return false, ok
}

// localRcpt reports whether a RCPT argument names one of the fixture's
// local mailboxes, which a server of the fixture accepts.
func localRcpt(arg string) bool {
	a := strings.ToLower(arg)
	for _, addr := range []string{fixtureTo, fixtureAlice, fixturePost} {
		if a == "to:<"+strings.ToLower(addr)+">" {
			return true
		}
	}
	return a == "to:<postmaster>"
}

// Parse frames complete replies and judges their order: the greeting is
// 220, 554 or 421 (RFC 5321 3.1, 4.3.2), a 354 answers DATA and nothing
// else, DATA never gets a 2yz, a message text never a 3yz, and no reply
// comes that nothing asked for, 421 aside (4.3.2: any command may get
// it as the server closes).
func (s *smtpSession) Parse(buf []byte, closed bool) ([]engine.Response, int, error) {
	var out []engine.Response
	used := 0
	for !s.tls {
		r, n, err := ParseReply(buf[used:])
		if err != nil {
			return out, used, err
		}
		if n == 0 {
			break
		}
		used += n
		out = append(out, engine.Response{Class: fmt.Sprintf("%dxx", r.Code/100), Detail: strconv.Itoa(r.Code)})
		if len(s.queue) == 0 {
			if !s.lost && r.Code != 421 {
				return out, used, fmt.Errorf("reply %d %q when no reply is owed", r.Code, excerpt([]byte(r.Lines[0]), 60))
			}
			continue
		}
		o := s.queue[0]
		s.queue = s.queue[1:]
		if err := s.judge(o, r); err != nil {
			return out, used, err
		}
		s.apply(o, r)
	}
	if s.tls {
		return out, len(buf), nil
	}
	if closed && used < len(buf) && bytes.IndexByte(buf[used:], '\n') >= 0 && !s.lost {
		return out, used, fmt.Errorf("connection closed inside a multi-line reply: %q", excerpt(buf[used:], 80))
	}
	return out, used, nil
}

// judge checks that reply r may answer o.
func (s *smtpSession) judge(o owed, r Reply) error {
	if s.lost || r.Code == 421 {
		return nil
	}
	switch {
	case o.verb == "" && r.Code != 220 && r.Code != 554:
		return fmt.Errorf("greeting %d, not 220 or 554 (RFC 5321 3.1)", r.Code)
	case r.Code == 354 && o.verb != "DATA":
		return fmt.Errorf("354 in reply to %s, not to DATA (RFC 5321 4.3.2)", describe(o))
	case o.verb == "DATA" && r.Code/100 == 2:
		return fmt.Errorf("%d in reply to DATA: RFC 5321 4.3.2 lists 354 or an error for it", r.Code)
	case o.verb == "." && r.Code/100 == 3:
		return fmt.Errorf("%d in reply to the end of a message text (RFC 5321 4.3.2: 250 or an error)", r.Code)
	}
	return nil
}

func describe(o owed) string {
	switch o.verb {
	case "":
		return "nothing (the greeting)"
	case ".":
		return "the end of a message text"
	}
	return o.verb
}

// apply updates the transaction with reply r to o, and finds out when
// Sent's guess about a DATA was wrong.
func (s *smtpSession) apply(o owed, r Reply) {
	ok := r.Code/100 == 2
	switch o.verb {
	case "":
		// After a 554 greeting the server answers 503 to all but QUIT
		// (RFC 5321 3.1): the transaction guesses are off.
		s.lost = s.lost || r.Code != 220
	case "EHLO", "HELO":
		if ok {
			s.helo, s.mail, s.rcpt = true, false, false
		}
	case "RSET":
		if ok {
			s.mail, s.rcpt = false, false
		}
	case "MAIL":
		s.mail = s.mail || ok
	case "RCPT":
		s.rcpt = s.rcpt || ok
	case "DATA":
		if (r.Code == 354) != o.text {
			// The bytes after DATA were read the wrong way: from now on
			// they are read as the server reads them.
			s.lost = true
			s.inText, s.lineStart = r.Code == 354, true
			s.buf = nil
		}
		if r.Code != 354 {
			s.mail, s.rcpt = false, false
		}
	case ".":
		s.mail, s.rcpt = false, false
	case "STARTTLS":
		if r.Code == 220 {
			s.tls = true
		}
	case "QUIT":
		s.quit = true
	}
	if r.Code == 421 {
		s.quit = true
	}
	if len(s.queue) == 0 {
		s.pHelo, s.pMail, s.pRcpt = s.helo, s.mail, s.rcpt
	}
}
