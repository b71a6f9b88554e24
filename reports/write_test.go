package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestWriteAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "nested")
	run := testRun()
	if err := WriteAll(dir, run); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := append([]string(nil), Files...)
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files = %v, want %v (no temporaries left)", names, want)
	}
	for i, name := range Files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteFormat(&b, Formats[i], run); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%s differs from WriteFormat(%q)", name, Formats[i])
		}
	}
	back, err := ReadFile(filepath.Join(dir, FileJSON))
	if err != nil || len(back.Specs) != testCounts.total {
		t.Errorf("ReadFile = %v, %v", back, err)
	}

	// Writing over an existing report replaces it.
	run.Specs = run.Specs[:1]
	if err := WriteAll(dir, run); err != nil {
		t.Fatal(err)
	}
	if back, err := ReadFile(filepath.Join(dir, FileJSON)); err != nil || len(back.Specs) != 1 {
		t.Errorf("rewritten report = %v, %v", back, err)
	}
}

func TestWriteAllErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteAll(file, testRun()); err == nil {
		t.Error("WriteAll into a file succeeded")
	}
	if err := WriteAll(filepath.Join(file, "sub"), testRun()); err == nil {
		t.Error("WriteAll below a file succeeded")
	}
	if err := WriteFormat(&bytes.Buffer{}, "pdf", testRun()); err == nil || !strings.Contains(err.Error(), `unknown format "pdf"`) {
		t.Errorf("WriteFormat(pdf) = %v", err)
	}
}

func TestWritersOnOddRuns(t *testing.T) {
	for name, r := range map[string]*Run{
		"zero":  {},
		"empty": {Schema: SchemaVersion, Specs: []Spec{}},
		"bare":  {Specs: []Spec{{}, {State: "weird"}, {ID: "x", State: StateError, Known: true, Duration: -5}}},
	} {
		for _, format := range Formats {
			var b bytes.Buffer
			if err := WriteFormat(&b, format, r); err != nil || b.Len() == 0 {
				t.Errorf("%s run, %s: %v (%d bytes)", name, format, err, b.Len())
			}
		}
	}
}
