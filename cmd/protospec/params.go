package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/protospec/protospec/internal/protocol"
)

// paramFlag is a flag of an earlier release kept as a shorthand for
// --param of the same name (--paths /a,/b is --param paths=/a,/b). Which
// protocols take the param comes from the registries, never from here.
type paramFlag struct {
	Name  string
	Short string
	Bool  bool // --tcp is --param tcp=true
	List  bool // may be repeated or comma-separated, joined with commas
}

// paramSource lists, per protocol, the params a command takes.
type paramSource struct {
	// What names the holder of the params in messages: "load client".
	What  string
	Names func() []string
	// Params returns the params of protocol name.
	Params func(name string) []protocol.Param
}

// addParamFlags declares --param and the shorthand flags on fl. Each
// shorthand's usage is the doc of the param it sets, with the protocols
// that take it.
func addParamFlags(fl *pflag.FlagSet, params *[]string, src paramSource, shorthands []paramFlag) {
	fl.StringArrayVar(params, "param", nil, fmt.Sprintf("a protocol's KEY=VALUE setting (repeatable; the %s params are listed above)", src.What))
	for _, sh := range shorthands {
		usage := fmt.Sprintf("same as --param %s=VALUE", sh.Name)
		switch {
		case sh.Bool:
			usage = fmt.Sprintf("same as --param %s=true", sh.Name)
		case sh.List:
			usage = fmt.Sprintf("same as --param %s=V1,V2", sh.Name)
		}
		if doc, protos := paramDoc(src, sh.Name); doc != "" {
			usage += fmt.Sprintf("; %s: %s", strings.Join(protos, ", "), doc)
		}
		switch {
		case sh.Bool:
			fl.BoolP(sh.Name, sh.Short, false, usage)
		case sh.List:
			fl.StringSliceP(sh.Name, sh.Short, nil, usage)
		default:
			fl.StringP(sh.Name, sh.Short, "", usage)
		}
	}
}

// paramDoc returns the doc of the param name and the protocols that take it.
func paramDoc(src paramSource, name string) (string, []string) {
	var doc string
	var protos []string
	for _, n := range src.Names() {
		for _, p := range src.Params(n) {
			if p.Name == name {
				if doc == "" {
					doc = p.Doc
				}
				protos = append(protos, n)
			}
		}
	}
	return doc, protos
}

// collectParams reads --param KEY=VALUE settings and the shorthand flags
// that were set into one map, and checks every key against the params
// that protocol declares: an unknown one is an error that lists the known
// ones.
func collectParams(fl *pflag.FlagSet, kvs []string, shorthands []paramFlag, src paramSource, protocolName string) (map[string]string, error) {
	out := map[string]string{}
	from := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q is not KEY=VALUE", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--param %s is given twice", k)
		}
		out[k], from[k] = v, "--param "+k
	}
	for _, sh := range shorthands {
		if !fl.Changed(sh.Name) {
			continue
		}
		var v string
		switch {
		case sh.Bool:
			b, _ := fl.GetBool(sh.Name)
			v = fmt.Sprint(b)
		case sh.List:
			l, _ := fl.GetStringSlice(sh.Name)
			v = strings.Join(l, ",")
		default:
			v, _ = fl.GetString(sh.Name)
		}
		if _, dup := out[sh.Name]; dup {
			return nil, fmt.Errorf("--%s and --param %s both set %s", sh.Name, sh.Name, sh.Name)
		}
		out[sh.Name], from[sh.Name] = v, "--"+sh.Name
	}
	decl := src.Params(protocolName)
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !declares(decl, k) {
			return nil, fmt.Errorf("%s: %s %s has no param %q (%s)", from[k], protocolName, src.What, k, knownParams(decl))
		}
	}
	return out, nil
}

func declares(decl []protocol.Param, name string) bool {
	for _, p := range decl {
		if p.Name == name {
			return true
		}
	}
	return false
}

// knownParams says which params decl has, for errors.
func knownParams(decl []protocol.Param) string {
	if len(decl) == 0 {
		return "it takes none"
	}
	names := make([]string, len(decl))
	for i, p := range decl {
		names[i] = p.Name
	}
	return "it takes " + strings.Join(names, ", ")
}

// paramsHelp lists every protocol's params for a command's --help, one
// "NAME=DEFAULT  DOC" line each under the protocol's name.
func paramsHelp(src paramSource) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Params of each protocol's %s (--param KEY=VALUE):\n", src.What)
	names := src.Names()
	wn, wp := 0, 0
	for _, n := range names {
		wn = max(wn, len(n))
		for _, p := range src.Params(n) {
			wp = max(wp, len(p.Name)+1+len(p.Default))
		}
	}
	for _, n := range names {
		ps := src.Params(n)
		if len(ps) == 0 {
			fmt.Fprintf(&b, "  %-*s  (none)\n", wn, n)
			continue
		}
		for i, p := range ps {
			label := ""
			if i == 0 {
				label = n
			}
			fmt.Fprintf(&b, "  %-*s  %-*s  %s\n", wn, label, wp, p.Name+"="+p.Default, p.Doc)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
