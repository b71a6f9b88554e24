package http1

import (
	"testing"
	"time"

	"github.com/protospec/protospec/pcap"
)

// BenchmarkDissector feeds the exchanges of Synth's connections to
// dissectors directly, 64 flows at a time as Synth interleaves them,
// each segment of at most 1460 bytes, every flow's dissector new (Analyze
// takes dissectors back only seconds after their flows end): the
// dissector's own cost, without the reading and reassembly of a capture.
func BenchmarkDissector(b *testing.B) {
	big := make([]byte, 8192)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	exchanges := [][2]string{
		{"GET /index.html HTTP/1.1\r\nHost: example.test\r\nUser-Agent: bench\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"},
		{"GET /data/8k.bin HTTP/1.1\r\nHost: example.test\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 8192\r\n\r\n" + string(big)},
		{"POST /echo HTTP/1.1\r\nHost: example.test\r\nContent-Length: 11\r\n\r\nhello world", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n"},
	}
	const flows, batch = 2048, 64
	var n int
	out := func(*pcap.Message) { n++ }
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// segs[i][side] are the segments of exchange i's request or response.
	segs := make([][2][][]byte, len(exchanges))
	for i, ex := range exchanges {
		for side, s := range ex {
			for b := []byte(s); len(b) > 0; {
				k := min(len(b), 1460)
				segs[i][side] = append(segs[i][side], b[:k:k])
				b = b[k:]
			}
		}
	}
	feed := func(d pcap.Dissector, side pcap.Side, segs [][]byte) {
		for _, s := range segs {
			d.Data(side, t, s)
		}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n = 0
		for start := 0; start < flows; start += batch {
			ds := make([]pcap.Dissector, 0, batch)
			for j := 0; j < batch; j++ {
				e := pcap.NewEmitter(&pcap.Flow{ID: start + j}, false, 0, out)
				ds = append(ds, newDissector(e))
			}
			for _, ex := range segs {
				for _, d := range ds {
					feed(d, pcap.Client, ex[pcap.Client])
				}
				for _, d := range ds {
					feed(d, pcap.Server, ex[pcap.Server])
				}
			}
			for _, d := range ds {
				d.End(pcap.Client, t, false)
				d.End(pcap.Server, t, false)
			}
		}
		if n != flows*6 {
			b.Fatalf("%d messages, want %d", n, flows*6)
		}
	}
}
