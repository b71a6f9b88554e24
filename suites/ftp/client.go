package ftp

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
	"github.com/protospec/protospec/suites/spec"
)

// The suite's FTP client: a control connection that reads replies as RFC
// 959 4.2 frames them, and data connections in the four ways a client
// sets them up (PASV, EPSV, PORT, EPRT). It judges nothing by itself:
// the specs check the replies it returns.

// Bounds of what the client reads.
const (
	maxReplyLine  = 8 << 10
	maxReplyLines = 2000
	maxReplyBytes = 512 << 10
	maxData       = 16 << 20
)

// reply is one FTP reply: its code and its lines (without end of line).
type reply struct {
	code  int
	lines []string
	raw   []byte
	// bareLF is set when a line of the reply ended in LF alone instead
	// of the Telnet end-of-line CR LF.
	bareLF bool
	// multi is set when the reply used the multi-line form.
	multi bool
}

// class is the reply's first digit.
func (r reply) class() int { return r.code / 100 }

// text is the reply's lines, the code taken off the first and the last.
func (r reply) text() string {
	parts := make([]string, len(r.lines))
	for i, l := range r.lines {
		if (i == 0 || i == len(r.lines)-1) && replyStart.MatchString(l) {
			l = l[min(4, len(l)):]
		}
		parts[i] = l
	}
	return strings.Join(parts, "\n")
}

func (r reply) String() string {
	if r.code == 0 {
		return "no reply"
	}
	return spec.Excerpt(r.raw, 300)
}

var replyStart = regexp.MustCompile(`^([1-5][0-9][0-9])([ -]|$)`)

// lineSource hands the wire codec one line of the connection per Read:
// the connection's reads keep their deadline, their bound and the
// transcript, and the codec never reads past the reply it frames.
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

// readReply reads one reply with the wire codec (internal/wire/ftp): a
// line "ddd text", or the multi-line form "ddd-text" ... "ddd text" (RFC
// 959 4.2). The codec's non-fatal problems (a bare LF, a code without its
// space) are the specs' to judge: the reply comes back with them noted.
func readReply(c *spec.Conn) (reply, error) {
	rep, err := ftpwire.ReadReply(bufio.NewReader(&lineSource{c: c}), ftpwire.Limits{MaxLine: maxReplyLine, MaxLines: maxReplyLines})
	r := reply{code: rep.Code, raw: rep.Raw}
	for _, l := range bytes.SplitAfter(rep.Raw, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		line, bare := trimEOL(l)
		r.bareLF = r.bareLF || bare
		r.lines = append(r.lines, line)
	}
	r.multi = len(r.lines) > 0 && len(r.lines[0]) > 3 && r.lines[0][3] == '-'
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

// ftpc is one control connection.
type ftpc struct {
	t     *spec.T
	c     *spec.Conn
	greet reply
	// prot is set once PROT P is in force: data connections run TLS.
	prot bool
	// implicit is set when the control connection is TLS from its first
	// byte (run --tls): login then turns on PROT P.
	implicit bool
	tls      *tls.Config
}

// connect dials the control connection and reads the greeting, failing
// the spec unless it is 220 (after an optional 120).
func connect(t *spec.T) *ftpc { return connectFrom(t, "") }

// connectFrom is connect from a chosen loopback source address.
func connectFrom(t *spec.T, source string) *ftpc {
	armCleanup(t)
	c := t.DialFrom(service, source)
	f := &ftpc{t: t, c: c}
	_, f.implicit = c.TLS()
	r := f.read()
	if r.code == 120 {
		r = f.read()
	}
	if r.code != 220 {
		t.Mismatch("a 220 greeting (RFC 959 5.4: 120 then 220, or 220)", "%s", r)
	}
	f.greet = r
	return f
}

// tlsConfig is the client configuration of this session's TLS
// connections: one session cache for the control and data connections,
// since servers may require the data connection to resume the control
// connection's session.
func (f *ftpc) tlsConfig() *tls.Config {
	if f.tls == nil {
		f.tls = f.t.TLSConfig(service)
		f.tls.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	}
	return f.tls
}

// send writes one command line with its CR LF.
func (f *ftpc) send(line string) { f.c.Send(line + "\r\n") }

// read reads one reply, failing the spec when none comes.
func (f *ftpc) read() reply {
	r, err := readReply(f.c)
	f.t.Check(err)
	return r
}

// cmd sends a command and reads its reply.
func (f *ftpc) cmd(line string) reply {
	f.send(line)
	return f.read()
}

// must sends a command and fails the spec unless the reply is one of
// codes (a one-digit code stands for its class).
func (f *ftpc) must(line string, codes ...int) reply {
	r := f.cmd(line)
	expectCode(f.t, r, fmt.Sprintf("the reply to %q", line), codes...)
	return r
}

// login logs in with USER and PASS (RFC 959 5.4: USER 230, or USER 331
// then PASS 230) and, over TLS, turns on PROT P for the data connections.
func (f *ftpc) login(name, pass string) {
	r := f.cmd("USER " + name)
	switch r.code {
	case 230:
	case 331:
		r = f.cmd("PASS " + pass)
		if r.code != 230 && r.code != 202 {
			f.t.Mismatch(fmt.Sprintf("a 230 reply to PASS for the fixture's user %s (protospec fixtures ftp)", name), "%s", r)
		}
	default:
		f.t.Mismatch(fmt.Sprintf("a 230 or 331 reply to USER for the fixture's user %s", name), "%s", r)
	}
	if f.implicit {
		f.must("PBSZ 0", 200)
		f.must("PROT P", 200)
		f.prot = true
	}
}

// loggedIn is a control connection logged in as the fixture's user.
func loggedIn(t *spec.T) *ftpc {
	f := connect(t)
	f.login(user, password)
	return f
}

// anonymous is a control connection logged in anonymously.
func anonymous(t *spec.T) *ftpc {
	t.Require(featureAnonymous)
	f := connect(t)
	f.login(anonUser, anonPass)
	return f
}

// quit ends the session politely, ignoring what happens.
func (f *ftpc) quit() {
	if f.c.TrySend("QUIT\r\n") == nil {
		_, _ = readReply(f.c)
	}
}

// expectCode fails the spec unless r's code is one of codes; a code
// under 10 stands for its class (4 for any 4yz).
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

// controlHost is the IP address of the client's end of the control
// connection.
func (f *ftpc) localIP() netip.Addr {
	ap, _ := netip.ParseAddrPort(f.c.LocalAddr())
	return ap.Addr().Unmap()
}

// serverIP is the IP address of the server's end of the control
// connection.
func (f *ftpc) serverIP() netip.Addr {
	ap, _ := netip.ParseAddrPort(f.c.RemoteAddr())
	return ap.Addr().Unmap()
}

// serverPort is the control connection's server port.
func (f *ftpc) serverPort() int {
	ap, _ := netip.ParseAddrPort(f.c.RemoteAddr())
	return int(ap.Port())
}

// The four ways to set up a data connection.
type dataKind int

const (
	viaPASV dataKind = iota
	viaEPSV
	viaPORT
	viaEPRT
)

func (k dataKind) String() string {
	return [...]string{"PASV", "EPSV", "PORT", "EPRT"}[k]
}

func (k dataKind) passive() bool { return k == viaPASV || k == viaEPSV }

// dataConn is a data connection being set up.
type dataConn struct {
	f    *ftpc
	kind dataKind
	// conn is the connection: dialled at once in passive mode, accepted
	// by get in active mode.
	conn *spec.Conn
	ln   *spec.Listener
	// addr is the passive address the server named.
	addr string
	// secured is set once TLS runs on conn.
	secured bool
}

// parsePASV finds h1,h2,h3,h4,p1,p2 in a 227 reply's text.
func parsePASV(text string) (netip.AddrPort, error) { return ftpwire.ParsePASV(text) }

// parseEPSV reads the port of a 229 reply: (<d><d><d><tcp-port><d>).
func parseEPSV(text string) (int, error) { return ftpwire.ParseEPSV(text) }

// hostPort is PORT's argument for ap: h1,h2,h3,h4,p1,p2.
func hostPort(ap netip.AddrPort) string { return ftpwire.FormatHostPort(ap) }

// eprtArg is EPRT's argument for ap: |1|addr|port| or |2|addr|port|.
func eprtArg(ap netip.AddrPort) string { return ftpwire.FormatEPRT(ap) }

// open sets up a data connection the way kind says, failing the spec if
// the server refuses.
func (f *ftpc) open(kind dataKind) *dataConn {
	d, r := f.tryOpen(kind, "")
	if d == nil {
		f.t.Mismatch(fmt.Sprintf("a data connection set up with %s (RFC 959 5.4: PORT 200, PASV 227; RFC 2428: EPRT 200, EPSV 229)", kind), "%s", r)
	}
	return d
}

// tryOpen is open that returns the refusing reply instead of failing;
// source, when set, is where a passive connection is dialled from.
func (f *ftpc) tryOpen(kind dataKind, source string) (*dataConn, reply) {
	if !kind.passive() {
		f.t.Require(featureActive)
	}
	d := &dataConn{f: f, kind: kind}
	switch kind {
	case viaPASV:
		r := f.cmd("PASV")
		if r.code != 227 {
			return nil, r
		}
		ap, err := parsePASV(r.text())
		if err != nil {
			f.t.Mismatch("a 227 reply naming h1,h2,h3,h4,p1,p2", "%s: %v", r, err)
		}
		d.addr = ap.String()
		return d, dialPassive(f, d, r, source)
	case viaEPSV:
		r := f.cmd("EPSV")
		if r.code != 229 {
			return nil, r
		}
		p, err := parseEPSV(r.text())
		if err != nil {
			f.t.Mismatch("a 229 reply with (|||port|)", "%s: %v", r, err)
		}
		d.addr = netip.AddrPortFrom(f.serverIP(), uint16(p)).String()
		return d, dialPassive(f, d, r, source)
	default:
		ln, err := f.t.Listen(service, f.localIP().String())
		f.t.Check(err)
		d.ln = ln
		ap := netip.AddrPortFrom(f.localIP(), uint16(ln.Port()))
		line := "PORT " + hostPort(ap)
		if kind == viaEPRT {
			line = "EPRT " + eprtArg(ap)
		}
		r := f.cmd(line)
		if r.code != 200 {
			ln.Close()
			return nil, r
		}
		return d, r
	}
}

// dialPassive connects a passive data connection to the address the
// reply r named, and returns r.
func dialPassive(f *ftpc, d *dataConn, r reply, source string) reply {
	c, err := f.t.DialAddr(service, d.addr, source)
	if err != nil {
		f.t.Failf("the server named %s in %s, but: %v", d.addr, r, err)
	}
	d.conn = c
	return r
}

// get returns the data connection once the transfer command is sent: in
// active mode it waits for the server to connect. Over PROT P it runs the
// TLS handshake (the client is the TLS client in both directions, RFC
// 4217 7).
func (d *dataConn) get() *spec.Conn {
	c, err := d.tryGet()
	d.f.t.Check(err)
	return c
}

func (d *dataConn) tryGet() (*spec.Conn, error) {
	if d.conn == nil {
		c, err := d.ln.Accept(0)
		if err != nil {
			return nil, fmt.Errorf("the server did not open the %s data connection to %s: %v", d.kind, d.ln.Addr(), err)
		}
		d.conn = c
	}
	if d.f.prot && !d.secured {
		if err := d.conn.StartTLS(d.f.tlsConfig()); err != nil {
			return nil, fmt.Errorf("TLS on the data connection (PROT P): %v", err)
		}
		d.secured = true
	}
	return d.conn, nil
}

// close drops the data connection (or the listener) if the server did
// not take it.
func (d *dataConn) close() {
	if d.conn != nil {
		d.conn.Close()
	}
	if d.ln != nil {
		d.ln.Close()
	}
}

// transfer is what one data transfer command brought.
type transfer struct {
	// pre is the 1yz reply (code 0 when the server sent none).
	pre reply
	// final is the completion reply: 2yz, 4yz or 5yz.
	final reply
	data  []byte
	// conn is the data connection, when one was made.
	conn *spec.Conn
}

// ok reports a 1yz then a 226 or 250.
func (x transfer) ok() bool {
	return (x.pre.code == 125 || x.pre.code == 150) && (x.final.code == 226 || x.final.code == 250)
}

func (x transfer) String() string {
	if x.pre.code == 0 {
		return x.final.String()
	}
	return x.pre.String() + " then " + x.final.String()
}

// retrieve sends a command that sends data to the client (RETR, LIST,
// NLST, MLSD) over a data connection set up with kind, and reads the
// data to its end and the replies.
func (f *ftpc) retrieve(kind dataKind, line string) transfer {
	return f.retrieveOn(f.open(kind), line)
}

func (f *ftpc) retrieveOn(d *dataConn, line string) transfer {
	var x transfer
	r := f.cmd(line)
	if r.class() != 1 {
		d.close()
		x.final = r
		return x
	}
	x.pre = r
	c := d.get()
	x.conn = c
	data, err := c.ReadUntilClose(maxData)
	f.t.Check(err)
	x.data = data
	// Close at once: over TLS the server may wait for the client's
	// close_notify before it replies.
	c.Close()
	x.final = f.read()
	return x
}

// store sends a command that takes data from the client (STOR, APPE,
// STOU) over a data connection set up with kind, writes data and closes
// the data connection, and reads the replies.
func (f *ftpc) store(kind dataKind, line string, data []byte) transfer {
	return f.storeOn(f.open(kind), line, data)
}

func (f *ftpc) storeOn(d *dataConn, line string, data []byte) transfer {
	f.needUpload()
	var x transfer
	r := f.cmd(line)
	if r.class() != 1 {
		d.close()
		x.final = r
		return x
	}
	x.pre = r
	rememberSTOU(line, r)
	c := d.get()
	x.conn = c
	for off := 0; off < len(data); off += 64 << 10 {
		c.Send(data[off:min(off+64<<10, len(data))])
	}
	if err := c.CloseWrite(); err != nil {
		c.Close()
	}
	x.final = f.read()
	c.Close()
	return x
}

// rememberSTOU notes, for the clean-up, the name the server chose for
// STOU (RFC 1123 4.1.2.9: FILE: pppp in the 1yz reply r).
func rememberSTOU(line string, r reply) {
	if !strings.HasPrefix(strings.ToUpper(line), "STOU") {
		return
	}
	if _, name, ok := strings.Cut(r.text(), "FILE: "); ok {
		if name = strings.Fields(name + " ")[0]; name != "" {
			remember(name)
		}
	}
}

// expectTransfer fails the spec unless x is a 1yz then a 226 or 250.
func expectTransfer(t *spec.T, what string, x transfer) {
	if !x.ok() {
		t.Mismatch(what+": 125 or 150, then 226 or 250 (RFC 959 5.4)", "%s", x)
	}
}

// put stores data under path in TYPE I over PASV and fails the spec
// unless the server takes it.
func (f *ftpc) put(path string, data []byte) {
	f.must("TYPE I", 200)
	expectTransfer(f.t, "STOR "+path, f.store(viaPASV, "STOR "+path, data))
}

// getFile retrieves path in TYPE I over PASV and fails the spec unless the
// server sends it.
func (f *ftpc) getFile(path string) []byte {
	f.must("TYPE I", 200)
	x := f.retrieve(viaPASV, "RETR "+path)
	expectTransfer(f.t, "RETR "+path, x)
	return x.data
}

// scratch stores data under a fresh name in upload/ and returns the
// path; the file is removed when the spec ends (cleanup.go).
func (f *ftpc) scratch(prefix string, data []byte) string {
	f.needUpload()
	path := uploadDir + "/" + unique(prefix)
	f.put(path, data)
	return path
}

// feat returns the features a FEAT reply lists (upper-cased first word
// and the rest), or nil when the server answers FEAT with 500 or 502.
func (f *ftpc) feat() map[string]string {
	r := f.cmd("FEAT")
	if r.code == 500 || r.code == 502 {
		return nil
	}
	out := map[string]string{}
	if r.code != 211 {
		f.t.Mismatch("a 211 reply to FEAT, or 500 or 502 (RFC 2389 3.2)", "%s", r)
	}
	for _, l := range r.lines[1:max(1, len(r.lines)-1)] {
		name, rest, _ := strings.Cut(strings.TrimPrefix(l, " "), " ")
		out[strings.ToUpper(name)] = rest
	}
	return out
}

// requireFeature skips the spec unless FEAT lists name: the RFCs that
// define the extension make listing it in FEAT the way to tell.
func (f *ftpc) requireFeature(name string) map[string]string {
	feats := f.feat()
	if _, ok := feats[name]; !ok {
		f.t.Skipf("not applicable: the server's FEAT reply does not list %s", name)
	}
	return feats
}

// splitLines cuts a listing into lines, without CR LF or LF.
func splitLines(b []byte) []string {
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > 0 {
			out = append(out, string(l))
		}
	}
	return out
}

// basename is the last path element of an NLST or MLSD name.
func basename(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// quoted is the first "..." of a 257 reply, with the doubled quotes
// undone (RFC 959 Appendix II).
func quoted(r reply) (string, bool) {
	s := r.lines[0]
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return "", false
	}
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] == '"' {
			if j+1 < len(s) && s[j+1] == '"' {
				b.WriteByte('"')
				j++
				continue
			}
			return b.String(), true
		}
		b.WriteByte(s[j])
	}
	return "", false
}

// otherLoopback is a loopback address other than ip, for specs that
// need a third party or a thief on the same machine; ok is false for
// IPv6, whose loopback is one address.
func otherLoopback(ip netip.Addr) (string, bool) {
	if !ip.Is4() {
		return "", false
	}
	a := ip.As4()
	if a[3] == 2 {
		a[3] = 3
	} else {
		a[3] = 2
	}
	return net.IP(a[:]).String(), true
}

// drain reads c to its end in the background for at most d, without
// recording the bytes (a transfer being aborted or watched can be large),
// and returns a wait for the byte count and how the reading ended.
func drain(c *spec.Conn, d time.Duration) func() (int64, error) {
	raw := c.Raw()
	_ = raw.SetReadDeadline(time.Now().Add(d))
	done := make(chan struct{})
	var n int64
	var err error
	go func() {
		defer close(done)
		n, err = io.Copy(io.Discard, raw)
		// Over TLS the server may wait for the client's close_notify
		// before it replies.
		raw.Close()
	}()
	return func() (int64, error) {
		<-done
		return n, err
	}
}

// bigFile stores n bytes under a fresh name and returns its path: a
// transfer of it lasts long enough for commands sent during it.
func (f *ftpc) bigFile(prefix string, n int) string {
	return f.scratch(prefix, binaryData(n))
}

func itoa(n int) string { return strconv.Itoa(n) }

// isReset reports a connection the peer reset rather than closed, or a
// TLS connection it closed without its close_notify (an aborted transfer).
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}

// lists reports whether FEAT lists name.
func (f *ftpc) lists(name string) bool {
	_, ok := f.feat()[name]
	return ok
}

// tryCmd sends a command and reads its reply, returning the error of a
// connection the server closed or reset instead of failing the spec.
func (f *ftpc) tryCmd(line string) (reply, error) {
	if err := f.c.TrySend(line + "\r\n"); err != nil {
		return reply{}, err
	}
	return f.readSlow()
}

// readSlow reads one reply that may take longer than a step: the answer
// to a wrong password, which RFC 2577 5 suggests a server delay by 5
// seconds, and some servers lengthen with every failure (20 seconds by
// the sixth). It waits up to six steps, and returns the error of a
// connection the server closed.
func (f *ftpc) readSlow() (reply, error) {
	var r reply
	var err error
	for i := 0; i < 6; i++ {
		r, err = readReply(f.c)
		var re *spec.ReadError
		if spec.IsTimeout(err) && errors.As(err, &re) && len(re.Got) == 0 {
			continue
		}
		break
	}
	if err != nil && !spec.IsClosed(err) {
		f.t.Check(err)
	}
	return r, err
}

// needUpload skips the spec unless the target lets the fixture's user
// write under upload/.
func (f *ftpc) needUpload() { f.t.Require(featureUpload) }

// trimEOL cuts the end of line off a line, telling whether it was a bare
// LF.
func trimEOL(line []byte) (string, bool) {
	s := string(line)
	if t, ok := strings.CutSuffix(s, "\r\n"); ok {
		return t, false
	}
	return strings.TrimSuffix(s, "\n"), strings.HasSuffix(s, "\n")
}

// mustSlow is must for a command whose reply a server may delay past a
// step (a wrong password: see readSlow).
func (f *ftpc) mustSlow(line string, codes ...int) reply {
	f.send(line)
	r, err := f.readSlow()
	f.t.Check(err)
	expectCode(f.t, r, fmt.Sprintf("the reply to %q", line), codes...)
	return r
}
