package reports

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// BenchResult is what a load run (`protospec bench`) measured: a Run of
// KindBench carries one in Run.Bench. The latency histogram travels with
// it, so results of runs made at the same time from several machines can
// be merged exactly (MergeBench) rather than by averaging percentiles.
type BenchResult struct {
	// Mode is "closed" (each connection sends its next request when a
	// response arrives) or "open" (a fixed Rate, latency measured from the
	// intended send time).
	Mode string `json:"mode"`
	// Connections is the number of connections (UDP sockets for DNS).
	Connections int `json:"connections"`
	// Pipeline is the number of requests each connection keeps in flight.
	Pipeline int `json:"pipeline"`
	// Rate is the open-loop target in requests per second; 0 when closed.
	Rate float64 `json:"rate,omitempty"`
	// Workload describes what was sent ("GET /hello.txt", "www.test A").
	Workload []string `json:"workload,omitempty"`
	// Options lists the client's settings ("keep-alive", "udp").
	Options []string `json:"options,omitempty"`
	// Warmup ran before measuring; Duration is the measured time.
	Warmup   time.Duration `json:"warmup_ns"`
	Duration time.Duration `json:"duration_ns"`
	// Requests counts validated responses; Sent the requests written.
	Requests int64 `json:"requests"`
	Sent     int64 `json:"sent"`
	// Errors counts failed requests by kind: timeout, reset, refused,
	// closed, bad_response, unexpected_status, other.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Connects counts the connections opened.
	Connects int64 `json:"connects"`
	// Throughput is Requests per second of Duration.
	Throughput float64 `json:"throughput"`
	// Latency summarizes Histogram.
	Latency Latency `json:"latency"`
	// Histogram is the latency histogram in nanoseconds, in HdrHistogram's
	// V2 compressed, base64 encoding (what hdrhistogram-go's Encode and the
	// Java and C HdrHistogram log tools read).
	Histogram string `json:"histogram,omitempty"`
	// PerSecond is the throughput over time: one entry per whole second of
	// the measured time.
	PerSecond []BenchSecond `json:"per_second,omitempty"`
	// Sources names the runs merged into this one ("host-a", "host-b").
	Sources []string `json:"sources,omitempty"`
}

// Latency is a latency distribution's summary.
type Latency struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
	Max   time.Duration `json:"max_ns"`
}

// BenchSecond is one second of a load run.
type BenchSecond struct {
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors,omitempty"`
}

// ErrorCount returns the number of failed requests.
func (b *BenchResult) ErrorCount() int64 {
	var n int64
	for _, v := range b.Errors {
		n += v
	}
	return n
}

// ErrorKinds returns the kinds with errors, in a stable order.
func (b *BenchResult) ErrorKinds() []string {
	var out []string
	for k, v := range b.Errors {
		if v > 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// SetHistogram stores h (nanoseconds) encoded in Histogram and its summary
// in Latency.
func (b *BenchResult) SetHistogram(h *hdrhistogram.Histogram) error {
	b.Latency = summarize(h)
	if h.TotalCount() == 0 {
		b.Histogram = ""
		return nil
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return fmt.Errorf("reports: encoding histogram: %w", err)
	}
	b.Histogram = string(enc)
	return nil
}

// DecodeHistogram returns the latency histogram, or nil when the result
// carries none.
func (b *BenchResult) DecodeHistogram() (*hdrhistogram.Histogram, error) {
	if b.Histogram == "" {
		return nil, nil
	}
	h, err := hdrhistogram.Decode([]byte(b.Histogram))
	if err != nil {
		return nil, fmt.Errorf("reports: decoding histogram: %w", err)
	}
	return h, nil
}

// Percentiles returns latency at each percentile of ps (0..100), from the
// histogram when the result carries one.
func (b *BenchResult) Percentiles(ps []float64) ([]time.Duration, error) {
	h, err := b.DecodeHistogram()
	if err != nil || h == nil {
		return nil, err
	}
	out := make([]time.Duration, len(ps))
	for i, p := range ps {
		out[i] = time.Duration(h.ValueAtPercentile(p))
	}
	return out, nil
}

func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		Count: h.TotalCount(),
		Min:   time.Duration(h.Min()),
		Mean:  time.Duration(h.Mean()),
		P50:   time.Duration(h.ValueAtPercentile(50)),
		P90:   time.Duration(h.ValueAtPercentile(90)),
		P99:   time.Duration(h.ValueAtPercentile(99)),
		P999:  time.Duration(h.ValueAtPercentile(99.9)),
		Max:   time.Duration(h.Max()),
	}
}

// ErrNoBench is returned by MergeBench when given nothing to merge.
var ErrNoBench = errors.New("reports: no bench results to merge")

// MergeBench combines results of load runs made at the same time against
// the same target (from several machines, or several processes): counts,
// errors, throughput and the per-second series add up, histograms are
// merged, and the latency summary is computed again from the merged
// histogram. Durations are taken as the longest.
func MergeBench(results ...*BenchResult) (*BenchResult, error) {
	var in []*BenchResult
	for _, r := range results {
		if r != nil {
			in = append(in, r)
		}
	}
	if len(in) == 0 {
		return nil, ErrNoBench
	}
	out := &BenchResult{Mode: in[0].Mode, Pipeline: in[0].Pipeline, Workload: in[0].Workload, Options: in[0].Options}
	var merged *hdrhistogram.Histogram
	for i, r := range in {
		if r.Mode != out.Mode {
			return nil, fmt.Errorf("reports: cannot merge a %s-loop run with a %s-loop run", r.Mode, out.Mode)
		}
		out.Connections += r.Connections
		out.Rate += r.Rate
		out.Warmup = max(out.Warmup, r.Warmup)
		out.Duration = max(out.Duration, r.Duration)
		out.Requests += r.Requests
		out.Sent += r.Sent
		out.Connects += r.Connects
		out.Throughput += r.Throughput
		for k, v := range r.Errors {
			if out.Errors == nil {
				out.Errors = map[string]int64{}
			}
			out.Errors[k] += v
		}
		for s, v := range r.PerSecond {
			for len(out.PerSecond) <= s {
				out.PerSecond = append(out.PerSecond, BenchSecond{})
			}
			out.PerSecond[s].Requests += v.Requests
			out.PerSecond[s].Errors += v.Errors
		}
		if len(r.Sources) > 0 {
			out.Sources = append(out.Sources, r.Sources...)
		} else {
			out.Sources = append(out.Sources, fmt.Sprintf("run %d", i+1))
		}
		h, err := r.DecodeHistogram()
		if err != nil {
			return nil, fmt.Errorf("reports: result %d: %w", i+1, err)
		}
		if h == nil {
			continue
		}
		if merged == nil {
			merged = h
		} else if dropped := merged.Merge(h); dropped > 0 {
			return nil, fmt.Errorf("reports: result %d: %d latency values outside the histogram's range", i+1, dropped)
		}
	}
	if merged != nil {
		if err := out.SetHistogram(merged); err != nil {
			return nil, err
		}
	}
	return out, nil
}
