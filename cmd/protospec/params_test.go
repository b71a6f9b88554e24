package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/targets/reference"
)

// testParams is a param source of two made-up protocols.
var testParams = paramSource{
	What:  "widget",
	Names: func() []string { return []string{"alpha", "beta"} },
	Params: func(name string) []protocol.Param {
		if name == "alpha" {
			return []protocol.Param{{Name: "size", Doc: "how big", Default: "1"}, {Name: "fast", Doc: "go fast", Default: "false"}}
		}
		return nil
	},
}

func TestCollectParams(t *testing.T) {
	shorthands := []paramFlag{{Name: "size"}, {Name: "fast", Bool: true}, {Name: "list", List: true}}
	parse := func(name string, args ...string) (map[string]string, error) {
		fl := pflag.NewFlagSet("test", pflag.ContinueOnError)
		var kvs []string
		addParamFlags(fl, &kvs, testParams, shorthands)
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		return collectParams(fl, kvs, shorthands, testParams, name)
	}
	p, err := parse("alpha", "--param", "size=3", "--fast")
	if err != nil || len(p) != 2 || p["size"] != "3" || p["fast"] != "true" {
		t.Errorf("alpha --param size=3 --fast: %v, %v", p, err)
	}
	if p, err := parse("alpha"); err != nil || len(p) != 0 {
		t.Errorf("alpha without params: %v, %v", p, err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"alpha", []string{"--param", "colour=red"}, `--param colour: alpha widget has no param "colour" (it takes size, fast)`},
		{"beta", []string{"--size", "2"}, `--size: beta widget has no param "size" (it takes none)`},
		{"alpha", []string{"--param", "size"}, `--param "size" is not KEY=VALUE`},
		{"alpha", []string{"--param", "size=1", "--param", "size=2"}, "--param size is given twice"},
		{"alpha", []string{"--param", "size=1", "--size", "2"}, "--size and --param size both set size"},
	} {
		if _, err := parse(c.name, c.args...); err == nil || err.Error() != c.want {
			t.Errorf("%s %v: error %v, want %q", c.name, c.args, err, c.want)
		}
	}
	help := paramsHelp(testParams)
	for _, want := range []string{"alpha  size=1      how big", "       fast=false  go fast", "beta   (none)"} {
		if !strings.Contains(help, want) {
			t.Errorf("paramsHelp lacks %q:\n%s", want, help)
		}
	}
}

func serveCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"serve"}, args...))
	err := root.Execute()
	return out.String(), err
}

// TestServeParams checks that serve lists every reference's params in its
// help and refuses the params a reference does not take, before serving.
func TestServeParams(t *testing.T) {
	help, err := serveCmd(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	names := serveParams.Names()
	if len(names) == 0 {
		t.Fatal("no reference to serve")
	}
	for _, n := range names {
		p, _ := reference.Lookup(n)
		for _, pr := range p.Params {
			if !strings.Contains(help, pr.Name+"="+pr.Default) || !strings.Contains(help, pr.Doc) {
				t.Errorf("serve --help lacks %s's param %s", n, pr.Name)
			}
		}
	}
	var ee *exitError
	for _, args := range [][]string{
		{"no-such-protocol"},
		{names[0], "--param", "no-such-param=1"},
	} {
		_, err := serveCmd(t, args...)
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("serve %v: err %v, want a usage error", args, err)
		}
	}
	if _, err := serveCmd(t, names[0], "--param", "no-such-param=1"); err == nil || !strings.Contains(err.Error(), "it takes") {
		t.Errorf("unknown param error %v does not list the known params", err)
	}
}
