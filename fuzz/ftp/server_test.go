package ftpfuzz

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

// replyWait bounds the wait for one reply: a server that has not answered
// by then hangs (a failed PASS may be delayed a second on purpose). It
// stays under the 10 s after which go test -fuzz calls an input hung.
const replyWait = 8 * time.Second

// maxScriptLines bounds the commands of one input.
const maxScriptLines = 48

// serverSeeds are scripts: one command a line, "!cut" resets the next
// upload's data connection half way.
var serverSeeds = []string{
	"SYST\nFEAT\nQUIT\n",
	"TYPE I\nPASV\nRETR " + fixtureFile + "\n",
	"PASV\nSTOR " + fixtureUpload + "/seed-a.bin\n",
	"TYPE I\n!cut\nPASV\nSTOR " + fixtureUpload + "/seed-b.bin\nPASV\nNLST " + fixtureUpload + "\n",
	"PORT 127,0,0,1,0,21\nRETR " + fixtureFile + "\n",
	"EPRT |1|127.0.0.1|21|\nLIST\n",
	"EPSV\nLIST\nPASV\nNLST pub\nPASV\nMLSD pub\n",
	"REST 3\nPASV\nRETR " + fixtureFile + "\nABOR\n",
	"RNFR " + fixtureUpload + "/nothing\nRNTO ../x\nRNTO y\n",
	"CWD ../../..\nPWD\nCDUP\nCWD ~\nCWD /etc\nSIZE /etc/passwd\n",
	"TYPE A\nPASV\nAPPE " + fixtureUpload + "/seed-c.txt\nMDTM " + fixtureUpload + "/seed-c.txt\nDELE " + fixtureUpload + "/seed-c.txt\n",
	"MODE B\nSTRU R\nTYPE E\nTYPE L 8\nALLO 100\nSTAT\nHELP\nNOOP\n",
	"USER anonymous\nPASS guest@example.org\nPASV\nSTOR " + fixtureUpload + "/anon.bin\n",
	"REIN\nPASV\nUSER " + fixtureUser + "\nPASS wrong\nRETR " + fixtureFile + "\n",
	"PASV\nPASV\nPASV\nEPSV ALL\nPASV\nEPSV\nRETR " + fixtureFile + "\n",
}

var (
	fuzzOnce sync.Once
	fuzzAddr string
	fuzzErr  error
)

// fuzzTarget is the control address of the server fuzzed, opened once for
// the life of the process: the embedded reference, or the server at
// $PROTOSPEC_FTP_FUZZ_TARGET (an address or launcher name, to fuzz
// another server with the same oracles).
func fuzzTarget(f *testing.F) string {
	spec := os.Getenv("PROTOSPEC_FTP_FUZZ_TARGET")
	if spec == "" {
		if _, ok := reference.Lookup(contractName); !ok {
			f.Skip("no FTP reference is registered in this build")
		}
		spec = "reference"
	}
	fuzzOnce.Do(func() {
		var t targets.Target
		t, fuzzErr = targets.Open(context.Background(), spec, targets.Options{Protocol: contractName})
		if fuzzErr != nil {
			return
		}
		var ep targets.Endpoint
		ep, fuzzErr = t.Endpoint(ftpService)
		fuzzAddr = ep.Addr
	})
	if fuzzErr != nil {
		f.Fatal(fuzzErr)
	}
	return fuzzAddr
}

// FuzzServer drives the whole server with command scripts on the
// control connection, making the data connections as asked (passive ones
// dialled, PORT and EPRT rewritten to a listener of the test's, so that
// the server never connects anywhere else). It fails when the server
// does not answer a command in time (a hang; a panic of the in-process
// reference takes the test down by itself), when it answers 226 to an
// upload whose data connection was reset, and when a file a 226 stored
// does not read back as sent.
func FuzzServer(f *testing.F) {
	for _, s := range serverSeeds {
		f.Add([]byte(s))
	}
	addr := fuzzTarget(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		runScript(t, addr, in)
	})
}

// script is one input's run.
type script struct {
	t       *testing.T
	k       *ctl
	d       dial.Dialer
	pasv    string       // the endpoint of the last 227/229
	active  net.Listener // the listener of the last PORT/EPRT
	restArg bool         // a REST is pending
	cut     bool         // reset the next upload half way
	n       int          // uploads so far
}

func runScript(t *testing.T, addr string, in []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), replyWait)
	defer cancel()
	s := &script{t: t}
	k, err := dialCtl(ctx, &s.d, addr, replyWait)
	if err != nil {
		t.Fatalf("greeting: %v", err)
	}
	s.k = k
	defer func() {
		if tc := dial.TCPConn(k.c); tc != nil {
			tc.SetLinger(0)
		}
		k.c.Close()
		if s.active != nil {
			s.active.Close()
		}
	}()
	lines := strings.Split(string(in), "\n")
	if len(lines) > maxScriptLines {
		lines = lines[:maxScriptLines]
	}
	if len(lines) == 0 || !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(lines[0])), "USER") {
		k.c.SetDeadline(time.Now().Add(replyWait))
		if err := k.login(); err != nil {
			t.Fatalf("login: %v", err)
		}
	}
	for _, line := range lines {
		line = strings.TrimRight(line, "\r")
		if len(line) > 8<<10 {
			line = line[:8<<10]
		}
		if line == "!cut" {
			s.cut = true
			continue
		}
		if line == "" {
			continue
		}
		if !s.command(line) {
			return
		}
	}
}

// command sends one line and judges the reply; false ends the script.
func (s *script) command(line string) bool {
	verb, arg, _ := strings.Cut(stripTelnet(line), " ")
	verb = strings.ToUpper(verb)
	switch verb {
	case "PORT", "EPRT":
		line = s.listen(verb)
		if line == "" {
			return false
		}
	}
	upload := verb == "STOR" || verb == "APPE" || verb == "STOU"
	var data *dataConnResult
	if transferVerbs[verb] {
		data = s.startData(upload)
	}
	s.k.c.SetDeadline(time.Now().Add(replyWait))
	if _, err := io.WriteString(s.k.c, line+"\r\n"); err != nil {
		return false // the server closed (QUIT, 421)
	}
	code, text, err := s.k.reply()
	if data != nil {
		if err != nil || code/100 != 2 {
			data.abort() // no transfer: the connection is not used
		}
		data.wait()
	}
	if err != nil {
		if isClosed(err) {
			return false
		}
		s.t.Fatalf("no reply to %q within %v: %v", line, replyWait, err)
	}
	switch {
	case code == 227:
		if ap, ok := pasvAddr(text); ok {
			s.pasv = ap
		}
	case code == 229:
		if p, ok := epsvPort(text); ok {
			host, _, _ := net.SplitHostPort(s.k.c.RemoteAddr().String())
			s.pasv = net.JoinHostPort(host, fmt.Sprint(p))
		}
	case code == 350 && verb == "REST":
		s.restArg = true
	case code == 234, code == 221, code == 421:
		return false // TLS from here on, or the end
	}
	if upload && data != nil && data.sent != nil {
		if data.reset && code == 226 {
			s.t.Fatalf("226 to %q, whose data connection was reset after %d of %d bytes", line, len(data.sent)/2, len(data.sent))
		}
		if !data.reset && code == 226 && verb == "STOR" && !s.restArg {
			s.readBack(arg, data.sent)
		}
	}
	if transferVerbs[verb] {
		s.restArg = false
	}
	return true
}

func isClosed(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "closed"))
}

// listen opens the test's listener for PORT or EPRT and returns the
// command naming it.
func (s *script) listen(verb string) string {
	if s.active != nil {
		s.active.Close()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	s.active = l
	p := l.Addr().(*net.TCPAddr).Port
	if verb == "PORT" {
		return fmt.Sprintf("PORT 127,0,0,1,%d,%d", p>>8, p&0xff)
	}
	return fmt.Sprintf("EPRT |1|127.0.0.1|%d|", p)
}

// dataConnResult is one data connection of the script.
type dataConnResult struct {
	mu    sync.Mutex
	c     net.Conn
	l     net.Listener // an active-mode listener not yet accepted from
	done  chan struct{}
	sent  []byte // what an upload sent (nil: none made)
	got   []byte
	reset bool
}

// abort closes the data connection, made or still to come (and the
// listener waiting for it).
func (r *dataConnResult) abort() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		r.c.Close()
	}
	if r.l != nil {
		r.l.Close()
	}
	r.c = aborted{}
}

// aborted stands for a data connection closed before it was made.
type aborted struct{ net.Conn }

func (aborted) Close() error { return nil }

func (r *dataConnResult) wait() {
	select {
	case <-r.done:
	case <-time.After(replyWait):
	}
}

// startData makes the data connection of a transfer command: dialled
// now for passive mode, accepted for active mode.
func (s *script) startData(upload bool) *dataConnResult {
	r := &dataConnResult{done: make(chan struct{})}
	if upload {
		s.n++
		r.sent = payload(s.n, 1+(s.n*7919)%9000)
		r.reset = s.cut
		s.cut = false
	}
	var conn func() (net.Conn, error)
	switch {
	case s.pasv != "":
		addr := s.pasv
		s.pasv = ""
		c, err := s.d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr})
		conn = func() (net.Conn, error) { return c, err }
	case s.active != nil:
		l := s.active
		s.active = nil
		r.l = l
		conn = func() (net.Conn, error) {
			defer l.Close()
			l.(*net.TCPListener).SetDeadline(time.Now().Add(replyWait))
			return l.Accept()
		}
	default:
		r.sent = nil
		close(r.done)
		return r
	}
	go func() {
		defer close(r.done)
		c, err := conn()
		if err != nil {
			r.sent = nil
			return
		}
		defer c.Close()
		r.mu.Lock()
		if _, ok := r.c.(aborted); ok {
			r.mu.Unlock()
			return
		}
		r.c = c
		r.mu.Unlock()
		c.SetDeadline(time.Now().Add(replyWait))
		if !upload {
			r.got, _ = io.ReadAll(io.LimitReader(c, 16<<20))
			return
		}
		if r.reset {
			c.Write(r.sent[:len(r.sent)/2])
			time.Sleep(10 * time.Millisecond)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // close with RST: the upload is cut
			}
			return
		}
		if _, err := c.Write(r.sent); err != nil {
			r.sent = nil
		}
	}()
	return r
}

// payload is an upload's content: no CR or LF, so that it reads back the
// same in any TYPE.
func payload(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(' ' + (seed*31+i*7)%90)
	}
	return b
}

// readBack retrieves name over a new passive connection and compares it
// with what was stored; a file that cannot be read back (a name the
// server maps or globs) is not judged, one that reads back different is.
func (s *script) readBack(name string, want []byte) {
	s.k.c.SetDeadline(time.Now().Add(replyWait))
	addr, err := s.k.pasv()
	if err != nil {
		return
	}
	dc, err := s.d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		s.t.Fatalf("read back %q: data connection: %v", name, err)
	}
	defer dc.Close()
	dc.SetDeadline(time.Now().Add(replyWait))
	if _, err := io.WriteString(s.k.c, "RETR "+name+"\r\n"); err != nil {
		return
	}
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(io.LimitReader(dc, 16<<20)); got <- b }()
	code, _, err := s.k.reply()
	if err != nil {
		s.t.Fatalf("read back %q: %v", name, err)
	}
	if code != 226 {
		dc.Close()
		<-got
		return
	}
	if b := <-got; !bytes.Equal(b, want) {
		s.t.Fatalf("STOR %q was answered 226, but the file reads back as %d bytes, not the %d sent", name, len(b), len(want))
	}
	s.k.cmd("DELE " + name)
}

// transferVerbs use a data connection.
var transferVerbs = map[string]bool{"RETR": true, "STOR": true, "STOU": true, "APPE": true, "LIST": true, "NLST": true, "MLSD": true}
