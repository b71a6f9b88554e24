package pcap_test

import (
	"bytes"
	. "github.com/protospec/protospec/pcap"
	"testing"

	"github.com/protospec/protospec/pcap/http1"
)

// BenchmarkReadDecodeReassemble reads, decodes, reassembles and dissects
// a capture of 2000 HTTP connections held in memory; b.SetBytes makes
// the MB/s figure the capture file's size per second.
func BenchmarkReadDecodeReassemble(b *testing.B) { benchAnalyze(b) }

// BenchmarkAnalyzeOneGoroutine is BenchmarkReadDecodeReassemble with the
// reading and the analysis on one goroutine, as with GOMAXPROCS=1.
func BenchmarkAnalyzeOneGoroutine(b *testing.B) {
	*SerialOnly = true
	defer func() { *SerialOnly = false }()
	benchAnalyze(b)
}

func benchAnalyze(b *testing.B) {
	var buf bytes.Buffer
	if err := http1.Synth(&buf, 2000); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var packets, messages int
	for i := 0; i < b.N; i++ {
		r, err := Open(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		sum, err := Analyze(r, Options{})
		if err != nil {
			b.Fatal(err)
		}
		packets, messages = sum.Read.Packets, sum.Messages
	}
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	if messages != 2000*6 {
		b.Fatalf("%d messages, want %d", messages, 2000*6)
	}
}

// BenchmarkOpenOnly is the reading alone, for comparison.
func BenchmarkOpenOnly(b *testing.B) {
	var buf bytes.Buffer
	if err := http1.Synth(&buf, 2000); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r, _ := Open(bytes.NewReader(data))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
