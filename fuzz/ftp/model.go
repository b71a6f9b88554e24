package ftpfuzz

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/internal/dial"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

func init() { engine.Register(contractName, func() engine.Model { return ftpModel{} }) }

// ftpModel fuzzes FTP servers (RFC 959 and extensions) over the control
// connection, with the data connections made for real: a 227 or 229
// reply's endpoint is dialled when a transfer command follows (RETR and
// the listings are read to the end, STOR and APPE send a small file),
// and PORT or EPRT name a listener of this process ({{port}}, {{eprt}})
// that accepts the server's data connections. Values of earlier replies
// feed later commands: the 257 reply's directory ({{cwd}}).
type ftpModel struct{}

func (ftpModel) Name() string                  { return contractName }
func (ftpModel) Services() []string            { return []string{ftpService} }
func (ftpModel) SeedStep(b []byte) engine.Step { return engine.Step{Service: ftpService, Data: b} }

// Fixture names the seeds use: the fixture's user, its writable
// directory and public files.
var (
	seedUser   = fixtureUser
	seedPass   = fixturePass
	seedFile   = fixtureFile
	seedUpload = fixtureUpload
)

func (ftpModel) Seeds() []engine.Input {
	st := func(conn int, s string) engine.Step {
		return engine.Step{Service: ftpService, Conn: conn, Data: []byte(s)}
	}
	login := func(conn int) []engine.Step {
		return []engine.Step{st(conn, "USER "+seedUser+"\r\n"), st(conn, "PASS "+seedPass+"\r\n")}
	}
	seq := func(cmds ...string) engine.Input {
		in := engine.Input{Steps: login(0)}
		for _, c := range cmds {
			in.Steps = append(in.Steps, st(0, c))
		}
		return in
	}
	cwd := st(0, "CWD {{cwd}}\r\n")
	cwd.Use = "cwd"
	return []engine.Input{
		{Steps: []engine.Step{st(0, "USER anonymous\r\n"), st(0, "PASS guest@example.org\r\n"), st(0, "SYST\r\n"), st(0, "QUIT\r\n")}},
		seq("TYPE I\r\n", "PASV\r\n", "RETR "+seedFile+"\r\n"),
		seq("TYPE A\r\n", "EPSV\r\n", "LIST\r\n"),
		seq("PASV\r\n", "NLST\r\n", "FEAT\r\n"),
		seq("TYPE I\r\n", "PASV\r\n", "STOR "+seedUpload+"/fuzz.bin\r\n", "SIZE "+seedUpload+"/fuzz.bin\r\n"),
		seq("PORT {{port}}\r\n", "RETR "+seedFile+"\r\n"),
		seq("EPRT {{eprt}}\r\n", "LIST\r\n"),
		seq("PWD\r\n", "MKD "+seedUpload+"/d\r\n", "RNFR "+seedUpload+"/d\r\n", "RNTO "+seedUpload+"/e\r\n", "RMD "+seedUpload+"/e\r\n"),
		{Steps: append(login(0), st(0, "PWD\r\n"), cwd, st(0, "CDUP\r\n"), st(0, "STAT\r\n"))},
		seq("REST 5\r\n", "PASV\r\n", "RETR "+seedFile+"\r\n", "MDTM "+seedFile+"\r\n"),
		seq("OPTS UTF8 ON\r\n", "PASV\r\n", "MLSD\r\n", "MLST "+seedFile+"\r\n"),
		{Steps: []engine.Step{st(0, "NOOP\r\nHELP\r\nUSER "+seedUser+"\r\nPASS "+seedPass+"\r\n"), st(1, "USER nobody\r\n")}},
		{Steps: []engine.Step{st(0, "RNTO x\r\n"), st(0, "PASS early\r\n"), st(0, "QUIT\r\n")}},
	}
}

func (ftpModel) Probe() engine.Input {
	return engine.Input{Steps: []engine.Step{{Service: ftpService, Data: []byte("NOOP\r\n")}}}
}

func (ftpModel) NewSession(string) engine.Session { return &ftpSession{} }

// Render fills {{port}} and {{eprt}} with this process's active-mode
// listener, and the values earlier replies gave.
func (ftpModel) Render(st engine.Step, vars map[string]string) []byte {
	return loopbackOnly(render(st, vars))
}

// loopbackOnly rewrites a PORT or EPRT line whose address parses but is
// not a loopback one to 127.0.0.2, the same port: a mutated argument
// still asks for a bounce, but a target that bounces reaches no other
// machine.
func loopbackOnly(data []byte) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	changed := false
	for i, l := range lines {
		verb, arg, ok := bytes.Cut(bytes.TrimRight(l, "\r\n"), []byte(" "))
		if !ok {
			continue
		}
		var ap netip.AddrPort
		var err error
		switch strings.ToUpper(string(bytes.TrimSpace(verb))) {
		case "PORT":
			ap, err = ftpwire.ParseHostPort(string(arg))
		case "EPRT":
			ap, err = ftpwire.ParseEPRT(string(arg))
		default:
			continue
		}
		if err != nil || ap.Addr().IsLoopback() {
			continue
		}
		to := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 2}), ap.Port())
		form := ftpwire.FormatHostPort(to)
		if strings.EqualFold(string(bytes.TrimSpace(verb)), "EPRT") {
			form = ftpwire.FormatEPRT(to)
		}
		lines[i] = append(append(append([]byte{}, verb...), ' '), form+string(l[len(bytes.TrimRight(l, "\r\n")):])...)
		changed = true
	}
	if !changed {
		return data
	}
	return bytes.Join(lines, nil)
}

func render(st engine.Step, vars map[string]string) []byte {
	data := st.Data
	if !bytes.Contains(data, []byte("{{")) {
		return data
	}
	v := map[string]string{}
	for k, x := range vars {
		v[k] = x
	}
	if ap, ok := activeAddr(); ok {
		ip := ap.IP.To4()
		if ip != nil {
			v["port"] = fmt.Sprintf("%d,%d,%d,%d,%d,%d", ip[0], ip[1], ip[2], ip[3], ap.Port>>8, ap.Port&0xff)
			v["eprt"] = fmt.Sprintf("|1|%s|%d|", ip, ap.Port)
		}
	}
	return engine.RenderTemplate(data, v)
}

var verbs = []string{"USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "REIN", "QUIT", "PORT", "PASV", "TYPE", "STRU", "MODE",
	"RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD", "MKD", "PWD", "LIST", "NLST",
	"SITE", "SYST", "STAT", "HELP", "NOOP", "FEAT", "OPTS", "EPRT", "EPSV", "MDTM", "SIZE", "MLST", "MLSD", "AUTH", "PBSZ",
	"PROT", "HOST", "XPWD", "XMKD", "LPRT", "LPSV"}

// odd arguments: traversal, bounces, numbers at their edges, long and
// binary strings. A bounce names another loopback address (127.0.0.2):
// a target that bounces must not reach off the machine.
var odd = []string{"", "..", "../../../../etc/passwd", "/", "~", "~root", "/etc/passwd", "a/../../b", ".\x00.", "%2e%2e/",
	"127,0,0,1,0,21", "127,0,0,2,0,80", "127,0,0,1,256,1", "1,2,3", "|2|::1|21|", "|1|127.0.0.2|80|", "|3|x|1|", "|||",
	"A", "I", "E", "L 8", "A N", "S", "B", "C", "F", "R", "P", "-1", "0", "4294967296", "99999999999999999999",
	"ALL", "1", "2", "UTF8 ON", "MLST type;size;", "TLS", "SSL", "C", "localhost", "*", "-la", "\xff\xfe", "é/ü"}

var ftpMutations = []string{"verb", "arg", "case", "line-ending", "long-line", "split", "pipeline", "telnet", "nul"}

func (ftpModel) Mutate(r *rand.Rand, in *engine.Input, i int) string {
	st := &in.Steps[i]
	name := ftpMutations[r.IntN(len(ftpMutations))]
	line := strings.TrimRight(string(st.Data), "\r\n")
	verb, arg, _ := strings.Cut(line, " ")
	eol := "\r\n"
	switch name {
	case "verb":
		verb = verbs[r.IntN(len(verbs))]
	case "arg":
		arg = odd[r.IntN(len(odd))]
	case "case":
		verb = strings.ToLower(verb)
		if r.IntN(2) == 0 && len(verb) > 1 {
			verb = strings.ToUpper(verb[:1]) + verb[1:]
		}
	case "line-ending":
		eol = []string{"\n", "\r", "", "\r\r\n", "\n\r", "\r\n\r\n"}[r.IntN(6)]
	case "long-line":
		arg = strings.Repeat(string(rune('a'+r.IntN(26))), []int{255, 256, 511, 512, 1024, 4096, 8191, 8192, 65536}[r.IntN(9)])
	case "split":
		if len(st.Data) < 2 || len(in.Steps) >= 24 {
			return ""
		}
		k := 1 + r.IntN(len(st.Data)-1)
		rest := *st
		rest.Data = bytes.Clone(st.Data[k:])
		rest.Use = ""
		st.Data = bytes.Clone(st.Data[:k])
		in.Steps = append(in.Steps[:i+1], append([]engine.Step{rest}, in.Steps[i+1:]...)...)
		return name
	case "pipeline":
		other := verbs[r.IntN(len(verbs))] + " " + odd[r.IntN(len(odd))]
		st.Data = []byte(line + "\r\n" + strings.TrimSpace(other) + "\r\n")
		return name
	case "telnet":
		// Telnet IAC sequences (RFC 959 4.1 lets the control connection
		// carry them): IP and Synch before ABOR, a lone IAC, IAC IAC.
		st.Data = append([]byte{0xff, 0xf4, 0xff, 0xf2}[:[]int{2, 4, 1}[r.IntN(3)]], []byte(line+"\r\n")...)
		return name
	case "nul":
		if arg == "" {
			arg = "x"
		}
		k := r.IntN(len(arg) + 1)
		arg = arg[:k] + "\x00" + arg[k:]
	}
	out := verb
	if arg != "" {
		out += " " + arg
	}
	st.Data = []byte(out + eol)
	if st.Use != "" && !strings.Contains(out, "{{") {
		st.Use = ""
	}
	return name
}

// knownVerb: commands a server answers with one final reply, however it
// judges them (unknown ones get 500 or 502 just as surely).
func plainLine(l string) bool {
	if len(l) > 500 || strings.ContainsAny(l, "\x00\r\xff") {
		return false
	}
	verb, _, _ := strings.Cut(l, " ")
	if verb == "" || len(verb) > 4 {
		return false
	}
	for _, c := range verb {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// ftpSession counts the replies owed and frames them.
type ftpSession struct {
	greeted bool
	user    string
	quit    bool
	unsure  bool
	// data is the endpoint of the last 227 or 229 reply, not yet used.
	data     string
	epsvPort int
	buf      []byte
}

// Sent counts the commands: one final reply each, the greeting first.
// Only plain lines of known shape are sure: PASS may be delayed after a
// failed login, transfers wait on their data connection, QUIT ends the
// answers.
func (s *ftpSession) Sent(data []byte) (int, bool) {
	n, sure := 0, true
	if !s.greeted {
		s.greeted = true
		n++
	}
	s.buf = append(s.buf, data...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		line := string(s.buf[:i])
		s.buf = s.buf[i+1:]
		crlf := strings.HasSuffix(line, "\r")
		line = stripTelnet(strings.TrimSuffix(line, "\r"))
		if s.quit {
			sure = false
			continue
		}
		n++
		verb, arg, _ := strings.Cut(line, " ")
		if !crlf || !plainLine(line) {
			sure = false
		}
		switch strings.ToUpper(verb) {
		case "USER":
			s.user = arg
		case "PASS":
			if !(s.user == seedUser && arg == seedPass) && s.user != "anonymous" {
				sure = false
			}
		case "QUIT", "REIN", "ABOR", "AUTH", "STAT":
			sure = false
			s.quit = s.quit || strings.EqualFold(verb, "QUIT")
		case "RETR", "LIST", "NLST", "MLSD":
			sure = false
			s.transfer(false)
		case "STOR", "APPE", "STOU":
			sure = false
			s.transfer(true)
		}
	}
	if len(s.buf) > 0 {
		sure = false // a partial line is owed nothing yet
	}
	if len(s.buf) > 1<<20 {
		s.buf = nil
	}
	if s.unsure {
		sure = false
	}
	return n, sure && n > 0
}

// transfer makes the data connection a 227 or 229 reply announced.
func (s *ftpSession) transfer(upload bool) {
	addrs := []string{}
	switch {
	case s.data != "":
		addrs = append(addrs, s.data)
	case s.epsvPort > 0:
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(s.epsvPort)), net.JoinHostPort("::1", strconv.Itoa(s.epsvPort)))
	default:
		return
	}
	s.data, s.epsvPort = "", 0
	go dataConn(addrs, upload)
}

// dataTimeout bounds one data connection.
const dataTimeout = 5 * time.Second

// uploadBody is what STOR and APPE send.
var uploadBody = bytes.Repeat([]byte("protospec fuzz upload\r\n"), 40)

// dataConn dials the first endpoint that answers and reads the transfer
// to its end (or sends uploadBody).
func dataConn(addrs []string, upload bool) {
	ctx, cancel := context.WithTimeout(context.Background(), dataTimeout)
	defer cancel()
	d := dial.Dialer{Timeout: dataTimeout / 2}
	for _, a := range addrs {
		c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: a})
		if err != nil {
			continue
		}
		serveData(c, upload)
		return
	}
}

// serveData is one data connection's client side, within dataTimeout.
func serveData(c net.Conn, upload bool) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(dataTimeout))
	if upload {
		c.Write(uploadBody)
		dial.CloseWrite(c)
	}
	io.Copy(io.Discard, io.LimitReader(c, 16<<20))
}

var (
	activeOnce sync.Once
	activeLn   *net.TCPListener
)

// activeAddr is this process's listener for active-mode data connections
// (PORT, EPRT), started once and kept: each connection it accepts gets
// a small file written (the server may be storing) and is read to its
// end (it may be retrieving).
func activeAddr() (*net.TCPAddr, bool) {
	activeOnce.Do(func() {
		l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return
		}
		activeLn = l
		go func() {
			sem := make(chan struct{}, 64)
			for {
				c, err := l.Accept()
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				select {
				case sem <- struct{}{}:
					go func() { defer func() { <-sem }(); serveData(c, true) }()
				default:
					c.Close()
				}
			}
		}()
	})
	if activeLn == nil {
		return nil, false
	}
	return activeLn.Addr().(*net.TCPAddr), true
}

// Parse frames complete replies: a preliminary (1yz) reply is passed
// over (the final one follows), a multi-line reply ends at the line
// that repeats its code with a space.
func (s *ftpSession) Parse(buf []byte, closed bool) ([]engine.Response, int, error) {
	var out []engine.Response
	used := 0
	for {
		code, lines, n, err := nextReply(buf[used:])
		if err != nil {
			return out, used, err
		}
		if n == 0 {
			break
		}
		used += n
		if code < 200 {
			continue
		}
		r := engine.Response{Class: fmt.Sprintf("%dxx", code/100), Detail: strconv.Itoa(code)}
		switch code {
		case 227:
			if ap, ok := pasvAddr(strings.Join(lines, " ")); ok {
				s.data = ap
				r.Vars = map[string]string{"pasv": ap}
			}
		case 229:
			if p, ok := epsvPort(strings.Join(lines, " ")); ok {
				s.epsvPort = p
			}
		case 257:
			if d, ok := quoted(lines[0]); ok {
				r.Vars = map[string]string{"cwd": d}
			}
		}
		out = append(out, r)
	}
	if closed && used < len(buf) && len(bytes.TrimSpace(buf[used:])) > 0 {
		// A reply cut by the close is not a grammar violation of the
		// server's when it closed on purpose (421); only judge whole lines.
		if i := bytes.IndexByte(buf[used:], '\n'); i >= 0 {
			return out, used, fmt.Errorf("connection closed inside a multi-line reply: %q", engine.Excerpt(buf[used:], 80))
		}
	}
	return out, used, nil
}

// maxReplyLine bounds one reply line; longer is a grammar violation of
// this model's (no RFC bound, but no server needs it).
const maxReplyLine = 64 << 10

// nextReply reads one complete reply at the start of b: its code, lines
// and length (0 when incomplete).
func nextReply(b []byte) (int, []string, int, error) {
	var lines []string
	code := -1
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			if len(b)-off > maxReplyLine {
				return 0, nil, 0, fmt.Errorf("reply line longer than %d bytes", maxReplyLine)
			}
			return 0, nil, 0, nil
		}
		line := strings.TrimRight(string(b[off:off+i]), "\r")
		off += i + 1
		c, sep, ok := replyStart(line)
		if code < 0 {
			if !ok {
				return 0, nil, 0, fmt.Errorf("reply %q does not start with a three-digit code and a space or hyphen (RFC 959 4.2)", engine.Excerpt([]byte(line), 60))
			}
			code = c
			lines = append(lines, line)
			if sep == ' ' {
				return code, lines, off, nil
			}
			continue
		}
		if len(lines) < 1024 {
			lines = append(lines, line)
		}
		if ok && c == code && sep == ' ' {
			return code, lines, off, nil
		}
	}
}

// replyStart reads a reply line's code and separator (RFC 959 4.2).
func replyStart(s string) (int, byte, bool) {
	if len(s) < 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '5' || s[2] < '0' || s[2] > '9' {
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

// pasvAddr finds h1,h2,h3,h4,p1,p2 in a 227 reply.
func pasvAddr(text string) (string, bool) {
	i := strings.IndexByte(text, '(')
	j := strings.IndexByte(text, ')')
	cand := text
	if i >= 0 && j > i {
		cand = text[i+1 : j]
	} else if k := strings.LastIndexByte(text, ' '); k >= 0 {
		cand = text[k+1:]
	}
	f := strings.Split(strings.TrimSpace(cand), ",")
	if len(f) != 6 {
		return "", false
	}
	var n [6]int
	for k, x := range f {
		v, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil || v < 0 || v > 255 {
			return "", false
		}
		n[k] = v
	}
	return net.JoinHostPort(fmt.Sprintf("%d.%d.%d.%d", n[0], n[1], n[2], n[3]), strconv.Itoa(n[4]<<8|n[5])), true
}

// epsvPort reads the port of a 229 reply's (|||port|).
func epsvPort(text string) (int, bool) {
	i := strings.IndexByte(text, '(')
	j := strings.LastIndexByte(text, ')')
	if i < 0 || j < i+5 {
		return 0, false
	}
	in := text[i+1 : j]
	f := strings.Split(in, in[:1])
	if len(f) != 5 {
		return 0, false
	}
	p, err := strconv.Atoi(f[3])
	return p, err == nil && p > 0 && p < 65536
}

// quoted reads the "directory" of a 257 reply ("" doubled inside).
func quoted(line string) (string, bool) {
	i := strings.IndexByte(line, '"')
	if i < 0 {
		return "", false
	}
	var b strings.Builder
	for k := i + 1; k < len(line); k++ {
		if line[k] == '"' {
			if k+1 < len(line) && line[k+1] == '"' {
				b.WriteByte('"')
				k++
				continue
			}
			return b.String(), true
		}
		b.WriteByte(line[k])
	}
	return "", false
}

// stripTelnet reads a command line as a server does (RFC 959 4.1: the
// control connection is Telnet, RFC 854): IAC IAC is a 0xFF byte, IAC
// WILL, WONT, DO or DONT take an option byte, any other IAC sequence is
// two bytes, and a lone DM (0xF2) before the command is the end of a
// Synch.
func stripTelnet(s string) string {
	if !strings.ContainsAny(s, "\xff\xf2") {
		return s
	}
	b := []byte(s)
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == 0xff && i+1 < len(b) && b[i+1] == 0xff:
			out = append(out, 0xff)
			i++
		case b[i] == 0xff && i+1 < len(b) && b[i+1] >= 251 && b[i+1] <= 254:
			i += 2
		case b[i] == 0xff:
			i++
		case b[i] == 0xf2 && len(out) == 0:
		default:
			out = append(out, b[i])
		}
	}
	return string(out)
}
