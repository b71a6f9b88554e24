package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// Stream is the buffered TCP plumbing that the protocols' stream clients
// share: a write buffer flushed in one write, a read buffer parsed in
// place, and read and write deadlines that are only moved when they drift
// by more than a quarter of the timeout, so that a request costs no
// deadline syscall. A client's Conn embeds it, which gives it Flush and
// Close:
//
//	func (c *conn) Send(at int64) error {
//		c.Out = append(c.Out, request...)
//		c.inflight.Push(loadgen.Pending{At: at})
//		return nil
//	}
type Stream struct {
	// Out holds the requests queued for the next Flush: Send appends to it.
	Out []byte

	c       net.Conn
	timeout int64
	slack   int64
	rbuf    []byte
	r, w    int   // unread bytes are rbuf[r:w]
	rdl     int64 // read deadline set on c (engine clock), 0 for none
	wdl     int64
	maxBuf  int
	once    sync.Once
	cerr    error
}

const (
	readBufSize = 64 << 10
	maxReadBuf  = 1 << 20
)

// DialStream connects to a TCP target (with Nagle off, over TLS when its
// endpoint says so) for requests that time out after timeout; the dial
// and the handshake take at most timeout.
func DialStream(ctx context.Context, to Target, timeout time.Duration) (*Stream, error) {
	d := to.dialer(timeout)
	c, err := d.Dial(ctx, to.Endpoint)
	if err != nil {
		return nil, err
	}
	if tc := dial.TCPConn(c); tc != nil {
		tc.SetNoDelay(true)
	}
	return NewStream(c, timeout), nil
}

// NewStream wraps a connection for requests that time out after timeout.
func NewStream(c net.Conn, timeout time.Duration) *Stream {
	return &Stream{
		c:       c,
		timeout: int64(timeout),
		slack:   int64(timeout) / 4,
		Out:     make([]byte, 0, 4096),
		rbuf:    make([]byte, readBufSize),
		maxBuf:  maxReadBuf,
	}
}

// Flush writes the queued requests (Out) in one write.
func (s *Stream) Flush() error {
	if len(s.Out) == 0 {
		return nil
	}
	now := Now()
	if d := now + s.timeout; s.wdl == 0 || s.wdl < now+s.timeout-s.slack {
		if err := s.c.SetWriteDeadline(ClockTime(d)); err != nil {
			return err
		}
		s.wdl = d
	}
	_, err := s.c.Write(s.Out)
	s.Out = s.Out[:0]
	return err
}

// Buffered returns the bytes read and not yet consumed; they stay valid
// until the next Fill.
func (s *Stream) Buffered() []byte { return s.rbuf[s.r:s.w] }

// Consume drops the first n unread bytes.
func (s *Stream) Consume(n int) {
	s.r += n
	if s.r == s.w {
		s.r, s.w = 0, 0
	}
}

// errTimeoutFatal is a stream request that timed out: the stream can no
// longer be trusted to be in step, so the connection is dropped.
var errTimeoutFatal = &Error{Kind: KindTimeout, Fatal: true, Err: errors.New("no response within the timeout")}

// ErrWaitAgain means the read deadline fired early (it lags the wanted one
// by up to the slack): read again.
var ErrWaitAgain = errors.New("loadgen: wait again")

// Fill reads more bytes, waiting at most until the oldest request's timeout
// (sent at front) or wake (0: none), whichever is first. It returns nil
// when bytes came; a fatal timeout *Error once the oldest request has
// waited past the timeout; ErrWake; ErrWaitAgain; a bad response when one
// element outgrows 1 MiB of buffer; or the read error (io.EOF when the
// server closed).
func (s *Stream) Fill(front, wake int64) error {
	deadline := front + s.timeout
	d := deadline
	if wake > 0 && wake < d {
		d = wake
	}
	if s.rdl == 0 || s.rdl > d || s.rdl < d-s.slack {
		if err := s.c.SetReadDeadline(ClockTime(d)); err != nil {
			return err
		}
		s.rdl = d
	}
	if s.w == len(s.rbuf) {
		if s.r > 0 {
			s.w = copy(s.rbuf, s.rbuf[s.r:s.w])
			s.r = 0
		} else if len(s.rbuf) < s.maxBuf {
			nb := make([]byte, min(2*len(s.rbuf), s.maxBuf))
			s.w = copy(nb, s.rbuf[s.r:s.w])
			s.r = 0
			s.rbuf = nb
		} else {
			return BadResponse("response element larger than %d bytes", s.maxBuf)
		}
	}
	n, err := s.c.Read(s.rbuf[s.w:])
	s.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		return ErrWaitAgain
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		now := Now()
		switch {
		case now >= deadline:
			return errTimeoutFatal
		case wake > 0 && now >= wake:
			return ErrWake
		}
		s.rdl = 0
		return ErrWaitAgain
	}
	return err
}

// Close closes the connection; it may be called more than once, from
// another goroutine too.
func (s *Stream) Close() error {
	s.once.Do(func() { s.cerr = s.c.Close() })
	return s.cerr
}

// Pending is one request in flight: when its latency counts from (engine
// clock) and which of the client's requests it is.
type Pending struct {
	At  int64
	Idx int32
}

// FIFO is a growable ring of requests in flight, oldest first. The zero
// value is empty and ready.
type FIFO struct {
	buf        []Pending
	head, size int
}

// Push adds the newest request.
func (q *FIFO) Push(p Pending) {
	if q.size == len(q.buf) {
		n := make([]Pending, max(8, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			n[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = n, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = p
	q.size++
}

// Front returns the oldest request; the FIFO must not be empty.
func (q *FIFO) Front() Pending { return q.buf[q.head] }

// Pop removes and returns the oldest request; the FIFO must not be empty.
func (q *FIFO) Pop() Pending {
	p := q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return p
}

// Len is the number of requests in flight.
func (q *FIFO) Len() int { return q.size }

// ErrNothingPending is what Conn.Recv returns with no request in flight:
// an engine bug.
var ErrNothingPending = &Error{Kind: KindOther, Fatal: true, Err: fmt.Errorf("loadgen: receive with nothing in flight")}
