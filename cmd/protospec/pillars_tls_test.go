package main

import (
	"bytes"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func rootCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String() + errOut.String(), err
}

// bench --tls loads the reference's http/tls service; a protocol without
// a TLS service refuses it.
func TestBenchTLS(t *testing.T) {
	out, err := rootCmd(t, "bench", "http1", "--tls", "--requests", "200", "-c", "2", "--quiet")
	if err != nil || !strings.Contains(out, "against reference (tls://127.0.0.1:") || !strings.Contains(out, "200 ok, 0 errors") {
		t.Errorf("bench http1 --tls: %v\n%s", err, out)
	}
	var ee *exitError
	if _, err := rootCmd(t, "bench", "dns", "--tls", "--requests", "10", "--quiet"); !errors.As(err, &ee) || ee.code != exitUsage {
		t.Errorf("bench dns --tls: %v, want a usage error", err)
	}
}

// fuzz --tls fuzzes the reference over http/tls; against an address
// that offers only plain TCP it finds no TLS service and cannot start.
func TestFuzzTLS(t *testing.T) {
	dir := t.TempDir()
	out, err := rootCmd(t, "fuzz", "http1", "--tls", "--execs", "100", "--no-progress",
		"--out", filepath.Join(dir, "out"), "--report-dir", filepath.Join(dir, "report"))
	if err != nil || !strings.Contains(out, "100 execs") {
		t.Errorf("fuzz http1 --tls: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, err = rootCmd(t, "fuzz", "http1", "--tls", "--insecure", "--target", l.Addr().String(), "--execs", "10", "--no-progress",
		"--out", filepath.Join(dir, "out2"), "--report-dir", filepath.Join(dir, "report2"))
	if err == nil || !strings.Contains(err.Error(), "no TLS endpoint") {
		t.Errorf("fuzz --tls against a plain address: %v\n%s", err, out)
	}
}
