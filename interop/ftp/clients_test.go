// Package ftp runs real FTP clients against the reference FTP server, as
// `protospec serve ftp --addr A --root DIR` runs it (reference.Serve, in
// process): lftp mirroring a tree up and back byte for byte in passive
// and active mode and over TLS, curl uploading and downloading (ftp://,
// --ftp-port, AUTH TLS, ftps://), Python's ftplib (FTP and FTP_TLS) and
// wget fetching a directory recursively. A client that is not installed
// skips its test with the reason; .ci/run installs them all.
//
//	go test ./interop/ftp                          # against serve ftp
//	PROTOSPEC_TARGET=proftpd go test ./interop/ftp # the same clients against a launcher
package ftp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// server is a running `serve ftp`: its address, the roots of bob and of
// anonymous on disk and, with TLS, the CA file a client trusts.
type server struct {
	addr, host, port string
	bob, anon        string
	ca               string
	// tlsAddr is the implicit-TLS control address (TLS from the first
	// byte), when the server has one.
	tlsAddr string
}

// bobPath is where bob's client path p is on disk.
func (s *server) bobPath(p string) string {
	return filepath.Join(s.bob, filepath.FromSlash(strings.TrimPrefix(p, "/")))
}

// url is ftp://USER:PASS@ADDR/path (no credentials for anonymous).
func (s *server) url(userinfo, path string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "ftp://" + userinfo + s.addr + "/" + strings.TrimPrefix(path, "/")
}

// need returns the path of a client, or skips the test.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (.ci/run installs it): %v", name, err)
	}
	return p
}

// run runs a client with a deadline and returns what it printed; a
// failure shows both streams.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// Clients read no user configuration: lftp's rc, curl's .curlrc,
	// wget's .wgetrc, a .netrc.
	home := t.TempDir()
	wgetrc := filepath.Join(home, "wgetrc")
	if err := os.WriteFile(wgetrc, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "HOME="+home, "LFTP_HOME="+home, "WGETRC="+wgetrc)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// runErr runs a client that is expected to fail, and returns what it
// printed and its error.
func runErr(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// writeTree writes a tree of files to upload: nested directories, an
// empty directory, an empty file, binary files from one byte to over a MiB, text with CRLF,
// LF and a lone CR (which binary transfers keep as they are), and names
// with a space and non-ASCII letters.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	rng := mathrand.New(mathrand.NewPCG(16, 959))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	files := map[string][]byte{
		"empty":                      {},
		"one.bin":                    {0xff},
		"text.txt":                   []byte("line one\r\nline two\nline three\rend\r\n"),
		"with space.txt":             []byte("a name with a space\n"),
		"sub/k64.bin":                random(64 << 10),
		"sub/deeper/m1.bin":          random(1<<20 + 17),
		"sub/deeper/odd.bin":         random(4093),
		"utf8/h\u00e9llo-\u00fc.txt": []byte("UTF-8 path (RFC 2640)\n"),
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub", "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sameTree compares two trees, file by file, byte for byte; names in
// ignore (".listing") are left out of b.
func sameTree(t *testing.T, a, b string, ignore ...string) {
	t.Helper()
	ta, tb := readTree(t, a, nil), readTree(t, b, ignore)
	var missing, extra, differ []string
	for name, da := range ta {
		db, ok := tb[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case !bytes.Equal(da, db):
			differ = append(differ, fmt.Sprintf("%s (%d bytes, got %d)", name, len(da), len(db)))
		}
	}
	for name := range tb {
		if _, ok := ta[name]; !ok {
			extra = append(extra, name)
		}
	}
	if len(missing)+len(extra)+len(differ) > 0 {
		slices.Sort(missing)
		slices.Sort(extra)
		t.Errorf("%s and %s differ: missing %q, extra %q, different %q", a, b, missing, extra, differ)
	}
	if len(ta) == 0 {
		t.Errorf("%s is empty", a)
	}
}

// readTree maps each regular file's slash path under dir to its bytes,
// and each directory's ("sub/") to nil.
func readTree(t *testing.T, dir string, ignore []string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if slices.Contains(ignore, d.Name()) || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			files[filepath.ToSlash(rel)+"/"] = nil
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// freeAddr is a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitGreeting waits until addr greets with 220, or the server ended
// (done closed, its error in serveErr).
func waitGreeting(addr string, implicit bool, done <-chan struct{}, serveErr *error) error {
	deadline := time.Now().Add(15 * time.Second)
	ep := dial.Endpoint{Network: "tcp", Addr: addr}
	if implicit {
		ep.Security = dial.TLS
	}
	for {
		// Liveness, not trust: the clients verify the certificate.
		d := dial.Dialer{Timeout: time.Second, TLS: &tls.Config{InsecureSkipVerify: true}}
		c, err := d.Dial(context.Background(), ep)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			b := make([]byte, 4)
			_, err = c.Read(b)
			c.Close()
			if err == nil && string(b[:3]) == "220" {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("greeting %q", b)
			}
		}
		select {
		case <-done:
			return fmt.Errorf("serve ended: %w", *serveErr)
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errNoFTP is why the tests skip when no FTP reference is compiled in.
var errNoFTP = errors.New("no reference FTP server")
