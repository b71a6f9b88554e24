package smtpfuzz

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/targets"
)

// replyWait bounds the wait for one reply: a server that has not answered
// by then hangs. It stays under the 10 s after which go test -fuzz calls
// an input hung.
const replyWait = 8 * time.Second

// maxScriptLines bounds the lines of one input.
const maxScriptLines = 64

// serverSeeds are scripts: one command a line; after a DATA answered 354
// the lines up to a line "." are the message text (stuffed on the wire).
var serverSeeds = []string{
	"EHLO fuzz.test\nMAIL FROM:<" + fixtureFrom + ">\nRCPT TO:<" + fixtureTo + ">\nDATA\nSubject: seed\n\n.dot\n..dots\nbody\n.\nQUIT\n",
	"HELO fuzz.test\nMAIL FROM:<>\nRCPT TO:<Postmaster>\nRCPT TO:<" + fixtureAlice + ">\nRCPT TO:<" + fixtureNobody + ">\nDATA\n\n.\nRSET\n",
	"EHLO fuzz.test\nMAIL FROM:<" + fixtureFrom + "> SIZE=100 BODY=8BITMIME SMTPUTF8\nRCPT TO:<jøran@bob.test>\nRCPT TO:<" + fixturePost + ">\nDATA\nx\n.\n",
	"EHLO fuzz.test\nRCPT TO:<" + fixtureTo + ">\nDATA\nMAIL FROM:<a@b.test>\nMAIL FROM:<a@b.test>\nRCPT TO:<x@" + foreignDomain + ">\nDATA\nVRFY bob\nHELP\nNOOP\n",
	"EHLO [127.0.0.1]\nMAIL FROM:<@alice.test:" + fixtureFrom + ">\nRCPT TO:<\"q q\"@bob.test>\nRCPT TO:<BOB@BOB.TEST>\nDATA\n" + strings.Repeat("y", 999) + "\n.\nMAIL FROM:<x@alice.test>\nRCPT TO:<" + fixtureTo + ">\nDATA\nok\n.\n",
	"!noehlo\nMAIL FROM:<" + fixtureFrom + ">\nSTARTTLS\nEHLO x\nSTARTTLS now\nSTARTTLS\nNOOP\n",
	"EHLO fuzz.test\nMAIL FROM:<" + fixtureFrom + ">\nRCPT TO:<" + fixtureTo + ">\nDATA\nSubject: smuggle\n\nx\r.\rMAIL FROM:<x@" + foreignDomain + ">\n.\n",
}

// fuzzTarget is the server fuzzed: the in-process reference (whose store
// the oracle reads), or the server at $PROTOSPEC_SMTP_FUZZ_TARGET (an
// address or launcher name; its store is read when the target has one,
// targets.Directories).
func fuzzTarget(f *testing.F) (string, *mailstore.Store) {
	spec := os.Getenv("PROTOSPEC_SMTP_FUZZ_TARGET")
	if spec == "" {
		r, err := shared()
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(release) // under go test; the libFuzzer shim runs none
		return r.addr, r.store
	}
	t, err := targets.Open(context.Background(), spec, targets.Options{Protocol: contractName})
	if err != nil {
		f.Fatal(err)
	}
	ep, err := t.Endpoint(smtpService)
	if err != nil {
		f.Fatal(err)
	}
	var st *mailstore.Store
	if d, ok := t.(targets.Directories); ok {
		if dir, err := d.Dir(dirMaildir); err == nil {
			st, _ = mailstore.Open(dir, 0)
		}
	}
	return ep.Addr, st
}

// FuzzServer drives a whole session with a script: it fails when a reply
// is not well formed (RFC 5321 4.2), when the server does not answer a
// command in time (a hang; a panic of the in-process reference takes the
// test down by itself), when a 354 answers anything but DATA or a 2yz
// answers DATA, and when the end of a message text is answered 250 but
// no recipient was accepted, or the store does not hold the message as
// sent for every recipient accepted.
func FuzzServer(f *testing.F) {
	for _, s := range serverSeeds {
		f.Add([]byte(s))
	}
	addr, st := fuzzTarget(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		if err := runScript(addr, st, in); err != nil {
			t.Fatal(err)
		}
	})
}

// script is one input's run.
type script struct {
	k     *ctl
	st    *mailstore.Store
	boxes map[string]string // fixture addresses -> mailboxes
	rcpts []string          // mailboxes of the accepted RCPTs ("" unknown)
	text  []string          // the message text's lines once DATA got 354
	data  bool
}

// errStop ends a script without a failure: the server closed, QUIT, TLS.
var errStop = errors.New("stop")

func runScript(addr string, st *mailstore.Store, in []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), replyWait)
	defer cancel()
	var d dial.Dialer
	k, err := dialCtl(ctx, &d, addr, replyWait)
	if err != nil {
		return err
	}
	defer func() {
		if tc := dial.TCPConn(k.c); tc != nil {
			tc.SetLinger(0)
		}
		k.c.Close()
	}()
	s := &script{k: k, st: st, boxes: mailstore.FixtureMailboxes()}
	lines := strings.Split(string(in), "\n")
	if len(lines) > maxScriptLines {
		lines = lines[:maxScriptLines]
	}
	if len(lines) > 0 && lines[0] == "!noehlo" {
		lines = lines[1:]
	} else if len(lines) == 0 || !strings.HasPrefix(strings.ToUpper(lines[0]), "EHLO ") && !strings.HasPrefix(strings.ToUpper(lines[0]), "HELO ") {
		lines = append([]string{"EHLO fuzz.test"}, lines...)
	}
	for _, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if len(line) > 4<<10 {
			line = line[:4<<10]
		}
		if s.data {
			if line == "." {
				err = s.endText()
			} else {
				s.text = append(s.text, line)
				continue
			}
		} else if line != "" {
			err = s.command(line)
		}
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	if s.data {
		if err := s.endText(); err != nil && !errors.Is(err, errStop) {
			return err
		}
	}
	return nil
}

// send writes b and reads the reply to it.
func (s *script) send(b []byte, what string) (Reply, error) {
	s.k.c.SetDeadline(time.Now().Add(replyWait))
	if _, err := s.k.c.Write(b); err != nil {
		return Reply{}, errStop // the server closed (QUIT, 421)
	}
	r, err := s.k.reply()
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return Reply{}, errors.New("no reply to " + what + " within " + replyWait.String())
		}
		if strings.Contains(err.Error(), "reading a reply") {
			return Reply{}, errStop // closed or reset
		}
		return Reply{}, errors.New("reply to " + what + ": " + err.Error())
	}
	return r, nil
}

// command sends one line and judges its reply.
func (s *script) command(line string) error {
	r, err := s.send([]byte(line+"\r\n"), strings.ToValidUTF8(excerpt([]byte(line), 60), "?"))
	if err != nil {
		return err
	}
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	switch {
	case r.Code == 421, r.Code == 221:
		return errStop
	case r.Code == 354 && verb != "DATA":
		return errors.New("354 in reply to " + excerpt([]byte(line), 60))
	case verb == "DATA" && r.Code/100 == 2:
		return errors.New("DATA answered " + r.Lines[0])
	case verb == "STARTTLS" && r.Code == 220:
		return errStop // TLS from here on
	}
	ok := r.Code/100 == 2
	switch verb {
	case "EHLO", "HELO", "RSET":
		if ok {
			s.rcpts = nil
		}
	case "RCPT":
		if ok {
			s.rcpts = append(s.rcpts, s.mailbox(arg))
		}
	case "DATA":
		if r.Code == 354 {
			s.data, s.text = true, nil
		} else {
			s.rcpts = nil
		}
	}
	return nil
}

// mailbox is the fixture mailbox a RCPT argument names ("" unknown).
func (s *script) mailbox(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	a := strings.ToLower(arg[i+1 : j])
	if k := strings.LastIndexByte(a, ':'); k >= 0 && strings.HasPrefix(a, "@") {
		a = a[k+1:] // a source route (RFC 5321 4.1.2, C.)
	}
	if a == "postmaster" {
		return mailstore.PostmasterMailbox
	}
	return s.boxes[a]
}

var queuedRE = regexp.MustCompile(`queued as (\S+)`)

// endText sends the message text, stuffed, and judges the reply: a 250
// must have recipients, and every known one's mailbox must hold the text
// as sent.
func (s *script) endText() error {
	s.data = false
	var text []byte
	for _, l := range s.text {
		text = append(append(text, l...), '\r', '\n')
	}
	rcpts := s.rcpts
	s.rcpts, s.text = nil, nil
	r, err := s.send(Stuff(text), "the end of the message text")
	if err != nil {
		return err
	}
	switch {
	case r.Code == 421:
		return errStop
	case r.Code/100 == 3:
		return errors.New("the end of the message text answered " + r.Lines[0])
	case r.Code/100 != 2:
		return nil
	case len(rcpts) == 0:
		return errors.New("the end of a message text with no recipient accepted answered " + r.Lines[0])
	case s.st == nil:
		return nil
	}
	id := ""
	if m := queuedRE.FindStringSubmatch(strings.Join(r.Lines, " ")); m != nil {
		id = m[1]
	}
	seen := map[string]bool{}
	for _, box := range rcpts {
		if box == "" || seen[box] {
			continue // one copy per mailbox, however many RCPTs named it
		}
		seen[box] = true
		if err := s.stored(box, id, text); err != nil {
			return errors.New(r.Lines[0] + ", but " + err.Error())
		}
	}
	return nil
}

// stored checks that box holds the message (by id, or among its newest
// messages) ending with text, and deletes it so the store stays small.
func (s *script) stored(box, id string, text []byte) error {
	var ids []string
	if id != "" {
		ids = []string{id}
	} else {
		list, err := s.st.List(box)
		if err != nil {
			return errors.New("mailbox " + box + ": " + err.Error())
		}
		for i := len(list) - 1; i >= 0 && i >= len(list)-50; i-- {
			ids = append(ids, list[i].ID)
		}
	}
	for _, m := range ids {
		b, err := s.st.Read(box, m)
		if err != nil {
			continue
		}
		if bytes.HasSuffix(b, text) {
			s.st.Delete(box, m)
			return nil
		}
		if id != "" {
			return errors.New("message " + id + " in " + box + " does not end with the text sent: " + excerpt(b[max(0, len(b)-len(text)-20):], 200))
		}
	}
	return errors.New("mailbox " + box + " holds no message " + id + " with the text sent")
}
