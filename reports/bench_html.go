package reports

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// benchPercentiles are the rows of the latency tables.
var benchPercentiles = []struct {
	Name string
	P    float64
}{{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}}

// mdBench writes the load-run section of the Markdown report.
func mdBench(w *bufio.Writer, b *BenchResult) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Load\n\n")
	p("| | |\n|---|---|\n")
	p("| Mode | %s |\n", mdText(benchModeText(b)))
	p("| Connections | %d (pipeline %d) |\n", b.Connections, max(b.Pipeline, 1))
	if len(b.Workload) > 0 {
		p("| Workload | %s |\n", mdCell(mdCode(strings.Join(b.Workload, ", "))))
	}
	if len(b.Options) > 0 {
		p("| Options | %s |\n", mdText(strings.Join(b.Options, ", ")))
	}
	p("| Measured | %s after %s warm-up |\n", fmtDuration(b.Duration), fmtDuration(b.Warmup))
	p("| Throughput | **%s/s** |\n", fmtCount(b.Throughput))
	p("| Requests | %d ok, %d errors, %d sent, %d connections opened |\n", b.Requests, b.ErrorCount(), b.Sent, b.Connects)
	if len(b.Sources) > 0 {
		p("| Merged from | %s |\n", mdText(strings.Join(b.Sources, ", ")))
	}
	p("\n| Latency | min | p50 | p90 | p99 | p99.9 | max | mean |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	l := b.Latency
	p("| %d samples | %s | %s | %s | %s | %s | %s | %s |\n", l.Count, fmtLatency(l.Min), fmtLatency(l.P50),
		fmtLatency(l.P90), fmtLatency(l.P99), fmtLatency(l.P999), fmtLatency(l.Max), fmtLatency(l.Mean))
	if kinds := b.ErrorKinds(); len(kinds) > 0 {
		p("\n| Error | Count |\n|---|---:|\n")
		for _, k := range kinds {
			p("| %s | %d |\n", mdText(k), b.Errors[k])
		}
	}
	if len(b.PerSecond) > 0 {
		p("\nThroughput per second: ")
		for i, s := range b.PerSecond {
			if i > 0 {
				p(", ")
			}
			p("%d", s.Requests)
			if s.Errors > 0 {
				p(" (%d errors)", s.Errors)
			}
		}
		p("\n")
	}
	p("\n")
}

func benchModeText(b *BenchResult) string {
	if b.Mode == "open" {
		return fmt.Sprintf("open loop at %s requests/s (latency from the intended send time)", fmtCount(b.Rate))
	}
	return "closed loop"
}

// fmtCount formats a rate with thousands separators and no decimals.
func fmtCount(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "?"
	}
	s := fmt.Sprintf("%.0f", f)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtLatency prints a latency with three significant digits.
func fmtLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return trimZeros(fmt.Sprintf("%.3g", float64(d)/1e3)) + "µs"
	case d < time.Second:
		return trimZeros(fmt.Sprintf("%.3g", float64(d)/1e6)) + "ms"
	default:
		return trimZeros(fmt.Sprintf("%.4g", float64(d)/1e9)) + "s"
	}
}

func trimZeros(s string) string {
	if strings.ContainsAny(s, "e") || !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// benchHTML renders the load-run section of the HTML report: the figures,
// an SVG latency-by-percentile chart and an SVG throughput-over-time chart,
// drawn here, inline, with no script.
func benchHTML(b *BenchResult) template.HTML {
	var w strings.Builder
	e := template.HTMLEscapeString
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	p(`<section class="bench" id="bench"><h2>Load</h2>
<style>.bench table{border-collapse:collapse;margin:.5em 0}.bench td,.bench th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:right}.bench th:first-child,.bench td:first-child{text-align:left}.bench svg{max-width:100%%;height:auto;font:11px sans-serif;margin:.5em 1em .5em 0;background:#fff;border:1px solid #ddd}.bench .big{font-size:1.4em;font-weight:bold}</style>
`)
	p(`<p><span class="big">%s requests/s</span> &mdash; %s, %d connections, pipeline %d, measured %s after %s warm-up.</p>`+"\n",
		e(fmtCount(b.Throughput)), e(benchModeText(b)), b.Connections, max(b.Pipeline, 1), e(fmtDuration(b.Duration)), e(fmtDuration(b.Warmup)))
	p("<table><tr><th>requests ok</th><th>errors</th><th>sent</th><th>connections opened</th></tr>")
	p("<tr><td>%d</td><td>%d</td><td>%d</td><td>%d</td></tr></table>\n", b.Requests, b.ErrorCount(), b.Sent, b.Connects)
	if len(b.Workload) > 0 {
		p("<p>Workload: <code>%s</code>", e(escapeControl(strings.Join(b.Workload, ", "), true)))
		if len(b.Options) > 0 {
			p(" (%s)", e(escapeControl(strings.Join(b.Options, ", "), true)))
		}
		p("</p>\n")
	}
	if len(b.Sources) > 0 {
		p("<p>Merged from %s.</p>\n", e(escapeControl(strings.Join(b.Sources, ", "), true)))
	}
	l := b.Latency
	p("<table><tr><th>latency</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>mean</th></tr>")
	p("<tr><td>%d samples</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr></table>\n",
		l.Count, e(fmtLatency(l.Min)), e(fmtLatency(l.P50)), e(fmtLatency(l.P90)), e(fmtLatency(l.P99)),
		e(fmtLatency(l.P999)), e(fmtLatency(l.Max)), e(fmtLatency(l.Mean)))
	if kinds := b.ErrorKinds(); len(kinds) > 0 {
		p("<table><tr><th>error</th><th>count</th></tr>")
		for _, k := range kinds {
			p("<tr><td>%s</td><td>%d</td></tr>", e(escapeControl(k, true)), b.Errors[k])
		}
		p("</table>\n")
	}
	w.WriteString(latencyChart(b))
	w.WriteString(throughputChart(b))
	p("</section>\n")
	return template.HTML(w.String())
}

// Chart geometry (SVG user units).
const (
	chartW, chartH         = 560, 260
	padL, padR, padT, padB = 64, 16, 24, 40
)

// latencyChart plots latency against percentile on HdrHistogram's usual
// axis, where 90%, 99%, 99.9% ... are evenly spaced.
func latencyChart(b *BenchResult) string {
	h, err := b.DecodeHistogram()
	if err != nil || h == nil || h.TotalCount() == 0 {
		return ""
	}
	// x = log10(1/(1-p)); go as far as the samples resolve, at most 99.999%.
	xMax := math.Min(5, math.Max(1, math.Ceil(math.Log10(float64(h.TotalCount())))))
	maxV := float64(h.Max())
	if maxV <= 0 {
		maxV = 1
	}
	yTop, yStep := niceAxis(maxV)
	pw, ph := float64(chartW-padL-padR), float64(chartH-padT-padB)
	px := func(x float64) float64 { return padL + pw*x/xMax }
	py := func(v float64) float64 { return padT + ph*(1-v/yTop) }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg role="img" aria-label="latency by percentile" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&s, `<text x="%d" y="15" font-weight="bold">Latency by percentile</text>`, padL)
	for v := 0.0; v <= yTop+yStep/2; v += yStep {
		y := py(v)
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&s, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-4, y+4, template.HTMLEscapeString(fmtLatency(time.Duration(v))))
	}
	for x := 0.0; x <= xMax+1e-9; x++ {
		label := "0%"
		if x > 0 {
			label = trimZeros(fmt.Sprintf("%.*f", int(x), 100*(1-math.Pow(10, -x)))) + "%"
		}
		fmt.Fprintf(&s, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e5e5e5"/>`, px(x), px(x), padT, chartH-padB)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, px(x), chartH-padB+14, label)
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="middle">percentile</text>`, padL+int(pw/2), chartH-6)
	s.WriteString(`<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="`)
	const steps = 200
	for i := 0; i <= steps; i++ {
		x := xMax * float64(i) / steps
		pct := 100 * (1 - math.Pow(10, -x))
		v := float64(h.ValueAtPercentile(pct))
		if i == steps {
			v = float64(h.Max())
		}
		fmt.Fprintf(&s, "%.1f,%.1f ", px(x), py(v))
	}
	s.WriteString(`"/>`)
	for _, q := range benchPercentiles {
		x := math.Log10(100 / (100 - q.P))
		if x > xMax {
			continue
		}
		v := float64(h.ValueAtPercentile(q.P))
		fmt.Fprintf(&s, `<circle cx="%.1f" cy="%.1f" r="3" fill="#2b6cb0"><title>%s %s</title></circle>`, px(x), py(v), q.Name, template.HTMLEscapeString(fmtLatency(time.Duration(v))))
	}
	s.WriteString("</svg>\n")
	return s.String()
}

// throughputChart draws requests (and errors) per second as bars.
func throughputChart(b *BenchResult) string {
	n := len(b.PerSecond)
	if n == 0 {
		return ""
	}
	var top float64 = 1
	for _, s := range b.PerSecond {
		top = math.Max(top, float64(s.Requests+s.Errors))
	}
	yTop, yStep := niceAxis(top)
	pw, ph := float64(chartW-padL-padR), float64(chartH-padT-padB)
	bw := pw / float64(n)
	py := func(v float64) float64 { return padT + ph*(1-v/yTop) }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg role="img" aria-label="throughput over time" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&s, `<text x="%d" y="15" font-weight="bold">Requests per second</text>`, padL)
	for v := 0.0; v <= yTop+yStep/2; v += yStep {
		y := py(v)
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&s, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-4, y+4, fmtCount(v))
	}
	every := max(1, n/10)
	for i, sec := range b.PerSecond {
		x := padL + bw*float64(i)
		gap := math.Min(2, bw/4)
		ok := float64(sec.Requests)
		fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2b6cb0"><title>second %d: %d ok, %d errors</title></rect>`,
			x+gap/2, py(ok), bw-gap, py(0)-py(ok), i+1, sec.Requests, sec.Errors)
		if sec.Errors > 0 {
			er := float64(sec.Errors)
			fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#c53030"/>`, x+gap/2, py(ok+er), bw-gap, py(ok)-py(ok+er))
		}
		if i%every == 0 || i == n-1 {
			fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`, x+bw/2, chartH-padB+14, i+1)
		}
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="middle">second</text>`, padL+int(pw/2), chartH-6)
	s.WriteString("</svg>\n")
	return s.String()
}

// niceAxis returns an axis top at or above v and a step of 1, 2 or 5 times
// a power of ten giving four to ten gridlines.
func niceAxis(v float64) (top, step float64) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1, 0.25
	}
	raw := v / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch r := raw / mag; {
	case r <= 1:
		step = mag
	case r <= 2:
		step = 2 * mag
	case r <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	return math.Ceil(v/step) * step, step
}

// WriteBenchText writes a load result as the few lines a terminal shows.
func WriteBenchText(w io.Writer, b *BenchResult) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("%s, %d connections, pipeline %d, %s measured\n", benchModeText(b), b.Connections, max(b.Pipeline, 1), fmtDuration(b.Duration))
	p("  throughput  %s requests/s\n", fmtCount(b.Throughput))
	p("  requests    %d ok, %d errors", b.Requests, b.ErrorCount())
	for _, k := range b.ErrorKinds() {
		p(", %s %d", k, b.Errors[k])
	}
	p("\n")
	l := b.Latency
	p("  latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", fmtLatency(l.P50), fmtLatency(l.P90),
		fmtLatency(l.P99), fmtLatency(l.P999), fmtLatency(l.Max))
	return bw.Flush()
}
