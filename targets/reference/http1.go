package reference

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/reference/http1"
	"github.com/protospec/protospec/targets"
)

func init() {
	register("http1", Protocol{Start: startHTTP1, Serve: serveHTTP1, Params: []protocol.Param{
		{Name: "root", Doc: "the docroot to serve (default: a temporary copy of the suite's fixture)"},
	}, Examples: []string{"--addr 127.0.0.1:8080 --root ./docroot"}})
}

// startHTTP1 writes the fixture docroot into a work directory and serves it
// with reference/http1 on an ephemeral loopback port. TRACE stays disabled.
func startHTTP1(_ context.Context, opts targets.Options) (targets.Target, error) {
	dir, cleanup, err := targets.WorkDir(opts, "http1")
	if err != nil {
		return nil, fmt.Errorf("reference http1: %w", err)
	}
	root := filepath.Join(dir, "docroot")
	if err := os.RemoveAll(root); err != nil {
		cleanup()
		return nil, fmt.Errorf("reference http1: %w", err)
	}
	if err := fixture.Write(root); err != nil {
		cleanup()
		return nil, fmt.Errorf("reference http1: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("reference http1: %w", err)
	}
	s := &http1.Server{Root: root, EnableTrace: false}
	go s.Serve(l)
	return &targets.Static{
		TargetName: "reference",
		Kind:       targets.KindReference,
		Version:    "protospec reference/http1",
		Endpoints:  map[string]targets.Endpoint{"http/tcp": {Network: "tcp", Addr: l.Addr().String()}},
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
// over TCP until ctx is done.
func serveHTTP1(ctx context.Context, opts ServeOptions) error {
	root := opts.Params["root"]
	if root == "" {
		d, err := os.MkdirTemp("", "protospec-http1-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		if err := fixture.Write(d); err != nil {
			return err
		}
		root = d
	} else if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return fmt.Errorf("root %q is not a directory", root)
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	s := &http1.Server{Root: root}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "serving HTTP/1.1 from %s on http://%s/\n", root, l.Addr())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(l) }()
	select {
	case <-ctx.Done():
		s.Close()
		return nil
	case err := <-errc:
		s.Close()
		return err
	}
}
