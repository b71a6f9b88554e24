package pcap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/reports"
)

func checkRun(t *testing.T, data []byte) *reports.Run {
	t.Helper()
	c := NewChecker()
	sum, msgs, _ := analyze(t, data, Options{})
	for _, m := range msgs {
		c.Message(m)
	}
	return c.Run("test", sum, time.Now(), "")
}

func states(run *reports.Run) map[string]reports.Spec {
	out := map[string]reports.Spec{}
	for _, s := range run.Specs {
		out[s.ID] = s
	}
	return out
}

func TestCheckHTTP(t *testing.T) {
	data := capture(t, func(w *Writer) {
		httpExchange(t, w, cli, t0,
			"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			"GET /nohost HTTP/1.1\r\n\r\n", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
			"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header: x\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n")
		// A response nobody asked for, then a body cut short by close.
		tc := w.TCP(addr("127.0.0.1:40001"), httpSrv, "")
		must(t, tc.Handshake(t0))
		must(t, tc.Data(t0, true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, tc.Data(t0, false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")))
		must(t, tc.Close(t0))
	})
	run := checkRun(t, data)
	st := states(run)
	want := map[string]string{
		ruleHost:            reports.StateFailed,
		ruleCL1xx204:        reports.StateFailed,
		ruleNoBodyAfter:     reports.StateFailed,
		ruleCLWithTE:        reports.StateFailed,
		ruleFieldLine:       reports.StateFailed,
		ruleNoObsFold:       reports.StateFailed,
		ruleResponseRequest: reports.StateFailed,
		ruleBodyComplete:    reports.StateFailed,
		ruleRequestLine:     reports.StatePassed,
		ruleStatusLine:      reports.StatePassed,
		ruleChunked:         reports.StatePassed,
		ruleDNSID:           reports.StateSkipped,
	}
	for id, state := range want {
		if st[id].State != state {
			t.Errorf("%s: %s, want %s\n%s", id, st[id].State, state, st[id].Message)
		}
	}
	if m := st[ruleHost].Message; !strings.Contains(m, "GET /nohost HTTP/1.1") || !strings.Contains(m, "flow 1 client#1") {
		t.Errorf("message: %s", m)
	}
	if run.Kind != reports.KindCheck || run.OK() {
		t.Errorf("kind %s ok %v", run.Kind, run.OK())
	}
}

func TestCheckDNS(t *testing.T) {
	q := dnsQuery(1, "www.test.")
	good := dnsAnswer(q, "127.0.0.1")
	wrongID := dnsAnswer(dnsQuery(99, "www.test."), "127.0.0.1")
	wrongQ := dnsAnswer(dnsQuery(1, "mail.test."), "127.0.0.1")
	broken := append([]byte(nil), good...)
	broken[7] = 5 // ANCOUNT 5, one record present
	data := capture(t, func(w *Writer) {
		for i, resp := range [][]byte{good, wrongID, wrongQ, broken} {
			c := addr("127.0.0.1:" + strconv.Itoa(30000+i))
			must(t, w.UDP(t0, c, dnsSrv, true, q, ""))
			must(t, w.UDP(t0, dnsSrv, c, false, resp, ""))
		}
	})
	st := states(checkRun(t, data))
	for id, state := range map[string]string{
		ruleDNSID:       reports.StateFailed,
		ruleDNSQuestion: reports.StateFailed,
		ruleDNSParses:   reports.StateFailed,
		ruleDNSQR:       reports.StatePassed,
		ruleDNSOpcode:   reports.StatePassed,
		ruleDNSUDPSize:  reports.StatePassed,
		ruleHost:        reports.StateSkipped,
	} {
		if st[id].State != state {
			t.Errorf("%s: %s, want %s\n%s", id, st[id].State, state, st[id].Message)
		}
	}
}

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
