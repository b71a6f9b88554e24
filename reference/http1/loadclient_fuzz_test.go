package http1

import (
	"testing"

	wire "github.com/protospec/protospec/internal/wire/http1"
)

// loadRead feeds in to a response reader in pieces of size step, after
// a request of method, and returns the first final response or the error
// that ended the reading (the reader too, for what it holds).
func loadRead(in []byte, method string, step int) (*wire.Message, *respReader, error) {
	r := &respReader{}
	r.expect(method)
	for off := 0; ; {
		end := min(len(in), off+step)
		r.feed(in[off:end])
		off = end
		if m, err := r.next(); m != nil || err != nil {
			return m, r, err
		}
		if off == len(in) {
			return nil, r, nil
		}
	}
}

// FuzzRespParser checks the load client's reader never panics and gives
// the same verdict whether the bytes come at once or one by one. It has
// this file to itself, as the libFuzzer build needs.
func FuzzRespParser(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		m1, _, err1 := loadRead(in, method, len(in)+1)
		m2, _, err2 := loadRead(in, method, 1)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole: %v, bytewise: %v", err1, err2)
		}
		// A bad response is the verdict, with or without the message it
		// was found in: a field line of the trailer section is read before
		// the message completes when the bytes come one by one.
		if err1 == nil && (m1 == nil) != (m2 == nil) {
			t.Fatalf("whole: %v, bytewise: %v", m1, m2)
		}
		if err1 == nil && m1 != nil && (m1.Len != m2.Len || m1.Status != m2.Status) {
			t.Fatalf("whole: len %d status %d; bytewise: len %d status %d", m1.Len, m1.Status, m2.Len, m2.Status)
		}
		if m1 != nil && m1.Offset+m1.Len > int64(len(in)) {
			t.Fatalf("consumed %d of %d bytes", m1.Offset+m1.Len, len(in))
		}
	})
}
