package ftp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixture "github.com/protospec/protospec/internal/ftp"
)

// curlArgs are the options of every curl run: quiet but for errors, a
// deadline, no retries, the user's credentials.
func curlArgs(more ...string) []string {
	return append([]string{"-sS", "--max-time", "30", "--connect-timeout", "10", "--disable-epsv"}, more...)
}

// TestCurl: curl uploads a file (-T) into upload/ and downloads it back,
// in passive mode and in active mode (--ftp-port 127.0.0.1), lists a
// directory (LIST and, with --list-only, NLST), and reads the public area
// anonymously.
func TestCurl(t *testing.T) {
	curl := need(t, "curl")
	s := serve(t, false)
	src := filepath.Join(t.TempDir(), "curl.bin")
	data := bytes.Repeat([]byte("curl upload \x00\x01\xfe\xff\r\n"), 20000)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		args []string
	}{{"passive", nil}, {"active", []string{"--ftp-port", "127.0.0.1"}}} {
		t.Run(mode.name, func(t *testing.T) {
			remote := "upload/curl-" + mode.name + ".bin"
			run(t, curl, curlArgs(append(mode.args, "-u", "bob:bob", "-T", src, s.url("", remote))...)...)
			if got, err := os.ReadFile(s.bobPath(remote)); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("the server's copy of %s: %d bytes, %v; want %d", remote, len(got), err, len(data))
			}
			dst := filepath.Join(t.TempDir(), "back.bin")
			run(t, curl, curlArgs(append(mode.args, "-u", "bob:bob", "-o", dst, s.url("", remote))...)...)
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes, want %d", len(got), len(data))
			}
			names := run(t, curl, curlArgs(append(mode.args, "-u", "bob:bob", "--list-only", s.url("", "upload/"))...)...)
			if !containsLine(names, "curl-"+mode.name+".bin") {
				t.Errorf("NLST upload/:\n%s", names)
			}
			list := run(t, curl, curlArgs(append(mode.args, "-u", "bob:bob", s.url("", "upload/"))...)...)
			if !strings.Contains(list, "curl-"+mode.name+".bin") {
				t.Errorf("LIST upload/:\n%s", list)
			}
		})
	}
	t.Run("anonymous", func(t *testing.T) {
		pub := readTree(t, filepath.Join(s.anon, "pub"), nil)
		if len(pub) == 0 {
			t.Fatal("the fixture has no public file")
		}
		for name, want := range pub {
			if strings.HasSuffix(name, "/") {
				continue
			}
			got := run(t, curl, curlArgs(s.url("", "pub/"+name))...)
			if got != string(want) {
				t.Errorf("anonymous pub/%s: %d bytes, want %d", name, len(got), len(want))
			}
		}
		// curl exits 25 (upload failed) when the server refuses STOR.
		if out, err := runErr(curl, curlArgs("-T", src, s.url("", "pub/anon.bin"))...); err == nil {
			t.Errorf("anonymous upload accepted: %s", out)
		}
	})
}

// TestCurlTLS: the same over AUTH TLS (ftp:// with --ssl-reqd: PROT P on
// the data connections), the certificate verified against the run's CA,
// passive and active.
func TestCurlTLS(t *testing.T) {
	curl := need(t, "curl")
	s := serve(t, true)
	data := bytes.Repeat([]byte("over TLS\n"), 5000)
	src := filepath.Join(t.TempDir(), "tls.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		args []string
	}{{"passive", nil}, {"active", []string{"--ftp-port", "127.0.0.1"}}} {
		t.Run(mode.name, func(t *testing.T) {
			if mode.name == "active" {
				if v, broken := curlActiveTLSBroken(t, curl); broken {
					t.Skipf("curl %s does not set TLS up on an active data connection and hangs (curl/curl#10666, 7.87.0 to 7.88.1; fixed in 8.0.0)", v)
				}
			}
			tls := append([]string{"--ssl-reqd", "--cacert", s.ca, "-u", "bob:bob"}, mode.args...)
			remote := "upload/curl-tls-" + mode.name + ".bin"
			run(t, curl, curlArgs(append(tls, "-T", src, s.url("", remote))...)...)
			dst := filepath.Join(t.TempDir(), "back.bin")
			run(t, curl, curlArgs(append(tls, "-o", dst, s.url("", remote))...)...)
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes over TLS, want %d", len(got), len(data))
			}
		})
	}
}

// curlActiveTLSBroken tells curl's version and whether it is one whose
// active-mode FTPS lacks the TLS filter on the data connection (7.87.0
// to 7.88.1).
func curlActiveTLSBroken(t *testing.T, curl string) (string, bool) {
	out := run(t, curl, "--version")
	f := strings.Fields(out)
	if len(f) < 2 {
		return out, false
	}
	var major, minor, patch int
	fmt.Sscanf(f[1], "%d.%d.%d", &major, &minor, &patch)
	return f[1], major == 7 && minor >= 87
}

// TestCurlFTPS: curl's ftps:// is TLS from the first byte (implicit
// FTPS, the reference's --tls): download and upload in passive mode.
func TestCurlFTPS(t *testing.T) {
	curl := need(t, "curl")
	s := serveImplicit(t)
	hello, _ := fixture.Lookup(fixture.HelloFile)
	base := "ftps://" + s.tlsAddr
	got := run(t, curl, curlArgs("--cacert", s.ca, "-u", "bob:bob", base+fixture.HelloFile)...)
	if got != string(hello.Content) {
		t.Fatalf("ftps:// RETR %s: %q", fixture.HelloFile, got)
	}
	data := bytes.Repeat([]byte("implicit TLS\n"), 3000)
	src := filepath.Join(t.TempDir(), "ftps.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	remote := fixture.UploadDir + "/curl-ftps.bin"
	run(t, curl, curlArgs("--cacert", s.ca, "-u", "bob:bob", "-T", src, base+remote)...)
	if got, err := os.ReadFile(s.bobPath(remote)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the server's copy of %s: %d bytes, %v; want %d", remote, len(got), err, len(data))
	}
}

// containsLine reports whether text has a line equal to want.
func containsLine(text, want string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimRight(l, "\r") == want {
			return true
		}
	}
	return false
}
