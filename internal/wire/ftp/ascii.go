package ftp

import (
	"errors"
	"io"
)

// ErrClosed is returned by a write to a closed ASCII writer.
var ErrClosed = errors.New("ftp: write to a closed ASCII writer")

// NewASCIIWriter returns a writer that sends local text as TYPE A data
// (RFC 959 3.1.1.1: "the <CRLF> sequence should be used where necessary
// to denote the end of a line of text"): each LF not already preceded by
// CR becomes CRLF; CRLF and every other byte pass as they are. The state
// (a CR at the end of one Write) carries over between writes, so the
// result does not depend on how the data is cut. Close does not close w.
func NewASCIIWriter(w io.Writer) io.WriteCloser { return &asciiWriter{w: w} }

type asciiWriter struct {
	w      io.Writer
	prevCR bool
	closed bool
	buf    []byte
}

func (a *asciiWriter) Write(p []byte) (int, error) {
	if a.closed {
		return 0, ErrClosed
	}
	a.buf = a.buf[:0]
	for _, b := range p {
		if b == '\n' && !a.prevCR {
			a.buf = append(a.buf, '\r')
		}
		a.buf = append(a.buf, b)
		a.prevCR = b == '\r'
	}
	if _, err := a.w.Write(a.buf); err != nil {
		return 0, err
	}
	if cap(a.buf) > 64<<10 {
		a.buf = nil
	}
	return len(p), nil
}

func (a *asciiWriter) Close() error {
	a.closed = true
	return nil
}

// NewASCIIReader returns a reader of TYPE A data that gives local text:
// each CRLF becomes LF; a CR not followed by LF is kept. A CR at the end of
// one read of r is held until the next byte tells, so the result does not
// depend on how the data arrives.
func NewASCIIReader(r io.Reader) io.Reader { return &asciiReader{r: r} }

type asciiReader struct {
	r         io.Reader
	pendingCR bool
	err       error
	in        []byte
	out       []byte // converted bytes not yet returned
	off       int
}

func (a *asciiReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for a.off == len(a.out) {
		if a.err != nil {
			if a.pendingCR {
				a.pendingCR = false
				a.out, a.off = append(a.out[:0], '\r'), 0
				break
			}
			return 0, a.err
		}
		if a.in == nil {
			a.in = make([]byte, 32<<10)
		}
		n, err := a.r.Read(a.in)
		if err != nil {
			a.err = err
		}
		a.out, a.off = a.out[:0], 0
		for _, b := range a.in[:n] {
			if a.pendingCR {
				a.pendingCR = false
				if b == '\n' {
					a.out = append(a.out, '\n')
					continue
				}
				a.out = append(a.out, '\r')
			}
			if b == '\r' {
				a.pendingCR = true
				continue
			}
			a.out = append(a.out, b)
		}
	}
	n := copy(p, a.out[a.off:])
	a.off += n
	return n, nil
}
