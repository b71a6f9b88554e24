package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/protospec/protospec/internal/protocol"
)

// TestFixturesCommand exports every registered protocol's fixture: a
// protocol with one writes files, one without says it needs none, and an
// unknown protocol is a usage error that lists the known ones.
func TestFixturesCommand(t *testing.T) {
	names := protocol.Names()
	if len(names) == 0 {
		t.Fatal("no protocol registered")
	}
	withFixture := 0
	for _, name := range names {
		c, _ := protocol.Lookup(name)
		dir := filepath.Join(t.TempDir(), "out")
		out, err := fixturesCmd(name, "--out", dir)
		if err != nil {
			t.Fatalf("fixtures %s: %v", name, err)
		}
		ents, _ := os.ReadDir(dir)
		if c.Fixture == nil {
			if !strings.Contains(out, "needs no fixtures") || len(ents) != 0 {
				t.Errorf("fixtures %s: %q and %d files, want no fixtures", name, out, len(ents))
			}
			continue
		}
		withFixture++
		if len(ents) == 0 || !strings.Contains(out, "wrote the "+name+" fixtures to "+dir) {
			t.Errorf("fixtures %s: %q and %d files, want the fixture written", name, out, len(ents))
		}
	}
	if withFixture == 0 {
		t.Error("no registered protocol has a fixture")
	}
	_, err := fixturesCmd("no-such-protocol")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), names[0]) {
		t.Errorf("unknown protocol: %v; want a usage error listing %v", err, names)
	}
}

func fixturesCmd(args ...string) (string, error) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"fixtures"}, args...))
	err := root.Execute()
	return out.String(), err
}
