package pcap_test

import (
	. "github.com/protospec/protospec/pcap"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpus writes a corpus and has `go test` read it with a fuzz target
// of the same shape as fuzz/http1's, so the format is Go's own.
func TestCorpus(t *testing.T) {
	data := capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\x00\xff\n",
			"GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\x00\xff\n")
	})
	dir := t.TempDir()
	corpus := filepath.Join(dir, "testdata", "fuzz", "FuzzParse")
	must(t, os.MkdirAll(corpus, 0o755))
	cw := &CorpusWriter{Dir: corpus}
	_, msgs, _ := analyze(t, data, Options{})
	for _, m := range msgs {
		must(t, cw.Add(m))
	}
	if cw.Written != 2 || cw.Duplicates != 2 {
		t.Fatalf("written %d duplicates %d", cw.Written, cw.Duplicates)
	}
	goBin, err := exec.LookPath("go")
	if err != nil || testing.Short() {
		t.Skip("no go command (or -short): format not checked by go test")
	}
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module corpuscheck\n\ngo 1.22\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "f_test.go"), []byte(`package corpuscheck

import (
	"bytes"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte("GET /a")) && !bytes.HasSuffix(data, []byte("\x00\xff\n")) {
			t.Fatalf("unexpected input %q", data)
		}
		t.Logf("seed %q", data)
	})
}
`), 0o644))
	cmd := exec.Command(goBin, "test", "-run", "FuzzParse", "-v", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Count(string(out), "seed ") != 2 {
		t.Fatalf("go test on the corpus: %v\n%s", err, out)
	}
}
