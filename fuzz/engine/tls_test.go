package engine

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
)

// tlsLineTarget serves the toy protocol only over TLS, as line/tls, with
// fx's leaf.
func tlsLineTarget(fx *tlsfixture.Fixture, d *dial.Dialer, overTLS bool) TargetSpec {
	return TargetSpec{Name: "line-tls", Dialer: d, OverTLS: overTLS, Open: func(context.Context) (targets.Target, error) {
		l, err := tls.Listen("tcp", "127.0.0.1:0", fx.ServerConfig())
		if err != nil {
			return nil, err
		}
		s := serveLines(l, "OK", 1<<20)
		tl := s.l
		return &targets.Static{TargetName: "line-tls", Kind: targets.KindAddress,
			Endpoints: map[string]targets.Endpoint{"line/tls": {Network: "tcp", Addr: tl.Addr().String(), Security: dial.TLS, ServerName: "localhost"}},
			OnClose:   s.close}, nil
	}}
}

// With OverTLS the model's line/tcp steps reach line/tls through the
// dialer, trusting the fixture's CA; without it, or with another CA, the
// target is refused before the campaign.
func TestOverTLS(t *testing.T) {
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	trust := &dial.Dialer{TLS: &tls.Config{RootCAs: fx.Pool()}}
	cfg := Config{Model: lineModel{}, Seed: 3, Execs: 60, Duration: 20 * time.Second,
		Timing: Timing{Deadline: 2 * time.Second}, NoMinimize: true}

	cfg.Targets = []TargetSpec{tlsLineTarget(fx, trust, true)}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Execs < 60 || len(res.Findings) != 0 {
		t.Errorf("over TLS: %d execs, %d findings", res.Execs, len(res.Findings))
	}

	cfg.Targets = []TargetSpec{tlsLineTarget(fx, trust, false)}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "line/tcp") {
		t.Errorf("without OverTLS: %v, want the missing line/tcp service", err)
	}

	other, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Targets = []TargetSpec{tlsLineTarget(fx, &dial.Dialer{TLS: &tls.Config{RootCAs: other.Pool()}}, true)}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted CA: %v, want a certificate error", err)
	}
}
