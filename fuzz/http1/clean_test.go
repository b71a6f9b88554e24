package http1fuzz

import "testing"

// TestCleanStream keeps FuzzServerConn's strongest check from going vacuous.
func TestCleanStream(t *testing.T) {
	clean := []string{"", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"}
	for _, s := range clean {
		if !cleanStream([]byte(s + finalGET)) {
			t.Errorf("%q + finalGET not clean", s)
		}
	}
	for _, s := range []string{"GET / HTTP/1.0\r\n\r\n", "x", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"} {
		if cleanStream([]byte(s + finalGET)) {
			t.Errorf("%q + finalGET counted clean", s)
		}
	}
}
