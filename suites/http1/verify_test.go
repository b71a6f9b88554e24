package http1

import (
	"testing"

	"github.com/protospec/protospec/suites/spec"
)

// RFC 9110 5.4 lets a server process fields as large as it wishes: the
// huge-* specs accept a 4xx, a close, or the file served.
func TestExpectTooLarge(t *testing.T) {
	closed := &spec.ReadError{Conn: "tcp#1", Waiting: "a line", Closed: true}
	for _, tc := range []struct {
		name string
		resp *Response
		err  error
		ok   bool
	}{
		{"431", &Response{Code: 431}, nil, true},
		{"400", &Response{Code: 400}, nil, true},
		{"served", &Response{Code: 200, Body: hello.Content}, nil, true},
		{"closed", nil, closed, true},
		{"200 with other content", &Response{Code: 200, Body: []byte("x")}, nil, false},
		{"500", &Response{Code: 500}, nil, false},
		{"301", &Response{Code: 301}, nil, false},
	} {
		if err := expectTooLarge(tc.resp, tc.err); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
