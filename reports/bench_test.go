package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

func benchResult(t *testing.T, lat []time.Duration, perSec ...int64) *BenchResult {
	t.Helper()
	h := hdrhistogram.New(1, int64(time.Hour), 3)
	for _, l := range lat {
		if err := h.RecordValue(int64(l)); err != nil {
			t.Fatal(err)
		}
	}
	b := &BenchResult{Mode: "closed", Connections: 2, Pipeline: 1, Duration: time.Duration(len(perSec)) * time.Second,
		Requests: int64(len(lat)), Sent: int64(len(lat)), Throughput: float64(len(lat)) / float64(max(1, len(perSec))),
		Errors: map[string]int64{"timeout": 1}, Workload: []string{"GET /<script>x</script>"}}
	for _, n := range perSec {
		b.PerSecond = append(b.PerSecond, BenchSecond{Requests: n})
	}
	if err := b.SetHistogram(h); err != nil {
		t.Fatal(err)
	}
	return b
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestBenchSummaryAndMerge(t *testing.T) {
	a := benchResult(t, repeat(time.Millisecond, 990), 500, 490)
	b := benchResult(t, repeat(time.Second, 10), 4, 6)
	if a.Latency.P99 < 999*time.Microsecond || a.Latency.P99 > 1001*time.Microsecond || a.Latency.Count != 990 {
		t.Fatalf("summary of a = %+v", a.Latency)
	}
	m, err := MergeBench(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 1000 || m.Errors["timeout"] != 2 || m.Connections != 4 || m.Throughput != a.Throughput+b.Throughput {
		t.Errorf("merged counts: %+v", m)
	}
	if len(m.PerSecond) != 2 || m.PerSecond[0].Requests != 504 || m.PerSecond[1].Requests != 496 {
		t.Errorf("merged per-second: %+v", m.PerSecond)
	}
	// 1% of the merged samples are one second: p99 is still 1 ms, p99.9 is 1 s.
	if m.Latency.Count != 1000 || m.Latency.P99 > 2*time.Millisecond || m.Latency.P999 < 999*time.Millisecond {
		t.Errorf("merged latency: %+v", m.Latency)
	}
	if len(m.Sources) != 2 {
		t.Errorf("sources %v", m.Sources)
	}
	if _, err := MergeBench(); err != ErrNoBench {
		t.Errorf("MergeBench() = %v, want ErrNoBench", err)
	}
	open := benchResult(t, nil)
	open.Mode = "open"
	if _, err := MergeBench(a, open); err == nil {
		t.Error("merged a closed-loop and an open-loop run")
	}
	bad := benchResult(t, nil)
	bad.Histogram = "not base64!"
	if _, err := MergeBench(a, bad); err == nil {
		t.Error("merged a corrupt histogram")
	}
}

func TestBenchJSONRoundTrip(t *testing.T) {
	run := &Run{Schema: SchemaVersion, Kind: KindBench, Protocol: "http1", Bench: benchResult(t, repeat(3*time.Millisecond, 100), 100)}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, run); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	h, err := back.Bench.DecodeHistogram()
	if err != nil || h == nil || h.TotalCount() != 100 {
		t.Fatalf("histogram after round trip: %v %v", h, err)
	}
	if back.Bench.Latency != run.Bench.Latency {
		t.Errorf("latency %+v, want %+v", back.Bench.Latency, run.Bench.Latency)
	}
}

func TestBenchRendering(t *testing.T) {
	run := &Run{Schema: SchemaVersion, Kind: KindBench, Protocol: "http1", Target: Target{Name: "nginx"},
		Bench: benchResult(t, append(repeat(200*time.Microsecond, 990), repeat(40*time.Millisecond, 10)...), 400, 600)}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, run); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Load", "| Throughput | **500/s** |", "| timeout | 1 |", "Throughput per second: 400, 600", "`GET /<script>x</script>`"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, run); err != nil {
		t.Fatal(err)
	}
	s := page.String()
	for _, want := range []string{`aria-label="latency by percentile"`, `aria-label="throughput over time"`, "<polyline", "99.9%", "&lt;script&gt;x"} {
		if !strings.Contains(s, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(s, "<script>x") || strings.Contains(s, "http://") && !strings.Contains(s, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("html has unescaped workload text or an external reference")
	}
	// A run without a histogram or per-second data still renders.
	run.Bench.Histogram, run.Bench.PerSecond = "", nil
	if err := WriteHTML(&bytes.Buffer{}, run); err != nil {
		t.Fatal(err)
	}
}

func TestNiceAxisAndFormats(t *testing.T) {
	for _, tc := range []struct{ v, top, step float64 }{{1, 1, 0.2}, {7, 8, 2}, {48000, 50000, 10000}, {0, 1, 0.25}} {
		top, step := niceAxis(tc.v)
		if top != tc.top || step != tc.step {
			t.Errorf("niceAxis(%v) = %v, %v; want %v, %v", tc.v, top, step, tc.top, tc.step)
		}
	}
	for d, want := range map[time.Duration]string{0: "0", 950: "950ns", 1500: "1.5µs", 339 * time.Microsecond: "339µs", 4830 * time.Microsecond: "4.83ms", 1002438655: "1.002s"} {
		if got := fmtLatency(d); got != want {
			t.Errorf("fmtLatency(%d) = %q, want %q", d, got, want)
		}
	}
	if got := fmtCount(1234567.4); got != "1,234,567" {
		t.Errorf("fmtCount = %q", got)
	}
}
