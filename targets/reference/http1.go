package reference

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/protospec/protospec/internal/dial"
	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/reference/http1"
	"github.com/protospec/protospec/targets"
)

func init() {
	register(fixture.Name, Protocol{Start: startHTTP1, Serve: serveHTTP1, Params: ServeParams(fixture.Contract), Examples: []string{
		"--addr 127.0.0.1:8080 --root ./docroot",
		"--addr 127.0.0.1:8443 --tls --ca-out ./tls   # run --tls --target tls://127.0.0.1:8443 --ca ./tls/ca.pem",
	}})
}

// startHTTP1 writes the fixture docroot into a work directory and serves it
// with reference/http1 on two ephemeral loopback ports: plain ("http/tcp")
// and TLS with the run's fixture leaf ("http/tls"). TRACE stays disabled.
func startHTTP1(_ context.Context, opts targets.Options) (targets.Target, error) {
	fx, root, cleanup, err := startTree(opts, "http1", "docroot", fixture.Write)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("reference http1: %w", err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		cleanup()
		return nil, fmt.Errorf("reference http1: %w", err)
	}
	s := &http1.Server{Root: root, EnableTrace: false, Charset: "utf-8", DirIndex: true}
	go s.Serve(l)
	go s.ServeTLS(tl, fx.ServerConfig())
	return &targets.Static{
		TargetName: "reference",
		Kind:       targets.KindReference,
		Version:    "protospec reference/http1",
		Endpoints: map[string]targets.Endpoint{
			"http/tcp": {Network: "tcp", Addr: l.Addr().String()},
			"http/tls": {Network: "tcp", Addr: tl.Addr().String(), Security: dial.TLS, ServerName: "localhost"},
		},
		Features: map[string]bool{
			fixture.FeatureRedirect: true, fixture.FeatureForm: true, fixture.FeatureSession: true, fixture.FeatureEcho: true, fixture.FeatureUpload: true,
		},
		Reasons: map[string]string{
			fixture.FeatureTrace: "TRACE is disabled on the reference, as RFC 9110 9.3.8 allows",
		},
		OnClose: func() error {
			err := s.Close()
			cleanup()
			return err
		},
	}, nil
}

// serveHTTP1 serves the fixture (or the directory of param root=) on Addr
// over TCP until ctx is done; with param tls=true over TLS instead, with
// the certificate and key of params cert= and key= (PEM files), or a new
// fixture whose files go to param ca-out=DIR (default: a temporary
// directory, named in the log).
func serveHTTP1(ctx context.Context, opts ServeOptions) error {
	log := opts.logWriter()
	root, cleanup, err := serveRoot(opts.Params[fixture.ParamRoot], "protospec-http1-", fixture.Write, func(root string) error {
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			return fmt.Errorf("root %q is not a directory", root)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer cleanup()
	if err := loopbackOnly(opts.Addr); err != nil {
		return err
	}
	s := &http1.Server{Root: root, AccessLog: opts.accessLogger(), Charset: "utf-8", DirIndex: true}
	if err := http1Limits(s, opts.Params); err != nil {
		return err
	}
	if err := http1Static(s, opts.Params); err != nil {
		return err
	}
	var cfg *tls.Config
	var caFile string
	if opts.Params[fixture.ParamTLS] == "true" {
		c, ca, err := serveTLSConfig(opts.Params, log)
		if err != nil {
			return err
		}
		cfg, caFile = c, ca
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	if cfg != nil {
		fmt.Fprintf(log, "serving HTTP/1.1 over TLS from %s on https://%s/\n", root, l.Addr())
		var flags []string
		if caFile != "" {
			flags = []string{"--ca", caFile}
		}
		opts.serving(Serving{Endpoints: map[string]targets.Endpoint{
			"http/tls": {Network: "tcp", Addr: l.Addr().String(), Security: dial.TLS, ServerName: "localhost"},
		}, Flags: flags})
		go func() { errc <- s.ServeTLS(l, cfg) }()
	} else {
		fmt.Fprintf(log, "serving HTTP/1.1 from %s on http://%s/\n", root, l.Addr())
		opts.serving(Serving{Endpoints: map[string]targets.Endpoint{"http/tcp": {Network: "tcp", Addr: l.Addr().String()}}})
		go func() { errc <- s.Serve(l) }()
	}
	select {
	case <-ctx.Done():
		s.Close()
		return nil
	case err := <-errc:
		s.Close()
		return err
	}
}

// startTree readies an in-process reference's run: the run's TLS
// fixture, and a fresh copy of the protocol's fixture tree (write) in
// sub of the run's work directory; cleanup removes the work directory.
func startTree(opts targets.Options, name, sub string, write func(string) error) (*tlsfixture.Fixture, string, func(), error) {
	fx, err := opts.TLSFixture()
	if err != nil {
		return nil, "", nil, fmt.Errorf("reference %s: %w", name, err)
	}
	dir, cleanup, err := targets.WorkDir(opts, name)
	if err != nil {
		return nil, "", nil, fmt.Errorf("reference %s: %w", name, err)
	}
	root := filepath.Join(dir, sub)
	if err := os.RemoveAll(root); err != nil {
		cleanup()
		return nil, "", nil, fmt.Errorf("reference %s: %w", name, err)
	}
	if err := write(root); err != nil {
		cleanup()
		return nil, "", nil, fmt.Errorf("reference %s: %w", name, err)
	}
	return fx, root, cleanup, nil
}

// logWriter is opts.Log, or a writer that discards.
func (opts ServeOptions) logWriter() io.Writer {
	if opts.Log == nil {
		return io.Discard
	}
	return opts.Log
}

// serveRoot is the tree a serve command serves: root, checked, or, when
// root is empty, a temporary directory the protocol's fixture is written
// into (removed by cleanup).
func serveRoot(root, tmpPattern string, write, check func(string) error) (string, func(), error) {
	if root != "" {
		return root, func() {}, check(root)
	}
	d, err := os.MkdirTemp("", tmpPattern)
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(d) }
	if err := write(d); err != nil {
		cleanup()
		return "", nil, err
	}
	return d, cleanup, nil
}

// serveTLSConfig is the TLS configuration of `serve --tls`: the given
// cert= and key= files, or a new fixture whose files (ca.pem for the
// client's --ca, returned) go to ca-out= or a new temporary directory.
func serveTLSConfig(params map[string]string, log io.Writer) (*tls.Config, string, error) {
	certFile, keyFile := params[fixture.ParamCert], params[fixture.ParamKey]
	if (certFile == "") != (keyFile == "") {
		return nil, "", fmt.Errorf("--cert and --key go together")
	}
	if certFile != "" {
		c, err := tlsfixture.LoadKeyPair(certFile, keyFile)
		if err != nil {
			return nil, "", err
		}
		return &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}, "", nil
	}
	fx, err := tlsfixture.New()
	if err != nil {
		return nil, "", err
	}
	dir := params[fixture.ParamCAOut]
	if dir == "" {
		if dir, err = os.MkdirTemp("", "protospec-tls-"); err != nil {
			return nil, "", err
		}
	}
	p, err := fx.WriteDir(dir)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(log, "TLS fixture: CA %s (run --ca %s), certificate %s, key %s\n", p.CA, p.CA, p.Cert, p.Key)
	return fx.ServerConfig(), p.CA, nil
}

// loopbackOnly refuses a listening address that is not loopback: the
// reference servers are test fixtures, not services.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q: the reference servers only listen on loopback", addr)
	}
	return nil
}

// http1Static sets how the server serves static files from params.
func http1Static(s *http1.Server, params map[string]string) error {
	if v, ok := params[fixture.ParamCharset]; ok {
		switch {
		case v == "none" || v == "":
			s.Charset = ""
		case strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") != "":
			return fmt.Errorf("%s %q: want a charset name (utf-8, iso-8859-1) or none", fixture.ParamCharset, v)
		default:
			s.Charset = v
		}
	}
	if v, ok := params[fixture.ParamDirIndex]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s %q: want true or false", fixture.ParamDirIndex, v)
		}
		s.DirIndex = b
	}
	return nil
}

// http1Limits sets the server's client limits from params.
func http1Limits(s *http1.Server, params map[string]string) error {
	ints := []struct {
		name string
		set  func(int64)
	}{
		{fixture.ParamMaxConns, func(n int64) { s.MaxConns = int(n) }},
		{fixture.ParamMaxConnsPerClient, func(n int64) { s.MaxConnsPerClient = int(n) }},
		{fixture.ParamMaxInflightBodyBytes, func(n int64) { s.MaxInflightBodyBytes = n }},
		{fixture.ParamMaxUploadBytes, func(n int64) { s.MaxUploadBytes = n }},
		{fixture.ParamMaxUploadFiles, func(n int64) { s.MaxUploadFiles = int(n) }},
	}
	for _, p := range ints {
		v, ok := params[p.name]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1<<40 {
			return fmt.Errorf("%s %q: want a positive number", p.name, v)
		}
		p.set(n)
	}
	return nil
}
