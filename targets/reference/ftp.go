package reference

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	fixture "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/reference/ftp"
	"github.com/protospec/protospec/targets"
)

func init() {
	register(fixture.Name, Protocol{Start: startFTP, Serve: serveFTP, Params: ServeParams(fixture.Contract), Examples: []string{
		"--addr 127.0.0.1:2121 --root ./ftproot       # protospec fixtures ftp --out ./ftproot; AUTH TLS offered",
		"--addr 127.0.0.1:2121 --param pasv-range=40000-40100 --param login-delay=1s",
		"--addr 127.0.0.1:9990 --tls --ca-out ./tls   # implicit FTPS: run --tls --target tls://127.0.0.1:9990 --ca ./tls/ca.pem",
	}})
}

// listenPair listens on 127.0.0.1 and [::1] at the same free port, so that
// the IPv6 endpoint is the ftp/tcp address's port (fixture.IPv6Addr). It
// gives up on IPv6 (v6 nil) when ::1 is not available.
func listenPair() (v4, v6 net.Listener, err error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port)))
		if err == nil {
			return l, l6, nil
		}
		l.Close()
		if probe, perr := net.Listen("tcp", "[::1]:0"); perr != nil {
			// No IPv6 loopback at all.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			return l, nil, err
		} else {
			probe.Close()
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	return l, nil, err
}

// startFTP writes the fixture tree into a work directory and serves it with
// reference/ftp: plain ("ftp/tcp", AUTH TLS offered, the same port on
// [::1] too) and TLS from the first byte ("ftp/tls"), both with the run's
// fixture leaf. opts.Params take the serve params that bound the server
// (login-delay, idle-timeout, ...).
func startFTP(_ context.Context, opts targets.Options) (targets.Target, error) {
	fx, root, cleanup, err := startTree(opts, "ftp", "ftproot", fixture.Write)
	if err != nil {
		return nil, err
	}
	s := &ftp.Server{Root: root, TLSConfig: fx.ServerConfig(), Log: opts.Log}
	if err := ftpLimits(s, opts.Params); err != nil {
		cleanup()
		return nil, fmt.Errorf("reference ftp: %w", err)
	}
	l, l6, err := listenPair()
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("reference ftp: %w", err)
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		if l6 != nil {
			l6.Close()
		}
		cleanup()
		return nil, fmt.Errorf("reference ftp: %w", err)
	}
	go s.Serve(l)
	if l6 != nil {
		go s.Serve(l6)
	}
	go s.ServeTLS(tl, fx.ServerConfig())
	features := map[string]bool{
		fixture.FeatureAuthTLS: true, fixture.FeatureActive: true, fixture.FeatureAnonymous: true,
		fixture.FeatureUpload: true, fixture.FeatureUTF8Names: true,
	}
	reasons := map[string]string{
		fixture.FeatureDataPortL1: "the reference opens active data connections from a port the system chooses, not L-1 (binding it needs a privilege)",
	}
	if l6 != nil {
		features[fixture.FeatureIPv6] = true
	} else {
		reasons[fixture.FeatureIPv6] = "no IPv6 loopback (::1) on this machine"
	}
	return &targets.Static{
		TargetName: "reference",
		Kind:       targets.KindReference,
		Version:    "protospec reference/ftp",
		Endpoints: map[string]targets.Endpoint{
			fixture.ServiceTCP: {Network: "tcp", Addr: l.Addr().String()},
			fixture.ServiceTLS: {Network: "tcp", Addr: tl.Addr().String(), Security: dial.TLS, ServerName: "localhost"},
		},
		Features: features,
		Reasons:  reasons,
		OnClose: func() error {
			err := s.Close()
			cleanup()
			return err
		},
	}, nil
}

// serveFTP serves the fixture (or the tree of param root=) on Addr until
// ctx is done: plain with AUTH TLS, or with tls=true TLS from the first
// byte; the certificate from cert= and key=, or a new fixture whose files
// go to ca-out=.
func serveFTP(ctx context.Context, opts ServeOptions) error {
	log := opts.logWriter()
	root, cleanup, err := serveRoot(opts.Params[fixture.ParamRoot], "protospec-ftp-", fixture.Write, func(root string) error {
		if st, err := os.Stat(filepath.Join(root, fixture.BobHome)); err != nil || !st.IsDir() {
			return fmt.Errorf("root %q is not an FTP fixture tree (protospec fixtures ftp --out DIR writes one)", root)
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
	// AUTH TLS is offered on the plain service too, so there is always
	// a certificate.
	cfg, caFile, err := serveTLSConfig(opts.Params, log)
	if err != nil {
		return err
	}
	var flags []string
	if caFile != "" {
		flags = []string{"--ca", caFile}
	}
	s := &ftp.Server{Root: root, TLSConfig: cfg, Log: opts.AccessLog}
	if err := ftpLimits(s, opts.Params); err != nil {
		return err
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	if opts.Params[fixture.ParamTLS] == "true" {
		fmt.Fprintf(log, "serving FTP over TLS (implicit) from %s on ftps://%s/ (users: bob/bob, anonymous)\n", root, l.Addr())
		opts.serving(Serving{Endpoints: map[string]targets.Endpoint{
			fixture.ServiceTLS: {Network: "tcp", Addr: l.Addr().String(), Security: dial.TLS, ServerName: "localhost"},
		}, Flags: flags})
		go func() { errc <- s.ServeTLS(l, cfg) }()
	} else {
		fmt.Fprintf(log, "serving FTP from %s on ftp://%s/ (users: bob/bob, anonymous; AUTH TLS offered)\n", root, l.Addr())
		opts.serving(Serving{Endpoints: map[string]targets.Endpoint{
			fixture.ServiceTCP: {Network: "tcp", Addr: l.Addr().String()},
		}, Flags: flags})
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

// ftpLimits sets the server's limits from params.
func ftpLimits(s *ftp.Server, params map[string]string) error {
	ints := []struct {
		name string
		set  func(int64)
	}{
		{fixture.ParamMaxConns, func(n int64) { s.MaxConns = int(n) }},
		{fixture.ParamMaxConnsPerClient, func(n int64) { s.MaxConnsPerClient = int(n) }},
		{fixture.ParamMaxLine, func(n int64) { s.MaxLine = int(n) }},
		{fixture.ParamMaxUploadBytes, func(n int64) { s.MaxUploadBytes = n }},
		{fixture.ParamMaxUploadFiles, func(n int64) { s.MaxUploadFiles = int(n) }},
		{fixture.ParamMaxUploadTotal, func(n int64) { s.MaxUploadTotal = n }},
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
	durs := []struct {
		name string
		set  func(time.Duration)
	}{
		{fixture.ParamIdleTimeout, func(d time.Duration) { s.IdleTimeout = d }},
		{fixture.ParamStallTimeout, func(d time.Duration) { s.StallTimeout = d }},
		{fixture.ParamDataTimeout, func(d time.Duration) { s.DataTimeout = d }},
		{fixture.ParamLoginDelay, func(d time.Duration) {
			if d == 0 {
				d = -1
			}
			s.LoginDelay = d
		}},
	}
	for _, p := range durs {
		v, ok := params[p.name]
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d == 0 && p.name != fixture.ParamLoginDelay) {
			return fmt.Errorf("%s %q: want a positive duration (10s, 500ms)", p.name, v)
		}
		p.set(d)
	}
	if v, ok := params[fixture.ParamPasvRange]; ok {
		lo, hi, found := strings.Cut(v, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !found || err1 != nil || err2 != nil || a < 1024 || b > 65535 || a > b {
			return fmt.Errorf("%s %q: want LOW-HIGH within 1024-65535", fixture.ParamPasvRange, v)
		}
		s.PasvMin, s.PasvMax = a, b
	}
	return nil
}
