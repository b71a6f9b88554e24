package http1

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	contract "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/protocol"
)

func init() {
	loadgen.Register(contract.Name, loadgen.Client{
		Service: loadService,
		Params: []protocol.Param{
			{Name: "paths", Doc: "request targets sent in turn, comma-separated, each PATH or 'METHOD PATH'", Default: "/"},
			{Name: "method", Doc: "method of the paths that name none", Default: "GET"},
			{Name: "no-keepalive", Doc: "one request per connection (Connection: close)", Default: "false"},
		},
		Examples: []string{
			"--target nginx --connections 32 --duration 10s --param paths=/hello.txt,/data/1k.bin",
			"--target 127.0.0.1:8080 --rate 5000 --warmup 2s --report-dir bench-report",
		},
		Plan: planLoad,
	})
}

// loadService is the target service the load client loads.
const loadService = "http/tcp"

// planLoad turns bench's params into the load: the request mix, with or
// without keep-alive.
func planLoad(params map[string]string) (*loadgen.Load, error) {
	method := params["method"]
	if method == "" {
		method = "GET"
	}
	var paths []string
	if v := params["paths"]; v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
	}
	noKeepAlive, err := loadgen.BoolParam(params, "no-keepalive")
	if err != nil {
		return nil, err
	}
	o := LoadClientOptions{Addr: "localhost", Requests: paths, Method: method, NoKeepAlive: noKeepAlive}
	if _, err := NewLoadClient(o); err != nil {
		return nil, err
	}
	l := &loadgen.Load{Service: loadService, Options: []string{"keep-alive"}}
	for _, p := range paths {
		if len(strings.Fields(p)) == 1 {
			p = method + " " + p
		}
		l.Workload = append(l.Workload, p)
	}
	if len(l.Workload) == 0 {
		l.Workload = []string{method + " /"}
	}
	if noKeepAlive {
		l.Options = []string{"no keep-alive"}
	}
	l.Open = func(to loadgen.Target, _ time.Duration) (loadgen.Protocol, error) {
		o := o
		o.Addr, o.Target = to.Endpoint.Addr, to
		p, err := NewLoadClient(o)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return l, nil
}

// LoadClientOptions configure the HTTP/1.1 client.
type LoadClientOptions struct {
	// Addr is the server's host:port.
	Addr string
	// Target, when its endpoint is set, is how Addr is reached (over TLS,
	// from a source address); otherwise plain TCP.
	Target loadgen.Target
	// Host is the Host header; default Addr.
	Host string
	// Requests are sent in turn, each "PATH" (with Method) or
	// "METHOD PATH"; default "/".
	Requests []string
	// Method is the method of requests that name none; default GET.
	Method string
	// NoKeepAlive sends every request on a new connection with
	// "Connection: close".
	NoKeepAlive bool
	// Headers are extra header lines ("Accept: */*").
	Headers []string
	// Accept tells which status codes are successes; default 200..399.
	Accept func(status int) bool
}

// LoadClient is the HTTP/1.1 load client (`protospec bench http1`). It
// parses every response's status line, headers and framing
// (Content-Length, chunked, or read to close, as RFC 9112 6.3 orders them),
// so a response that is cut short, too long or malformed is counted as a
// bad response rather than as a success.
type LoadClient struct {
	to     loadgen.Target
	reqs   [][]byte
	head   []bool
	accept func(int) bool
	close  bool
}

// NewLoadClient returns the HTTP/1.1 client.
func NewLoadClient(o LoadClientOptions) (*LoadClient, error) {
	if o.Addr == "" {
		return nil, errors.New("http1 load client: no address")
	}
	host := o.Host
	if host == "" {
		host = o.Addr
	}
	method := o.Method
	if method == "" {
		method = "GET"
	}
	reqs := o.Requests
	if len(reqs) == 0 {
		reqs = []string{"/"}
	}
	p := &LoadClient{to: o.Target, accept: o.Accept, close: o.NoKeepAlive}
	if p.to.Endpoint.Addr == "" {
		p.to = loadgen.TCP(o.Addr)
	}
	if p.accept == nil {
		p.accept = func(s int) bool { return s >= 200 && s < 400 }
	}
	for _, h := range append([]string{host}, o.Headers...) {
		if strings.ContainsAny(h, "\r\n\x00") {
			return nil, fmt.Errorf("http1 load client: header %q holds CR, LF or NUL", h)
		}
	}
	for _, r := range reqs {
		m, path := method, strings.TrimSpace(r)
		if f := strings.Fields(r); len(f) == 2 {
			m, path = f[0], f[1]
		} else if len(f) != 1 {
			return nil, fmt.Errorf("http1 load client: request %q is not PATH or METHOD PATH", r)
		}
		if !isToken(m) {
			return nil, fmt.Errorf("http1 load client: bad method %q", m)
		}
		if path == "" || strings.ContainsAny(path, " \t\r\n\x00") || (path[0] != '/' && path != "*") {
			return nil, fmt.Errorf("http1 load client: bad request target %q (want /path)", path)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: protospec-bench\r\n", m, path, host)
		for _, h := range o.Headers {
			b.WriteString(h + "\r\n")
		}
		switch m {
		case "POST", "PUT", "PATCH":
			b.WriteString("Content-Length: 0\r\n")
		}
		if o.NoKeepAlive {
			b.WriteString("Connection: close\r\n")
		}
		b.WriteString("\r\n")
		p.reqs = append(p.reqs, []byte(b.String()))
		p.head = append(p.head, m == "HEAD")
	}
	return p, nil
}

// Name implements loadgen.Protocol.
func (p *LoadClient) Name() string { return contract.Name }

// Dial implements loadgen.Protocol.
func (p *LoadClient) Dial(ctx context.Context, timeout time.Duration) (loadgen.Conn, error) {
	s, err := loadgen.DialStream(ctx, p.to, timeout)
	if err != nil {
		return nil, err
	}
	return &loadConn{Stream: s, p: p, reusable: true}, nil
}

type loadConn struct {
	*loadgen.Stream
	p        *LoadClient
	q        loadgen.FIFO
	n        int
	resp     respParser
	parsing  bool
	reusable bool
}

func (c *loadConn) Send(at int64) error {
	i := c.n % len(c.p.reqs)
	c.n++
	c.Out = append(c.Out, c.p.reqs[i]...)
	c.q.Push(loadgen.Pending{At: at, Idx: int32(i)})
	if c.p.close {
		c.reusable = false
	}
	return nil
}

func (c *loadConn) Reusable() bool { return c.reusable }
func (c *loadConn) Recv(wake int64) (int64, error) {
	if c.q.Len() == 0 {
		return 0, loadgen.ErrNothingPending
	}
	for {
		if !c.parsing {
			c.resp.reset(c.p.head[c.q.Front().Idx])
			c.parsing = true
		}
		if buf := c.Buffered(); len(buf) > 0 {
			n, done, err := c.resp.parse(buf)
			c.Consume(n)
			if err != nil {
				return c.q.Front().At, err
			}
			if done {
				return c.finish()
			}
		}
		if c.resp.state == stHead && len(c.Buffered()) >= maxHead {
			return c.q.Front().At, loadgen.BadResponse("response head longer than %d bytes", maxHead)
		}
		err := c.Fill(c.q.Front().At, wake)
		switch {
		case err == nil, err == loadgen.ErrWaitAgain:
		case err == loadgen.ErrWake:
			return 0, err
		case errors.Is(err, io.EOF) && c.resp.state == stUntilClose:
			c.reusable = false
			return c.finish()
		case errors.Is(err, io.EOF) && (c.resp.state != stHead || len(c.Buffered()) > 0):
			return c.q.Front().At, loadgen.BadResponse("connection closed in the middle of a response")
		default:
			return c.q.Front().At, err
		}
	}
}

// finish completes the response to the oldest request.
func (c *loadConn) finish() (int64, error) {
	p := c.q.Pop()
	c.parsing = false
	if c.resp.close {
		c.reusable = false
	}
	if !c.p.accept(c.resp.status) {
		return p.At, &loadgen.Error{Kind: loadgen.KindStatus, Err: fmt.Errorf("status %d", c.resp.status)}
	}
	return p.At, nil
}

// maxHead bounds a response's status line and header section.
const maxHead = 64 << 10

// States of respParser.
const (
	stHead = iota
	stBody
	stChunkSize
	stChunkData
	stChunkEnd
	stTrailers
	stUntilClose
	stDone
)

// respParser is an incremental HTTP/1.x response parser: the head must be
// in the buffer at once (up to maxHead), the body is consumed as it comes
// and never copied.
type respParser struct {
	head      bool // the request was HEAD: no body whatever the headers say
	state     int
	remaining int64
	status    int
	close     bool
}

func (p *respParser) reset(head bool) { *p = respParser{head: head} }

// skip consumes up to p.remaining bytes of rest (a body or a chunk's data)
// and reports how many it took and whether that part is now complete.
func (p *respParser) skip(rest []byte) (int, bool) {
	take := min(int64(len(rest)), p.remaining)
	p.remaining -= take
	return int(take), p.remaining == 0
}

// parse consumes what it can of buf and reports whether the response is
// complete. It needs more bytes when it returns done false without error.
func (p *respParser) parse(buf []byte) (n int, done bool, err error) {
	for {
		rest := buf[n:]
		switch p.state {
		case stHead:
			m, ok, err := p.parseHead(rest)
			if err != nil || !ok {
				return n, false, err
			}
			n += m
		case stBody:
			m, whole := p.skip(rest)
			if n += m; !whole {
				return n, false, nil
			}
			p.state = stDone
		case stChunkSize:
			i := indexLF(rest, 1024)
			if i == -2 {
				return n, false, loadgen.BadResponse("chunk-size line longer than 1024 bytes")
			}
			if i < 0 {
				return n, false, nil
			}
			size, err := respChunkSize(trimCR(rest[:i]))
			if err != nil {
				return n, false, err
			}
			n += i + 1
			if size == 0 {
				p.state = stTrailers
			} else {
				p.remaining, p.state = size, stChunkData
			}
		case stChunkData:
			m, whole := p.skip(rest)
			if n += m; !whole {
				return n, false, nil
			}
			p.state = stChunkEnd
		case stChunkEnd:
			switch {
			case len(rest) >= 2 && rest[0] == '\r' && rest[1] == '\n':
				n += 2
			case len(rest) >= 1 && rest[0] == '\n':
				n++
			case len(rest) == 0 || len(rest) == 1 && rest[0] == '\r':
				return n, false, nil
			default:
				return n, false, loadgen.BadResponse("chunk data not followed by CRLF")
			}
			p.state = stChunkSize
		case stTrailers:
			i := indexLF(rest, maxHead)
			if i == -2 {
				return n, false, loadgen.BadResponse("trailer section too long")
			}
			if i < 0 {
				return n, false, nil
			}
			n += i + 1
			if len(trimCR(rest[:i])) == 0 {
				p.state = stDone
			}
		case stUntilClose:
			return len(buf), false, nil
		case stDone:
			return n, true, nil
		}
	}
}

// indexLF returns the index of the first LF within limit bytes, -1 when
// there is none yet, -2 when limit bytes hold none.
func indexLF(b []byte, limit int) int {
	if len(b) > limit {
		if i := bytes.IndexByte(b[:limit+1], '\n'); i >= 0 {
			return i
		}
		return -2
	}
	return bytes.IndexByte(b, '\n')
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// parseHead parses a whole status line and header section, or reports
// that buf does not hold all of it yet. A 1xx interim response is
// consumed and the parser stays in stHead for the final one.
func (p *respParser) parseHead(buf []byte) (int, bool, error) {
	i := indexLF(buf, maxHead)
	if i < 0 {
		return 0, false, nil
	}
	line := trimCR(buf[:i])
	// status-line = HTTP-version SP status-code SP [ reason-phrase ]
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ' ||
		line[9] < '1' || line[9] > '5' || !isDigit(line[10]) || !isDigit(line[11]) ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, false, loadgen.BadResponse("bad status line %q", respExcerpt(line))
	}
	status := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	http10 := line[7] == '0'
	pos := i + 1
	var (
		length            int64 = -1
		hasTE, chunked    bool
		closeTok, keepTok bool
	)
	for {
		j := indexLF(buf[pos:], maxHead)
		if j < 0 {
			return 0, false, nil
		}
		line := trimCR(buf[pos : pos+j])
		pos += j + 1
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || line[0] == ' ' || line[0] == '\t' || line[colon-1] == ' ' || line[colon-1] == '\t' {
			return 0, false, loadgen.BadResponse("bad header line %q", respExcerpt(line))
		}
		name, value := line[:colon], trimOWSBytes(line[colon+1:])
		switch len(name) {
		case len("content-length"):
			if !equalFoldASCII(name, "content-length") {
				break
			}
			v, ok := parseLength(value)
			if !ok || (length >= 0 && v != length) {
				return 0, false, loadgen.BadResponse("bad Content-Length %q", respExcerpt(value))
			}
			length = v
		case len("transfer-encoding"):
			if !equalFoldASCII(name, "transfer-encoding") {
				break
			}
			hasTE = true
			chunked = lastTokenIs(value, "chunked")
		case len("connection"):
			if !equalFoldASCII(name, "connection") {
				break
			}
			closeTok = closeTok || hasToken(value, "close")
			keepTok = keepTok || hasToken(value, "keep-alive")
		}
	}
	if status < 200 {
		if status == 101 {
			return 0, false, loadgen.BadResponse("101 Switching Protocols to a request that asked for no upgrade")
		}
		return pos, true, nil // interim: the final response follows
	}
	p.status = status
	p.close = closeTok || (http10 && !keepTok)
	switch {
	case p.head || status == 204 || status == 304:
		p.state = stDone
	case hasTE && chunked:
		p.state = stChunkSize
	case hasTE:
		p.state, p.close = stUntilClose, true
	case length >= 0:
		p.state, p.remaining = stBody, length
		if length == 0 {
			p.state = stDone
		}
	default:
		p.state, p.close = stUntilClose, true
	}
	return pos, true, nil
}

func respExcerpt(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

func trimOWSBytes(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFoldASCII compares b with the lower-case ASCII string s, ignoring
// case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// parseLength parses a Content-Length value: digits only, at most 18 of
// them; a list of equal values ("5, 5") is accepted as RFC 9110 8.6 allows.
func parseLength(b []byte) (int64, bool) {
	var v int64 = -1
	for len(b) > 0 {
		var n int64
		i := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if i >= 18 {
				return 0, false
			}
			n = n*10 + int64(b[i]-'0')
		}
		if i == 0 || (v >= 0 && n != v) {
			return 0, false
		}
		v = n
		b = trimOWSBytes(b[i:])
		if len(b) > 0 {
			if b[0] != ',' {
				return 0, false
			}
			b = trimOWSBytes(b[1:])
		}
	}
	return v, v >= 0
}

func respChunkSize(line []byte) (int64, error) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = c | 0x20 - 'a' + 10
		default:
			goto end
		}
		if i >= 15 {
			return 0, loadgen.BadResponse("chunk size %q too large", respExcerpt(line))
		}
		n = n<<4 | int64(d)
	}
end:
	if i == 0 {
		return 0, loadgen.BadResponse("bad chunk-size line %q", respExcerpt(line))
	}
	rest := trimOWSBytes(line[i:])
	if len(rest) > 0 && rest[0] != ';' {
		return 0, loadgen.BadResponse("bad chunk-size line %q", respExcerpt(line))
	}
	return n, nil
}

// hasToken reports whether the comma-separated list v holds tok (lower
// case), ignoring case.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if equalFoldASCII(trimOWSBytes(v[:i]), tok) {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}

// lastTokenIs reports whether the last element of the list v is tok.
func lastTokenIs(v []byte, tok string) bool {
	i := len(v)
	for i > 0 && v[i-1] != ',' {
		i--
	}
	last := trimOWSBytes(v[i:])
	// Transfer codings may carry parameters (";q=..." is not allowed for
	// chunked, so a parameter makes it not chunked).
	return equalFoldASCII(last, tok)
}
