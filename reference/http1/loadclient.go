package http1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	contract "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/protocol"
	wire "github.com/protospec/protospec/internal/wire/http1"
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
	method []string
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
		p.method = append(p.method, m)
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
	resp     respReader
	reusable bool
}

func (c *loadConn) Send(at int64) error {
	i := c.n % len(c.p.reqs)
	c.n++
	c.Out = append(c.Out, c.p.reqs[i]...)
	c.q.Push(loadgen.Pending{At: at, Idx: int32(i)})
	c.resp.expect(c.p.method[i])
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
		m, err := c.resp.next()
		if err != nil {
			return c.q.Front().At, err
		}
		if m != nil {
			return c.finish(m)
		}
		if buf := c.Buffered(); len(buf) > 0 {
			c.resp.feed(buf)
			c.Consume(len(buf))
			continue
		}
		err = c.Fill(c.q.Front().At, wake)
		switch {
		case err == nil, err == loadgen.ErrWaitAgain:
		case err == loadgen.ErrWake:
			return 0, err
		case errors.Is(err, io.EOF) && c.resp.d.Partial():
			c.reusable = false
			c.resp.d.Close()
			if m, err := c.resp.next(); err != nil || m != nil {
				if err != nil {
					return c.q.Front().At, err
				}
				return c.finish(m)
			}
			return c.q.Front().At, loadgen.BadResponse("connection closed in the middle of a response")
		default:
			return c.q.Front().At, err
		}
	}
}

// finish completes the response to the oldest request.
func (c *loadConn) finish(m *wire.Message) (int64, error) {
	p := c.q.Pop()
	if m.Closes() || m.Framing == wire.FramingClose {
		c.reusable = false
	}
	status := m.Status
	c.resp.d.Recycle(m)
	if !c.p.accept(status) {
		return p.At, &loadgen.Error{Kind: loadgen.KindStatus, Err: fmt.Errorf("status %d", status)}
	}
	return p.At, nil
}

// maxHead bounds a response's status line and header section.
const maxHead = 64 << 10

// respReader reads the responses of one connection with the observers'
// codec, keeping no content: each final response completes the oldest
// request, a response that breaks the framing or the grammar of its
// status line and field lines is a bad response.
type respReader struct {
	d *wire.Decoder
}

// expect tells the reader the method of the next request sent.
func (r *respReader) expect(method string) {
	if r.d == nil {
		r.d = wire.NewResponseDecoder(wire.Limits{MaxHead: maxHead, DiscardBody: true})
	}
	r.d.Expect(method)
}

// feed frames the next bytes read.
func (r *respReader) feed(b []byte) { r.d.Feed(b) }

// next returns the next complete final response, nil when more bytes are
// needed; interim responses are passed over.
func (r *respReader) next() (*wire.Message, error) {
	if r.d == nil {
		return nil, nil
	}
	for {
		m, ok := r.d.Next()
		if !ok {
			// A head that cannot be read is bad before its content ends.
			if m := r.d.Current(); m != nil && len(m.Problems) > 0 {
				return nil, badHead(m)
			}
			return nil, nil
		}
		if err := badResponse(m); err != nil {
			return m, err
		}
		if m.Status >= 200 {
			return m, nil
		}
		r.d.Recycle(m)
	}
}

// badHead reports the problems of a head that make the load client refuse
// a response: a field line it cannot read, an invalid Content-Length.
func badHead(m *wire.Message) error {
	for _, p := range m.Problems {
		switch p.Kind {
		case wire.KindFieldNoColon, wire.KindFieldName, wire.KindSpaceBeforeColon, wire.KindObsFold, wire.KindInvalidCL:
			return loadgen.BadResponse("%s", p.Detail)
		}
	}
	return nil
}

// badResponse is the load client's verdict on a response: framing lost,
// a start line or field line it cannot read, a cut-short message, or a
// 101 to a request that asked for no upgrade.
func badResponse(m *wire.Message) error {
	if p := m.Fatal(); p != nil {
		return loadgen.BadResponse("%s", p.Detail)
	}
	if err := badHead(m); err != nil {
		return err
	}
	switch {
	case m.Incomplete:
		return loadgen.BadResponse("connection closed in the middle of a response")
	case m.Status == 101:
		return loadgen.BadResponse("101 Switching Protocols to a request that asked for no upgrade")
	}
	return nil
}
