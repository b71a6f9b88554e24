package http1

import (
	"strings"
	"testing"
)

// The mutants' response framing rewrites every head, passes a body as it
// comes, and never holds back a byte after a complete head.
func TestMutantResponseFraming(t *testing.T) {
	var heads []string
	r := &responses{rewrite: func(i int, h []byte) ([]byte, bool) {
		heads = append(heads, string(h))
		return []byte(strings.ToLower(string(h))), false
	}}
	in := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", // the head, then part of the body
		"cHTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\nHTTP/1.1 200 OK\r\nCon",
		"tent-Length: 2\r\n\r\nde",
	}
	want := []string{
		"http/1.1 200 ok\r\ncontent-length: 3\r\n\r\nab",
		"chttp/1.1 304 not modified\r\netag: \"x\"\r\n\r\n",
		"http/1.1 200 ok\r\ncontent-length: 2\r\n\r\nde",
	}
	for i, p := range in {
		out, closed := r.Next([]byte(p), false)
		if string(out) != want[i] || closed {
			t.Errorf("chunk %d: %q (closed %v), want %q", i, out, closed, want[i])
		}
	}
	if len(heads) != 3 {
		t.Errorf("%d heads rewritten, want 3", len(heads))
	}

	// Close waits for the body of the response it follows.
	r = &responses{rewrite: func(i int, h []byte) ([]byte, bool) { return h, i == 0 }}
	if out, closed := r.Next([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na"), false); closed || !strings.HasSuffix(string(out), "\r\n\r\na") {
		t.Errorf("closed before the body: %q %v", out, closed)
	}
	if out, closed := r.Next([]byte("bcHTTP/1.1 200 OK\r\n"), false); !closed || string(out) != "bc" {
		t.Errorf("after the body: %q %v, want \"bc\" and close", out, closed)
	}
}

func TestMutantHeadEdits(t *testing.T) {
	h := []byte("HTTP/1.1 200 OK\r\nDate: now\r\nContent-Length: 10\r\n\r\n")
	if got := string(dropField(h, "date")); got != "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" {
		t.Errorf("dropField: %q", got)
	}
	if got := string(setStatus(h, "200", "404 Not Found")); !strings.HasPrefix(got, "HTTP/1.1 404 Not Found\r\nDate") {
		t.Errorf("setStatus: %q", got)
	}
	if got := string(editField(h, "content-length", func(string) string { return "9" })); !strings.Contains(got, "\r\nContent-Length: 9\r\n\r\n") {
		t.Errorf("editField: %q", got)
	}
	if n, framed := bodyLength(h); n != 10 || !framed {
		t.Errorf("bodyLength: %d %v", n, framed)
	}
}

// The request-side mutation rewrites the first head of a connection, even
// when it arrives in pieces, and passes everything after it unchanged.
func TestMutantFirstHead(t *testing.T) {
	f := &firstHead{rewrite: func(h []byte) []byte {
		return dropLines(h, func(l []byte) bool { return headFieldName(l) == "transfer-encoding" })
	}}
	var out []byte
	for _, p := range []string{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked \r\nContent-", "Length: 4\r\n\r\n3c\r\nGET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"} {
		b, closed := f.Next([]byte(p), false)
		if closed {
			t.Fatal("closed")
		}
		out = append(out, b...)
	}
	want := "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n3c\r\nGET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	if string(out) != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
}
