package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
	"github.com/protospec/protospec/suites/spec"
)

// The suite's SMTP client: a session that reads replies as RFC 5321 4.2
// frames them (the FTP reply grammar: "ddd text", or "ddd-text" lines
// ended by "ddd text"), sends commands and message text, and upgrades with
// STARTTLS. It judges nothing by itself: the specs check what it returns.

// Bounds of what the client reads.
const (
	maxReplyLine  = 8 << 10
	maxReplyLines = 1000
)

// reply is one SMTP reply: its code and its lines (without end of line).
type reply struct {
	code  int
	lines []string
	raw   []byte
	// bareLF is set when a line ended in LF alone.
	bareLF bool
	// multi is set when the reply used the multi-line form.
	multi bool
}

// class is the reply's first digit.
func (r reply) class() int { return r.code / 100 }

func (r reply) String() string {
	if r.code == 0 {
		return "no reply"
	}
	return spec.Excerpt(r.raw, 300)
}

// texts are the reply's lines with the code and its separator taken off.
func (r reply) texts() []string {
	out := make([]string, len(r.lines))
	for i, l := range r.lines {
		if len(l) >= 4 {
			out[i] = l[4:]
		} else {
			out[i] = ""
		}
	}
	return out
}

// text is the first line's text.
func (r reply) text() string {
	if t := r.texts(); len(t) > 0 {
		return t[0]
	}
	return ""
}

// enhancedRE is an enhanced status code (RFC 3463 2, RFC 2034 4):
// class "." subject "." detail.
var enhancedRE = regexp.MustCompile(`^([245])\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})( |$)`)

// enhanced returns the enhanced status code at the start of line i's text.
func (r reply) enhanced(i int) (string, bool) {
	t := r.texts()
	if i >= len(t) {
		return "", false
	}
	m := enhancedRE.FindString(t[i])
	return strings.TrimSpace(m), m != ""
}

// lineSource hands the wire codec one line of the connection per Read,
// so that the codec never reads past the reply it frames.
type lineSource struct {
	c       *spec.Conn
	pending []byte
	err     error
}

func (s *lineSource) Read(p []byte) (int, error) {
	if len(s.pending) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		line, err := s.c.ReadLine(maxReplyLine)
		s.pending, s.err = line, err
		if len(line) == 0 {
			return 0, err
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// readReply reads one reply with the wire codec of internal/wire/ftp
// (RFC 5321 4.2.1 shares RFC 959's multi-line form). Its non-fatal
// problems (a bare LF, a code without its space) are the specs' to judge.
func readReply(c *spec.Conn) (reply, error) {
	rep, err := ftpwire.ReadReply(bufio.NewReader(&lineSource{c: c}), ftpwire.Limits{MaxLine: maxReplyLine, MaxLines: maxReplyLines})
	r := reply{code: rep.Code, raw: rep.Raw}
	for _, l := range bytes.SplitAfter(rep.Raw, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		s := string(l)
		switch {
		case strings.HasSuffix(s, "\r\n"):
			s = s[:len(s)-2]
		case strings.HasSuffix(s, "\n"):
			s = s[:len(s)-1]
			r.bareLF = true
		}
		r.lines = append(r.lines, s)
	}
	r.multi = len(r.lines) > 1
	var pe *ftpwire.ProblemError
	if errors.As(err, &pe) && !pe.Fatal {
		err = nil
	}
	if err != nil && len(r.raw) == 0 {
		return r, err
	}
	if err != nil {
		return r, fmt.Errorf("%v (read %s)", err, spec.Excerpt(r.raw, 200))
	}
	return r, nil
}

// session is one SMTP session of the suite.
type session struct {
	t     *spec.T
	c     *spec.Conn
	greet reply
	// ehloReply is the last reply to EHLO, ext its keywords (upper case)
	// with their parameters.
	ehloReply reply
	ext       map[string]string
	tls       bool
}

// dial connects and reads the greeting, failing the spec unless it is 220
// (a 554 greeting, RFC 5321 3.1, leaves nothing to test: the spec is
// skipped).
func dial(t *spec.T) *session {
	c := t.Dial(service)
	s := &session{t: t, c: c}
	r := s.read()
	if r.code == 554 {
		t.Skipf("not applicable: the target refuses the session with 554 (RFC 5321 3.1): %s", r)
	}
	if r.code != 220 {
		t.Mismatch("a 220 greeting (RFC 5321 3.1, 4.3.2)", "%s", r)
	}
	s.greet = r
	return s
}

// hello is dial and a successful EHLO.
func hello(t *spec.T) *session {
	s := dial(t)
	s.ehlo()
	return s
}

// send writes one command line with its CR LF.
func (s *session) send(line string) { s.c.Send(line + "\r\n") }

// read reads one reply, failing the spec when none comes.
func (s *session) read() reply {
	r, err := readReply(s.c)
	s.t.Check(err)
	return r
}

// cmd sends a command and reads its reply.
func (s *session) cmd(line string) reply {
	s.send(line)
	return s.read()
}

// must sends a command and fails the spec unless the reply's code is one
// of codes (a one-digit code stands for its class).
func (s *session) must(line string, codes ...int) reply {
	r := s.cmd(line)
	expectCode(s.t, r, fmt.Sprintf("the reply to %q", line), codes...)
	return r
}

// ehlo sends EHLO and records the extensions of its 250.
func (s *session) ehlo() reply {
	r := s.must("EHLO "+clientName, 250)
	s.ehloReply = r
	s.ext = map[string]string{}
	for _, l := range r.texts()[1:] {
		kw, param, _ := strings.Cut(l, " ")
		s.ext[strings.ToUpper(kw)] = param
	}
	return r
}

// has reports whether the last EHLO announced keyword.
func (s *session) has(keyword string) bool {
	_, ok := s.ext[keyword]
	return ok
}

// need skips the spec unless the last EHLO announced keyword.
func (s *session) need(keyword string) {
	if !s.has(keyword) {
		s.t.Skipf("not applicable: the target does not announce %s in its EHLO reply", keyword)
	}
}

// starttls upgrades the session (EHLO must have announced STARTTLS) and
// sends EHLO again, as RFC 3207 4.2 has the client do.
func (s *session) starttls() {
	s.t.Require(featureSTARTTLS)
	s.need("STARTTLS")
	s.must("STARTTLS", 220)
	s.t.Check(s.c.StartTLS(s.t.TLSConfig(service)))
	s.tls = true
	s.ehlo()
}

// mail opens a transaction from the fixture's sender.
func (s *session) mail(params ...string) {
	s.must(strings.Join(append([]string{"MAIL FROM:<" + sender + ">"}, params...), " "), 250)
}

// rcpt adds a recipient that must be accepted.
func (s *session) rcpt(to string) {
	s.must("RCPT TO:<"+to+">", 250, 251)
}

// data sends DATA, expects 354, sends the text dot-stuffed and returns
// the reply to the end of data.
func (s *session) data(text []byte) reply {
	s.must("DATA", 354)
	s.c.Send(stuff(text))
	return s.read()
}

// deliver runs a whole transaction to the recipients and fails the spec
// unless the end of data gets 250.
func (s *session) deliver(l letter, to ...string) {
	s.mail()
	for _, r := range to {
		s.rcpt(r)
	}
	expectCode(s.t, s.data(l.raw), "the reply to the end of data", 250)
}

// alive checks that the session still answers: NOOP gets 250.
func (s *session) alive(after string) {
	r := s.cmd("NOOP")
	if r.code != 250 {
		s.t.Mismatch("250 to NOOP "+after+" (the session goes on)", "%s", r)
	}
}

// quiet reads for a while and fails if anything arrives: one reply per
// command (RFC 5321 4.2).
func (s *session) quiet(after string) {
	got, _, err := s.c.ReadFor(s.c.Scaled(quietTime), 0)
	s.t.Check(err)
	if len(got) > 0 {
		s.t.Mismatch("no further reply "+after+" (RFC 5321 4.2: exactly one reply per command)", "%s", spec.Excerpt(got, 200))
	}
}

// quit sends QUIT and expects 221 and the close.
func (s *session) quit() {
	s.must("QUIT", 221)
	s.t.Check(s.c.ExpectClosed(s.t.StepTimeout()))
}

// expectCode fails the spec unless r's code is one of codes (a one-digit
// code stands for its class).
func expectCode(t *spec.T, r reply, what string, codes ...int) {
	if codeIn(r.code, codes) {
		return
	}
	t.Mismatch(what+" with code "+codeList(codes), "%s", r)
}

func codeIn(code int, codes []int) bool {
	for _, c := range codes {
		if c == code || c < 10 && code/100 == c {
			return true
		}
	}
	return false
}

func codeList(codes []int) string {
	var s []string
	for _, c := range codes {
		if c < 10 {
			s = append(s, fmt.Sprintf("%dyz", c))
		} else {
			s = append(s, strconv.Itoa(c))
		}
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// stuff returns text as it goes on the wire after DATA: each line
// starting with a period gets one more (RFC 5321 4.5.2), then the end of
// data. text ends with CRLF.
func stuff(text []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(text, []byte("\r\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}

// servesAnother checks that a fresh session delivers meanwhile: the server
// is not stuck on the hostile one.
func servesAnother(t *spec.T) {
	dir := maildir(t)
	s := hello(t)
	l := newLetter("served meanwhile\r\n")
	s.deliver(l, rcptBob)
	expectDelivered(t, dir, boxBob, l)
	s.quit()
}

// wait sleeps d (scaled), or until the spec ends.
func wait(t *spec.T, d time.Duration) {
	select {
	case <-time.After(t.Scaled(d)):
	case <-t.Context().Done():
	}
}

// parseReplies frames the replies in b, bytes a spec read in one go.
func parseReplies(b []byte) ([]reply, error) {
	br := bufio.NewReader(bytes.NewReader(b))
	var out []reply
	for {
		if _, err := br.Peek(1); err != nil {
			return out, nil
		}
		rep, err := ftpwire.ReadReply(br, ftpwire.Limits{MaxLine: maxReplyLine, MaxLines: maxReplyLines})
		var pe *ftpwire.ProblemError
		if errors.As(err, &pe) && !pe.Fatal {
			err = nil
		}
		if err != nil {
			return out, fmt.Errorf("%v in %s", err, spec.Excerpt(b, 200))
		}
		r := reply{code: rep.Code, raw: rep.Raw}
		for _, l := range strings.SplitAfter(string(rep.Raw), "\n") {
			if l != "" {
				r.lines = append(r.lines, strings.TrimRight(l, "\r\n"))
			}
		}
		r.multi = len(r.lines) > 1
		out = append(out, r)
	}
}

// readN reads n replies, failing the spec when one does not come.
func (s *session) readN(n int) []reply {
	out := make([]reply, n)
	for i := range out {
		out[i] = s.read()
	}
	return out
}
