// Package gohttp runs Go's net/http server in process as an HTTP/1.1
// target ("gohttp"): http.FileServer over the fixture of internal/http1 in
// a work directory, GET /redirect (http.Redirect, 301 to /hello.txt) and
// /echo (the request content net/http decoded), on two ephemeral
// 127.0.0.1 ports, plain ("http/tcp") and TLS with the run's fixture
// certificate ("http/tls"). It needs nothing installed: the net/http
// judged is the one protospec is built with.
//
//	protospec run http1 --target gohttp --baseline builtin
//	protospec run http1 --tls --target gohttp --baseline builtin
//
// It has no /upload/, /form or /session and no TRACE; specs needing them
// are skipped with the reason.
package gohttp

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	fixture "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/targets"
)

// Name is what --target takes.
const Name = "gohttp"

// Baseline lists the http1 specs net/http is known to fail.
//
//go:embed baseline.txt
var Baseline string

// maxEcho bounds the content /echo reads; more gets 413.
const maxEcho = 1 << 20

func init() { targets.Register(launcher{}) }

type launcher struct{}

func (launcher) Name() string                     { return Name }
func (launcher) Protocols() []string              { return []string{fixture.Name} }
func (launcher) Requirement() string              { return "" }
func (launcher) Available() error                 { return nil }
func (launcher) Baseline(p string) (string, bool) { return Baseline, p == fixture.Name }

// Handler serves the fixture tree at root: the files, /redirect and /echo.
func Handler(root string) http.Handler {
	mux := http.NewServeMux()
	files := http.FileServer(http.Dir(root))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// FileServer redirects ".../index.html" to ".../" (a documented
		// special case); the fixture serves the file under that name.
		if strings.HasSuffix(r.URL.Path, "/index.html") {
			if f, err := http.Dir(root).Open(r.URL.Path); err == nil {
				defer f.Close()
				if st, err := f.Stat(); err == nil && !st.IsDir() {
					http.ServeContent(w, r, st.Name(), st.ModTime(), f)
					return
				}
			}
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc(fixture.RedirectPath, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fixture.RedirectLocation, http.StatusMovedPermanently)
	})
	mux.HandleFunc(fixture.EchoPath, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEcho))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "content too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad content", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	})
	return mux
}

// Start writes the fixture and serves it until the target is closed.
func (launcher) Start(_ context.Context, opts targets.Options) (targets.Target, error) {
	if opts.Protocol != "" && opts.Protocol != fixture.Name {
		return nil, fmt.Errorf("%s serves %s, not %s", Name, fixture.Name, opts.Protocol)
	}
	fx, err := opts.TLSFixture()
	if err != nil {
		return nil, err
	}
	dir, cleanup, err := targets.WorkDir(opts, Name)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "htdocs")
	if err := fixture.Write(root); err != nil {
		cleanup()
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		cleanup()
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	conf := fx.ServerConfig()
	conf.NextProtos = []string{"http/1.1"}
	// Timeouts and limits keep a hostile client from holding the process;
	// header limits stay at net/http's defaults (1 MiB), which the
	// suite's 414/431 specs judge.
	srv := func() *http.Server {
		return &http.Server{Handler: Handler(root), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second,
			ErrorLog: nil, TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	}
	plain, secure := srv(), srv()
	go plain.Serve(l)
	go secure.Serve(tls.NewListener(tl, conf))
	return &targets.Static{
		TargetName: Name,
		Kind:       targets.KindLauncher,
		Version:    "go/net/http " + strings.TrimPrefix(runtime.Version(), "go"),
		Endpoints: map[string]targets.Endpoint{
			"http/tcp": {Network: "tcp", Addr: l.Addr().String()},
			"http/tls": {Network: "tcp", Addr: tl.Addr().String(), Security: dial.TLS, ServerName: "localhost"},
		},
		Features: map[string]bool{fixture.FeatureRedirect: true, fixture.FeatureEcho: true},
		Reasons: map[string]string{
			fixture.FeatureUpload:  "net/http's FileServer has no PUT/DELETE: no /upload/",
			fixture.FeatureTrace:   "net/http's FileServer has no TRACE",
			fixture.FeatureForm:    "the gohttp target serves files, /redirect and /echo only: no /form endpoint",
			fixture.FeatureSession: "the gohttp target serves files, /redirect and /echo only: no /session endpoint",
		},
		OnClose: func() error {
			err := errors.Join(plain.Close(), secure.Close())
			cleanup()
			return err
		},
	}, nil
}
