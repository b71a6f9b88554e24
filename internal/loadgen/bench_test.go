package loadgen

import "testing"

// BenchmarkHistogramRecord is the per-response cost of recording latency.
func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.RecordValue(int64(20000 + i%500000))
	}
}
