package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protospec/protospec/reports"
)

func benchCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"bench"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestBenchCommand(t *testing.T) {
	dir := t.TempDir()
	out, err := benchCmd(t, "echo", "--requests", "300", "-c", "2", "--quiet", "--json", "--report-dir", dir)
	if err != nil {
		t.Fatalf("bench echo: %v\n%s", err, out)
	}
	var b reports.BenchResult
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if b.Requests != 300 || b.ErrorCount() != 0 || b.Latency.Count != 300 || b.Histogram == "" {
		t.Errorf("result %+v", b)
	}
	run, err := reports.ReadFile(filepath.Join(dir, reports.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != reports.KindBench || run.Bench == nil || run.Bench.Requests != 300 || run.Target.Name != "reference" {
		t.Errorf("report.json: kind %q bench %+v target %+v", run.Kind, run.Bench, run.Target)
	}
	if _, err := os.Stat(filepath.Join(dir, reports.FileHTML)); err != nil {
		t.Error(err)
	}

	// A response that fails validation makes the exit status 1.
	out, err = benchCmd(t, "http1", "--requests", "20", "--paths", "/hello.txt,/missing", "--quiet")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitFailures {
		t.Errorf("bench http1 with a 404 path: err %v, want exit 1\n%s", err, out)
	}

	// A load client's params, given as --param or through an old flag.
	for _, args := range [][]string{
		{"http1", "--param", "paths=/hello.txt,/index.html", "--param", "no-keepalive=true"},
		{"http1", "--paths", "/hello.txt", "--paths", "/index.html", "--no-keepalive"},
		{"dns", "--tcp"},
	} {
		out, err := benchCmd(t, append(args, "--requests", "40", "--quiet", "--json")...)
		b = reports.BenchResult{}
		if err := json.Unmarshal([]byte(out), &b); err != nil {
			t.Fatalf("bench %v --json output: %v\n%s", args, err, out)
		}
		if err != nil || b.Requests != 40 || b.ErrorCount() != 0 {
			t.Errorf("bench %v: %v, %d requests, %d errors", args, err, b.Requests, b.ErrorCount())
		}
		want := map[string]string{"http1": "GET /hello.txt,GET /index.html|no keep-alive", "dns": "tcp"}[args[0]]
		got := strings.Join(b.Options, ",")
		if args[0] == "http1" {
			got = strings.Join(b.Workload, ",") + "|" + got
		}
		if got != want {
			t.Errorf("bench %v: workload/options %q, want %q", args, got, want)
		}
	}

	for _, bad := range [][]string{
		{"pop3", "--requests", "1"},
		{"echo", "--paths", "/x", "--requests", "1"},
		{"http1", "--queries", "q.txt", "--requests", "1"},
		{"http1", "--param", "nope=1", "--requests", "1"},
		{"http1", "--param", "paths", "--requests", "1"},
		{"http1", "--param", "paths=/a", "--paths", "/b", "--requests", "1"},
		{"http1", "--param", "no-keepalive=maybe", "--requests", "1"},
		{"echo", "-c", "0", "--requests", "1"},
		{"echo", "--target", "127.0.0.1:1", "--requests", "1"},
	} {
		_, err := benchCmd(t, bad...)
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("bench %v: err %v, want a usage error", bad, err)
		}
	}
}
