package reports

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	run := testRun()
	var b1, b2 bytes.Buffer
	if err := WriteJSON(&b1, run); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&b2, testRun()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("WriteJSON is not stable")
	}
	if !strings.HasPrefix(b1.String(), "{\n  \"schema\": \"protospec.run/v1\",") || !strings.HasSuffix(b1.String(), "}\n") {
		t.Fatalf("not indented JSON starting with the schema:\n%.200s", b1.String())
	}
	if i, j := strings.Index(b1.String(), `"echo/tcp"`), strings.Index(b1.String(), `"echo/udp"`); i < 0 || j < i {
		t.Error("endpoints are not in sorted order")
	}
	got, err := ReadJSON(&b1)
	if err != nil {
		t.Fatal(err)
	}
	// JSON strings are UTF-8: the one invalid byte of the message comes
	// back as U+FFFD, and nothing else changes.
	run.Specs[1].Message = strings.ToValidUTF8(run.Specs[1].Message, "\uFFFD")
	if !strings.Contains(run.Specs[1].Message, "\uFFFD") {
		t.Fatal("fixture lost its invalid UTF-8")
	}
	if !reflect.DeepEqual(got, run) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, run)
	}
}

func TestWriteJSONEmptySpecs(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, &Run{Schema: SchemaVersion}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"specs": []`) {
		t.Errorf("empty specs not written as []:\n%s", b.String())
	}
	if _, err := ReadJSON(&b); err != nil {
		t.Errorf("empty run does not read back: %v", err)
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"garbage", "\x00\x01 not json", "reports: decoding report"},
		{"empty", "  \n", "reports: empty report"},
		{"truncated", `{"schema": "protospec.run/v1", "specs": [`, "reports: decoding report"},
		{"trailing", `{"schema": "protospec.run/v1"} {}`, "reports: decoding report"},
		{"array", `[1, 2]`, "reports: decoding report"},
		{"null", `null`, `reports: unsupported schema ""`},
		{"missing schema", `{"kind": "conformance"}`, `reports: unsupported schema ""`},
		{"wrong schema", `{"schema": "protospec.run/v2", "specs": 7}`, `reports: unsupported schema "protospec.run/v2"`},
		{"schema not a string", `{"schema": 1}`, `reports: unsupported schema "1"`},
		{"bad field type", `{"schema": "protospec.run/v1", "specs": "x"}`, "reports: decoding report"},
		{"bad state", `{"schema": "protospec.run/v1", "specs": [{"id": "a/b", "state": "green"}]}`, `unknown state "green"`},
		{"no id", `{"schema": "protospec.run/v1", "specs": [{"state": "passed"}]}`, "spec #1 has no id"},
		{"duplicate id", `{"schema": "protospec.run/v1", "specs": [{"id": "a", "state": "passed"}, {"id": "a", "state": "failed"}]}`, `spec #2: duplicate id "a" (first at #1)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := ReadJSON(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadJSON(%q) = %v, %v; want error containing %q", tc.in, run, err, tc.want)
			}
			if run != nil {
				t.Error("run returned with an error")
			}
		})
	}
	var se *SchemaError
	_, err := ReadJSON(strings.NewReader(`{"schema": "x"}`))
	if !errors.As(err, &se) || se.Schema != "x" || err.Error() != `reports: unsupported schema "x"` {
		t.Errorf("wrong schema error: %v", err)
	}
}

// endless is an io.Reader of spaces that never ends.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadJSONTooLarge(t *testing.T) {
	src := &endless{}
	_, err := ReadJSON(io.MultiReader(strings.NewReader(`{"schema": "protospec.run/v1"`), src))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if src.n > 2*MaxReportSize {
		t.Errorf("read %d bytes of an endless input", src.n)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "report.json")
	var b bytes.Buffer
	if err := WriteJSON(&b, testRun()); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("report.json", b.String())
	run, err := ReadFile(good)
	if err != nil || len(run.Specs) != testCounts.total {
		t.Fatalf("ReadFile(good) = %v, %v", run, err)
	}
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxReportSize + 1); err != nil { // sparse
		t.Fatal(err)
	}
	f.Close()
	for _, tc := range []struct{ path, want string }{
		{write("garbage.json", "\x89PNG\r\n\x1a\n\x00\x00"), "garbage.json: reports: decoding report"},
		{write("v2.json", `{"schema": "protospec.run/v2"}`), `v2.json: reports: unsupported schema "protospec.run/v2"`},
		{filepath.Join(dir, "missing.json"), "no such file"},
		{dir, "is a directory"},
		{big, "larger than 64 MiB"},
	} {
		if run, err := ReadFile(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadFile(%s) = %v, %v; want error containing %q", tc.path, run, err, tc.want)
		}
	}
}

func TestWritersRejectNilRun(t *testing.T) {
	for _, f := range []func(io.Writer, *Run) error{WriteJSON, WriteJUnit, WriteMarkdown, WriteHTML} {
		if err := f(io.Discard, nil); !errors.Is(err, ErrNilRun) {
			t.Errorf("err = %v, want ErrNilRun", err)
		}
	}
	if err := WriteAll(t.TempDir(), nil); !errors.Is(err, ErrNilRun) {
		t.Errorf("WriteAll: err = %v, want ErrNilRun", err)
	}
}

// FuzzReadJSON checks that ReadJSON never panics and that every report it
// accepts renders in every format.
func FuzzReadJSON(f *testing.F) {
	var b bytes.Buffer
	if err := WriteJSON(&b, testRun()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"schema": "protospec.run/v1", "specs": [{"id": "a", "state": "error", "known": true, "level": "", "transcript": [{"dir": "x", "data": "\u0000"}]}]}`))
	f.Add([]byte(`{"schema": "protospec.run/v1", "duration_ns": -5, "specs": [{"id": "\ufffe", "state": "skipped", "attachments": [{"path": "javascript:alert(1)"}]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, format := range Formats {
			if err := WriteFormat(io.Discard, format, run); err != nil {
				t.Errorf("%s: %v", format, err)
			}
		}
	})
}
