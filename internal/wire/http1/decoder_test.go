package http1

import (
	"reflect"
	"strings"
	"testing"
)

// decode feeds in at once (or byte by byte) and closes the stream.
func decode(request bool, in []byte, bytewise bool, lim Limits, methods ...string) (*Decoder, []*Message) {
	d := NewResponseDecoder(lim)
	if request {
		d = NewRequestDecoder(lim)
	}
	for _, m := range methods {
		d.Expect(m)
	}
	if bytewise {
		for i := range in {
			d.Feed(in[i : i+1])
		}
	} else {
		d.Feed(in)
	}
	d.Close()
	var out []*Message
	for {
		m, ok := d.Next()
		if !ok {
			return d, out
		}
		out = append(out, m)
	}
}

func kindsOf(m *Message) []Kind {
	var out []Kind
	for _, p := range m.Problems {
		out = append(out, p.Kind)
	}
	return out
}

func TestRequests(t *testing.T) {
	cases := []struct {
		name, in string
		method   []string
		body     []string
		framing  []Framing
		problems [][]Kind
		broken   bool
	}{
		{name: "get", in: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", method: []string{"GET"}, body: []string{""}, framing: []Framing{FramingNone}, problems: [][]Kind{nil}},
		{name: "pipelined", in: "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n",
			method: []string{"GET", "POST", "GET"}, body: []string{"", "abc", ""}, framing: []Framing{FramingNone, FramingLength, FramingNone},
			problems: [][]Kind{nil, nil, {KindEmptyLineBeforeStart}}},
		{name: "chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;a=b;c=\"d\"\r\nhello\r\nA\r\n0123456789\r\n000\r\nT: 1\r\n\r\n",
			method: []string{"POST"}, body: []string{"hello0123456789"}, framing: []Framing{FramingChunked}, problems: [][]Kind{nil}},
		{name: "obs-fold and bare LF", in: "GET / HTTP/1.1\nHost: a\nX: b\n  c\n\n", method: []string{"GET"}, body: []string{""}, framing: []Framing{FramingNone},
			problems: [][]Kind{{KindBareLF, KindObsFold}}},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", method: []string{"GET"}, body: []string{""}, framing: []Framing{FramingNone},
			problems: [][]Kind{{KindSpaceBeforeColon, KindHost}}},
		{name: "bad tokens", in: "G@T / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\nnocolon\r\nV: a\x01b\r\n\r\n", method: []string{"G@T"}, body: []string{""}, framing: []Framing{FramingNone},
			problems: [][]Kind{{KindRequestLine, KindFieldName, KindFieldNoColon, KindFieldValue}}},
		{name: "duplicate CL", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab", method: []string{"POST"}, body: []string{"ab"}, framing: []Framing{FramingLength},
			problems: [][]Kind{{KindDuplicateCL}}},
		{name: "conflicting CL", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", method: []string{"POST"}, body: []string{""}, framing: []Framing{FramingInvalid},
			problems: [][]Kind{{KindInvalidCL}}, broken: true},
		{name: "TE and CL", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", method: []string{"POST"}, body: []string{""}, framing: []Framing{FramingChunked},
			problems: [][]Kind{{KindCLWithTE}}},
		{name: "TE not chunked", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxyz", method: []string{"POST"}, body: []string{""}, framing: []Framing{FramingInvalid},
			problems: [][]Kind{{KindRequestChunked}}, broken: true},
		{name: "chunk without CRLF", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nab\r\n0\r\n\n", method: []string{"POST"}, body: []string{"a"}, framing: []Framing{FramingInvalid},
			problems: [][]Kind{{KindChunkLineEnd, KindChunkDataEnd}}, broken: true},
		{name: "chunk lenient", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 junk\r\na\n0\r\n\n", method: []string{"POST"}, body: []string{"a"}, framing: []Framing{FramingChunked},
			problems: [][]Kind{{KindChunkSizeJunk, KindChunkDataEnd, KindTrailerEnd}}},
		{name: "huge chunk", in: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", method: []string{"POST"}, body: []string{""}, framing: []Framing{FramingInvalid},
			problems: [][]Kind{{KindChunkSize}}, broken: true},
		{name: "cut body", in: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc", method: []string{"POST"}, body: []string{"abc"}, framing: []Framing{FramingLength},
			problems: [][]Kind{{KindBodyIncomplete}}},
		{name: "cut head", in: "GET / HTTP/1.1\r\nHost:", method: []string{""}, body: []string{""}, framing: []Framing{FramingNone},
			problems: [][]Kind{{KindHeadIncomplete}}},
		{name: "only empty lines", in: "\r\n\r\n"},
	}
	for _, c := range cases {
		for _, bytewise := range []bool{false, true} {
			d, msgs := decode(true, []byte(c.in), bytewise, Limits{})
			if len(msgs) != len(c.method) {
				t.Fatalf("%s (bytewise %v): %d messages, want %d", c.name, bytewise, len(msgs), len(c.method))
			}
			var total int64
			for i, m := range msgs {
				total += m.Len
				if m.Method != c.method[i] || string(m.Body) != c.body[i] || m.Framing != c.framing[i] || !reflect.DeepEqual(kindsOf(m), c.problems[i]) {
					t.Errorf("%s (bytewise %v) message %d: method %q body %q framing %s problems %v, want %q %q %s %v",
						c.name, bytewise, i, m.Method, m.Body, m.Framing, kindsOf(m), c.method[i], c.body[i], c.framing[i], c.problems[i])
				}
			}
			if (d.Err() != nil) != c.broken {
				t.Errorf("%s: Err() = %v", c.name, d.Err())
			}
			if !c.broken && c.name != "only empty lines" && total != int64(len(c.in)) {
				t.Errorf("%s (bytewise %v): messages used %d of %d bytes", c.name, bytewise, total, len(c.in))
			}
		}
	}
}

func TestResponses(t *testing.T) {
	cases := []struct {
		name, in string
		methods  []string
		status   []int
		body     []string
		framing  []Framing
		problems [][]Kind
		tunnel   bool
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", methods: []string{"GET"}, status: []int{200}, body: []string{"hello"}, framing: []Framing{FramingLength}, problems: [][]Kind{nil}},
		{name: "head and 304", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", methods: []string{"HEAD", "GET"},
			status: []int{200, 304}, body: []string{"", ""}, framing: []Framing{FramingNone, FramingNone}, problems: [][]Kind{nil, nil}},
		{name: "content after 204", in: "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nab\r\n\r\n", methods: []string{"GET", "GET"},
			status: []int{204, 0}, body: []string{"", ""}, framing: []Framing{FramingNone, FramingInvalid}, problems: [][]Kind{{KindCL1xx204}, {KindBodyAfterNoBody, KindStatusLine}}},
		{name: "interim", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nall of it", methods: []string{"GET"},
			status: []int{100, 200}, body: []string{"", "all of it"}, framing: []Framing{FramingNone, FramingClose}, problems: [][]Kind{nil, nil}},
		{name: "close", in: "HTTP/1.0 200 OK\r\n\r\nall of it", status: []int{200}, body: []string{"all of it"}, framing: []Framing{FramingClose}, problems: [][]Kind{nil}},
		{name: "te not chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", status: []int{200}, body: []string{"zz"}, framing: []Framing{FramingClose}, problems: [][]Kind{nil}},
		{name: "no reason", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", status: []int{200}, body: []string{""}, framing: []Framing{FramingLength}, problems: [][]Kind{{KindStatusLineSyntax}}},
		{name: "switching", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n\x00\x01binary", status: []int{101}, body: []string{""}, framing: []Framing{FramingNone}, problems: [][]Kind{nil}, tunnel: true},
		{name: "connect", in: "HTTP/1.1 200 OK\r\n\r\n\x16\x03", methods: []string{"CONNECT"}, status: []int{200}, body: []string{""}, framing: []Framing{FramingNone}, problems: [][]Kind{nil}, tunnel: true},
		{name: "chunked trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n", status: []int{200}, body: []string{"abc"}, framing: []Framing{FramingChunked}, problems: [][]Kind{nil}},
		{name: "not http", in: "SSH-2.0-x\r\n\r\n", status: []int{0}, body: []string{""}, framing: []Framing{FramingInvalid}, problems: [][]Kind{{KindStatusLine}}},
	}
	for _, c := range cases {
		for _, bytewise := range []bool{false, true} {
			d, msgs := decode(false, []byte(c.in), bytewise, Limits{}, c.methods...)
			if len(msgs) != len(c.status) {
				t.Fatalf("%s: %d messages, want %d", c.name, len(msgs), len(c.status))
			}
			for i, m := range msgs {
				if m.Status != c.status[i] || string(m.Body) != c.body[i] || m.Framing != c.framing[i] || !reflect.DeepEqual(kindsOf(m), c.problems[i]) {
					t.Errorf("%s (bytewise %v) message %d: status %d body %q framing %s problems %v, want %d %q %s %v",
						c.name, bytewise, i, m.Status, m.Body, m.Framing, kindsOf(m), c.status[i], c.body[i], c.framing[i], c.problems[i])
				}
			}
			if d.Tunnel() != c.tunnel {
				t.Errorf("%s: Tunnel() = %v", c.name, d.Tunnel())
			}
		}
	}
}

func TestHeader(t *testing.T) {
	_, msgs := decode(false, []byte("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nVary: a, \"b,c\", ,d\r\nvary: e\r\nContent-Length: 0\r\n\r\n"), false, Limits{})
	m := msgs[0]
	if !m.Closes() || !m.Header.HasToken("connection", "close") || m.Header.HasToken("Connection", "clos") {
		t.Error("Connection tokens")
	}
	if got := m.Header.List("Vary"); !reflect.DeepEqual(got, []string{"a", `"b,c"`, "d", "e"}) {
		t.Errorf("List = %q", got)
	}
	if m.Header.Get("VARY") != `a, "b,c", ,d` || m.Header.Count("vary") != 2 || m.Header.Has("X") {
		t.Error("Get, Count, Has")
	}
	if m.Head != "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nVary: a, \"b,c\", ,d\r\nvary: e\r\nContent-Length: 0\r\n\r\n" {
		t.Errorf("Head = %q", m.Head)
	}
}

func TestLimits(t *testing.T) {
	lim := Limits{MaxHead: 64, MaxStartLine: 32, MaxBody: 4, MaxFields: 2}
	for _, bytewise := range []bool{false, true} {
		d, msgs := decode(true, []byte("POST / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nContent-Length: 6\r\n\r\nabcdef"), bytewise, lim)
		m := msgs[0]
		if string(m.Body) != "abcd" || m.BodyLen != 6 || !m.BodyTruncated || len(m.Header) != 2 || m.ContentLength != 6 ||
			!reflect.DeepEqual(kindsOf(m), []Kind{KindTooManyFields, KindBodyTooLarge}) || d.Err() != nil {
			t.Errorf("bytewise %v: body %q (%d) header %d problems %v", bytewise, m.Body, m.BodyLen, len(m.Header), kindsOf(m))
		}
		d, msgs = decode(true, []byte("GET /"+strings.Repeat("a", 40)+" HTTP/1.1\r\n\r\n"), bytewise, lim)
		if len(msgs) != 1 || !msgs[0].Has(KindHeadTooLarge) || d.Err() == nil {
			t.Errorf("bytewise %v: long start line: %v", bytewise, msgs)
		}
		d, msgs = decode(true, []byte("GET / HTTP/1.1\r\n"+strings.Repeat("A: b\r\n", 10)+"\r\n"), bytewise, lim)
		if len(msgs) != 1 || !msgs[0].Has(KindHeadTooLarge) || d.Err() == nil {
			t.Errorf("bytewise %v: long head: %v", bytewise, msgs)
		}
	}
	// A head of exactly MaxHead bytes fits.
	head := "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("b", 64-32) + "\r\n\r\n"
	if len(head) != 64 {
		t.Fatalf("head of %d bytes", len(head))
	}
	for _, bytewise := range []bool{false, true} {
		if d, msgs := decode(true, []byte(head), bytewise, lim); len(msgs) != 1 || d.Err() != nil || len(msgs[0].Problems) != 0 {
			t.Errorf("bytewise %v: head of MaxHead bytes: %v", bytewise, d.Err())
		}
	}
	d, msgs := decode(true, []byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabcdef"), false, Limits{DiscardBody: true})
	if m := msgs[0]; m.Body != nil || m.BodyLen != 6 || len(m.Problems) != 0 || d.Err() != nil {
		t.Errorf("DiscardBody: %q %d %v", m.Body, m.BodyLen, kindsOf(m))
	}
}

// TestWant reads a response the way a connection reader does: only what
// Want says, so the next response stays unread.
func TestWant(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
	d := NewResponseDecoder(Limits{})
	rest := []byte(in)
	for {
		if m, ok := d.Next(); ok {
			if string(m.Body) != "hello" || string(rest) != "HTTP/1.1 204 No Content\r\n\r\n" {
				t.Fatalf("body %q, rest %q", m.Body, rest)
			}
			return
		}
		w := d.Want()
		var n int
		switch w.Kind {
		case WantLine:
			n = strings.IndexByte(string(rest), '\n') + 1
		case WantBytes:
			n = int(w.N)
		default:
			t.Fatalf("want %v", w)
		}
		d.Feed(rest[:n])
		rest = rest[n:]
	}
}

func TestGaps(t *testing.T) {
	// A gap inside content of known length keeps the framing.
	d := NewRequestDecoder(Limits{})
	d.Feed([]byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nab"))
	d.Lost(2)
	d.Feed([]byte("efGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	m1, _ := d.Next()
	m2, ok := d.Next()
	if !ok || string(m1.Body) != "abef" || m1.BodyLen != 6 || m1.Lost != 2 || m2.Method != "GET" || m2.Offset != m1.Len || len(m1.Problems) != 0 {
		t.Fatalf("gap in content: %q %d lost %d, next %v at %d", m1.Body, m1.BodyLen, m1.Lost, m2, m2.Offset)
	}
	// A gap in a head loses the framing until Resume.
	d.Feed([]byte("GET /x HT"))
	d.Lost(5)
	d.Feed([]byte("junk"))
	d.Resume()
	d.Feed([]byte("\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n"))
	m3, _ := d.Next()
	m4, ok := d.Next()
	if !ok || !m3.Incomplete || m3.StartLine != "GET /x HT" || m4.Target != "/y" || m4.Prefix != 2 || d.Skipped() != 9 {
		t.Fatalf("gap in a head: %v %v, skipped %d", m3, m4, d.Skipped())
	}
	// A reset inside content is not the sender's problem; a close is.
	for _, abort := range []bool{false, true} {
		d := NewResponseDecoder(Limits{})
		d.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"))
		if abort {
			d.Abort()
		} else {
			d.Close()
		}
		m, _ := d.Next()
		if !m.Incomplete || m.Has(KindBodyIncomplete) == abort {
			t.Errorf("abort %v: %v", abort, kindsOf(m))
		}
	}
}

func TestTransferEncodingIn204(t *testing.T) {
	_, msgs := decode(false, []byte("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 600 x\r\nContent-Length: 0\r\n\r\n"), false, Limits{}, "GET", "GET")
	if len(msgs) != 2 || !msgs[0].Has(KindTE1xx204) || !msgs[1].Has(KindStatusLineSyntax) {
		t.Fatalf("%v", msgs)
	}
}

// TestRecycle checks that a recycled message's storage carries a later
// message read as a fresh one would be, problems and fields included.
func TestRecycle(t *testing.T) {
	first := "HTTP/1.1 200 OK\r\nA: 1\r\nB : 2\r\nContent-Length: 1\r\n\r\nx"
	second := "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\ny\r\n0\r\n\r\n"
	_, fresh := decode(false, []byte(second), false, Limits{DiscardBody: true}, "GET")
	d := NewResponseDecoder(Limits{DiscardBody: true})
	d.Expect("GET")
	d.Expect("GET")
	d.Feed([]byte(first))
	m1, ok := d.Next()
	if !ok || len(m1.Problems) != 1 || len(m1.Header) != 3 {
		t.Fatalf("first: %v %+v", ok, m1)
	}
	d.Recycle(m1)
	d.Feed([]byte(second))
	m2, ok := d.Next()
	if !ok || m2 != m1 {
		t.Fatalf("second: %v, reused %v", ok, m2 == m1)
	}
	m2.inline, fresh[0].inline = nil, nil
	m2.Offset, m2.Problems = 0, nil
	if fresh[0].Problems != nil {
		t.Fatalf("fresh decode has problems %v", fresh[0].Problems)
	}
	if !reflect.DeepEqual(m2, fresh[0]) {
		t.Errorf("recycled\n%+v\nfresh\n%+v", m2, fresh[0])
	}
}

// TestFeedOne checks that FeedOne stops at the end of each message, and
// that the messages and offsets are those Feed gives.
func TestFeedOne(t *testing.T) {
	in := []byte("\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	_, want := decode(true, in, false, Limits{})
	d := NewRequestDecoder(Limits{})
	var got []*Message
	for p := in; len(p) > 0; {
		n := d.FeedOne(p)
		m, ok := d.Next()
		if !ok || n == 0 || m.Offset+m.Len != d.Fed() || int64(len(in)-len(p)+n) != d.Fed() {
			t.Fatalf("took %d, fed %d: %v %+v", n, d.Fed(), ok, m)
		}
		got = append(got, m)
		p = p[n:]
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].StartLine != want[i].StartLine || got[i].Offset != want[i].Offset || got[i].Len != want[i].Len {
			t.Errorf("message %d: %q at %d+%d, want %q at %d+%d", i, got[i].StartLine, got[i].Offset, got[i].Len, want[i].StartLine, want[i].Offset, want[i].Len)
		}
	}
}
