package http1

import (
	"io"
	"sync"
)

// Body handling bounds.
const (
	// DefaultMaxInflightBodyBytes bounds the request content held in
	// memory across all connections at once.
	DefaultMaxInflightBodyBytes = 64 << 20
	// maxDiscardBytes is how much content of a request whose handler does
	// not need it is read and dropped to keep the connection; beyond it
	// the response closes the connection instead.
	maxDiscardBytes = 256 << 10
	// bodyPiece is the unit in which content of unknown length is read.
	bodyPiece = 64 << 10
)

// bodyUse says what a route does with the request content.
type bodyUse int

const (
	bodyDiscard bodyUse = iota // not needed: read and dropped, bounded
	bodyMemory                 // needed whole in req.Body (/echo, /form)
	bodyStream                 // streamed where it goes (PUT to disk)
)

// bodyUseOf returns what the route of req does with its content, and for
// a PUT under /upload/ the file name.
func (s *Server) bodyUseOf(req *Request) (bodyUse, string) {
	if req.Form != OriginForm && req.Form != AbsoluteForm || req.Method == "TRACE" {
		return bodyDiscard, ""
	}
	p, err := cleanPath(req.Path)
	if err != nil {
		return bodyDiscard, ""
	}
	switch {
	case p == EchoPath:
		return bodyMemory, ""
	case p == FormPath && req.Method == "POST":
		return bodyMemory, ""
	case req.Method == "PUT":
		if name, ok := uploadName(p); ok {
			return bodyStream, name
		}
	}
	return bodyDiscard, ""
}

// budget is a count of bytes shared by connections: the request content
// held in memory at once.
type budget struct {
	mu   sync.Mutex
	used int64
}

// take reserves n bytes out of max and reports whether they fit.
func (b *budget) take(n, max int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > max {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (s *Server) maxInflight() int64 {
	if s.MaxInflightBodyBytes <= 0 {
		return DefaultMaxInflightBodyBytes
	}
	return s.MaxInflightBodyBytes
}

// errBusy is the failure to reserve memory for a request's content.
var errBusy = statusErr(503, ErrBodyTooLarge, "too much request content in flight")

// bodyReader returns the decoded content stream of req on the connection.
func (cc *conn) bodyReader(req *Request) (io.Reader, *ChunkedReader) {
	if req.Chunked {
		cr := NewChunkedReader(cc.br, cc.lim)
		return cr, cr
	}
	return io.LimitReader(cc.br, req.ContentLength), nil
}

// discardBody reads and drops the content of req. It reports done=false,
// with a nil error, when the content is larger than maxDiscardBytes: the
// response must then close the connection.
func (cc *conn) discardBody(req *Request) (done bool, err error) {
	if !req.Chunked && req.ContentLength > maxDiscardBytes {
		return false, nil
	}
	r, _ := cc.bodyReader(req)
	n, err := io.Copy(io.Discard, io.LimitReader(r, maxDiscardBytes+1))
	if err != nil {
		return false, err
	}
	if n < req.ContentLength {
		return false, io.ErrUnexpectedEOF
	}
	return n <= maxDiscardBytes, nil
}

// readBody reads the content of req into req.Body (and its trailer),
// holding its size against the server's in-flight budget until the
// request is done. Content of unknown length is read in pieces and
// assembled once, so its buffer does not double as it grows.
func (cc *conn) readBody(req *Request) error {
	s, max := cc.s, cc.s.maxInflight()
	if !req.Chunked {
		if !s.inflight.take(req.ContentLength, max) {
			return errBusy
		}
		req.onDone(func() { s.inflight.give(req.ContentLength) })
		return ReadBody(cc.br, req, cc.lim)
	}
	r, cr := cc.bodyReader(req)
	var pieces [][]byte
	var total int64
	held := int64(0)
	req.onDone(func() { s.inflight.give(held) })
	for {
		if !s.inflight.take(bodyPiece, max) {
			return errBusy
		}
		held += bodyPiece
		p := make([]byte, bodyPiece)
		n, err := io.ReadFull(r, p)
		total += int64(n)
		if total > cc.lim.MaxBodyBytes {
			return statusErr(413, ErrBodyTooLarge, "chunked body over the limit")
		}
		if n > 0 {
			pieces = append(pieces, p[:n])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF && cr.err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	// The assembled copy counts too, until the request is done.
	if !s.inflight.take(total, max) {
		return errBusy
	}
	held += total
	body := make([]byte, 0, total)
	for _, p := range pieces {
		body = append(body, p...)
	}
	req.Body, req.Trailer = body, cr.Trailer
	return nil
}

// countingReader notes whether its reader reached the end of the content.
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	}
	return n, err
}

// eofReader is empty content.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// inflightUsed returns the bytes of request content held in memory now.
func (s *Server) inflightUsed() int64 {
	s.inflight.mu.Lock()
	defer s.inflight.mu.Unlock()
	return s.inflight.used
}
