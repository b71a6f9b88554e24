package http1

import (
	"errors"
	"strconv"
)

// Sentinel errors. A StatusError wraps one of them, so callers can test
// with errors.Is and still learn the status to send.
var (
	// ErrServerClosed is returned by Serve after Close.
	ErrServerClosed = errors.New("http1: server closed")
	// ErrLineTooLong means a request-line, field line or chunk line exceeded its limit.
	ErrLineTooLong = errors.New("http1: line too long")
	// ErrHeaderTooLarge means the header section exceeded MaxHeaderBytes or MaxHeaderCount.
	ErrHeaderTooLarge = errors.New("http1: header too large")
	// ErrBadRequestLine means the request-line does not match the RFC 9112 grammar.
	ErrBadRequestLine = errors.New("http1: malformed request-line")
	// ErrBadVersion means the HTTP-version is malformed.
	ErrBadVersion = errors.New("http1: malformed HTTP-version")
	// ErrUnsupportedVersion means a major version other than 1.
	ErrUnsupportedVersion = errors.New("http1: HTTP version not supported")
	// ErrBadField means a malformed header or trailer field line.
	ErrBadField = errors.New("http1: malformed field line")
	// ErrBareCR means a CR not followed by LF in the message head or chunk framing.
	ErrBareCR = errors.New("http1: bare CR")
	// ErrBadHost means a missing, repeated or invalid Host field.
	ErrBadHost = errors.New("http1: bad Host")
	// ErrBadTarget means a malformed request-target or a form not allowed for the method.
	ErrBadTarget = errors.New("http1: bad request-target")
	// ErrBadFraming means conflicting or invalid Content-Length / Transfer-Encoding.
	ErrBadFraming = errors.New("http1: bad message framing")
	// ErrUnknownCoding means a transfer coding this server does not implement.
	ErrUnknownCoding = errors.New("http1: unsupported transfer coding")
	// ErrBadChunk means a malformed chunk-size line, chunk data terminator or trailer.
	ErrBadChunk = errors.New("http1: malformed chunked encoding")
	// ErrBodyTooLarge means the request content exceeds MaxBodyBytes.
	ErrBodyTooLarge = errors.New("http1: body too large")
	// ErrBadExpect means an Expect value other than 100-continue.
	ErrBadExpect = errors.New("http1: unsupported expectation")
	// ErrBadPath means a request path that is invalid or escapes the document root.
	ErrBadPath = errors.New("http1: bad path")
	// ErrBadCookie means a Set-Cookie string that RFC 6265 section 5.2 says to ignore.
	ErrBadCookie = errors.New("http1: ignored Set-Cookie")
)

// StatusError is a request error that carries the response status to send
// and whether the connection must be closed afterwards.
type StatusError struct {
	// Code is the HTTP status code to answer with.
	Code int
	// Reason is a short human-readable explanation, sent in the body.
	Reason string
	// Err is the sentinel error (one of the Err* values).
	Err error
	// Method is the request method when the request-line was read before
	// the error: a 400 to a HEAD request carries no content either
	// (RFC 9110 9.3.2: "the server MUST NOT send content in the
	// response").
	Method string
}

func (e *StatusError) Error() string {
	return e.Err.Error() + ": " + strconv.Itoa(e.Code) + " " + e.Reason
}

// Unwrap returns the sentinel error.
func (e *StatusError) Unwrap() error { return e.Err }

func statusErr(code int, err error, reason string) *StatusError {
	return &StatusError{Code: code, Reason: reason, Err: err}
}

// StatusText returns the reason phrase of a status code.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 204:
		return "No Content"
	case 206:
		return "Partial Content"
	case 301:
		return "Moved Permanently"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	case 507:
		return "Insufficient Storage"
	}
	return "Status " + strconv.Itoa(code)
}
