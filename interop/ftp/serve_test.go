package ftp

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
	_ "github.com/protospec/protospec/targets/all"
	"github.com/protospec/protospec/targets/ftpd"
	"github.com/protospec/protospec/targets/reference"
)

// serve starts the reference as `protospec serve ftp --addr A --root DIR`
// does (withTLS: --cert FILE --key FILE, a new fixture's, for AUTH TLS)
// on a free loopback port, the fixture written into DIR first as
// `protospec fixtures ftp --out DIR` writes it; it stops when the test
// ends.
//
// With PROTOSPEC_TARGET=NAME (an FTP launcher: vsftpd, proftpd,
// pureftpd) the clients run against that server instead, its tree and
// the run's CA taken from its work directory.
func serve(t *testing.T, withTLS bool) *server {
	t.Helper()
	return serveMode(t, withTLS, false)
}

// serveImplicit starts the reference with --tls (TLS from the first
// byte): its address is the server's tlsAddr.
func serveImplicit(t *testing.T) *server {
	t.Helper()
	return serveMode(t, true, true)
}

func serveMode(t *testing.T, withTLS, implicit bool) *server {
	t.Helper()
	if name := os.Getenv("PROTOSPEC_TARGET"); name != "" && name != "reference" {
		s := launch(t, name)
		if implicit && s.tlsAddr == "" {
			t.Skipf("%s offers no implicit TLS", name)
		}
		return s
	}
	root := t.TempDir()
	if err := fixture.Write(root); err != nil {
		t.Fatal(err)
	}
	s := &server{bob: filepath.Join(root, fixture.BobHome), anon: filepath.Join(root, fixture.AnonymousHome)}
	params := map[string]string{fixture.ParamRoot: root}
	if withTLS {
		fx, err := tlsfixture.New()
		if err != nil {
			t.Fatal(err)
		}
		paths, err := fx.WriteDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		// AUTH TLS on the plain control port: the clients' explicit FTPS.
		params[fixture.ParamCert], params[fixture.ParamKey] = paths.Cert, paths.Key
		if implicit {
			params[fixture.ParamTLS] = "true"
		}
		s.ca = paths.CA
	}
	s.addr = freeAddr(t)
	s.host, s.port, _ = net.SplitHostPort(s.addr)
	ctx, cancel := context.WithCancel(context.Background())
	// done is closed when Serve returns, its error in serveErr.
	done := make(chan struct{})
	var serveErr error
	go func() {
		defer close(done)
		serveErr = reference.Serve(ctx, fixture.Name, reference.ServeOptions{Addr: s.addr, Params: params, Log: io.Discard})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	if implicit {
		s.tlsAddr = s.addr
	}
	if err := waitGreeting(s.addr, implicit, done, &serveErr); err != nil {
		if errors.Is(err, targets.ErrUnsupportedProtocol) {
			t.Skipf("%v: %v", errNoFTP, err)
		}
		t.Fatalf("serve ftp --addr %s --root %s: %v", s.addr, root, err)
	}
	return s
}

// launch starts the FTP launcher name with a fixture CA of the test's own.
func launch(t *testing.T, name string) *server {
	t.Helper()
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	l, ok := targets.Lookup(name)
	if !ok {
		t.Fatalf("no launcher %q", name)
	}
	if err := l.Available(); err != nil {
		t.Skipf("%s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := targets.Open(ctx, name, targets.Options{Protocol: fixture.Name, TLS: fx})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	ep, err := tg.Endpoint(fixture.ServiceTCP)
	if err != nil {
		t.Fatal(err)
	}
	dir, ok := tg.(interface{ WorkDir() string })
	if !ok {
		t.Fatalf("%s does not tell its work directory", name)
	}
	tree := filepath.Join(dir.WorkDir(), ftpd.Tree)
	s := &server{addr: ep.Addr, bob: filepath.Join(tree, fixture.BobHome), anon: filepath.Join(tree, fixture.AnonymousHome), ca: filepath.Join(t.TempDir(), "ca.pem")}
	s.host, s.port, _ = net.SplitHostPort(s.addr)
	if err := os.WriteFile(s.ca, fx.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if ep, err := tg.Endpoint(fixture.ServiceTLS); err == nil {
		s.tlsAddr = ep.Addr
	}
	return s
}
