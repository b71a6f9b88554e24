package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

type tSuites struct {
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []tSuite `xml:"testsuite"`
}

type tSuite struct {
	Name       string `xml:"name,attr"`
	Tests      int    `xml:"tests,attr"`
	Failures   int    `xml:"failures,attr"`
	Errors     int    `xml:"errors,attr"`
	Skipped    int    `xml:"skipped,attr"`
	Properties []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []tCase `xml:"testcase"`
}

type tCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	File      string    `xml:"file,attr"`
	Line      string    `xml:"line,attr"`
	Time      string    `xml:"time,attr"`
	Failure   *tProblem `xml:"failure"`
	Error     *tProblem `xml:"error"`
	Skipped   *tProblem `xml:"skipped"`
	SystemOut string    `xml:"system-out"`
}

type tProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func junitOf(t *testing.T, r *Run) (string, tSuites) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc tSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, b.String())
	}
	return b.String(), doc
}

func TestJUnitCounts(t *testing.T) {
	out, doc := junitOf(t, testRun())
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Error("no XML declaration")
	}
	var tests, failures, errs, skipped int
	var names []string
	cases := map[string]tCase{}
	for _, s := range doc.Suites {
		names = append(names, s.Name)
		var f, e, sk int
		for _, c := range s.Cases {
			cases[c.Name] = c
			if c.Failure != nil {
				f++
			}
			if c.Error != nil {
				e++
			}
			if c.Skipped != nil {
				sk++
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != f || s.Errors != e || s.Skipped != sk {
			t.Errorf("suite %q says tests=%d failures=%d errors=%d skipped=%d, has %d/%d/%d/%d",
				s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases), f, e, sk)
		}
		tests, failures, errs, skipped = tests+s.Tests, failures+f, errs+e, skipped+sk
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if props["target"] != "xinetd" || props["protocol"] != "echo" || props["tool.version"] != "v0.1.0" {
			t.Errorf("suite %q properties = %v", s.Name, props)
		}
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Errors != errs {
		t.Errorf("testsuites says %d/%d/%d, suites sum to %d/%d/%d", doc.Tests, doc.Failures, doc.Errors, tests, failures, errs)
	}
	// Known failures and errors are skipped, so only unexpected ones count.
	if tests != testCounts.total || failures != 1 || errs != 1 || skipped != testCounts.skipped+testCounts.known {
		t.Errorf("tests=%d failures=%d errors=%d skipped=%d", tests, failures, errs, skipped)
	}
	if want := "echo against xinetd: rfc862 tcp TCP Based Echo Service|echo against xinetd: rfc862 udp|echo against xinetd: uppercase 2.9|echo against xinetd: uppercase 2.10"; strings.Join(names, "|") != want {
		t.Errorf("suites = %q, want %q", strings.Join(names, "|"), want)
	}
	if len(cases) != testCounts.total {
		t.Errorf("%d distinct testcases, want one per spec (%d)", len(cases), testCounts.total)
	}

	f := cases["echo/rfc862/tcp/after-half-close[xinetd]"]
	if f.Failure == nil || f.Classname != "protospec.echo.rfc862.tcp" || f.Time != "2.000" {
		t.Fatalf("failed case = %+v", f)
	}
	if f.Failure.Type != LevelShould || f.Failure.Message != `expected "hello" back, got <script>alert(1)</script> ]]> & more\x01\xff (RFC 862 tcp (TCP Based Echo Service))` {
		t.Errorf("failure attrs = type %q message %q", f.Failure.Type, f.Failure.Message)
	}
	for _, want := range []string{
		"SHOULD echo/rfc862/tcp/after-half-close: keeps echoing after the client's half-close\n" +
			"  -> RFC 862 tcp (TCP Based Echo Service):\n" +
			"     \"Once a connection is established any data received is sent back.\"\n" +
			"     (no RFC 2119 keyword: RFC 862 predates RFC 2119)\n" +
			"     https://www.rfc-editor.org/rfc/rfc862\n",
		"second line with ``` fences", "]]> & more", `1.000ms tcp#2 send "AAAA"... (5000 bytes, truncated)`, `recv "<script>\x02" (1 byte)`, "deadline ]]> reached"} {
		if !strings.Contains(f.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Failure.Text)
		}
	}
	if e := cases["echo/rfc862/udp/echoes-datagram[xinetd]"]; e.Error == nil || e.Error.Type != LevelMust || !strings.Contains(e.Error.Text, "index out of range") {
		t.Errorf("error case = %+v", e)
	}
	if s := cases["echo/rfc862/udp/large-datagram[xinetd]"]; s.Skipped == nil || s.Skipped.Message != "target has no UDP endpoint" {
		t.Errorf("skipped case = %+v", s)
	}
	k := cases["echo/rfc862/tcp/half-close-ends[xinetd]"]
	if k.Failure != nil || k.Skipped == nil || k.Skipped.Message != "known deviation (baseline): xinetd keeps <the> connection open -- connection stayed open" ||
		!strings.Contains(k.SystemOut, "for 5s") || !strings.Contains(k.SystemOut, "known deviation (baseline entry echo/rfc862/tcp/half-close-ends): xinetd keeps <the> connection open") {
		t.Errorf("known case = %+v", k)
	}
	if p := cases["echo/uppercase/2.10/upper-utf8[xinetd]"]; p.Failure != nil || p.Error != nil || p.Skipped != nil || p.Classname != "protospec.echo.uppercase.2_10" {
		t.Errorf("passed case = %+v", p)
	}
}

func TestJUnitSchema(t *testing.T) {
	out, _ := junitOf(t, testRun())
	if err := checkJUnitSchema([]byte(out)); err != nil {
		t.Errorf("junit is not valid: %v", err)
	}
	// The checker must catch what it is for.
	ok := `<testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" classname="p.c"/></testsuite>`
	if err := checkJUnitSchema([]byte("<testsuites>" + ok + "</testsuites>")); err != nil {
		t.Fatalf("schema check refuses a valid file: %v", err)
	}
	for _, bad := range []string{
		"<testsuites><testcase name=\"x\"/></testsuites>",
		"<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\"/></testsuites>",
		"<testsuites skipped=\"1\"></testsuites>",
		"<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"1s\"/></testsuites>",
		"<testsuites>\x01</testsuites>",
		"<testsuites>\xff</testsuites>",
		// element order, counts and what the reporters need
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"/><properties/></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"><system-out/><failure/></testcase></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"><skipped/><skipped/></testcase></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"><failure/></testcase></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="2" failures="0" errors="0"><testcase name="a"/></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="0" failures="0" errors="0"></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" classname="p.rfc 9112/9.3"/></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" file="/home/ci/x.go"/></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a" line="x"/></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="1" failures="0" errors="0" timestamp="yesterday"><testcase name="a"/></testsuite></testsuites>`,
		`<testsuites><testsuite name="s" tests="2" failures="0" errors="0"><testcase name="a"/><testcase name="a"/></testsuite></testsuites>`,
		`<testsuites tests="2">` + ok + `</testsuites>`,
	} {
		if checkJUnitSchema([]byte(bad)) == nil {
			t.Errorf("schema check accepts %q", bad)
		}
	}
}

// TestJUnitNames: the names carry the target, so that two runs in one CI
// matrix stay apart; classnames split at dots only; file and line point
// at the spec's declaration.
func TestJUnitNames(t *testing.T) {
	run := func(target string) tSuites {
		r := testRun()
		r.Target.Name = target
		_, doc := junitOf(t, r)
		return doc
	}
	a, b := run("nginx"), run("apache2")
	if a.Name != "echo against nginx" || b.Name != "echo against apache2" {
		t.Errorf("root names %q, %q", a.Name, b.Name)
	}
	names := map[string]bool{}
	for _, doc := range []tSuites{a, b} {
		for _, s := range doc.Suites {
			if names[s.Name] {
				t.Errorf("suite name %q in both files", s.Name)
			}
			names[s.Name] = true
			for _, c := range s.Cases {
				if names[c.Name] {
					t.Errorf("case name %q in both files", c.Name)
				}
				names[c.Name] = true
			}
		}
	}
	if !names["echo against nginx: rfc862 tcp TCP Based Echo Service"] || !names["echo/rfc862/tcp/echoes-bytes[apache2]"] {
		t.Errorf("names = %v", names)
	}
	cases := map[string]tCase{}
	for _, s := range a.Suites {
		for _, c := range s.Cases {
			cases[c.Name] = c
		}
	}
	f := cases["echo/rfc862/tcp/after-half-close[nginx]"]
	if f.Classname != "protospec.echo.rfc862.tcp" || f.File != "suites/echo/rfc862.go" || f.Line != "30" {
		t.Errorf("failed case = %+v", f)
	}
	if p := cases["echo/uppercase/2.10/upper-utf8[nginx]"]; p.Classname != "protospec.echo.uppercase.2_10" {
		t.Errorf("classname of section 2.10 = %q", p.Classname)
	}
}

// TestJUnitBench: a load run is valid JUnit with one testcase, which
// fails as the bench command does.
func TestJUnitBench(t *testing.T) {
	r := &Run{Schema: SchemaVersion, Kind: KindBench, Protocol: "p", Target: Target{Name: "nginx"},
		Bench: &BenchResult{Mode: "closed", Connections: 4, Requests: 100, Duration: time.Second, Throughput: 100}}
	out, doc := junitOf(t, r)
	if err := checkJUnitSchema([]byte(out)); err != nil {
		t.Fatalf("bench junit is not valid: %v\n%s", err, out)
	}
	if doc.Tests != 1 || len(doc.Suites) != 1 || doc.Suites[0].Name != "p bench against nginx" || len(doc.Suites[0].Cases) != 1 {
		t.Fatalf("bench junit = %+v", doc)
	}
	c := doc.Suites[0].Cases[0]
	if c.Failure != nil || !strings.Contains(c.SystemOut, "throughput") || c.Classname != "protospec.p.bench" || !strings.HasSuffix(c.Name, "[nginx]") {
		t.Errorf("bench case = %+v", c)
	}
	r.Bench.Errors = map[string]int64{"bad_response": 3}
	if _, doc := junitOf(t, r); doc.Failures != 1 || doc.Suites[0].Cases[0].Failure == nil {
		t.Errorf("a bench with bad responses passes: %+v", doc)
	}
	r.Bench.Requests, r.Bench.Errors = 0, nil
	if _, doc := junitOf(t, r); doc.Failures != 1 {
		t.Errorf("a bench with no response passes: %+v", doc)
	}
}

func TestJUnitHostileText(t *testing.T) {
	r := &Run{Schema: SchemaVersion, Protocol: "p\x00", Target: Target{Name: "t\uFFFE"}, Specs: []Spec{
		{ID: "p/d/s/\x1b[31m", Doc: "d", Section: "s", Level: "MUST\x07", State: StateFailed,
			Message: "\x00\x0b\x0c\xfe\ufffe]]>]]]]>", Transcript: []Event{{Dir: DirRecv, Data: "\x00\r\n]]>", Len: -1}}},
		{ID: "p/d/s/err", Doc: "d", Section: "s", State: StateError},
		{ID: "p/d/s/skip", State: StateSkipped, Message: "\x01"},
	}}
	out, doc := junitOf(t, r)
	if err := checkJUnitSchema([]byte(out)); err != nil {
		t.Fatalf("hostile text breaks the junit: %v\n%s", err, out)
	}
	cases := map[string]tCase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			cases[c.Name] = c
		}
	}
	if c := cases[`p/d/s/\x1b[31m[t\ufffe]`]; c.Failure == nil || !strings.Contains(c.Failure.Text, `\x00\x0b\x0c\xfe\ufffe]]>]]]]>`) {
		t.Errorf("hostile case = %+v (cases %v)", c, cases)
	}
	if c := cases[`p/d/s/err[t\ufffe]`]; c.Error == nil || c.Error.Message != "error" {
		t.Errorf("error without message = %+v", c)
	}
}
