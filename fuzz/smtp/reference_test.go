package smtpfuzz

import (
	"context"
	"net"
	"os"
	"sync"
	"time"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/internal/mailstore"
	contract "github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/internal/tlsfixture"
	smtpref "github.com/protospec/protospec/reference/smtp"
	"github.com/protospec/protospec/targets"
)

// The tests run reference/smtp in process, on a loopback port, over a
// fresh copy of the mail fixture: the reference is the server the model
// and the battery must find clean, whichever launcher registers it.

// reference is one running reference server.
type reference struct {
	addr  string
	store *mailstore.Store
	srv   *smtpref.Server
	dir   string
	done  chan struct{}
}

// startReference serves the fixture on 127.0.0.1 with bounds short
// enough for tests (a session whose client goes silent is closed after a
// few seconds) and room for a fuzzer's parallel connections.
func startReference() (*reference, error) {
	dir, err := os.MkdirTemp("", "protospec-smtp-fuzz-")
	if err != nil {
		return nil, err
	}
	if err := contract.WriteFixture(dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	st, err := mailstore.Open(dir, 1<<20)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	fx, err := tlsfixture.New()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv := &smtpref.Server{Store: st, TLSConfig: fx.ServerConfig(), MaxConns: 512, MaxConnsPerClient: 256,
		CommandTimeout: 5 * time.Second, DataTimeout: 5 * time.Second, DataTotal: 20 * time.Second}
	r := &reference{addr: l.Addr().String(), store: st, srv: srv, dir: dir, done: make(chan struct{})}
	go func() { srv.Serve(l); close(r.done) }()
	return r, nil
}

func (r *reference) close() error {
	err := r.srv.Close()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
	os.RemoveAll(r.dir)
	return err
}

// target is the reference as a target of the engine and the battery.
func (r *reference) target() *targets.Static {
	return &targets.Static{
		TargetName: "reference", Kind: "reference",
		Endpoints: map[string]targets.Endpoint{smtpService: {Network: "tcp", Addr: r.addr}},
		Dirs:      map[string]string{contract.DirMaildir: r.dir},
		OnClose:   r.close,
	}
}

// referenceSpec opens a fresh in-process reference for the engine.
func referenceSpec() engine.TargetSpec {
	return engine.TargetSpec{Name: "reference", Open: func(context.Context) (targets.Target, error) {
		r, err := startReference()
		if err != nil {
			return nil, err
		}
		return r.target(), nil
	}}
}

var (
	sharedMu  sync.Mutex
	sharedRef *reference
)

// shared is one reference for the fuzz targets of the process (a fuzz
// target's F lives for one input under the libFuzzer shim, where no
// Cleanup runs): started at the first call, closed by release.
func shared() (*reference, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedRef == nil {
		r, err := startReference()
		if err != nil {
			return nil, err
		}
		sharedRef = r
	}
	return sharedRef, nil
}

// release closes the shared reference (its store removed).
func release() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedRef != nil {
		sharedRef.close()
		sharedRef = nil
	}
}
