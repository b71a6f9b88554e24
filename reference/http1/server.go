package http1

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/netutil"
)

// Default timeouts.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
)

// Default connection limits: well under the usual descriptor limit of
// 1024, and a quarter of it for one source address.
const (
	DefaultMaxConns          = 512
	DefaultMaxConnsPerClient = 128
)

// ServerName is the value of the Server response field.
const ServerName = "protospec-reference"

// Server is the HTTP/1.0 and HTTP/1.1 reference origin server. It routes
// requests itself: the dynamic endpoints /redirect, /form, /session and
// /echo, then static files from Root, with PUT and DELETE allowed under
// /upload/ only. The zero value serves Root "" (no static files) with
// default limits.
type Server struct {
	// Root is the document root directory.
	Root string
	// MaxRequestLine bounds the request-line (default 8192 bytes).
	MaxRequestLine int
	// MaxHeaderBytes bounds the header section (default 16384 bytes).
	MaxHeaderBytes int
	// MaxHeaderCount bounds the number of header field lines (default 100).
	MaxHeaderCount int
	// MaxBodyBytes bounds the request content (default 10 MiB).
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds the time to receive a request head (default 10 s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to receive a request body (default 30 s).
	ReadTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a persistent
	// connection (default 30 s).
	IdleTimeout time.Duration
	// WriteTimeout bounds the writing of each response (default 30 s).
	WriteTimeout time.Duration
	// MaxConns bounds concurrent connections; beyond it a new connection
	// gets 503 and is closed (0: DefaultMaxConns; negative: no limit).
	MaxConns int
	// MaxUploadBytes bounds the total size of the files under /upload/
	// (DefaultMaxUploadBytes); a PUT beyond it gets 507.
	MaxUploadBytes int64
	// MaxUploadFiles bounds the number of files under /upload/
	// (DefaultMaxUploadFiles); a PUT creating one more gets 507.
	MaxUploadFiles int
	// MaxInflightBodyBytes bounds the request content held in memory (for
	// /echo and /form) across all connections (DefaultMaxInflightBodyBytes);
	// a request that does not fit gets 503.
	MaxInflightBodyBytes int64
	// MaxConnsPerClient bounds the concurrent connections of one source
	// address, so one client cannot take every slot (0:
	// DefaultMaxConnsPerClient, at most MaxConns; negative: no share).
	MaxConnsPerClient int
	// EnableTrace enables the TRACE method (disabled: 405).
	EnableTrace bool
	// Charset, if set, is the charset parameter of the Content-Type of
	// static text files ("utf-8": text/plain; charset=utf-8).
	Charset string
	// FileCacheValid is how long an opened file is served from the
	// open-file cache without looking at the file system again (0:
	// DefaultFileCacheValid; negative: no cache). PUT and DELETE empty it.
	FileCacheValid time.Duration
	// DirIndex makes a directory without index.html answer GET and HEAD
	// with an HTML list of its entries (false: 404).
	DirIndex bool
	// ErrorLog receives connection errors; nil discards them.
	ErrorLog *log.Logger
	// AccessLog, if set, gets one line per response: client, method,
	// request-target, status and content bytes sent ("-" for the method
	// and target of a request that could not be read).
	AccessLog *log.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	perClient map[netip.Addr]int
	inflight  budget
	closed    bool
	wg        sync.WaitGroup
	sessions  sessionTable
	uploadMu  sync.Mutex
	uploads   uploadQuota

	// The document root, resolved and opened once (Root must not change
	// once the server serves).
	typesOnce sync.Once
	types     map[string]string // contentTypeOf's table

	files fileCache // the open-file cache (filecache.go)

	rootOnce sync.Once
	rootPath string
	rootDir  *os.File
	rootErr  error
}

func (s *Server) limits() Limits {
	return Limits{
		MaxRequestLine: s.MaxRequestLine,
		MaxHeaderBytes: s.MaxHeaderBytes,
		MaxHeaderCount: s.MaxHeaderCount,
		MaxBodyBytes:   s.MaxBodyBytes,
	}.withDefaults()
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	}
}

// Serve accepts connections on l and serves each in its own goroutine until
// Close is called; it then returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	backoff := time.Duration(0)
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if netutil.RetryAccept(err) {
				// Out of descriptors (or a timeout): the connections
				// being served free some; wait and accept again rather
				// than give up serving.
				backoff = netutil.NextBackoff(backoff)
				s.logf("http1: accept: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		full, ok := s.track(c)
		if !ok {
			c.Close()
			return ErrServerClosed
		}
		go func() {
			defer s.untrack(c, !full)
			if full {
				s.refuse(c)
				return
			}
			s.serveConn(c)
		}()
	}
}

// ServeTLS is Serve over TLS: each connection accepted on l runs the TLS
// server handshake with cfg (within ReadHeaderTimeout, as the first read
// of the request head) before HTTP/1.1 is spoken over it.
func (s *Server) ServeTLS(l net.Listener, cfg *tls.Config) error {
	return s.Serve(tls.NewListener(l, cfg))
}

// ServeConn serves one already established connection (for example one end
// of net.Pipe) until it closes, and then closes it.
func (s *Server) ServeConn(c net.Conn) {
	full, ok := s.track(c)
	if !ok {
		c.Close()
		return
	}
	defer s.untrack(c, !full)
	if full {
		s.refuse(c)
		return
	}
	s.serveConn(c)
}

func (s *Server) maxConns() int {
	if s.MaxConns == 0 {
		return DefaultMaxConns
	}
	return s.MaxConns
}

func (s *Server) maxConnsPerClient() int {
	n := s.MaxConnsPerClient
	if n == 0 {
		n = DefaultMaxConnsPerClient
	}
	if m := s.maxConns(); m > 0 && n > m {
		n = m
	}
	return n
}

// track registers c; full reports that MaxConns or the client's share
// is exceeded. A refused connection is tracked too (until its 503 is
// written) but does not count against the client's share.
func (s *Server) track(c net.Conn) (full, ok bool) {
	ip := netutil.ClientAddr(c.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
		s.perClient = map[netip.Addr]int{}
	}
	m, pc := s.maxConns(), s.maxConnsPerClient()
	// Connections without an address (net.Pipe, in-process) have no share.
	full = m > 0 && len(s.conns) >= m || pc > 0 && ip.IsValid() && s.perClient[ip] >= pc
	s.conns[c] = struct{}{}
	if !full {
		s.perClient[ip]++
	}
	s.wg.Add(1)
	return full, true
}

// untrack forgets c; counted is the negation of track's full.
func (s *Server) untrack(c net.Conn, counted bool) {
	c.Close()
	ip := netutil.ClientAddr(c.RemoteAddr())
	s.mu.Lock()
	delete(s.conns, c)
	if counted {
		if s.perClient[ip]--; s.perClient[ip] <= 0 {
			delete(s.perClient, ip)
		}
	}
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close closes all listeners and live connections and waits until every
// connection goroutine has returned.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.files.clear()
	return nil
}

// refuse answers 503 to a connection over MaxConns.
func (s *Server) refuse(c net.Conn) {
	bw := bufio.NewWriterSize(c, 512)
	c.SetWriteDeadline(time.Now().Add(orDefault(s.WriteTimeout, DefaultWriteTimeout)))
	resp := errorResponse(503, "too many connections")
	resp.close = true
	writeResponse(bw, nil, resp)
}

// conn is the state of one client connection.
type conn struct {
	s   *Server
	c   net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	lim Limits
}

func (s *Server) serveConn(c net.Conn) {
	cc := &conn{s: s, c: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096), lim: s.limits()}
	defer lingerClose(c)
	readHeader := orDefault(s.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	idle := orDefault(s.IdleTimeout, DefaultIdleTimeout)
	for first := true; ; first = false {
		// Wait for the first byte of the next request: the whole head
		// timeout for a new connection, the idle timeout afterwards.
		deadline := time.Now().Add(readHeader)
		if !first {
			c.SetReadDeadline(time.Now().Add(idle))
		} else {
			c.SetReadDeadline(deadline)
		}
		if _, err := cc.br.Peek(1); err != nil {
			return
		}
		if !first {
			deadline = time.Now().Add(readHeader)
			c.SetReadDeadline(deadline)
		}
		req, err := ReadRequest(cc.br, cc.lim)
		if err != nil {
			cc.fail(err)
			return
		}
		if !cc.serveRequest(req) {
			return
		}
	}
}

// Bounds of the lingering close.
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 256 << 10
)

// lingerClose half-closes a TCP connection and discards what the client
// still sends for a short, bounded time before closing. Closing a socket
// with unread input makes the kernel send RST, which can destroy the error
// response (414, 431, 413, ...) before the client has read it. Over TLS
// the half-close is TLS's close_notify followed by the TCP FIN.
func lingerClose(c net.Conn) {
	sock := c
	if tc, ok := c.(*tls.Conn); ok {
		sock = tc.NetConn()
		tc.SetWriteDeadline(time.Now().Add(lingerTime))
		if tc.CloseWrite() != nil {
			c.Close()
			return
		}
	}
	if tc, ok := sock.(*net.TCPConn); ok {
		if tc.CloseWrite() == nil {
			c.SetReadDeadline(time.Now().Add(lingerTime))
			io.CopyN(io.Discard, c, lingerBytes)
		}
	}
	c.Close()
}

// fail answers a request that could not be read, when it deserves an answer.
// The connection is closed afterwards in every case.
func (cc *conn) fail(err error) {
	var se *StatusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		cc.s.logf("http1: %s: %v", cc.c.RemoteAddr(), err)
		resp := errorResponse(se.Code, se.Reason)
		resp.close = true
		var req *Request
		if se.Method != "" {
			req = &Request{Method: se.Method, ProtoMinor: 1}
		}
		cc.write(req, resp)
	case errors.As(err, &ne) && ne.Timeout():
		// RFC 9110 15.5.9: "The 408 (Request Timeout) status code
		// indicates that the server did not receive a complete request
		// message within the time that it was prepared to wait."
		resp := errorResponse(408, "request not received in time")
		resp.close = true
		cc.write(nil, resp)
	}
}

func (cc *conn) write(req *Request, resp *response) bool {
	cc.c.SetWriteDeadline(time.Now().Add(orDefault(cc.s.WriteTimeout, DefaultWriteTimeout)))
	err := writeResponse(cc.bw, req, resp)
	if cc.s.AccessLog != nil {
		cc.s.accessLog(cc.c, req, resp, err)
	}
	if err != nil {
		cc.s.logf("http1: %s: write: %v", cc.c.RemoteAddr(), err)
		return false
	}
	return true
}

// accessLog writes resp's line of the access log.
func (s *Server) accessLog(c net.Conn, req *Request, resp *response, err error) {
	method, target := "-", "-"
	var sent int64
	if req != nil {
		method = req.Method
		if req.Target != "" {
			target = req.Target
		}
	}
	if !bodyless(resp.code) && method != "HEAD" {
		sent = resp.bodyLen
	}
	if err != nil {
		s.AccessLog.Printf("%v %s %q %d %d (write: %v)", c.RemoteAddr(), method, target, resp.code, sent, err)
		return
	}
	s.AccessLog.Printf("%v %s %q %d %d", c.RemoteAddr(), method, target, resp.code, sent)
}

// serveRequest handles one request whose head has been read, and reports
// whether the connection stays open.
func (cc *conn) serveRequest(req *Request) bool {
	defer req.finish()
	h, pre := cc.s.route(req)
	expect := false
	if pre == nil && req.ProtoMinor >= 1 && req.Header.Has("Expect") {
		// RFC 9110 10.1.1: "A server that receives a 100-continue
		// expectation in an HTTP/1.0 request MUST ignore that expectation."
		// Expect = #expectation; only 100-continue is defined.
		for _, m := range req.Header.List("Expect") {
			if !strings.EqualFold(m, "100-continue") {
				// RFC 9110 10.1.1: "A server that receives an Expect field
				// value containing a member other than 100-continue MAY
				// respond with a 417 (Expectation Failed) status code".
				pre = errorResponse(417, "only 100-continue is supported")
				break
			}
			expect = true
		}
		if len(req.Header.List("Expect")) == 0 {
			pre = errorResponse(417, "empty Expect")
		}
	}
	if pre != nil && req.HasBody() && req.Header.Has("Expect") && req.ProtoMinor >= 1 {
		// RFC 9110 10.1.1: "A server MAY omit sending a 100 (Continue)
		// response if it has already received some or all of the content
		// ... or if it will respond with a final status code". The body
		// is then never read, so the connection cannot be reused.
		pre.close = true
		cc.write(req, pre)
		return false
	}
	if expect && req.HasBody() {
		// RFC 9110 10.1.1: "An origin server MUST, upon receiving an
		// HTTP/1.1 (or later) request-line and a complete header section
		// that contains a 100-continue expectation and indicates a request
		// message body will follow, either send an immediate response with
		// a final status code ... or send an immediate 100 (Continue)
		// response".
		cc.c.SetWriteDeadline(time.Now().Add(orDefault(cc.s.WriteTimeout, DefaultWriteTimeout)))
		cc.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if err := cc.bw.Flush(); err != nil {
			return false
		}
	}
	// The route is known before the content is read: only /echo and
	// /form hold it in memory, a PUT streams it to disk, and every other
	// route drops it (or, when it is large, closes the connection after
	// answering rather than read it).
	use, name := bodyDiscard, ""
	if pre == nil {
		use, name = cc.s.bodyUseOf(req)
	}
	closeAfter := false
	var resp *response
	if req.HasBody() {
		cc.c.SetReadDeadline(time.Now().Add(orDefault(cc.s.ReadTimeout, DefaultReadTimeout)))
		switch use {
		case bodyMemory:
			if err := cc.readBody(req); err != nil {
				cc.fail(err)
				return false
			}
		case bodyStream:
			r, _ := cc.bodyReader(req)
			cr := &countingReader{r: r}
			resp = cc.s.putFrom(req, name, cr)
			if !cr.eof {
				// The content was not read to its end (refused, or
				// failed): the rest is dropped when small, else the
				// connection cannot be reused.
				n, err := io.Copy(io.Discard, io.LimitReader(cr, maxDiscardBytes+1))
				closeAfter = err != nil || n > maxDiscardBytes || !cr.eof
			}
		default:
			done, err := cc.discardBody(req)
			if err != nil {
				cc.fail(err)
				return false
			}
			closeAfter = !done
		}
	} else if use == bodyStream {
		resp = cc.s.putFrom(req, name, eofReader{})
	}
	if resp == nil {
		resp = pre
	}
	if resp == nil {
		resp = h(req)
	}
	if req.Close || closeAfter {
		resp.close = true
	}
	if !cc.write(req, resp) {
		return false
	}
	return !resp.close
}

// response is a response ready to be written.
type response struct {
	code   int
	header Header
	// body is the content, or nil when writeBody streams bodyLen bytes.
	body      []byte
	bodyLen   int64
	writeBody func(io.Writer) error
	close     bool
}

func newResponse(code int, contentType string, body []byte) *response {
	r := &response{code: code, body: body, bodyLen: int64(len(body))}
	if contentType != "" {
		r.header.Add("Content-Type", contentType)
	}
	return r
}

func errorResponse(code int, reason string) *response {
	msg := strconv.Itoa(code) + " " + StatusText(code)
	if reason != "" {
		msg += ": " + reason
	}
	return newResponse(code, "text/plain; charset=utf-8", []byte(msg+"\n"))
}

// bodyless reports whether status code forbids content: 1xx, 204 and 304.
func bodyless(code int) bool { return code < 200 || code == 204 || code == 304 }

// HTTPDateFormat is the IMF-fixdate layout (RFC 9110 5.6.7).
const HTTPDateFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// writeResponse writes resp for req (nil when the request could not be read).
func writeResponse(bw *bufio.Writer, req *Request, resp *response) error {
	// RFC 9110 2.5: "A server SHOULD send a response version equal to the
	// highest version to which the server is conformant that has a major
	// version less than or equal to the one received in the request."
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(resp.code))
	bw.WriteByte(' ')
	bw.WriteString(StatusText(resp.code))
	bw.WriteString("\r\n")
	// RFC 9110 6.6.1: "An origin server with a clock ... MUST generate a
	// Date header field in all 2xx (Successful), 3xx (Redirection), and
	// 4xx (Client Error) responses, and MAY generate a Date header field
	// in 1xx (Informational) and 5xx (Server Error) responses."
	bw.WriteString("Date: ")
	bw.WriteString(time.Now().UTC().Format(HTTPDateFormat))
	bw.WriteString("\r\nServer: " + ServerName + "\r\n")
	writeFields(bw, resp.header)
	if !bodyless(resp.code) {
		// RFC 9110 8.6: "A server MUST NOT send a Content-Length header
		// field in any response with a status code of 1xx (Informational)
		// or 204 (No Content)." 304 carries none here either.
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(resp.bodyLen, 10))
		bw.WriteString("\r\n")
	}
	if resp.close {
		// RFC 9112 9.6: "A server that sends a "close" connection option
		// MUST initiate closure of the connection ... after it sends the
		// response containing "close"."
		bw.WriteString("Connection: close\r\n")
	} else if req != nil && req.ProtoMinor == 0 {
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
	// RFC 9110 9.3.2: "The server SHOULD send the same header fields in
	// response to a HEAD request as it would have sent if the request method
	// had been GET. However, a server MAY omit header fields for which a
	// value is determined only while generating the content."
	if !bodyless(resp.code) && (req == nil || req.Method != "HEAD") {
		if resp.writeBody != nil {
			if err := resp.writeBody(bw); err != nil {
				return err
			}
		} else {
			bw.Write(resp.body)
		}
	}
	return bw.Flush()
}
