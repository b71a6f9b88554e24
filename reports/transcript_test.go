package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// quotedRun is a run whose transcript holds the data as some producers
// stored it: a quoted Go literal where an escaped excerpt belongs.
func quotedRun() *Run {
	return &Run{Schema: SchemaVersion, Protocol: "p", Target: Target{Name: "t"}, Specs: []Spec{{
		ID: "p/d/1/s", Protocol: "p", Doc: "d", Section: "1", Level: LevelMust, State: StateFailed, Message: "boom",
		Transcript: []Event{
			{Conn: "tcp#1", Dir: DirSend, Len: 18, Data: `"GET / HTTP/1.1\r\n"`},
			{Conn: "tcp#1", Dir: DirRecv, Len: 6, Data: `\"hi\"`},
		},
	}}}
}

func TestTranscriptQuotesOnce(t *testing.T) {
	r := quotedRun()
	for _, format := range Formats {
		if format == "json" {
			continue
		}
		var b bytes.Buffer
		if err := WriteFormat(&b, format, r); err != nil {
			t.Fatal(err)
		}
		out := strings.ReplaceAll(b.String(), "&#34;", `"`)
		if strings.Contains(out, `""GET`) || strings.Contains(out, `\r\n""`) {
			t.Errorf("%s: doubled quotes:\n%s", format, out)
		}
		for _, want := range []string{`send "GET / HTTP/1.1\r\n" (18 bytes)`, `recv "\"hi\"" (6 bytes)`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", format, want, out)
			}
		}
	}
	if got := EscapeBytes([]byte("a\"\x00\n")); got != `a\"\x00\n` {
		t.Errorf("EscapeBytes = %q", got)
	}
}

var decodedUnder = regexp.MustCompile(`send "\\x00\\x01" \(2 bytes\)\n\s+\| ;; HEADER\n\s+\| ;; id: 1 <b>\n`)

func TestDecoders(t *testing.T) {
	RegisterDecoder("p", func(b []byte) (string, bool) {
		switch string(b) {
		case "panic":
			panic("decoder bug")
		case "\x00\x01":
			return ";; HEADER\n;; id: 1 <b>", true
		}
		return "", false
	})
	defer RegisterDecoder("p", nil)
	if _, ok := Decode("p", []byte("panic")); ok {
		t.Error("a panicking decoder decoded")
	}
	if _, ok := Decode("other", []byte("\x00\x01")); ok {
		t.Error("a protocol without a decoder decoded")
	}
	r := quotedRun()
	r.Specs[0].Transcript = []Event{
		{Dir: DirSend, Len: 2, Data: `\x00\x01`},
		{Dir: DirRecv, Len: 9, Data: `\x00\x01`, Truncated: true},
		{Dir: DirRecv, Len: 5, Data: `panic`},
		{Dir: DirRecv, Len: 2, Data: `x`, Decoded: "from the producer"},
	}
	var md, junit, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"markdown": md.String(), "junit": junit.String()} {
		if !decodedUnder.MatchString(out) {
			t.Errorf("%s: no decoded message under the bytes:\n%s", name, out)
		}
		if strings.Count(out, ";; HEADER") != 1 || !strings.Contains(out, "| from the producer") {
			t.Errorf("%s: decoded a truncated event, or dropped the producer's decoding:\n%s", name, out)
		}
	}
	if !strings.Contains(page.String(), `<span class="decoded">;; HEADER
;; id: 1 &lt;b&gt;</span>`) {
		t.Errorf("html: no decoded message:\n%s", page.String())
	}
	checkSelfContained(t, page.String())
	// The run itself is not changed by rendering.
	if r.Specs[0].Transcript[0].Decoded != "" {
		t.Error("rendering changed the run")
	}
}

func TestRequirementURL(t *testing.T) {
	for _, tc := range []struct{ doc, section, want string }{
		{"rfc9112", "9.3", "https://www.rfc-editor.org/rfc/rfc9112#section-9.3"},
		{"rfc1035", "4.1.1", "https://www.rfc-editor.org/rfc/rfc1035#section-4.1.1"},
		{"rfc862", "tcp", "https://www.rfc-editor.org/rfc/rfc862"},
		{"rfc9110", "A.1", "https://www.rfc-editor.org/rfc/rfc9110#appendix-A.1"},
		{"rfc6265bis", "4.1.1", ""},
		{"uppercase", "tcp", ""},
		{"rfc9112", "9.3\"><script>", "https://www.rfc-editor.org/rfc/rfc9112"},
	} {
		if got := RequirementURL(tc.doc, tc.section); got != tc.want {
			t.Errorf("RequirementURL(%q, %q) = %q, want %q", tc.doc, tc.section, got, tc.want)
		}
	}
	sp := Spec{Doc: "rfc9110", Section: "13.1.3", SentenceSection: "13.2.2", SectionTitle: "If-Modified-Since", Sentence: "A server MUST ..."}
	if sp.Link() != "https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2" || sp.Cite() != "RFC 9110 section 13.2.2" {
		t.Errorf("sentence in another section: %q %q", sp.Link(), sp.Cite())
	}
	sp = Spec{Doc: "rfc9112", Section: "9.3", SectionTitle: "Persistence", Sentence: "x", URL: "javascript:alert(1)"}
	if sp.Link() != "" {
		t.Errorf("a URL that is not http(s) is linked: %q", sp.Link())
	}
}

func TestMarkdownRequirement(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, testRun()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"> [RFC 862 tcp (TCP Based Echo Service)](https://www.rfc-editor.org/rfc/rfc862): Once a connection is established any data received is sent back.\n>\n> (no RFC 2119 keyword: RFC 862 predates RFC 2119)\n",
		"**Known deviation** (baseline entry `echo/rfc862/tcp/half-close-ends`): xinetd keeps \\<the\\> connection open\n",
		"closes after the client closes (known: xinetd keeps \\<the\\> connection open) |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	r := testRun()
	r.Baseline = "builtin:xinetd"
	r.BaselineMet = []BaselineSpec{{ID: "echo/uppercase/2.9/upper-ascii", State: StatePassed, Entry: "echo/uppercase/2.9/*", Reason: "used to fail"}}
	b.Reset()
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Since the baseline (`builtin:xinetd`)",
		"New failures, not in the baseline (2):\n\n- `echo/rfc862/tcp/after-half-close` failed\n",
		"In the baseline, passing now (prune them?) (1):\n\n- `echo/uppercase/2.9/upper-ascii` passed (baseline: used to fail)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

func TestRequirementQuotesOnce(t *testing.T) {
	sp := Spec{Doc: "rfc862", Section: "tcp", Sentence: `"This continues." Once the user has, the server closes.`}
	if got := sp.Requirement(""); strings.Contains(got, `""`) || !strings.Contains(got, "\n   \"This continues.\" Once") {
		t.Errorf("Requirement = %q", got)
	}
	sp.Sentence = "A server MUST close."
	if got := sp.Requirement(""); !strings.Contains(got, "\n   \"A server MUST close.\"\n") {
		t.Errorf("Requirement = %q", got)
	}
}
