package loadgen

import (
	"encoding/binary"
	"testing"
)

// BenchmarkHistogramRecord is the per-response cost of recording latency.
func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.RecordValue(int64(20000 + i%500000))
	}
}

// nginxResponse is what nginx 1.22 sends for /hello.txt.
const nginxResponse = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 21 Nov 2026 21:00:00 GMT\r\n" +
	"Content-Type: text/plain\r\nContent-Length: 14\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
	"Connection: keep-alive\r\nETag: \"65920080-e\"\r\nAccept-Ranges: bytes\r\n\r\nHello, world!\n"

func BenchmarkRespParse(b *testing.B) {
	buf := []byte(nginxResponse)
	var p respParser
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		p.reset(false)
		n, done, err := p.parse(buf)
		if err != nil || !done || n != len(buf) {
			b.Fatal(n, done, err)
		}
	}
}

func BenchmarkRespParseChunked(b *testing.B) {
	buf := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"400\r\n" + string(make([]byte, 1024)) + "\r\n400\r\n" + string(make([]byte, 1024)) + "\r\n0\r\n\r\n")
	var p respParser
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		p.reset(false)
		if _, done, err := p.parse(buf); err != nil || !done {
			b.Fatal(done, err)
		}
	}
}

// BenchmarkDNSQueryBuild is what a UDP Send does before its syscall: take
// an ID and stamp it into a copy of the query.
func BenchmarkDNSQueryBuild(b *testing.B) {
	p, err := NewDNS(DNSOptions{Addr: "127.0.0.1:53"})
	if err != nil {
		b.Fatal(err)
	}
	ids := newIDTable()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q := i % len(p.queries)
		id, ok := ids.take(int64(i), q)
		if !ok {
			b.Fatal("no ID")
		}
		buf = append(buf[:0], p.queries[q].wire...)
		binary.BigEndian.PutUint16(buf, id)
		ids.answer(id)
		ids.oldest()
	}
}

// BenchmarkDNSValidate checks an answer against its query.
func BenchmarkDNSValidate(b *testing.B) {
	p, err := NewDNS(DNSOptions{Addr: "127.0.0.1:53"})
	if err != nil {
		b.Fatal(err)
	}
	ans := append([]byte(nil), p.queries[0].wire...)
	ans[2] |= 0x84 // QR, AA
	ans[7] = 1     // ANCOUNT
	ans = append(ans, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 127, 0, 0, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.check(ans, 0); err != nil {
			b.Fatal(err)
		}
	}
}
