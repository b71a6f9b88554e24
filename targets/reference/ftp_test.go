package reference

import (
	"context"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/targets"
)

// TestStartFTP starts the reference for a run and probes its services.
func TestStartFTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := targets.Open(ctx, "reference", targets.Options{Protocol: fixture.Name, Params: map[string]string{fixture.ParamLoginDelay: "10ms"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	for _, svc := range []string{fixture.ServiceTCP, fixture.ServiceTLS} {
		ep, err := tg.Endpoint(svc)
		if err != nil {
			t.Fatal(err)
		}
		if err := fixture.LivenessProbe(ctx, svc, ep.Addr); err != nil {
			t.Errorf("%s: %v", svc, err)
		}
	}
	for _, f := range []string{fixture.FeatureAuthTLS, fixture.FeatureActive, fixture.FeatureAnonymous, fixture.FeatureUpload} {
		if err := tg.Feature(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if tg.Feature(fixture.FeatureDataPortL1) == nil {
		t.Errorf("%s offered", fixture.FeatureDataPortL1)
	}
	if tg.Feature(fixture.FeatureIPv6) == nil {
		ep, _ := tg.Endpoint(fixture.ServiceTCP)
		if err := fixture.LivenessProbe(ctx, fixture.ServiceTCP, fixture.IPv6Addr(ep.Addr)); err != nil {
			t.Errorf("IPv6: %v", err)
		}
	}
}

func TestServeFTPParams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good := map[string]string{fixture.ParamMaxConns: "10", fixture.ParamMaxConnsPerClient: "2", fixture.ParamIdleTimeout: "10s",
		fixture.ParamStallTimeout: "5s", fixture.ParamDataTimeout: "5s", fixture.ParamLoginDelay: "0", fixture.ParamMaxLine: "1024",
		fixture.ParamMaxUploadBytes: "1000", fixture.ParamPasvRange: "40000-40010", fixture.ParamMaxUploadFiles: "5", fixture.ParamMaxUploadTotal: "10000"}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: good}); err != nil {
		t.Errorf("good params: %v", err)
	}
	for name := range good {
		if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{name: "x"}}); err == nil {
			t.Errorf("%s=x: no error", name)
		}
	}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "0.0.0.0:0"}); err == nil {
		t.Errorf("serve ftp on 0.0.0.0: no error")
	}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{fixture.ParamRoot: t.TempDir()}}); err == nil {
		t.Errorf("serve ftp of an empty root: no error")
	}
}
