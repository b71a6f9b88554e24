package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestReadRequestFields(t *testing.T) {
	raw := "POST http://Example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: ignored\r\nX-Multi: a,  b\r\nX-Empty:\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
		"3;x=y\r\nabc\r\n0\r\nX-T: 1\r\nHost: dropped\r\n\r\n"
	req, err := ParseRequest([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{
		Method: "POST", Target: "http://Example.com:8080/a/b?x=1", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  Header{{"Host", "ignored"}, {"X-Multi", "a,  b"}, {"X-Empty", ""}, {"Transfer-Encoding", "chunked"}, {"Connection", "close"}},
		Trailer: Header{{"X-T", "1"}}, Body: []byte("abc"),
		Form: AbsoluteForm, Path: "/a/b", RawQuery: "x=1", Host: "Example.com:8080",
		ContentLength: -1, Chunked: true, Close: true,
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got  %+v\nwant %+v", req, want)
	}
	if got := req.Header.List("X-Multi"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("List = %q", got)
	}
}

func TestReadRequestErrors(t *testing.T) {
	cases := []struct {
		raw  string
		code int
		err  error
	}{
		{"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, ErrBadField},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, nil},
		{"GET / HTTP/1.1\r\nX: a\x7fb\r\nHost: x\r\n\r\n", 400, ErrBadField},
		{"GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\nHost: x\r\n\r\n", 0, nil},
		{"GET / HTTP/3.0\r\n\r\n", 505, ErrUnsupportedVersion},
		{"GET / HTTP/1.1\r\n\r\n", 400, ErrBadHost},
		{"GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400, ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: x:123456\r\n\r\n", 400, ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, ErrBadFraming},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400, ErrBadFraming},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1,,1\r\n\r\nx", 400, ErrBadFraming},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400, ErrBadFraming},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 501, ErrUnknownCoding},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", 0, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\n", 400, ErrBadChunk},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000003\r\nabc\r\n0\r\n\r\n", 0, nil},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", 400, ErrBadChunk},
		{"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc", 0, io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabc", 0, io.ErrUnexpectedEOF},
		{"GET / HTTP/1.1\r\nHost: x\r\n", 0, io.ErrUnexpectedEOF},
		{"", 0, io.EOF},
		{"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", 400, ErrBadRequestLine},
		{"GET / HTTP/1.1\r\nHost: x\r\n\x00: y\r\n\r\n", 400, ErrBadField},
		{"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, ErrBadRequestLine},
		{"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400, ErrBadTarget},
		{"GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, ErrBadTarget},
		{"CONNECT x HTTP/1.1\r\nHost: x\r\n\r\n", 400, ErrBadTarget},
		{"CONNECT [::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n", 0, nil},
		{"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0, nil},
	}
	for _, tc := range cases {
		_, err := ParseRequest([]byte(tc.raw))
		var se *StatusError
		code := 0
		if errors.As(err, &se) {
			code = se.Code
		}
		if code != tc.code || (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%q: err %v (status %d), want %v (status %d)", tc.raw, err, code, tc.err, tc.code)
		}
	}
}

func TestLimits(t *testing.T) {
	lim := Limits{MaxRequestLine: 20, MaxHeaderBytes: 40, MaxHeaderCount: 2}
	read := func(raw string) error {
		_, err := ReadRequest(bufio.NewReader(strings.NewReader(raw)), lim)
		return err
	}
	if err := read("GET /123456 HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Errorf("at limit: %v", err)
	}
	var se *StatusError
	if err := read("GET /1234567 HTTP/1.1\r\nHost: x\r\n\r\n"); !errors.As(err, &se) || se.Code != 414 {
		t.Errorf("over request-line limit: %v", err)
	}
	if err := read("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n"); !errors.As(err, &se) || se.Code != 431 {
		t.Errorf("over count: %v", err)
	}
	if err := read("GET / HTTP/1.1\r\nHost: x\r\nA: 123456789012345678901234567890\r\n\r\n"); !errors.As(err, &se) || se.Code != 431 {
		t.Errorf("over bytes: %v", err)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /echo HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
		"PUT /upload/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b\r\na\r\n2\r\nbc\r\n0\r\nX-T: v\r\n\r\n",
		"\r\nGET /a HTTP/1.1\nHost: x\nX:  spaced  value \n\n",
	} {
		r1, err := ParseRequest([]byte(raw))
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		var buf bytes.Buffer
		if err := r1.Write(&buf); err != nil {
			t.Fatal(err)
		}
		r2, err := ParseRequest(buf.Bytes())
		if err != nil {
			t.Fatalf("reparse %q: %v", buf.String(), err)
		}
		if !reflect.DeepEqual(r1, r2) {
			t.Errorf("round trip of %q:\n%+v\n%+v", raw, r1, r2)
		}
	}
}

func TestChunkedReader(t *testing.T) {
	cases := []struct {
		in, out string
		ok      bool
	}{
		{"0\r\n\r\n", "", true},
		{"3\r\nabc\r\n0\r\n\r\n", "abc", true},
		{"A\r\n0123456789\r\n0\r\n\r\n", "0123456789", true},
		{"3 ;a\r\nabc\r\n0\r\n\r\n", "abc", true},
		{"3;a=\"x\\\"y\"\r\nabc\r\n0;z\r\n\r\n", "abc", true},
		{"3\r\nabc\r\n0\r\nA: 1\r\nB: 2\r\n\r\n", "abc", true},
		{"-3\r\nabc\r\n0\r\n\r\n", "", false},
		{"3\r\nab\r\n0\r\n\r\n", "", false},
		{"3\r\nabcd\r\n0\r\n\r\n", "", false},
		{"3;\r\nabc\r\n0\r\n\r\n", "", false},
		{"3;a=\"x\r\nabc\r\n0\r\n\r\n", "", false},
		{"3;a=b c\r\nabc\r\n0\r\n\r\n", "", false},
		{"\r\nabc\r\n0\r\n\r\n", "", false},
		{"3\r\nabc\r\n0\r\n", "", false},
		{"3\r\nabc\n0\r\n\r\n", "", false},
		{"0\r\nBad Field: 1\r\n\r\n", "", false},
	}
	for _, tc := range cases {
		cr := NewChunkedReader(bufio.NewReader(strings.NewReader(tc.in)), Limits{})
		b, err := io.ReadAll(cr)
		if (err == nil) != tc.ok || (tc.ok && string(b) != tc.out) {
			t.Errorf("%q: %q %v", tc.in, b, err)
		}
	}
	cr := NewChunkedReader(bufio.NewReader(strings.NewReader("1\r\na\r\n0\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nNEXT")), Limits{})
	io.ReadAll(cr)
	if !reflect.DeepEqual(cr.Trailer, Header{{"X-A", "1"}}) {
		t.Errorf("Trailer = %v", cr.Trailer)
	}
}

// browserGET is a typical browser request head.
const browserGET = "GET /index.html?utm=1 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: sid=0123456789abcdef0123456789abcdef; theme=dark\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"If-None-Match: \"e-65920080\"\r\n" +
	"\r\n"

func BenchmarkParseRequest(b *testing.B) {
	data := []byte(browserGET)
	rd := bytes.NewReader(data)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		rd.Reset(data)
		br.Reset(rd)
		if _, err := ReadRequest(br, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// Leading zeros do not count against the overflow bound of
// Content-Length: "0000000000000000000011" is eleven.
func TestParseContentLengthLeadingZeros(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "00": 0, "0005": 5, "010": 10,
		"0000000000000000000011":        11,
		"00000000000000000000000000000": 0,
	} {
		if n, ok := parseContentLength(in); !ok || n != want {
			t.Errorf("parseContentLength(%q) = %d, %v; want %d, true", in, n, ok, want)
		}
	}
	for _, in := range []string{"", "+5", "1000000000000000000", "0x5", "5 "} {
		if n, ok := parseContentLength(in); ok {
			t.Errorf("parseContentLength(%q) = %d, true; want invalid", in, n)
		}
	}
}
