package loadgen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// stream is the buffered TCP plumbing the stream clients share: a write
// buffer flushed in one write, a read buffer parsed in place, and read and
// write deadlines that are only moved when they drift by more than a
// quarter of the timeout, so that a request costs no deadline syscall.
type stream struct {
	c       net.Conn
	timeout int64
	slack   int64
	wbuf    []byte
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

func dialStream(addr string, timeout time.Duration) (*stream, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return newStream(c, timeout), nil
}

func newStream(c net.Conn, timeout time.Duration) *stream {
	return &stream{
		c:       c,
		timeout: int64(timeout),
		slack:   int64(timeout) / 4,
		wbuf:    make([]byte, 0, 4096),
		rbuf:    make([]byte, readBufSize),
		maxBuf:  maxReadBuf,
	}
}

// flush writes the write buffer.
func (s *stream) flush() error {
	if len(s.wbuf) == 0 {
		return nil
	}
	now := Now()
	if d := now + s.timeout; s.wdl == 0 || s.wdl < now+s.timeout-s.slack {
		if err := s.c.SetWriteDeadline(clockTime(d)); err != nil {
			return err
		}
		s.wdl = d
	}
	_, err := s.c.Write(s.wbuf)
	s.wbuf = s.wbuf[:0]
	return err
}

// buffered returns the unread bytes.
func (s *stream) buffered() []byte { return s.rbuf[s.r:s.w] }

// consume drops n unread bytes.
func (s *stream) consume(n int) {
	s.r += n
	if s.r == s.w {
		s.r, s.w = 0, 0
	}
}

// errTimeoutFatal is a stream request that timed out: the stream can no
// longer be trusted to be in step, so the connection is dropped.
var errTimeoutFatal = &Error{Kind: KindTimeout, Fatal: true, Err: errors.New("no response within the timeout")}

// errWaitAgain means the read deadline fired early (it lags the wanted one
// by up to the slack): read again.
var errWaitAgain = errors.New("loadgen: wait again")

// fill reads more bytes, waiting at most until the oldest request's timeout
// (sent at front) or wake, whichever is first. It returns errTimeoutFatal,
// ErrWake, errWaitAgain, or the read error.
func (s *stream) fill(front, wake int64) error {
	deadline := front + s.timeout
	d := deadline
	if wake > 0 && wake < d {
		d = wake
	}
	if s.rdl == 0 || s.rdl > d || s.rdl < d-s.slack {
		if err := s.c.SetReadDeadline(clockTime(d)); err != nil {
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
			return badResponse("response element larger than %d bytes", s.maxBuf)
		}
	}
	n, err := s.c.Read(s.rbuf[s.w:])
	s.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		return errWaitAgain
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
		return errWaitAgain
	}
	return err
}

func (s *stream) close() error {
	s.once.Do(func() { s.cerr = s.c.Close() })
	return s.cerr
}

// pending is one request in flight.
type pending struct {
	at  int64
	idx int32
}

// fifo is a growable ring of requests in flight, oldest first.
type fifo struct {
	buf        []pending
	head, size int
}

func (q *fifo) push(p pending) {
	if q.size == len(q.buf) {
		n := make([]pending, max(8, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			n[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = n, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = p
	q.size++
}

func (q *fifo) front() pending { return q.buf[q.head] }

func (q *fifo) pop() pending {
	p := q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return p
}

func (q *fifo) len() int { return q.size }

// errNothingPending is a Recv with no request in flight: an engine bug.
var errNothingPending = &Error{Kind: KindOther, Fatal: true, Err: fmt.Errorf("loadgen: receive with nothing in flight")}
