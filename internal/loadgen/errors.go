package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Kind names a class of failed request, as reports count them.
type Kind string

// Kinds of failure.
const (
	// KindTimeout: no response within the request timeout.
	KindTimeout Kind = "timeout"
	// KindReset: the server reset the connection (ECONNRESET, EPIPE).
	KindReset Kind = "reset"
	// KindRefused: the connection was refused (or ICMP port unreachable
	// over UDP).
	KindRefused Kind = "refused"
	// KindClosed: the server closed the connection with requests pending
	// and without having said it would.
	KindClosed Kind = "closed"
	// KindBadResponse: the response broke the protocol's framing or did not
	// match its request.
	KindBadResponse Kind = "bad_response"
	// KindStatus: a well-formed response with a status (HTTP status, DNS
	// RCODE) the run does not accept.
	KindStatus Kind = "unexpected_status"
	// KindOther: anything else (a dial error that is none of the above).
	KindOther Kind = "other"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{KindTimeout, KindReset, KindRefused, KindClosed, KindBadResponse, KindStatus, KindOther}

// Error is a failed request of a known kind. Fatal errors leave the
// connection unusable (a stream out of sync); the engine closes it and
// dials again.
type Error struct {
	Kind  Kind
	Fatal bool
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Kind, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// BadResponse returns a fatal bad-response error: the response broke the
// framing, so the stream is out of step and the connection is dropped.
func BadResponse(format string, args ...any) error {
	return &Error{Kind: KindBadResponse, Fatal: true, Err: fmt.Errorf(format, args...)}
}

// ErrWake is what Conn.Recv returns when the wake time it was given passes
// before any response or timeout: the engine has something to send.
var ErrWake = errors.New("loadgen: wake")

// Classify returns the kind of a request error.
func Classify(err error) Kind {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return KindReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return KindClosed
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	return KindOther
}

// isFatal reports whether err leaves the connection unusable.
func isFatal(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Fatal
	}
	return true
}

// base is the origin of the engine clock.
var base = time.Now()

// Now returns the engine clock: monotonic nanoseconds since the process
// started using the package.
func Now() int64 { return int64(time.Since(base)) }

// ClockTime converts an engine clock value to a time.Time (for deadlines).
func ClockTime(ns int64) time.Time { return base.Add(time.Duration(ns)) }
