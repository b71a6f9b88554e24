package reports

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func htmlOf(t *testing.T, r *Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var (
	attrURL     = regexp.MustCompile(`(?i)\b(href|src|action|formaction|poster|srcset|background)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	schemeOrNet = regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*:|^//|^\\`)
)

// selfContainment lists the ways the page could load or link anything
// outside its own directory.
func selfContainment(page string) []string {
	var problems []string
	if regexp.MustCompile(`(?i)<script[^>]*\bsrc\b`).MatchString(page) {
		problems = append(problems, "page loads a script")
	}
	for _, bad := range []string{"url(", "@import", "<link", "<img", "<iframe", "<object", "<embed"} {
		if strings.Contains(strings.ToLower(page), bad) {
			problems = append(problems, "page contains "+bad)
		}
	}
	for _, m := range attrURL.FindAllStringSubmatch(page, -1) {
		v := strings.Trim(m[2], `"'`)
		if strings.EqualFold(m[1], "href") && strings.HasPrefix(v, "https://www.rfc-editor.org/rfc/") {
			continue // the link of a requirement: navigation, never loaded
		}
		if schemeOrNet.MatchString(v) || strings.HasPrefix(v, "/") {
			problems = append(problems, "page links outside itself: "+m[0])
		}
	}
	if !utf8.ValidString(page) {
		problems = append(problems, "page is not UTF-8")
	}
	for _, r := range page {
		if !xmlChar(r) {
			problems = append(problems, fmt.Sprintf("page has control character %U", r))
			break
		}
	}
	return problems
}

func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, p := range selfContainment(page) {
		t.Error(p)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	// Without spec data that holds URLs, the page has none at all.
	r := testRun()
	r.Specs[1].Message = "no link here"
	r.Specs[1].Attachments = r.Specs[1].Attachments[:1]
	r.Specs[1].Sentence = ""
	page := htmlOf(t, r)
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("page has a URL of its own")
	}
	checkSelfContained(t, page)

	// With them, they are shown as text only: as many as the data has,
	// twice for the failure (at the top and in its section), and the
	// requirement's link to the RFC Editor.
	page = htmlOf(t, testRun())
	checkSelfContained(t, page)
	if n := strings.Count(page, "https://") - strings.Count(page, `href="https://www.rfc-editor.org/rfc/rfc862"`); n != 4 {
		t.Errorf("%d URLs in the page, want the 2 of the spec data twice", n)
	}
	if n := strings.Count(page, `<a href="https://www.rfc-editor.org/rfc/rfc862">RFC 862 tcp (TCP Based Echo Service)</a>`); n != 2 {
		t.Errorf("the requirement's link is on the page %d times, want 2", n)
	}
	if !strings.Contains(page, "remote: <code>https://cdn.example/evil.js</code>") {
		t.Error("an absolute attachment is not shown as text")
	}
	if !strings.Contains(page, `<a href="pcap/after-half-close.pcapng">capture</a>`) {
		t.Error("a relative attachment is not linked")
	}
	// The checker catches what it is for.
	for _, bad := range []string{`<script src="x.js"></script>`, `<a href="https://x">`, `<a href=//x>`, `<style>@import "x.css"</style>`, `<div style="background:url(x)">`, `<a href='/etc/passwd'>`} {
		if selfContainment("<p>"+bad) == nil {
			t.Errorf("self-containment check accepts %s", bad)
		}
	}
}

func TestHTMLEscaping(t *testing.T) {
	r := testRun()
	r.Specs = append(r.Specs, Spec{
		ID: `x/y/z/" onmouseover="alert(1)`, Doc: "y", Section: "z", Level: `"><img src=x onerror=alert(1)>`,
		Title: `</summary></details><script>alert(2)</script>`, State: StateFailed,
		Message:     "</pre><script>alert(3)</script>\x00",
		Transcript:  []Event{{Dir: `"><b id=evil>`, Data: "</span><script>alert(4)</script>"}},
		Attachments: []Attachment{{Name: "<i>js</i>", Path: "javascript:alert(5)"}, {Name: "data", Path: "data:text/html,<script>alert(6)</script>"}},
	})
	page := htmlOf(t, r)
	checkSelfContained(t, page)
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script elements, want only the page's own", n)
	}
	for _, bad := range []string{"<img", `onmouseover="alert`, "<i>js</i>", `href="javascript:`, `href="data:`, "alert(2)</script>", `<b id=evil>`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;\\x00", `&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; more\x01\xff`, `class="ev other"`, `&#34;&gt;&lt;b id=evil&gt;`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLContent(t *testing.T) {
	page := htmlOf(t, testRun())
	for _, want := range []string{
		"<title>protospec echo report: xinetd</title>",
		`<span class="verdict bad">FAIL: 2 unexpected failures</span>`,
		"<dt>Protocol</dt><dd>echo</dd>",
		"<dt>Target</dt><dd>xinetd (launcher), version 2.3.15</dd>",
		"<dt>Kind</dt><dd>conformance</dd>",
		"<dt>Started</dt><dd>2025-03-04 05:06:07 UTC</dd>",
		"<dt>Duration</dt><dd>1.235s</dd>",
		"<dt>Tool</dt><dd>protospec v0.1.0 (go1.26)</dd>",
		`<div class="card failed"><b>2</b><span>failed</span></div>`,
		`<div class="card known"><b>2</b><span>known (baseline)</span></div>`,
		// matrix: rfc862 tcp has MUST 1 passed + 1 known, SHOULD 1 failed, no MAY
		`<tr><th><a href="#sec-1">rfc862 tcp TCP Based Echo Service</a></th><td class="cell warn"><span class="n-pass">1</span> / <span class="n-fail">1</span> / <span class="n-skip">0</span></td><td class="cell bad"><span class="n-pass">0</span> / <span class="n-fail">1</span> / <span class="n-skip">0</span></td><td class="cell empty">`,
		`<details class="spec" data-state="failed" data-level="SHOULD" open>`,
		// the section's copy of a spec has its anchor (a matrix links
		// there); the failures' copy at the top, above, has none
		`<details class="spec" data-state="known" data-level="MUST" id="spec-echo/`,
		`<span class="ev send">12.345ms tcp#1 send &#34;hello\n&#34; (6 bytes)</span>`,
		`<span class="ev recv">2.000ms tcp#2 recv &#34;&lt;script&gt;\x02&#34; (1 byte)</span>`,
		`<span class="why">&mdash; target has no UDP endpoint</span>`,
		`<input type="checkbox" name="level" value="MAY" checked>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if i, j := strings.Index(page, ">uppercase 2.9<"), strings.Index(page, ">uppercase 2.10<"); i < 0 || j < i {
		t.Error("sections not in natural order")
	}
	specs := page[strings.Index(page, "<h2>Specs</h2>"):]
	if n := strings.Count(specs, `<details class="spec"`); n != testCounts.total {
		t.Errorf("%d specs in the list, want %d", n, testCounts.total)
	}
}

// TestHTMLFailuresFirst: the unexpected failures come first, grouped by
// section, with the requirement; known deviations carry the baseline's
// reason; the baseline panel says what changed.
func TestHTMLFailuresFirst(t *testing.T) {
	r := testRun()
	r.Baseline = "builtin:xinetd"
	r.BaselineMet = []BaselineSpec{{ID: "echo/uppercase/2.9/upper-ascii", State: StatePassed, Entry: "echo/uppercase/2.9/*", Reason: "used to <fail>"}}
	r.BaselineUnmatched = []string{"echo/gone/*"}
	page := htmlOf(t, r)
	checkSelfContained(t, page)
	fail, matrix, specs := strings.Index(page, `<h2 id="failures">`), strings.Index(page, "<h2>Compliance matrix</h2>"), strings.Index(page, "<h2>Specs</h2>")
	if fail < 0 || fail > matrix || matrix > specs {
		t.Fatalf("failures at %d, matrix at %d, specs at %d: want the failures first", fail, matrix, specs)
	}
	top := page[fail:matrix]
	for _, want := range []string{
		`<h3><a href="#sec-1">rfc862 tcp TCP Based Echo Service</a> <span class="dur">1 failure</span></h3>`,
		`<h3><a href="#sec-2">rfc862 udp</a> <span class="dur">1 failure</span></h3>`,
		`<blockquote class="sentence"><div class="cite">&rarr; <a href="https://www.rfc-editor.org/rfc/rfc862">RFC 862 tcp (TCP Based Echo Service)</a></div>Once a connection is established any data received is sent back.<div class="why">(no RFC 2119 keyword: RFC 862 predates RFC 2119)</div></blockquote>`,
		`declared at <code>suites/echo/rfc862.go:30</code>`,
		`<h2 id="baseline">Since the baseline</h2>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(top, "half-close-ends") || strings.Contains(top, "upper-utf8") {
		t.Error("a known deviation or a pass is among the failures")
	}
	for _, want := range []string{
		`<h3>New failures, not in the baseline (2)</h3>`,
		`<code>echo/rfc862/tcp/after-half-close</code>`,
		`<h3>In the baseline, passing now (1)</h3>`,
		`<code>echo/uppercase/2.9/upper-ascii</code> <span class="why">(entry <code>echo/uppercase/2.9/*</code>: used to &lt;fail&gt;)</span>`,
		`1 baseline entries match no spec of this run.`,
		`<span class="why">&mdash; xinetd keeps &lt;the&gt; connection open</span>`,
		`<div class="known-why">Known deviation (baseline entry <code>echo/rfc862/tcp/half-close-ends</code>): xinetd keeps &lt;the&gt; connection open</div>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Without a baseline there is no panel.
	if page := htmlOf(t, testRun()); strings.Contains(page, `id="baseline"`) {
		t.Error("a baseline panel without a baseline")
	}
}

func TestRelativeLink(t *testing.T) {
	for p, want := range map[string]bool{
		"pcap/a.pcapng":       true,
		"a b.pcapng":          true,
		"../x.pcapng":         true,
		"":                    false,
		"/tmp/a.pcapng":       false,
		`\\host\share`:        false,
		"//host/x":            false,
		"https://x/y":         false,
		"javascript:alert(1)": false,
		"C:/x.pcapng":         false,
		"file:///etc/passwd":  false,
		"a\nb":                false,
		"%zz":                 false,
	} {
		if got := relativeLink(p); got != want {
			t.Errorf("relativeLink(%q) = %v, want %v", p, got, want)
		}
	}
}
