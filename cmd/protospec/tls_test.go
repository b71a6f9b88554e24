package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/tlsfixture"
)

// fixtures tls writes a CA, a leaf and its key that load back.
func TestFixturesTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	out, err := fixturesCmd("tls", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "--ca "+filepath.Join(dir, "ca.pem")) {
		t.Errorf("output %q does not say how to trust the CA", out)
	}
	if _, err := tlsfixture.LoadKeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err != nil {
		t.Error(err)
	}
	if _, err := tlsfixture.LoadPool(filepath.Join(dir, "ca.pem")); err != nil {
		t.Error(err)
	}
}

// run --tls passes against the reference over http/tls, and a spec's
// capture carries the TLS records and the key log (the pcapng block of
// type 0x0A with secrets type 0x544c534b, "TLSK", little-endian here).
func TestRunTLSReference(t *testing.T) {
	t.Parallel()
	pcaps := t.TempDir()
	r := protospec(t, "run", "http1", "--tls", "--focus", "rfc9112/2.1/", "--pcap-dir", pcaps)
	if r.code != 0 || r.run == nil {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if s := r.run.Summarize(); s.Passed == 0 || s.Failed+s.Errors+s.Skipped != 0 {
		t.Errorf("run --tls against the reference: %+v", s)
	}
	ep := r.run.Target.Endpoints["http/tls"]
	if !strings.HasPrefix(ep, "tls://127.0.0.1:") {
		t.Errorf("the reference offers http/tls at %q", ep)
	}
	for _, e := range r.run.Specs[0].Transcript {
		if e.Dir == "open" && !strings.HasPrefix(e.Conn, "tls#") {
			t.Errorf("connection %s is not TLS", e.Conn)
		}
	}
	files, _ := filepath.Glob(filepath.Join(pcaps, "*.pcapng"))
	if len(files) == 0 {
		t.Fatal("no capture written")
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("KSLT")) || !bytes.Contains(b, []byte("CLIENT_TRAFFIC_SECRET_0")) {
		t.Errorf("%s has no decryption secrets", files[0])
	}
	if bytes.Contains(b, []byte("GET /hello.txt")) {
		t.Errorf("%s carries the plaintext, not the TLS records", files[0])
	}
}

// serve http1 --tls and run --tls --target tls://... --ca agree; without
// --ca the handshake fails with the reason; bad flag combinations are
// usage errors.
func TestServeTLSAndCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	serve := exec.Command(binary, "serve", "http1", "--addr", "127.0.0.1:0", "--tls", "--ca-out", dir)
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Kill()
		serve.Wait()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), " on https://"); ok {
				addr <- strings.TrimSuffix(rest, "/")
			}
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(time.Minute):
		t.Fatal("serve --tls did not say where it listens")
	}
	r := protospec(t, "run", "http1", "--tls", "--target", "tls://"+a, "--ca", filepath.Join(dir, "ca.pem"), "--focus", "rfc9112/2.1/")
	if r.code != 0 {
		t.Errorf("run --ca against serve --tls: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = protospec(t, "run", "http1", "--tls", "--target", "tls://"+a, "--focus", "rfc9112/2.1/")
	if r.code != 1 || r.run == nil || !strings.Contains(r.run.Specs[0].Message, "certificate signed by unknown authority") {
		t.Errorf("run without --ca against serve --tls: exit %d, want 1 with the certificate error\n%s", r.code, r.stdout)
	}
	r = protospec(t, "run", "http1", "--tls", "--target", "tls://"+a, "--insecure", "--focus", "rfc9112/2.1/")
	if r.code != 0 {
		t.Errorf("run --insecure against serve --tls: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"run", "http1", "--ca", "/nonexistent/ca.pem"}, "--ca"},
		{[]string{"run", "http1", "--ca", "x.pem", "--insecure"}, "exclude each other"},
		{[]string{"run", "echo", "--tls"}, "echo declares no TLS service"},
		{[]string{"run", "http1", "--tls", "--target", "http/tcp=" + a}, "offers no TLS service"},
	} {
		if r := protospec(t, tc.args...); r.code != 2 || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("protospec %s: exit %d, %q; want 2 saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.says)
		}
	}
}
