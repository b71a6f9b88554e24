package ftp_test

import (
	"context"
	"os"
	"testing"

	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/mutant"
)

func TestDevMutant(t *testing.T) {
	name := os.Getenv("DEV_MUTANT")
	if name == "" {
		t.Skip()
	}
	_ = context.Background
	inner := &targets.Static{TargetName: "vsftpd", AllFeatures: true, Endpoints: map[string]targets.Endpoint{"ftp/tcp": {Network: "tcp", Addr: "127.0.0.1:18021"}}}
	m, _ := mutant.Lookup("ftp", name)
	tg, err := mutant.Wrap(inner, m, mutant.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := spec.Execute(t, spec.RunOptions{Protocol: "ftp", Config: spec.Config{Target: tg}, LabelFilter: m.Filter, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range run.Specs {
		t.Logf("%s %s %.200s", s.ID, s.State, s.Message)
	}
}
