package http1

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestReadResponse(t *testing.T) {
	cases := []struct {
		name, in, method string
		code             int
		body             string
		framing          Framing
		rest             string
		interim          int
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/", "GET", 200, "hello", FramingLength, "HTTP/", 0},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\nX", "GET", 200, "hello0123456789", FramingChunked, "X", 0},
		{"close", "HTTP/1.0 200 OK\r\n\r\nall of it", "GET", 200, "all of it", FramingClose, "", 0},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nX", "HEAD", 200, "", FramingNone, "X", 0},
		{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nX", "GET", 304, "", FramingNone, "X", 0},
		{"interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nX", "PUT", 204, "", FramingNone, "X", 1},
		{"empty reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "GET", 200, "", FramingLength, "", 0},
		{"no reason", "HTTP/1.1 200\nContent-Length: 1\n\nab", "GET", 200, "a", FramingLength, "b", 0},
		{"same lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", "GET", 200, "ab", FramingLength, "", 0},
		{"lenient chunk lines", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;@@\r\nab\r\n0\r\nT: 1\n\nX", "GET", 200, "ab", FramingChunked, "X", 0},
		{"switching", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nbinary", "GET", 101, "", FramingNone, "binary", 0},
		{"connect", "HTTP/1.1 200 OK\r\n\r\ntunnel", "CONNECT", 200, "", FramingNone, "tunnel", 0},
		{"te not chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", "GET", 200, "zz", FramingClose, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &bytesWire{b: []byte(c.in)}
			r, err := ReadResponse(w, c.method)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != c.code || string(r.Body) != c.body || r.Framing != c.framing || string(w.b) != c.rest || len(r.Interim) != c.interim {
				t.Fatalf("got code %d body %q framing %s rest %q interim %d", r.Code, r.Body, r.Framing, w.b, len(r.Interim))
			}
		})
	}
}

func TestReadResponseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not http":         "SSH-2.0-x\r\n\r\n",
		"two digit code":   "HTTP/1.1 20 OK\r\n\r\n",
		"bad version":      "HTTP/x.1 200 OK\r\n\r\n",
		"obs-fold":         "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
		"no colon":         "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n",
		"conflicting CL":   "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"negative CL":      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"bad chunk":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"chunk no CRLF":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab0\r\n\r\n",
		"huge chunk":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
		"short body":       "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
		"huge CL":          "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
		"too many fields":  "HTTP/1.1 200 OK\r\n" + string(bytes.Repeat([]byte("A: b\r\n"), 300)) + "\r\n",
		"empty line first": "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"empty name":       "HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n",
		"bare LF chunk":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n",
		"chunk junk":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\na\r\n0\r\n\r\n",
		"huge chunked":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\n",
	} {
		if _, err := ReadResponse(&bytesWire{b: []byte(in)}, "GET"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := ReadResponse(&bytesWire{}, "GET")
	if !noResponse(err) {
		t.Errorf("empty input: noResponse(%v) = false", err)
	}
	_, err = ReadResponse(&bytesWire{b: []byte("HTTP/1.1 2")}, "GET")
	if noResponse(err) || !isClosedErr(err) {
		t.Errorf("partial status-line: %v", err)
	}
	if errors.Is(err, io.EOF) {
		t.Errorf("unexpected io.EOF")
	}
}

func TestCheckers(t *testing.T) {
	r, err := ReadResponse(&bytesWire{b: []byte("HTTP/1.1 200 \r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n")}, "GET")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStatusLine(r); err != nil {
		t.Error(err)
	}
	if err := checkCRLF(r); err != nil {
		t.Error(err)
	}
	if err := checkIMFDate("Date", r.Header.Get("Date")); err != nil {
		t.Error(err)
	}
	if err := checkIMFDate("Date", "Tue, 01 Jan 2024 00:00:00 GMT"); err == nil {
		t.Error("wrong day name accepted")
	}
	r, _ = ReadResponse(&bytesWire{b: []byte("HTTP/1.1 200\nBad Name: x\n\n")}, "HEAD")
	if checkStatusLine(r) == nil || checkCRLF(r) == nil || checkFieldLines(r.Header) == nil {
		t.Error("bad status-line, bare LF or bad field-name accepted")
	}
	if len(r.Problems) == 0 {
		t.Error("the codec's problems are not carried on the response")
	}
}

// FuzzReadResponse checks that the reader never panics and honours its
// bounds on any input.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nA: b\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 x\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		r, err := ReadResponse(&bytesWire{b: in}, method)
		if err == nil && len(r.Body) > maxBody {
			t.Fatalf("body of %d bytes over the limit", len(r.Body))
		}
		if err == nil {
			_ = checkStatusLine(r)
			_ = checkCRLF(r)
			_ = checkFieldLines(r.Header)
		}
	})
}

// A target that answers with bytes that hold no response head (an HTTP/0.9
// body, a head cut short at a line's end) and closes has not refused the
// request without answering: the refusal verifiers must not take it as one.
func TestBytesWithoutHeadAreNoRefusal(t *testing.T) {
	for _, in := range []string{"Hello, world!\n", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n", "\r\n"} {
		_, err := ReadResponse(&bytesWire{b: []byte(in)}, "GET")
		if err == nil || noResponse(err) {
			t.Errorf("%q then close: err %v, noResponse %v; want an error that is not a refusal", in, err, noResponse(err))
		}
		if e := expectRejected(nil, err, 400); e == nil {
			t.Errorf("%q then close: expectRejected passed", in)
		}
	}
	if _, err := ReadResponse(&bytesWire{}, "GET"); !noResponse(err) {
		t.Errorf("nothing then close: err %v, want a refusal without a response", err)
	}
}
