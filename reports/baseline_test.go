package reports

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const testBaseline = "\ufeff# xinetd: known deviations\r\n" +
	"\n" +
	"echo/rfc862/tcp/half-close-ends   # stays open\r\n" +
	"   echo/uppercase/2.9/*\n" +
	"echo/rfc862/udp/echoes-datagram#no space before the comment\n" +
	"echo/rfc862/tcp/echoes-bytes # passes: never Known\n" +
	"echo/gone/*\n" +
	"   # indented comment\n" +
	"echo/rfc862/tcp/gone"

func TestParseBaseline(t *testing.T) {
	b, err := ParseBaseline(strings.NewReader(testBaseline))
	if err != nil {
		t.Fatal(err)
	}
	want := []BaselineEntry{
		{Pattern: "echo/rfc862/tcp/half-close-ends", Line: 3, Comment: "stays open", Reason: "stays open"},
		{Pattern: "echo/uppercase/2.9/*", Line: 4},
		{Pattern: "echo/rfc862/udp/echoes-datagram", Line: 5, Comment: "no space before the comment", Reason: "no space before the comment"},
		{Pattern: "echo/rfc862/tcp/echoes-bytes", Line: 6, Comment: "passes: never Known", Reason: "passes: never Known"},
		{Pattern: "echo/gone/*", Line: 7},
		{Pattern: "echo/rfc862/tcp/gone", Line: 9, Reason: "indented comment"},
	}
	if !reflect.DeepEqual(b.Entries, want) {
		t.Errorf("entries =\n%+v\nwant\n%+v", b.Entries, want)
	}
	for id, want := range map[string]bool{
		"echo/uppercase/2.9/anything":      true,
		"echo/uppercase/2.9/":              true,
		"echo/uppercase/2.90/x":            false,
		"echo/uppercase/2.9":               false,
		"echo/rfc862/tcp/half-close-ends":  true,
		"echo/rfc862/tcp/half-close":       false,
		"echo/rfc862/tcp/half-close-endsX": false,
	} {
		if got := b.Match(id); got != want {
			t.Errorf("Match(%q) = %v, want %v", id, got, want)
		}
	}
	if empty, err := ParseBaseline(strings.NewReader("# nothing\n\n")); err != nil || len(empty.Entries) != 0 {
		t.Errorf("comment-only baseline = %+v, %v", empty, err)
	}
}

// TestBaselineReasons reads the reasons the way the launchers' baseline
// files write them: a comment block above one entry or a group of
// entries, a heading before a blank line that belongs to none.
func TestBaselineReasons(t *testing.T) {
	const text = `# Known deviations of a server. One spec ID per line.
# Measured with: protospec run p --target x

# Parsing: the server is lenient.
# A request without a version is taken as HTTP/0.9.
p/d/1/missing-version
# Raw <, > and " are accepted
# in the target.
p/d/1/angle
p/d/1/quote   # and so is a quote
p/d/1/hash    # fragments too

p/d/2/*
# Chunk extensions are skipped.
p/d/3/ext
#
# After an empty comment line.
p/d/3/other
`
	b, err := ParseBaseline(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"p/d/1/missing-version": "Parsing: the server is lenient. A request without a version is taken as HTTP/0.9.",
		"p/d/1/angle":           `Raw <, > and " are accepted in the target.`,
		"p/d/1/quote":           `Raw <, > and " are accepted in the target. and so is a quote`,
		"p/d/1/hash":            `Raw <, > and " are accepted in the target. fragments too`,
		"p/d/2/*":               "",
		"p/d/3/ext":             "Chunk extensions are skipped.",
		"p/d/3/other":           "After an empty comment line.",
	}
	for _, e := range b.Entries {
		if e.Reason != want[e.Pattern] {
			t.Errorf("%s: reason %q, want %q", e.Pattern, e.Reason, want[e.Pattern])
		}
	}
	r := &Run{Schema: SchemaVersion, Specs: []Spec{
		{ID: "p/d/1/angle", State: StateFailed, Level: LevelMust},
		{ID: "p/d/1/quote", State: StatePassed, Level: LevelMust},
		{ID: "p/d/2/x", State: StateSkipped, Level: LevelMust},
		{ID: "p/d/9/new", State: StateFailed, Level: LevelMust},
	}}
	b.Apply(r)
	if sp := r.Specs[0]; !sp.Known || sp.KnownBy != "p/d/1/angle" || sp.KnownReason != want["p/d/1/angle"] {
		t.Errorf("known spec = %+v", sp)
	}
	wantMet := []BaselineSpec{
		{ID: "p/d/1/quote", State: StatePassed, Entry: "p/d/1/quote", Reason: want["p/d/1/quote"]},
		{ID: "p/d/2/x", State: StateSkipped, Entry: "p/d/2/*"},
	}
	if !reflect.DeepEqual(r.BaselineMet, wantMet) {
		t.Errorf("BaselineMet = %+v, want %+v", r.BaselineMet, wantMet)
	}
	if got := strings.Join(r.BaselineUnmatched, " "); got != "p/d/1/missing-version p/d/1/hash p/d/3/ext p/d/3/other" {
		t.Errorf("BaselineUnmatched = %q", got)
	}
	if r.Specs[3].Known || len(r.Unexpected()) != 1 {
		t.Errorf("a failure the baseline does not list is unexpected: %+v", r.Specs[3])
	}
}

// TestShippedBaselinesHaveReasons parses the launchers' baseline files:
// every entry carries the reason its file gives.
func TestShippedBaselinesHaveReasons(t *testing.T) {
	files, _ := filepath.Glob("../targets/*/baseline.txt")
	if len(files) == 0 {
		t.Skip("no baseline files found")
	}
	for _, f := range files {
		b, err := LoadBaseline(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Entries {
			if e.Reason == "" {
				t.Errorf("%s:%d: %s has no reason", f, e.Line, e.Pattern)
			}
		}
	}
}

func TestParseBaselineErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a/b\nhttp1 rfc9112 9.3\n", "line 2: \"http1 rfc9112 9.3\": one spec ID per line"},
		{"\n\na/*/b\n", "line 3: \"a/*/b\": '*' is only allowed"},
		{"a*\n", "line 1: \"a*\": '*' is only allowed"},
		{"*\n", "line 1: \"*\": '*' is only allowed"},
		{"/*\n", "line 1: \"/*\" matches everything"},
		{"a//b\n", "line 1: \"a//b\": empty element"},
		{"/a/b\n", "line 1: \"/a/b\": empty element"},
		{"a/b/\n", "line 1: \"a/b/\": empty element"},
		{"a/b\x00c\n", `line 1: "a/b\x00c": one spec ID per line`},
		{"a/b\n# c\na/b # again\n", `line 3: "a/b" repeats line 1`},
		{"a/\xffb\n", "not UTF-8"},
	} {
		_, err := ParseBaseline(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "reports: baseline") {
			t.Errorf("ParseBaseline(%q) error = %v, want %q", tc.in, err, tc.want)
		}
	}
	big := strings.Repeat("a/b/c/"+strings.Repeat("x", 100)+"\n", MaxBaselineSize/100)
	if _, err := ParseBaseline(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized baseline: %v", err)
	}
}

func TestBaselineApply(t *testing.T) {
	b, err := ParseBaseline(strings.NewReader(testBaseline))
	if err != nil {
		t.Fatal(err)
	}
	r := testRun()
	for i := range r.Specs {
		r.Specs[i].Known = false
	}
	if r.OK() {
		t.Fatal("fixture run is OK before the baseline")
	}
	b.Name = "targets/xinetd/baseline.txt"
	b.Apply(r)
	if r.Baseline != "targets/xinetd/baseline.txt" {
		t.Errorf("Baseline = %q", r.Baseline)
	}
	known := map[string]bool{}
	for _, sp := range r.Specs {
		if sp.Known {
			known[sp.ID] = true
		}
	}
	want := map[string]bool{
		"echo/rfc862/tcp/half-close-ends": true,
		"echo/uppercase/2.9/known-error":  true,
		"echo/rfc862/udp/echoes-datagram": true,
	}
	if !reflect.DeepEqual(known, want) {
		t.Errorf("known = %v, want %v", known, want)
	}
	if r.OK() {
		t.Error("the unlisted failure no longer fails the run")
	}
	unused := b.Unused(r)
	if want := []string{"echo/rfc862/tcp/echoes-bytes", "echo/gone/*", "echo/rfc862/tcp/gone"}; !reflect.DeepEqual(unused, want) {
		t.Errorf("Unused = %v, want %v", unused, want)
	}

	// Listing the last failure makes the run OK.
	b2, err := ParseBaseline(strings.NewReader("echo/rfc862/tcp/after-half-close\n"))
	if err != nil {
		t.Fatal(err)
	}
	b2.Apply(r)
	if !r.OK() || r.Baseline != "baseline" {
		t.Errorf("OK = %v, Baseline = %q", r.OK(), r.Baseline)
	}

	var nilB *Baseline
	nilB.Apply(r)
	b.Apply(nil)
	if nilB.Unused(r) != nil || nilB.Match("x") || len(b.Unused(nil)) != len(b.Entries) {
		t.Error("nil baseline or run")
	}
}

func TestLoadBaseline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "xinetd.baseline")
	if err := os.WriteFile(path, []byte("a/b/c\nbad line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBaseline(path); err == nil || !strings.HasPrefix(err.Error(), path+": reports: baseline line 2:") {
		t.Errorf("LoadBaseline(bad) = %v", err)
	}
	if err := os.WriteFile(path, []byte("a/b/c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(path)
	if err != nil || b.Name != path || len(b.Entries) != 1 {
		t.Errorf("LoadBaseline = %+v, %v", b, err)
	}
	if _, err := LoadBaseline(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("LoadBaseline(missing) = %v", err)
	}
}

func FuzzParseBaseline(f *testing.F) {
	f.Add(testBaseline)
	f.Add("a/*\n*/b\n# x\n\x00")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBaseline(strings.NewReader(s))
		if err != nil {
			return
		}
		r := testRun()
		b.Apply(r)
		for _, e := range b.Entries {
			if err := checkPattern(e.Pattern); err != nil || e.Line < 1 {
				t.Errorf("accepted entry %+v: %v", e, err)
			}
		}
		_ = b.Unused(r)
	})
}
