package spec

import (
	"runtime"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/protospec/protospec/reports"
)

func TestSourcePath(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	for in, want := range map[string]string{
		self: "suites/spec/report_test.go",
		"/root/go/pkg/mod/github.com/onsi/ginkgo/v2@v2.23.4/core_dsl.go": "github.com/onsi/ginkgo/v2@v2.23.4/core_dsl.go",
		"/usr/lib/go/src/testing/testing.go":                             "testing/testing.go",
		"suites/http1/9_3_persistence.go":                                "suites/http1/9_3_persistence.go",
		"":                                                               "",
	} {
		if got := SourcePath(in); got != want {
			t.Errorf("SourcePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConvertSpec: a failure carries the requirement's data (sentence,
// section title, link, declaration), a message without the console's
// header, and a location relative to the module root.
func TestConvertSpec(t *testing.T) {
	m := Meta{ID: ID{"p", "rfc9112", "9.3", "convert-test"}, Level: MUST, Title: "keeps the connection",
		Sentence: Inferred("A server keeps the connection open.", "no keyword"), SectionTitle: "Persistence",
		File: "suites/p/9_3.go", Line: 12}
	if err := register(m); err != nil {
		t.Fatal(err)
	}
	tt := &T{Meta: m, rec: &recorder{}}
	msg := tt.failureText("the connection was closed")
	sr := types.SpecReport{
		LeafNodeText: m.ID.String() + " " + m.Title,
		State:        types.SpecStateFailed,
		Failure:      types.Failure{Message: msg, Location: types.CodeLocation{FileName: moduleRoot + "suites/p/9_3.go", LineNumber: 20}},
	}
	s := convertSpec(sr)
	want := reports.Spec{ID: "p/rfc9112/9.3/convert-test", Protocol: "p", Doc: "rfc9112", Section: "9.3", Level: "MUST",
		Title: "keeps the connection", SectionTitle: "Persistence", Sentence: "A server keeps the connection open.",
		Inferred: "no keyword", URL: "https://www.rfc-editor.org/rfc/rfc9112#section-9.3", File: "suites/p/9_3.go", Line: 12,
		State: reports.StateFailed, Message: "the connection was closed", Location: "suites/p/9_3.go:20"}
	if s.ID != want.ID || s.SectionTitle != want.SectionTitle || s.Sentence != want.Sentence || s.Inferred != want.Inferred ||
		s.URL != want.URL || s.File != want.File || s.Line != want.Line || s.Message != want.Message || s.Location != want.Location {
		t.Errorf("convertSpec =\n%+v\nwant\n%+v", s, want)
	}
	if strings.Contains(s.Location, moduleRoot) && moduleRoot != "" {
		t.Error("the location has the build machine's path")
	}
	sr.State = types.SpecStatePanicked
	sr.Failure.Message = "Test Panicked\nat " + moduleRoot + "suites/p/9_3.go:20"
	if s := convertSpec(sr); moduleRoot != "" && (strings.Contains(s.Message, moduleRoot) || !strings.Contains(s.Message, "at suites/p/9_3.go:20")) {
		t.Errorf("a panic's message names the build machine's path: %q", s.Message)
	}
}

// TestTranscriptReport: the model's data is the escaped bytes without
// quotes, and a protocol's decoder reads all the bytes of an event.
func TestTranscriptReport(t *testing.T) {
	reports.RegisterDecoder("p", func(b []byte) (string, bool) {
		if len(b) > 300 {
			return "a long message", true
		}
		return "", false
	})
	defer reports.RegisterDecoder("p", nil)
	long := []byte(strings.Repeat("x", 400))
	tr := Transcript{Events: []Event{
		{Conn: "tcp#1", Dir: dirSend, Len: 5, Data: []byte("GET \"")},
		{Conn: "tcp#1", Dir: dirRecv, Len: len(long), Data: long},
	}}
	evs := tr.excerpts("p").Report()
	if evs[0].Data != `GET \"` || strings.HasPrefix(evs[0].Data, `"`) {
		t.Errorf("send data = %q", evs[0].Data)
	}
	if evs[1].Decoded != "a long message" || !evs[1].Truncated || len(evs[1].Data) != ExcerptLen {
		t.Errorf("recv = %+v", evs[1])
	}
}
