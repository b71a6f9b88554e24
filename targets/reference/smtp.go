package reference

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	netsmtp "net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/mailstore"
	fixture "github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/reference/smtp"
	"github.com/protospec/protospec/targets"
)

func init() {
	register(fixture.Name, Protocol{Start: startSMTP, Serve: serveSMTP, Params: ServeParams(fixture.Contract), Examples: []string{
		"--addr 127.0.0.1:2525 --param maildir=./mail   # protospec fixtures smtp --out ./mail; STARTTLS offered",
		"--addr 127.0.0.1:2525 --param max-size=65536 --param max-recipients=100",
		"--addr 127.0.0.1:2525 --ca-out ./tls           # run --target 127.0.0.1:2525 --ca ./tls/ca.pem",
	}})
}

// startSMTP writes the mail fixture (an empty Maildir per mailbox) into a
// work directory and serves it with reference/smtp on 127.0.0.1, STARTTLS
// offered with the run's fixture leaf. The Maildir root is the target's
// directory smtp.DirMaildir, where specs see what was delivered.
// opts.Params take the serve params that bound the server (max-size,
// max-recipients, command-timeout, ...) and reference/smtp's FaultParam,
// the defects of a mutant.
func startSMTP(_ context.Context, opts targets.Options) (targets.Target, error) {
	fx, root, cleanup, err := startTree(opts, "smtp", "maildir", fixture.WriteFixture)
	if err != nil {
		return nil, err
	}
	s, err := smtpServer(root, opts.Params)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("reference smtp: %w", err)
	}
	s.TLSConfig, s.Log = fx.ServerConfig(), opts.Log
	faults, err := smtp.ParseFaults(opts.Params[smtp.FaultParam])
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("reference smtp: %w", err)
	}
	s.Faults = faults
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("reference smtp: %w", err)
	}
	go s.Serve(l)
	features := map[string]bool{
		fixture.FeatureSTARTTLS: true, fixture.FeaturePipelining: true, fixture.FeatureSize: true,
		fixture.Feature8BitMIME: true, fixture.FeatureEnhancedCodes: true, fixture.FeatureSMTPUTF8: true,
	}
	reasons := map[string]string{
		fixture.FeatureVRFY: "the reference answers VRFY with 252: it does not confirm addresses",
	}
	// AUTH, CHUNKING and DSN are offered as the server announces them
	// (reference/smtp grows them): its EHLO says, before and inside TLS.
	offers, err := smtpOffers(l.Addr().String())
	if err != nil {
		s.Close()
		cleanup()
		return nil, fmt.Errorf("reference smtp: %w", err)
	}
	for _, f := range []struct{ feature, keyword, why string }{
		{fixture.FeatureAuth, "AUTH", "the reference does not announce AUTH PLAIN LOGIN inside TLS"},
		{fixture.FeatureChunking, "CHUNKING", "the reference does not announce CHUNKING"},
		{fixture.FeatureDSN, "DSN", "the reference does not announce DSN"},
	} {
		if offers[f.keyword] {
			features[f.feature] = true
		} else {
			reasons[f.feature] = f.why
		}
	}
	return &targets.Static{
		TargetName: "reference",
		Kind:       targets.KindReference,
		Version:    "protospec reference/smtp",
		Endpoints: map[string]targets.Endpoint{
			fixture.ServiceTCP: {Network: "tcp", Addr: l.Addr().String(), ServerName: "localhost"},
		},
		Features: features,
		Reasons:  reasons,
		Dirs:     map[string]string{fixture.DirMaildir: root},
		OnClose: func() error {
			err := s.Close()
			cleanup()
			return err
		},
	}, nil
}

// smtpOffers asks the reference at addr what it announces: CHUNKING and
// DSN in the EHLO reply, AUTH (with PLAIN and LOGIN) in the EHLO reply
// inside TLS, as RFC 4954 wants it before the user's password travels.
// The certificate is the run's own fixture leaf on loopback: the probe
// does not verify it.
func smtpOffers(addr string) (map[string]bool, error) {
	c, err := (&dial.Dialer{Timeout: 5 * time.Second}).Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr})
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	cl, err := netsmtp.NewClient(c, "localhost")
	if err != nil {
		c.Close()
		return nil, err
	}
	defer cl.Close()
	if err := cl.Hello("probe.protospec.test"); err != nil {
		return nil, err
	}
	offers := map[string]bool{}
	for _, kw := range []string{"CHUNKING", "DSN"} {
		offers[kw], _ = cl.Extension(kw)
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		if err := cl.StartTLS(&tls.Config{ServerName: "localhost", InsecureSkipVerify: true}); err != nil {
			return nil, err
		}
		if ok, mechs := cl.Extension("AUTH"); ok {
			m := " " + strings.ToUpper(mechs) + " "
			offers["AUTH"] = strings.Contains(m, " PLAIN ") && strings.Contains(m, " LOGIN ")
		}
	}
	_ = cl.Quit()
	return offers, nil
}

// smtpServer opens the store at root and makes a server of it with the
// limits of params.
func smtpServer(root string, params map[string]string) (*smtp.Server, error) {
	maxSize := int64(fixture.DefaultMaxBytes)
	if v, ok := params[fixture.ParamMaxSize]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1<<40 {
			return nil, fmt.Errorf("%s %q: want a positive number of octets", fixture.ParamMaxSize, v)
		}
		maxSize = n
	}
	st, err := mailstore.Open(root, maxSize)
	if err != nil {
		return nil, err
	}
	s := &smtp.Server{Store: st}
	if v, ok := params[fixture.ParamHostname]; ok {
		if v == "" {
			return nil, fmt.Errorf("%s: want a host name", fixture.ParamHostname)
		}
		s.Hostname = v
	}
	ints := []struct {
		name string
		set  func(int)
	}{
		{fixture.ParamMaxConns, func(n int) { s.MaxConns = n }},
		{fixture.ParamMaxConnsPerClient, func(n int) { s.MaxConnsPerClient = n }},
		{fixture.ParamMaxRecipients, func(n int) { s.MaxRecipients = n }},
	}
	for _, p := range ints {
		v, ok := params[p.name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<20 {
			return nil, fmt.Errorf("%s %q: want a positive number", p.name, v)
		}
		p.set(n)
	}
	durs := []struct {
		name string
		set  func(time.Duration)
	}{
		{fixture.ParamCommandTimeout, func(d time.Duration) { s.CommandTimeout = d }},
		{fixture.ParamDataTimeout, func(d time.Duration) { s.DataTimeout = d }},
		{fixture.ParamAuthFailDelay, func(d time.Duration) { s.AuthFailDelay = d }},
	}
	for _, p := range durs {
		v, ok := params[p.name]
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s %q: want a positive duration (10s, 5m)", p.name, v)
		}
		p.set(d)
	}
	if v, ok := params[fixture.ParamSubmission]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: want true or false", fixture.ParamSubmission, v)
		}
		s.Submission = b
	}
	return s, nil
}

// serveSMTP serves the Maildir store of param maildir= (or a temporary
// copy of the fixture) on Addr until ctx is done, STARTTLS offered with
// the certificate of cert= and key=, or a new fixture whose files go to
// ca-out=.
func serveSMTP(ctx context.Context, opts ServeOptions) error {
	log := opts.logWriter()
	root, cleanup, err := serveRoot(opts.Params[fixture.ParamMaildir], "protospec-smtp-", fixture.WriteFixture, func(root string) error {
		for _, mb := range []string{"bob", "alice", mailstore.PostmasterMailbox} {
			if st, err := os.Stat(filepath.Join(root, mb, "new")); err != nil || !st.IsDir() {
				return fmt.Errorf("maildir %q is not a mail fixture (protospec fixtures smtp --out DIR writes one)", root)
			}
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
	s, err := smtpServer(root, opts.Params)
	if err != nil {
		return err
	}
	cfg, caFile, err := serveTLSConfig(opts.Params, log)
	if err != nil {
		return err
	}
	var flags []string
	if caFile != "" {
		flags = []string{"--ca", caFile}
	}
	s.TLSConfig, s.Log = cfg, opts.AccessLog
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "serving SMTP into the Maildirs of %s on smtp://%s/ (bob@bob.test, alice@alice.test, postmaster; STARTTLS offered)\n", root, l.Addr())
	opts.serving(Serving{Endpoints: map[string]targets.Endpoint{
		fixture.ServiceTCP: {Network: "tcp", Addr: l.Addr().String(), ServerName: "localhost"},
	}, Features: []string{fixture.FeatureSMTPUTF8}, Flags: flags})
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
