package http1fuzz

import (
	"bufio"
	"bytes"
	"testing"

	wire "github.com/protospec/protospec/internal/wire/http1"
	"github.com/protospec/protospec/reference/http1"
)

// referenceFrame parses one request with the reference's strict parser
// and returns it with the number of bytes it used, or nil if refused.
func referenceFrame(data []byte) (*http1.Request, int) {
	r := bytes.NewReader(data)
	br := bufio.NewReader(r)
	req, err := http1.ReadRequest(br, http1.Limits{})
	if err != nil {
		return nil, 0
	}
	if err := http1.ReadBody(br, req, http1.Limits{}); err != nil {
		return nil, 0
	}
	return req, len(data) - r.Len() - br.Buffered()
}

// FuzzWireAgainstReference differentially fuzzes the observers' tolerant
// codec (internal/wire/http1) against the reference server's strict
// parser: a request the reference accepts must be framed by the codec
// the same way (method, target, version, content, bytes used) with no
// MUST-level problem. A disagreement is a smuggling-class finding.
func FuzzWireAgainstReference(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = \"b\\\"c\"\r\nhello\r\n0\r\nContent-Length: 9\nX: y\r\n\r\n"))
	f.Fuzz(checkAgainstReference)
}

// wireEdges are requests at the edges of what the reference accepts.
var wireEdges = []string{
	"\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.1\nHost: x\nX:\t a\x80\xff \t\n\n",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2,2\r\ncontent-length:2\r\n\r\nab\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 000000000000000003\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked ,\r\n\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: CHUNKED\r\n\r\n00000000000000001\r\na\r\n0;x;y=z;q=\"\\\"\"\t\r\nA: b\nC: d\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1 \t ;\tn = v\r\na\r\n0\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET http://a:1/b?c HTTP/1.1\r\nHost: x\r\n\r\n",
}

func TestWireAgainstReferenceEdges(t *testing.T) {
	for _, s := range wireEdges {
		if req, _ := referenceFrame([]byte(s)); req == nil {
			t.Errorf("the reference refuses the edge case %q", s)
		}
	}
	for _, s := range append(wireEdges, requestSeeds...) {
		checkAgainstReference(t, []byte(s))
	}
}

// checkAgainstReference fails when the reference accepts data and the
// codec frames it otherwise or reports a MUST-level problem.
func checkAgainstReference(t *testing.T, data []byte) {
	req, used := referenceFrame(data)
	if req == nil {
		return
	}
	d := wire.NewRequestDecoder(wire.Limits{})
	d.Feed(data)
	m, ok := d.Next()
	if !ok {
		d.Close()
		m, ok = d.Next()
	}
	if !ok {
		t.Fatalf("the reference framed %d bytes as %s %s; the codec framed no request", used, req.Method, req.Target)
	}
	framing := wire.FramingNone
	switch {
	case req.Chunked:
		framing = wire.FramingChunked
	case req.ContentLength >= 0:
		framing = wire.FramingLength
	}
	if m.Incomplete || m.Method != req.Method || m.Target != req.Target || m.Version != req.Proto ||
		!bytes.Equal(m.Body, req.Body) || m.Len != int64(used) || m.Framing != framing {
		t.Fatalf("reference: %s %s %s, %s, content %q, %d bytes\ncodec:     %s %s %s, %s, content %q, %d bytes (incomplete %v)",
			req.Method, req.Target, req.Proto, framing, req.Body, used,
			m.Method, m.Target, m.Version, m.Framing, m.Body, m.Len, m.Incomplete)
	}
	for _, p := range m.Problems {
		if p.Level() == wire.LevelMust {
			t.Fatalf("the reference accepts %q, the codec reports the MUST-level problem %s (%s): %s", data[:used], p.Kind, p.Rule(), p.Detail)
		}
	}
}
