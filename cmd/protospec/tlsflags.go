package main

import (
	"crypto/tls"
	"crypto/x509"
	"strings"

	"github.com/spf13/cobra"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
)

// tlsFlags are the transport security flags of the commands that reach a
// target (run, fuzz, bench, replay).
type tlsFlags struct {
	// over runs the suite over the protocol's TLS services (--tls).
	over bool
	// ca is a PEM file of the CAs to trust instead of the run's fixture
	// CA (--ca), for a user's server.
	ca string
	// insecure skips certificate verification (--insecure).
	insecure bool
	// what is the --tls flag's help, what the command does over TLS;
	// empty is run's.
	what string
}

func (t *tlsFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	what := t.what
	if what == "" {
		what = "run the specs over the protocol's TLS services (http/tls instead of http/tcp)"
	}
	fl.BoolVar(&t.over, "tls", false, what)
	fl.StringVar(&t.ca, "ca", "", "PEM file of the CA certificates to trust for TLS (default: the run's fixture CA and the system's roots)")
	fl.BoolVar(&t.insecure, "insecure", false, "do not verify the TLS server's certificate")
}

// config is the TLS client configuration of the run: the fixture CA that
// signed the references' and launchers' certificates (with the system's
// roots, for a user's server), the --ca file instead, or no verification.
func (t *tlsFlags) config(fx *tlsfixture.Fixture) (*tls.Config, error) {
	if t.insecure {
		if t.ca != "" {
			return nil, usageErr("--ca and --insecure exclude each other")
		}
		return &tls.Config{InsecureSkipVerify: true}, nil
	}
	if t.ca != "" {
		pool, err := tlsfixture.LoadPool(t.ca)
		if err != nil {
			return nil, usageErr("--ca: %v", strings.TrimPrefix(err.Error(), "tlsfixture: "))
		}
		return &tls.Config{RootCAs: pool}, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pool.AddCert(fx.CA)
	return &tls.Config{RootCAs: pool}, nil
}

// tlsServices are the TLS services of a protocol's contract.
func tlsServices(proto string) []string {
	var out []string
	if c, ok := protocol.Lookup(proto); ok {
		for _, s := range c.Services {
			if s.Transport == "tls" {
				out = append(out, s.Key())
			}
		}
	}
	return out
}

// check refuses --tls for a protocol whose contract declares no TLS
// service.
func (t *tlsFlags) check(proto string) error {
	if t.over && len(tlsServices(proto)) == 0 {
		return usageErr("--tls: %s declares no TLS service", proto)
	}
	return nil
}

// checkTarget refuses --tls against a target that offers none of the
// protocol's TLS services: every spec would be skipped, and a run that
// judged nothing must not pass.
func (t *tlsFlags) checkTarget(proto string, tg targets.Target) error {
	if !t.over {
		return nil
	}
	var why []string
	for _, svc := range tlsServices(proto) {
		_, err := tg.Endpoint(svc)
		if err == nil {
			return nil
		}
		why = append(why, err.Error())
	}
	return usageErr("--tls: target %s offers no TLS service: %s", tg.Name(), strings.Join(why, "; "))
}

// dialer checks the flags for proto and returns the run's TLS fixture
// (launched targets serve its leaf: pass it as targets.Options.TLS) and a
// dialer that trusts its CA (or --ca, or nothing with --insecure), for the
// pillars that dial a target themselves: fuzz, bench and replay. An empty
// proto (a capture of several protocols) skips the check.
func (t *tlsFlags) dialer(proto string) (*tlsfixture.Fixture, *dial.Dialer, error) {
	if proto != "" {
		if err := t.check(proto); err != nil {
			return nil, nil, err
		}
	}
	fx, err := tlsfixture.New()
	if err != nil {
		return nil, nil, usageErr("the run's TLS fixture: %v", err)
	}
	cfg, err := t.config(fx)
	if err != nil {
		return nil, nil, err
	}
	return fx, &dial.Dialer{TLS: cfg}, nil
}
