package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

type tSuites struct {
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
	if want := "rfc862 tcp|rfc862 udp|uppercase 2.9|uppercase 2.10"; strings.Join(names, "|") != want {
		t.Errorf("suites = %q, want %q", strings.Join(names, "|"), want)
	}
	if len(cases) != testCounts.total {
		t.Errorf("%d distinct testcases, want one per spec (%d)", len(cases), testCounts.total)
	}

	f := cases["echo/rfc862/tcp/after-half-close"]
	if f.Failure == nil || f.Classname != "echo.rfc862.tcp" || f.Time != "2.000" {
		t.Fatalf("failed case = %+v", f)
	}
	if f.Failure.Type != LevelShould || f.Failure.Message != `expected "hello" back, got <script>alert(1)</script> ]]> & more\x01\xff` {
		t.Errorf("failure attrs = type %q message %q", f.Failure.Type, f.Failure.Message)
	}
	for _, want := range []string{"second line with ``` fences", "]]> & more", `1.000ms tcp#2 send "AAAA"... (5000 bytes, truncated)`, `recv "<script>\x02" (1 byte)`, "deadline ]]> reached"} {
		if !strings.Contains(f.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Failure.Text)
		}
	}
	if e := cases["echo/rfc862/udp/echoes-datagram"]; e.Error == nil || e.Error.Type != LevelMust || !strings.Contains(e.Error.Text, "index out of range") {
		t.Errorf("error case = %+v", e)
	}
	if s := cases["echo/rfc862/udp/large-datagram"]; s.Skipped == nil || s.Skipped.Message != "target has no UDP endpoint" {
		t.Errorf("skipped case = %+v", s)
	}
	k := cases["echo/rfc862/tcp/half-close-ends"]
	if k.Failure != nil || k.Skipped == nil || k.Skipped.Message != "known deviation (baseline): connection stayed open" ||
		!strings.Contains(k.SystemOut, "for 5s") {
		t.Errorf("known case = %+v", k)
	}
	if p := cases["echo/uppercase/2.10/upper-utf8"]; p.Failure != nil || p.Error != nil || p.Skipped != nil || p.Classname != "echo.uppercase.2.10" {
		t.Errorf("passed case = %+v", p)
	}
}

// junitSchema is the part of the Jenkins junit-10 schema the writer uses:
// for each element, its allowed attributes (true: required) and children.
var junitSchema = map[string]struct {
	attrs    map[string]bool
	children []string
	text     bool
}{
	"testsuites": {map[string]bool{"name": false, "time": false, "tests": false, "failures": false, "errors": false}, []string{"testsuite"}, false},
	"testsuite": {map[string]bool{"name": true, "tests": true, "failures": true, "errors": true, "group": false, "time": false,
		"skipped": false, "timestamp": false, "hostname": false, "id": false, "package": false, "file": false, "log": false, "url": false},
		[]string{"testsuite", "properties", "testcase", "system-out", "system-err"}, false},
	"properties": {map[string]bool{}, []string{"property"}, false},
	"property":   {map[string]bool{"name": true, "value": true}, nil, false},
	"testcase":   {map[string]bool{"name": true, "time": false, "classname": false, "group": false}, []string{"skipped", "error", "failure", "system-out", "system-err"}, false},
	"failure":    {map[string]bool{"type": false, "message": false}, nil, true},
	"error":      {map[string]bool{"type": false, "message": false}, nil, true},
	"skipped":    {map[string]bool{"type": false, "message": false}, nil, true},
	"system-out": {map[string]bool{}, nil, true},
	"system-err": {map[string]bool{}, nil, true},
}

var surefireTime = regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)

// checkJUnitSchema validates doc against junitSchema and XML 1.0.
func checkJUnitSchema(doc []byte) error {
	if !utf8.Valid(doc) {
		return errorf("not UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			rule, ok := junitSchema[name]
			if !ok {
				return errorf("unknown element <%s>", name)
			}
			if len(stack) == 0 && name != "testsuites" {
				return errorf("root is <%s>", name)
			}
			if len(stack) > 0 {
				parent := junitSchema[stack[len(stack)-1]]
				allowed := false
				for _, c := range parent.children {
					allowed = allowed || c == name
				}
				if !allowed {
					return errorf("<%s> inside <%s>", name, stack[len(stack)-1])
				}
			}
			seen := map[string]bool{}
			for _, a := range tok.Attr {
				if _, ok := rule.attrs[a.Name.Local]; !ok {
					return errorf("<%s> has attribute %s", name, a.Name.Local)
				}
				if a.Name.Local == "time" && name != "testcase" && !surefireTime.MatchString(a.Value) {
					return errorf("<%s time=%q>", name, a.Value)
				}
				seen[a.Name.Local] = true
			}
			for a, required := range rule.attrs {
				if required && !seen[a] {
					return errorf("<%s> lacks attribute %s", name, a)
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && !junitSchema[stack[len(stack)-1]].text && len(bytes.TrimSpace(tok)) > 0 {
				return errorf("text inside <%s>", stack[len(stack)-1])
			}
		}
	}
	return nil
}

type testError string

func (e testError) Error() string { return string(e) }

func errorf(s string, args ...any) error { return testError(fmt.Sprintf(s, args...)) }

func TestJUnitSchema(t *testing.T) {
	out, _ := junitOf(t, testRun())
	if err := checkJUnitSchema([]byte(out)); err != nil {
		t.Errorf("junit is not valid: %v", err)
	}
	// The checker must catch what it is for.
	for _, bad := range []string{
		"<testsuites><testcase name=\"x\"/></testsuites>",
		"<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\"/></testsuites>",
		"<testsuites skipped=\"1\"></testsuites>",
		"<testsuites><testsuite name=\"x\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"1s\"/></testsuites>",
		"<testsuites>\x01</testsuites>",
		"<testsuites>\xff</testsuites>",
	} {
		if checkJUnitSchema([]byte(bad)) == nil {
			t.Errorf("schema check accepts %q", bad)
		}
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
	if c := cases[`p/d/s/\x1b[31m`]; c.Failure == nil || !strings.Contains(c.Failure.Text, `\x00\x0b\x0c\xfe\ufffe]]>]]]]>`) {
		t.Errorf("hostile case = %+v (cases %v)", c, cases)
	}
	if c := cases["p/d/s/err"]; c.Error == nil || c.Error.Message != "error" {
		t.Errorf("error without message = %+v", c)
	}
}
