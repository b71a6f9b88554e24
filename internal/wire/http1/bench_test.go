package http1

import (
	"strings"
	"testing"
)

var (
	benchGET = []byte("GET /index.html HTTP/1.1\r\nHost: example.test\r\nUser-Agent: protospec-bench/1\r\n" +
		"Accept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n")
	benchChunked = []byte("HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"400\r\n" + strings.Repeat("a", 1024) + "\r\n400;ext=1\r\n" + strings.Repeat("b", 1024) + "\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")
	benchPipelined = []byte(strings.Repeat("GET /a HTTP/1.1\r\nHost: example.test\r\n\r\n", 15) +
		"POST /b HTTP/1.1\r\nHost: example.test\r\nContent-Length: 11\r\n\r\nhello world")
)

func benchDecode(b *testing.B, d *Decoder, in []byte, want int) {
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		d.Feed(in)
		n := 0
		for _, ok := d.Next(); ok; _, ok = d.Next() {
			n++
		}
		if n != want || d.Err() != nil {
			b.Fatalf("%d messages, %v", n, d.Err())
		}
	}
}

// BenchmarkRequestGET decodes a typical browser GET.
func BenchmarkRequestGET(b *testing.B) {
	benchDecode(b, NewRequestDecoder(Limits{}), benchGET, 1)
}

// BenchmarkResponseChunked decodes a 2 KiB chunked response.
func BenchmarkResponseChunked(b *testing.B) {
	benchDecode(b, NewResponseDecoder(Limits{}), benchChunked, 1)
}

// BenchmarkPipelined decodes 16 pipelined requests fed at once.
func BenchmarkPipelined(b *testing.B) {
	benchDecode(b, NewRequestDecoder(Limits{}), benchPipelined, 16)
}
