package reports

import (
	"bytes"
	"strings"
	"testing"
)

func markdownOf(t *testing.T, r *Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestMarkdown(t *testing.T) {
	md := markdownOf(t, testRun())
	for _, want := range []string{
		"# protospec echo report: xinetd\n",
		"**FAIL**: 2 unexpected failures",
		"| Target | xinetd (launcher), version 2.3.15 |",
		"| Started | 2025-03-04 05:06:07 UTC |",
		"| Filter | `rfc862 && must` |",
		"| 8 | 3 | 2 | 1 | 2 | 2 |",
		"| MUST | 1 | 2 | 0 |",
		"| SHOULD | 1 | 2 | 0 |",
		"| MAY | 1 supported | 0 not supported | 1 |",
		"### ❌ failed `echo/rfc862/tcp/after-half-close`",
		"**SHOULD** keeps echoing after the client's half-close",
		// the message has ``` in it, so its fence is longer
		"````\nexpected \"hello\" back, got <script>alert(1)</script> ]]> & more\\x01\\xff\nsecond line with ``` fences and https://evil.example/x.js\n````\n",
		"```\n1.000ms tcp#2 send \"AAAA\"... (5000 bytes, truncated)\n2.000ms tcp#2 recv \"<script>\\x02\" (1 byte)\n",
		"### 💥 error `echo/rfc862/udp/echoes-datagram`",
		"## Known deviations (baseline)",
		"### ⚠️ known `echo/rfc862/tcp/half-close-ends`",
		"| ⏭️ skipped | MAY | `echo/rfc862/udp/large-datagram` | echoes a 64 KiB datagram (skipped: target has no UDP endpoint) | 0s |",
		"| ✅ passed | MAY | `echo/uppercase/2.10/upper-utf8` | upper-cases UTF-8 \\| pipes \\*stars\\* | 1ms |",
		"> xinetd log: started \\<ok\\>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	failures := strings.Index(md, "## Failures")
	known := strings.Index(md, "## Known deviations")
	results := strings.Index(md, "## Results by section")
	if failures < 0 || failures > known || known > results {
		t.Errorf("sections out of order: failures %d, known %d, results %d", failures, known, results)
	}
	if strings.Contains(md[failures:known], "half-close-ends") {
		t.Error("a known deviation is listed among the failures")
	}
	if i, j := strings.Index(md, "### uppercase 2.9\n"), strings.Index(md, "### uppercase 2.10\n"); i < 0 || j < i {
		t.Error("sections not in natural order")
	}
	// Every spec is one table row.
	for _, sp := range testRun().Specs {
		if n := strings.Count(md, "| `"+sp.ID+"` |"); n != 1 {
			t.Errorf("%s is in %d table rows", sp.ID, n)
		}
	}
	// Outside fenced blocks, no raw HTML and no control bytes.
	fence := ""
	for i, line := range strings.Split(md, "\n") {
		if fence == "" && strings.HasPrefix(line, "```") {
			fence = line
			continue
		}
		if fence != "" {
			if line == fence {
				fence = ""
			}
			continue
		}
		if strings.Contains(strings.ReplaceAll(line, `\<`, ""), "<") {
			t.Errorf("line %d has raw markup: %q", i+1, line)
		}
		if strings.ContainsAny(line, "\x00\x01\x02\r") {
			t.Errorf("line %d has control bytes: %q", i+1, line)
		}
	}
	if fence != "" {
		t.Errorf("unclosed fence %q", fence)
	}
}

func TestMarkdownPass(t *testing.T) {
	r := testRun()
	for i := range r.Specs {
		if r.Specs[i].Failing() {
			r.Specs[i].Known = true
		}
	}
	r.Baseline = "targets/xinetd/baseline.txt"
	md := markdownOf(t, r)
	if !strings.Contains(md, "**PASS**: every failure is a known deviation") || strings.Contains(md, "## Failures") {
		t.Errorf("all-known run:\n%s", md)
	}
	if !strings.Contains(md, "| Baseline | `targets/xinetd/baseline.txt` |") {
		t.Error("baseline not named")
	}
	md = markdownOf(t, &Run{Schema: SchemaVersion})
	if !strings.Contains(md, "**PASS**: no failures") || !strings.Contains(md, "| 0 | 0 | 0 | 0 | 0 | 0 |") {
		t.Errorf("empty run:\n%s", md)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a|b", `a\|b`},
		{"<b>*x*</b>", `\<b\>\*x\*\</b\>`},
		{"line\nbreak", `line\\nbreak`},
		{`back\slash`, `back\\slash`},
	} {
		if got := mdText(tc.in); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"id", "`id`"},
		{"a`b", "``a`b``"},
		{"`x", "`` `x ``"},
		{"", ""},
	} {
		if got := mdCode(tc.in); got != tc.want {
			t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
