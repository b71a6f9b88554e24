package reference

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	fixture "github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/reference/smtp"
	"github.com/protospec/protospec/targets"
)

// TestStartSMTP starts the reference for a run, probes it, and finds the
// fixture's Maildirs in its directory.
func TestStartSMTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := targets.Open(ctx, "reference", targets.Options{Protocol: fixture.Name, Params: map[string]string{fixture.ParamMaxRecipients: "100"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ep, err := tg.Endpoint(fixture.ServiceTCP)
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.LivenessProbe(ctx, fixture.ServiceTCP, ep.Addr); err != nil {
		t.Error(err)
	}
	for _, f := range []string{fixture.FeatureSTARTTLS, fixture.FeaturePipelining, fixture.FeatureSize, fixture.Feature8BitMIME, fixture.FeatureEnhancedCodes} {
		if err := tg.Feature(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	d, ok := tg.(targets.Directories)
	if !ok {
		t.Fatal("the reference has no directories")
	}
	dir, err := d.Dir(fixture.DirMaildir)
	if err != nil {
		t.Fatal(err)
	}
	for _, mb := range []string{"bob", "alice", "postmaster"} {
		if st, err := os.Stat(filepath.Join(dir, mb, "new")); err != nil || !st.IsDir() {
			t.Errorf("%s/new: %v", mb, err)
		}
	}
}

func TestStartSMTPParams(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range []map[string]string{
		{fixture.ParamMaxSize: "x"}, {fixture.ParamMaxConns: "0"}, {fixture.ParamCommandTimeout: "soon"},
		{smtp.FaultParam: "no-such-fault"},
	} {
		if tg, err := targets.Open(ctx, "reference", targets.Options{Protocol: fixture.Name, Params: p}); err == nil {
			tg.Close()
			t.Errorf("%v: no error", p)
		}
	}
	tg, err := targets.Open(ctx, "reference", targets.Options{Protocol: fixture.Name, Params: map[string]string{smtp.FaultParam: "open-relay,no-received"}})
	if err != nil {
		t.Fatal(err)
	}
	tg.Close()
}

func TestServeSMTPParams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good := map[string]string{fixture.ParamMaxSize: "65536", fixture.ParamMaxConns: "10", fixture.ParamMaxConnsPerClient: "2",
		fixture.ParamMaxRecipients: "100", fixture.ParamCommandTimeout: "10s", fixture.ParamDataTimeout: "10s", fixture.ParamHostname: "mx.test"}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: good}); err != nil {
		t.Errorf("good params: %v", err)
	}
	for name := range good {
		if name == fixture.ParamHostname {
			continue
		}
		if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{name: "x"}}); err == nil {
			t.Errorf("%s=x: no error", name)
		}
	}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "0.0.0.0:0"}); err == nil {
		t.Error("0.0.0.0: no error")
	}
	if err := Serve(ctx, fixture.Name, ServeOptions{Addr: "127.0.0.1:0", Params: map[string]string{fixture.ParamMaildir: t.TempDir()}}); err == nil {
		t.Error("an empty maildir: no error")
	}
}
