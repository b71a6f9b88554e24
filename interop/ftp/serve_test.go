package ftp

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

// serve starts the reference as `protospec serve ftp --addr A --root DIR`
// does (with --tls, the run's certificate and key: --cert, --key) on a
// free loopback port, the fixture written into DIR first as `protospec
// fixtures ftp --out DIR` writes it; it stops when the test ends.
func serve(t *testing.T, withTLS bool) *server {
	t.Helper()
	root := t.TempDir()
	if err := writeFixture(root); err != nil {
		t.Fatal(err)
	}
	s := &server{root: root}
	params := map[string]string{"root": root}
	if withTLS {
		fx, err := tlsfixture.New()
		if err != nil {
			t.Fatal(err)
		}
		paths, err := fx.WriteDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		params["tls"], params["cert"], params["key"] = "true", paths.Cert, paths.Key
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
		serveErr = reference.Serve(ctx, ftpName, reference.ServeOptions{Addr: s.addr, Params: params, Log: io.Discard})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	if err := waitGreeting(s.addr, done, &serveErr); err != nil {
		if errors.Is(err, targets.ErrUnsupportedProtocol) {
			t.Skipf("%v: %v", errNoFTP, err)
		}
		t.Fatalf("serve ftp --addr %s --root %s: %v", s.addr, root, err)
	}
	return s
}
