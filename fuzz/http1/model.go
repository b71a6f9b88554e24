package http1fuzz

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/protospec/protospec/fuzz/engine"
	contract "github.com/protospec/protospec/internal/http1"
	wire "github.com/protospec/protospec/internal/wire/http1"
)

func init() { engine.Register(contract.Name, func() engine.Model { return httpModel{} }) }

// httpModel fuzzes HTTP/1.x origin servers (RFC 9112): requests on fresh
// and kept-alive connections, pipelined, with bodies framed by
// Content-Length or chunked coding, and a session cookie carried from one
// answer to the next request.
type httpModel struct{}

const httpService = "http/tcp"

func (httpModel) Name() string       { return contract.Name }
func (httpModel) Services() []string { return []string{httpService} }

func httpStep(conn int, s string) engine.Step {
	st := engine.Step{Service: httpService, Conn: conn, Data: []byte(s)}
	if strings.Contains(s, "{{sid}}") {
		st.Use = "sid"
	}
	return st
}

func (httpModel) Seeds() []engine.Input {
	const h = "Host: localhost\r\n"
	return []engine.Input{
		{Steps: []engine.Step{httpStep(0, "GET / HTTP/1.1\r\n"+h+"\r\n")}},
		{Steps: []engine.Step{httpStep(0, "GET /hello.txt HTTP/1.1\r\n"+h+"User-Agent: protospec\r\nAccept: */*\r\n\r\n"),
			httpStep(0, "GET /index.html HTTP/1.1\r\n"+h+"\r\n")}},
		{Steps: []engine.Step{httpStep(0, "GET /session HTTP/1.1\r\n"+h+"\r\n"),
			httpStep(0, "GET /session HTTP/1.1\r\n"+h+"Cookie: sid={{sid}}\r\n\r\n")}},
		{Steps: []engine.Step{httpStep(0, "POST /echo HTTP/1.1\r\n"+h+"Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world")}},
		{Steps: []engine.Step{httpStep(0, "POST /echo HTTP/1.1\r\n"+h+"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")}},
		{Steps: []engine.Step{httpStep(0, "GET /hello.txt HTTP/1.1\r\n"+h+"\r\nHEAD /index.html HTTP/1.1\r\n"+h+"\r\n")}},
		{Steps: []engine.Step{httpStep(0, "HEAD /data/1k.bin HTTP/1.1\r\n"+h+"Range: bytes=0-99\r\n\r\n")}},
		{Steps: []engine.Step{httpStep(0, "GET /hello.txt HTTP/1.0\r\n\r\n")}},
		{Steps: []engine.Step{httpStep(0, "OPTIONS * HTTP/1.1\r\n"+h+"\r\n")}},
		{Steps: []engine.Step{httpStep(0, "POST /form HTTP/1.1\r\n"+h+"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\nConnection: close\r\n\r\na=1&b=2")}},
		{Steps: []engine.Step{httpStep(0, "POST /echo HTTP/1.1\r\n"+h+"Content-Length: 4\r\n\r\n"), httpStep(0, "body")}},
		{Steps: []engine.Step{httpStep(0, "GET /dir HTTP/1.1\r\n"+h+"If-None-Match: \"x\"\r\n\r\n"), httpStep(1, "GET http://localhost/hello.txt HTTP/1.1\r\n"+h+"\r\n")}},
	}
}

func (httpModel) Probe() engine.Input {
	return engine.Input{Steps: []engine.Step{httpStep(0, "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: protospec-probe\r\n\r\n")}}
}

func (httpModel) NewSession(string) engine.Session { return &httpSession{} }

func (httpModel) Render(st engine.Step, vars map[string]string) []byte {
	return engine.RenderTemplate(st.Data, vars)
}

func (httpModel) SeedStep(data []byte) engine.Step { return httpStep(0, string(data)) }

// httpMsg is a request split for mutation: head lines with their
// delimiters, the delimiter of the blank line, and whatever follows it.
type httpMsg struct {
	lines  [][]byte
	delims [][]byte
	blank  []byte // nil when the head has no end
	body   []byte
}

func parseHTTPMsg(b []byte) *httpMsg {
	m := &httpMsg{}
	for len(b) > 0 {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			m.lines = append(m.lines, bytes.Clone(b))
			m.delims = append(m.delims, nil)
			return m
		}
		line, d := b[:j], []byte("\n")
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line, d = line[:len(line)-1], []byte("\r\n")
		}
		b = b[j+1:]
		if len(line) == 0 && len(m.lines) > 0 {
			m.blank = d
			m.body = bytes.Clone(b)
			return m
		}
		m.lines = append(m.lines, bytes.Clone(line))
		m.delims = append(m.delims, d)
	}
	return m
}

func (m *httpMsg) bytes() []byte {
	var out []byte
	for i, l := range m.lines {
		out = append(out, l...)
		out = append(out, m.delims[i]...)
	}
	out = append(out, m.blank...)
	return append(out, m.body...)
}

// header returns the index of the first header line named name, or -1.
func (m *httpMsg) header(name string) int {
	for i := 1; i < len(m.lines); i++ {
		n, _, ok := bytes.Cut(m.lines[i], []byte(":"))
		if ok && strings.EqualFold(strings.TrimSpace(string(n)), name) {
			return i
		}
	}
	return -1
}

func (m *httpMsg) setHeader(name, value string) {
	line := []byte(name + ": " + value)
	if i := m.header(name); i > 0 {
		m.lines[i] = line
		return
	}
	m.addLine(line)
}

func (m *httpMsg) addLine(line []byte) {
	d := []byte("\r\n")
	if len(m.delims) > 0 && m.delims[0] != nil {
		d = bytes.Clone(m.delims[0])
	}
	at := len(m.lines)
	if at == 0 {
		m.lines, m.delims = [][]byte{line}, [][]byte{d}
		return
	}
	m.lines = append(m.lines[:at:at], line)
	m.delims = append(m.delims[:at:at], d)
	if m.delims[at-1] == nil {
		m.delims[at-1] = d
	}
	if m.blank == nil {
		m.blank = d
	}
}

var (
	httpMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", "PRI",
		"get", "Get", "G\x00T", "", "GET GET", "GETT", "X-CUSTOM", "GE\tT", "M-SEARCH", "\xffGET", "GET\r", "POST\x0b"}
	httpTargets = []string{"/", "*", "/hello.txt", "/session", "/echo", "/upload/x", "http://localhost/", "http://localhost:80/hello.txt",
		"https://other.example/", "localhost:80", "//", "/%00", "/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/hello.txt?a=b&c",
		"/a#frag", "/\xc3\xa9", "/\xff", "/ /", "/?" + strings.Repeat("q", 300), "", "hello.txt", "/%", "/%zz", "/\\..\\", "/./././"}
	httpVersions = []string{"HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/1.2", "HTTP/1.10", "http/1.1", "HTTP/1.1 ",
		"HTTP/", "HTTP/9.9", "", "HTTP/1.1\x00", "HTTP/01.1", "HTTP/1", " HTTP/1.1", "HTTP/1.1\t", "HTTP /1.1"}
	httpCLValues = []string{"0", "-1", "+0", "00", " 1", "1 ", "0x1", "1e3", "18446744073709551616", "9223372036854775807",
		"4294967296", "1,1", "1, 2", "", "\u0661", "999999999", "2147483648", "1\x00"}
	httpTEValues = []string{"chunked", "Chunked", "CHUNKED", " chunked", "chunked ", "chunked, chunked", "gzip, chunked",
		"chunked, gzip", "identity", "identity, chunked", "xchunked", "chunked\x00", "\tchunked", "chunk", "", "gzip", "chunked;q=1",
		"\"chunked\"", "chunked\r\n Transfer-Encoding: x"}
	httpTENames = []string{"Transfer-Encoding", "transfer-encoding", "Transfer-Encoding ", "Transfer_Encoding",
		"Transfer-Encoding\t", " Transfer-Encoding", "Transfer-Encodings", "X-Transfer-Encoding"}
	httpChunkSizes = []string{"0", "1", "ffffffffffffffff", "10000000000000000", "-1", "+1", "0x1", "1;ext", "1 ;", "1\t",
		"00000000000000000000001", "FFFFFFFF", "", "g", "1;" + strings.Repeat("e", 200), "7fffffffffffffff", " 1"}
	httpDelims  = []string{"\r\n", "\n", "\r", "\r\r\n", "\n\r", " \r\n", "\r\n\r\n", "\x00\r\n"}
	httpHeaders = []string{"Connection: close", "Connection: keep-alive", "Connection: Upgrade", "Upgrade: h2c", "Expect: 100-continue",
		"Expect: x", "Host: other", "Host:", "Host: localhost:99999", "Range: bytes=0-0", "Range: bytes=5-1,0-,-1",
		"Range: bytes=" + strings.Repeat("0-1,", 200), "If-None-Match: *", "If-Modified-Since: garbage", "Content-Type: multipart/form-data; boundary=x",
		"Cookie: sid={{sid}}", "Cookie: " + strings.Repeat("a=b; ", 100), "Accept-Encoding: gzip", "TE: trailers", "Trailer: X",
		"Max-Forwards: 0", "X-Forwarded-For: 127.0.0.1", "Content-Encoding: gzip", "Authorization: Basic Og==",
		"Proxy-Connection: keep-alive", ":", ": empty-name", "Bad Header: x", "Name\x00: x", "\xff: x"}
)

func hugeString(r *rand.Rand) string {
	n := []int{101, 256, 1024, 4096, 8190, 8192, 8193, 16384, 65536, 100000}[r.IntN(10)]
	return strings.Repeat(string(rune('A'+r.IntN(26))), n)
}

var httpMutations = []string{"method", "target", "version", "header-name", "header-value", "content-length",
	"transfer-encoding", "chunk-size", "delimiter", "repeat", "huge", "encoding", "add-header", "delete-line",
	"body", "whitespace", "smuggle"}

func (httpModel) Mutate(r *rand.Rand, in *engine.Input, i int) string {
	st := &in.Steps[i]
	m := parseHTTPMsg(st.Data)
	if len(m.lines) == 0 {
		return ""
	}
	name := httpMutations[r.IntN(len(httpMutations))]
	if !mutateHTTP(r, m, name) {
		return ""
	}
	st.Data = m.bytes()
	if bytes.Contains(st.Data, []byte("{{sid}}")) {
		st.Use = "sid"
	}
	return name
}

func pick(r *rand.Rand, l []string) string { return l[r.IntN(len(l))] }

// splitRequestLine splits the first line into method, target, version.
func splitRequestLine(l []byte) []string {
	parts := strings.SplitN(string(l), " ", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts
}

func mutateHTTP(r *rand.Rand, m *httpMsg, name string) bool {
	rl := splitRequestLine(m.lines[0])
	setRL := func() { m.lines[0] = []byte(rl[0] + " " + rl[1] + " " + rl[2]) }
	hdr := func() int {
		if len(m.lines) < 2 {
			return -1
		}
		return 1 + r.IntN(len(m.lines)-1)
	}
	switch name {
	case "method":
		rl[0] = pick(r, httpMethods)
		setRL()
	case "target":
		rl[1] = pick(r, httpTargets)
		setRL()
	case "version":
		rl[2] = pick(r, httpVersions)
		setRL()
	case "header-name":
		h := hdr()
		if h < 0 {
			return false
		}
		n, v, _ := bytes.Cut(m.lines[h], []byte(":"))
		switch r.IntN(6) {
		case 0:
			n = append(n, ' ')
		case 1:
			n = nil
		case 2:
			n = bytes.ToUpper(n)
		case 3:
			n = append(n, []byte{0, '\t', '@', '\xff', '(', '"'}[r.IntN(6)])
		case 4:
			n = []byte(hugeString(r))
		case 5:
			n = append([]byte(" "), n...)
		}
		m.lines[h] = append(append(n, ':'), v...)
	case "header-value":
		h := hdr()
		if h < 0 {
			return false
		}
		n, v, _ := bytes.Cut(m.lines[h], []byte(":"))
		switch r.IntN(5) {
		case 0:
			v = []byte(" " + hugeString(r))
		case 1:
			v = append(v, []byte{0, '\r', '\x7f', '\xff', '\v', '\f'}[r.IntN(6)])
		case 2:
			v = nil
		case 3:
			v = append([]byte(" \t "), append(v, " \t "...)...)
		case 4:
			v = []byte(" caf\xc3\xa9 \xe9t\xe9")
		}
		m.lines[h] = append(append(n, ':'), v...)
	case "content-length":
		vals := append([]string{strconv.Itoa(len(m.body)), strconv.Itoa(len(m.body) + 1), strconv.Itoa(max(0, len(m.body)-1))}, httpCLValues...)
		v := pick(r, vals)
		switch r.IntN(3) {
		case 0:
			m.addLine([]byte("Content-Length: " + v))
		default:
			m.setHeader("Content-Length", v)
		}
	case "transfer-encoding":
		v := pick(r, httpTEValues)
		n := "Transfer-Encoding"
		if r.IntN(3) == 0 {
			n = pick(r, httpTENames)
		}
		if r.IntN(2) == 0 {
			m.addLine([]byte(n + ": " + v))
		} else {
			m.setHeader(n, v)
		}
		if r.IntN(2) == 0 && !bytes.Contains(m.body, []byte("0\r\n\r\n")) {
			m.body = chunk(m.body)
		}
	case "chunk-size":
		if !bytes.Contains(m.body, []byte("\n")) {
			m.setHeader("Transfer-Encoding", "chunked")
			m.body = chunk(append(m.body, "data"...))
		}
		lines := bytes.SplitAfter(m.body, []byte("\n"))
		// chunk-size lines are the even ones of a well-formed body.
		k := 2 * r.IntN((len(lines)+1)/2)
		if k >= len(lines) {
			return false
		}
		end := []byte("\r\n")
		if !bytes.HasSuffix(lines[k], end) {
			end = []byte("\n")
		}
		lines[k] = append([]byte(pick(r, httpChunkSizes)), end...)
		m.body = bytes.Join(lines, nil)
	case "delimiter":
		d := []byte(pick(r, httpDelims))
		if r.IntN(2) == 0 {
			for k := range m.delims {
				m.delims[k] = d
			}
			if m.blank != nil {
				m.blank = d
			}
		} else if k := r.IntN(len(m.lines) + 1); k == len(m.lines) {
			m.blank = d
		} else {
			m.delims[k] = d
		}
	case "repeat":
		times := []int{2, 3, 10, 100, 1000}[r.IntN(5)]
		if h := hdr(); h > 0 && r.IntN(2) == 0 {
			line := m.lines[h]
			for k := 0; k < times-1 && len(m.lines) < 2000; k++ {
				m.addLine(bytes.Clone(line))
			}
		} else {
			one := m.bytes()
			times = min(times, 10)
			m.body = append(m.body, bytes.Repeat(one, times-1)...)
		}
	case "huge":
		switch r.IntN(4) {
		case 0:
			rl[1] = "/" + hugeString(r)
			setRL()
		case 1:
			m.addLine([]byte("X-Huge: " + hugeString(r)))
		case 2:
			m.addLine([]byte(hugeString(r) + ": x"))
		case 3:
			rl[0] = hugeString(r)
			setRL()
		}
	case "encoding":
		t := rl[1]
		switch r.IntN(4) {
		case 0:
			var b strings.Builder
			for _, c := range []byte(t) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
			rl[1] = b.String()
		case 1:
			rl[1] = strings.ReplaceAll(t, "/", "%252f")
		case 2:
			rl[1] = t + "\xc0\xaf..\xc0\xaf"
		case 3:
			rl[1] = t + "%u002e"
		}
		setRL()
	case "add-header":
		m.addLine([]byte(pick(r, httpHeaders)))
	case "delete-line":
		h := hdr()
		if h < 0 {
			return false
		}
		m.lines = append(m.lines[:h], m.lines[h+1:]...)
		m.delims = append(m.delims[:h], m.delims[h+1:]...)
	case "body":
		switch r.IntN(3) {
		case 0:
			if len(m.body) > 0 {
				m.body = m.body[:r.IntN(len(m.body))]
			}
		case 1:
			m.body = append(m.body, bytes.Repeat([]byte("b"), 1+r.IntN(2000))...)
		case 2:
			m.blank = nil
		}
	case "whitespace":
		switch r.IntN(5) {
		case 0:
			m.lines[0] = []byte(rl[0] + "  " + rl[1] + " " + rl[2])
		case 1:
			m.lines[0] = []byte(rl[0] + "\t" + rl[1] + "\t" + rl[2])
		case 2:
			m.lines[0] = append([]byte(" "), m.lines[0]...)
		case 3: // obs-fold
			if h := hdr(); h > 0 {
				m.lines = append(m.lines[:h+1], append([][]byte{[]byte(" folded")}, m.lines[h+1:]...)...)
				m.delims = append(m.delims[:h+1], append([][]byte{[]byte("\r\n")}, m.delims[h+1:]...)...)
			}
		case 4: // leading empty lines
			m.lines[0] = append([]byte("\r\n"), m.lines[0]...)
		}
	case "smuggle":
		inner := "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
		body := "0\r\n\r\n" + inner
		m.setHeader("Transfer-Encoding", pick(r, httpTEValues[:8]))
		cl := []int{len(body), 0, 5, len(body) - len(inner)}[r.IntN(4)]
		m.setHeader("Content-Length", strconv.Itoa(cl))
		if rl[0] == "GET" || rl[0] == "HEAD" {
			rl[0] = "POST"
			setRL()
		}
		m.body = []byte(body)
	default:
		return false
	}
	return true
}

// chunk encodes b as one chunk and the last chunk.
func chunk(b []byte) []byte {
	var out []byte
	if len(b) > 0 {
		out = fmt.Appendf(out, "%x\r\n", len(b))
		out = append(out, b...)
		out = append(out, "\r\n"...)
	}
	return append(out, "0\r\n\r\n"...)
}

// httpSession counts the requests a server owes answers to, and frames
// and judges the answers (RFC 9112 sections 2 to 7).
type httpSession struct {
	pending []byte   // request bytes not yet making a whole request
	methods []string // methods of requests not yet answered, in order
	unsure  bool     // a message could be read more than one way
	closing bool     // a request asked to close the connection
	simple  bool     // something may read as an HTTP/0.9 simple request
	head    bool     // HEAD was sent: some answer may have no body
	// maybeBody is the Content-Length of an error answer to what looked
	// like HEAD: the body the server may send after all.
	maybeBody int
}

// looksSimple reports a line a server may take for an HTTP/0.9 request
// ("GET /path"), answered by a bare body.
func looksSimple(data []byte) bool {
	for _, l := range bytes.Split(data, []byte("\n")) {
		f := strings.Fields(string(l))
		if len(f) == 2 || len(f) == 3 && f[2] == "HTTP/0.9" {
			return true
		}
	}
	return false
}

// limits bound what the model's codec reads: wider than any server's, so
// that the model's own caps decide.
var limits = wire.Limits{MaxStartLine: 1 << 20, MaxHead: 1 << 20, MaxFields: 1 << 12, DiscardBody: true}

// Sent splits the stream into requests the way a strict RFC 9112 server
// would. A request is "sure" when nothing in it could be read another way.
func (s *httpSession) Sent(data []byte) (int, bool) {
	s.pending = append(s.pending, data...)
	if looksSimple(data) {
		s.simple = true
	}
	if bytes.Contains(data, []byte("HEAD")) {
		s.head = true
	}
	n := 0
	sure := !s.unsure
	for len(s.pending) > 0 && !s.closing {
		// A server SHOULD ignore at least one empty line before the
		// request-line (RFC 9112 2.2).
		for bytes.HasPrefix(s.pending, []byte("\r\n")) {
			s.pending = s.pending[2:]
		}
		if len(s.pending) == 0 {
			break
		}
		dec := wire.NewRequestDecoder(limits)
		dec.Feed(s.pending)
		m, whole := dec.Next()
		if !whole {
			m = dec.Current()
		}
		if m == nil || m.Head == "" {
			// A line that ends no head may still be acted on (rejected,
			// or taken for an HTTP/0.9 request).
			if bytes.IndexByte(s.pending, 0) >= 0 || len(s.pending) > 8000 || bytes.IndexByte(s.pending, '\n') >= 0 {
				sure = false
			}
			break
		}
		ok, fr := checkRequest(m)
		if !ok {
			sure = false
		}
		used := m.Len
		switch {
		case m.Framing == wire.FramingInvalid || dec.Err() != nil:
			// The server will reject it; count one answer, unsure.
			sure, used = false, int64(len(s.pending))
		case !whole:
			return n, sure && n > 0
		}
		s.pending = s.pending[used:]
		s.methods = append(s.methods, m.Method)
		n++
		if fr.close {
			s.closing = true
		}
	}
	if !sure {
		s.unsure = true
	}
	return n, sure
}

type reqFraming struct {
	close bool
}

// checkRequest reports whether a request head is plainly valid HTTP/1.1
// or 1.0 that a strict server reads one way only: the codec's grammar,
// then the model's policy (no Expect, Upgrade, TE or the like, only close
// and keep-alive as Connection options, one plain Host, one small
// Content-Length or Transfer-Encoding: chunked, neither CONNECT nor PRI,
// lines under 4000 bytes, ASCII values).
func checkRequest(m *wire.Message) (bool, reqFraming) {
	var fr reqFraming
	ok := len(m.Problems) == 0 && !m.BareLF
	http10 := m.Version == "HTTP/1.0"
	if m.Version != "HTTP/1.1" && !http10 || len(m.StartLine) >= 4000 || m.Method == "CONNECT" || m.Method == "PRI" {
		ok = false
	}
	for i := 0; i < len(m.Target); i++ {
		if c := m.Target[i]; c <= ' ' || c >= 0x7f || c == '#' {
			ok = false
		}
	}
	fr.close = http10
	hosts, cls, tes := 0, 0, 0
	for _, f := range m.Header {
		if len(f.Line) > 4000 {
			ok = false
		}
		for i := 0; i < len(f.Value); i++ {
			if f.Value[i] >= 0x80 {
				ok = false
			}
		}
		switch strings.ToLower(f.Name) {
		case "host":
			hosts++
			if f.Value == "" || strings.ContainsAny(f.Value, " /@") {
				ok = false
			}
		case "content-length":
			cls++
			v, err := strconv.Atoi(f.Value)
			if err != nil || v < 0 || v > 1<<20 || strings.TrimLeft(f.Value, "0123456789") != "" {
				ok = false
			}
		case "transfer-encoding":
			tes++
			if !strings.EqualFold(f.Value, "chunked") {
				ok = false
			}
		case "connection":
			for _, o := range wire.AppendList(nil, f.Value) {
				switch strings.ToLower(o) {
				case "close":
					fr.close = true
				case "keep-alive":
				default:
					ok = false // upgrade and the like change what follows
				}
			}
		case "expect", "upgrade", "te", "trailer", "content-encoding":
			ok = false
		}
	}
	if len(m.Header) >= 100 || cls > 1 || tes > 1 || (cls > 0 && tes > 0) || hosts > 1 || (hosts == 0 && !http10) || (http10 && tes > 0) {
		ok = false
	}
	return ok, fr
}

// Parse frames responses (RFC 9112 section 6.3) with the observers' codec
// and checks the grammar a server MUST follow.
func (s *httpSession) Parse(buf []byte, closed bool) ([]engine.Response, int, error) {
	var out []engine.Response
	used := 0
	for used < len(buf) {
		b := buf[used:]
		if s.maybeBody > 0 && s.simple && closed && !bytes.HasPrefix(b, []byte("HTTP/")) {
			// What follows an answer to HEAD and ends with the close may
			// as well be an HTTP/0.9 answer as the HEAD's body and more:
			// read it the way that keeps to the grammar.
			s.maybeBody = 0
		}
		if s.maybeBody > 0 {
			if len(b) < 5 && !closed {
				return out, used, nil
			}
			if !bytes.HasPrefix(b, []byte("HTTP/")) {
				if len(b) >= s.maybeBody {
					used += s.maybeBody
					s.maybeBody = 0
					continue
				}
				if !closed {
					return out, used, nil
				}
			}
			s.maybeBody = 0
		}
		if s.simple && !bytes.HasPrefix(b, []byte("HTTP/")) && len(b) >= 5 {
			// An HTTP/0.9 answer: the body alone, up to the close.
			if !closed {
				return out, used, nil
			}
			return append(out, engine.Response{Class: "0.9", Detail: "0.9"}), len(buf), nil
		}
		method := ""
		if len(s.methods) > 0 {
			method = s.methods[0]
		}
		dec := wire.NewResponseDecoder(wire.Limits{MaxStartLine: 256 << 10, MaxHead: 256 << 10, MaxFields: 1 << 12, DiscardBody: true})
		dec.Expect(method)
		dec.Feed(b)
		if closed {
			dec.Close()
		}
		m, whole := dec.Next()
		if !whole {
			m = dec.Current()
		}
		if m == nil || m.Head == "" {
			switch {
			case m != nil && m.Has(wire.KindHeadTooLarge):
				return out, used, fmt.Errorf("response head longer than 256 KiB")
			case closed:
				return out, used, fmt.Errorf("response head cut short by the close: %q", engine.Excerpt(b, 120))
			}
			return out, used, nil
		}
		if err := responseGrammar(m); err != nil {
			return out, used, err
		}
		final := m.Status >= 200
		if !final {
			method = ""
		}
		headLen := int(m.Prefix) + len(m.Head)
		rest := b[headLen:]
		var n int
		switch {
		case m.Framing == wire.FramingNone:
			n = headLen
			if method == "HEAD" && (m.Status >= 400 || s.unsure) && m.ContentLength > 0 {
				// A server that rejected what we took for HEAD may not
				// have read it as HEAD: a body may follow.
				s.maybeBody = int(m.ContentLength)
			}
		case s.head && (bytes.HasPrefix(rest, []byte("HTTP/1.")) || closed && (len(rest) == 0 || bytes.HasPrefix(rest, []byte("HTTP/")))):
			// The answers may not line up with the requests counted: an
			// answer followed at once by another is one to HEAD.
			n = headLen
		case m.Fatal() != nil || chunkProblem(m):
			return out, used, fmt.Errorf("%d response: malformed chunked body: %q", m.Status, engine.Excerpt(rest, 80))
		case m.Framing == wire.FramingChunked && m.Incomplete:
			return out, used, fmt.Errorf("%d response: chunked body cut short by the close", m.Status)
		case m.Framing == wire.FramingLength && m.Incomplete:
			return out, used, fmt.Errorf("%d response: Content-Length %d but the connection closed after %d body bytes", m.Status, m.ContentLength, m.BodyLen)
		case !whole:
			return out, used, nil
		default:
			n = int(m.Len)
		}
		used += n
		if !final {
			continue
		}
		if len(s.methods) > 0 {
			s.methods = s.methods[1:]
		}
		r := engine.Response{Class: fmt.Sprintf("%dxx", m.Status/100), Detail: strconv.Itoa(m.Status)}
		for _, v := range m.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "sid=") {
				sid, _, _ := strings.Cut(v[4:], ";")
				r.Vars = map[string]string{"sid": sid}
			}
		}
		out = append(out, r)
	}
	return out, used, nil
}

// responseGrammar is the model's verdict on a response head: the codec's
// problems a server MUST NOT cause (the status-line, field lines, line
// ends, NUL or CR in a value, the framing fields of RFC 9110 8.6 and RFC
// 9112 6), and a status-code outside 100..599.
func responseGrammar(m *wire.Message) error {
	for _, p := range m.Problems {
		switch p.Kind {
		case wire.KindStatusLine, wire.KindStatusLineSyntax, wire.KindEmptyLineBeforeStart:
			return fmt.Errorf("malformed status line %q: %s", engine.Excerpt([]byte(m.StartLine), 120), p.Detail)
		case wire.KindBareLF, wire.KindBareCR, wire.KindWhitespaceAfterStartLine, wire.KindFieldNoColon, wire.KindFieldName,
			wire.KindSpaceBeforeColon, wire.KindObsFold:
			return fmt.Errorf("%d response: malformed header line: %s", m.Status, p.Detail)
		case wire.KindCLWithTE, wire.KindTE1xx204, wire.KindInvalidCL, wire.KindCL1xx204:
			return fmt.Errorf("%d response: %s", m.Status, p.Detail)
		}
	}
	for _, f := range m.Header {
		if strings.IndexByte(f.Value, 0) >= 0 {
			return fmt.Errorf("%d response: NUL in the value of %s", m.Status, f.Name)
		}
	}
	return nil
}

// chunkProblem reports chunk framing the model refuses: anything but
// chunk-size [ chunk-ext ] CRLF, data, CRLF (extensions are not judged).
func chunkProblem(m *wire.Message) bool {
	for _, p := range m.Problems {
		switch p.Kind {
		case wire.KindChunkSize, wire.KindChunkSizeJunk, wire.KindChunkLineEnd, wire.KindChunkDataEnd, wire.KindTrailerEnd:
			return true
		}
	}
	return false
}
