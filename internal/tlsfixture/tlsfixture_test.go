package tlsfixture

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"path/filepath"
	"testing"
)

// The leaf verifies against the CA for every host it names, and not
// against a second fixture's CA.
func TestLeafVerifies(t *testing.T) {
	f, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range Hosts {
		if _, err := f.Leaf.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: f.Pool()}); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	other, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: other.Pool()}); err == nil {
		t.Error("the leaf verified against another run's CA")
	}
	if _, err := f.Leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: f.Pool()}); err == nil {
		t.Error("the leaf verified for example.com")
	}
}

// WriteDir's files load back and make a working TLS server and client.
func TestWriteDirRoundTrip(t *testing.T) {
	f, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.WriteDir(filepath.Join(t.TempDir(), "tls"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := LoadKeyPair(p.Cert, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := LoadPool(p.CA)
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{cert}})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	cli := tls.Client(b, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
