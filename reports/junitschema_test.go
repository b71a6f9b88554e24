package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// The JUnit schema CI reporters read: the Jenkins junit-10.xsd
// (jenkinsci/xunit-plugin), which Jenkins, GitLab and the GitHub
// reporters (dorny/test-reporter, mikepenz/action-junit-report) follow,
// written out as rules, with its older, stricter sequence order of child
// elements (what the later schema's choice accepts too). The testcase
// attributes file and line are the one extension allowed: GitLab and the
// annotation actions read them, and the Jenkins readers ignore them.

type junitRule struct {
	// attrs: allowed attributes, true when required.
	attrs map[string]bool
	// order: the allowed children in the order they must come, each with
	// its maximum count (0: unbounded).
	order []junitChild
	text  bool
}

type junitChild struct {
	name string
	max  int
}

var junitRules = map[string]junitRule{
	"testsuites": {attrs: map[string]bool{"name": false, "time": false, "tests": false, "failures": false, "errors": false, "disabled": false},
		order: []junitChild{{"testsuite", 0}}},
	"testsuite": {attrs: map[string]bool{"name": true, "tests": true, "failures": true, "errors": true, "group": false, "time": false,
		"skipped": false, "timestamp": false, "hostname": false, "id": false, "package": false, "file": false, "log": false, "url": false,
		"disabled": false, "assertions": false},
		order: []junitChild{{"testsuite", 0}, {"properties", 1}, {"testcase", 0}, {"system-out", 1}, {"system-err", 1}}},
	"properties": {attrs: map[string]bool{}, order: []junitChild{{"property", 0}}},
	"property":   {attrs: map[string]bool{"name": true, "value": true}},
	"testcase": {attrs: map[string]bool{"name": true, "time": false, "classname": false, "group": false, "assertions": false, "status": false,
		"file": false, "line": false},
		order: []junitChild{{"skipped", 1}, {"error", 0}, {"failure", 0}, {"system-out", 0}, {"system-err", 0}}},
	"failure":    {attrs: map[string]bool{"type": false, "message": false}, text: true},
	"error":      {attrs: map[string]bool{"type": false, "message": false}, text: true},
	"skipped":    {attrs: map[string]bool{"type": false, "message": false}, text: true},
	"system-out": {attrs: map[string]bool{}, text: true},
	"system-err": {attrs: map[string]bool{}, text: true},
}

var (
	surefireTime  = regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)
	junitStamp    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
	junitInt      = regexp.MustCompile(`^[0-9]+$`)
	junitClass    = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)
	junitIntAttrs = map[string]bool{"tests": true, "failures": true, "errors": true, "skipped": true, "disabled": true, "line": true}
)

type junitElem struct {
	name     string
	attrs    map[string]string
	children []string
	// counted children of a testsuite, for the count checks
	cases, failures, errors, skipped int
	outcome                          int // failure, error or skipped children of a testcase
}

// checkJUnitSchema validates doc against junitRules and XML 1.0, then what
// the reporters need beyond the schema: counts that agree with the
// testcases, at least one testcase, classnames that split at dots only,
// at most one outcome per testcase, names unique per classname, relative
// file paths.
func checkJUnitSchema(doc []byte) error {
	if !utf8.Valid(doc) {
		return errorf("not UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	var stack []*junitElem
	total := 0
	seen := map[string]bool{}
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
			rule, ok := junitRules[name]
			if !ok {
				return errorf("unknown element <%s>", name)
			}
			if len(stack) == 0 && name != "testsuites" {
				return errorf("root is <%s>", name)
			}
			e := &junitElem{name: name, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				an := a.Name.Local
				if _, ok := rule.attrs[an]; !ok {
					return errorf("<%s> has attribute %s", name, an)
				}
				switch {
				case an == "time" && name != "testcase" && !surefireTime.MatchString(a.Value):
					return errorf("<%s time=%q>", name, a.Value)
				case an == "time" && name == "testcase" && a.Value != "":
					if _, err := strconv.ParseFloat(a.Value, 64); err != nil {
						return errorf("<testcase time=%q>", a.Value)
					}
				case an == "timestamp" && !junitStamp.MatchString(a.Value):
					return errorf("<%s timestamp=%q>", name, a.Value)
				case junitIntAttrs[an] && !junitInt.MatchString(a.Value):
					return errorf("<%s %s=%q> is not a count", name, an, a.Value)
				}
				e.attrs[an] = a.Value
			}
			for a, required := range rule.attrs {
				if _, ok := e.attrs[a]; required && !ok {
					return errorf("<%s> lacks attribute %s", name, a)
				}
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				if err := childAllowed(parent, name); err != nil {
					return err
				}
				parent.children = append(parent.children, name)
				switch name {
				case "testcase":
					parent.cases++
				case "failure", "error", "skipped":
					parent.outcome++
					if parent.outcome > 1 {
						return errorf("testcase %q has more than one outcome", parent.attrs["name"])
					}
				}
			}
			if name == "testcase" {
				total++
				cls := e.attrs["classname"]
				if cls != "" && !junitClass.MatchString(cls) {
					return errorf("classname %q does not split cleanly at dots", cls)
				}
				if e.attrs["name"] == "" {
					return errorf("testcase without a name")
				}
				if key := cls + "\x00" + e.attrs["name"]; seen[key] {
					return errorf("testcase %q of %q twice", e.attrs["name"], cls)
				} else {
					seen[key] = true
				}
				if f := e.attrs["file"]; f != "" && (f[0] == '/' || regexp.MustCompile(`^[A-Za-z]:`).MatchString(f)) {
					return errorf("testcase file %q is absolute", f)
				}
			}
			stack = append(stack, e)
		case xml.EndElement:
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if e.name == "testcase" && len(stack) > 0 {
				suite := stack[len(stack)-1]
				for _, c := range e.children {
					switch c {
					case "failure":
						suite.failures++
					case "error":
						suite.errors++
					case "skipped":
						suite.skipped++
					}
				}
			}
			if e.name == "testsuite" {
				for attr, n := range map[string]int{"tests": e.cases, "failures": e.failures, "errors": e.errors, "skipped": e.skipped} {
					if v, ok := e.attrs[attr]; ok && v != strconv.Itoa(n) {
						return errorf("testsuite %q says %s=%s, has %d", e.attrs["name"], attr, v, n)
					}
				}
			}
			if e.name == "testsuites" {
				if v := e.attrs["tests"]; v != "" && v != strconv.Itoa(total) {
					return errorf("testsuites says tests=%s, has %d", v, total)
				}
				if total == 0 {
					return errorf("no testcase: some reporters fail on tests=\"0\"")
				}
			}
		case xml.CharData:
			if len(stack) > 0 && !junitRules[stack[len(stack)-1].name].text && len(bytes.TrimSpace(tok)) > 0 {
				return errorf("text inside <%s>", stack[len(stack)-1].name)
			}
		}
	}
	return nil
}

// childAllowed checks that name may come next among parent's children:
// one the rule lists, in its order, within its count.
func childAllowed(parent *junitElem, name string) error {
	order := junitRules[parent.name].order
	pos := -1
	for i, c := range order {
		if c.name == name {
			pos = i
		}
	}
	if pos < 0 {
		return errorf("<%s> inside <%s>", name, parent.name)
	}
	count := 0
	for _, prev := range parent.children {
		for i, c := range order {
			if c.name == prev && i > pos {
				return errorf("<%s> after <%s> inside <%s>", name, prev, parent.name)
			}
		}
		if prev == name {
			count++
		}
	}
	if m := order[pos].max; m > 0 && count >= m {
		return errorf("more than %d <%s> inside <%s>", m, name, parent.name)
	}
	return nil
}

type testError string

func (e testError) Error() string { return string(e) }

func errorf(s string, args ...any) error { return testError(fmt.Sprintf(s, args...)) }
