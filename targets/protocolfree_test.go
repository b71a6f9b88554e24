package targets_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/protospec/protospec/internal/protocol"
	_ "github.com/protospec/protospec/protocols"
)

// TestProtocolFree keeps package targets (its non-test files, not its
// subfolders, which are the launchers) free of protocols: no string
// literal holds a registered protocol's name as a word ("http1",
// "dns/axfr"), no import path has one as an element, and miekg/dns is
// not among its dependencies. Protocol names, features and probes live in
// the protocols' contract packages (internal/<p>).
func TestProtocolFree(t *testing.T) {
	names := map[string]bool{}
	for _, n := range protocol.Names() {
		names[n] = true
	}
	if len(names) == 0 {
		t.Fatal("no protocol registered")
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "github.com/miekg/dns" || anyName(names, strings.Split(p, "/")) {
				t.Errorf("%s: imports %s", fset.Position(imp.Pos()), p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if _, ok := n.(*ast.ImportSpec); ok {
				return false
			}
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if anyName(names, words(s)) {
				t.Errorf("%s: string literal %s names a protocol", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no file of package targets checked")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Logf("no go command: dependencies not checked (%v)", err)
		return
	}
	out, err := exec.Command(goCmd, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/miekg/dns" || strings.HasPrefix(dep, "github.com/miekg/dns/") {
			t.Errorf("package targets depends on %s", dep)
		}
	}
}

// words splits s into runs of letters and digits, lower-cased.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
}

func anyName(names map[string]bool, words []string) bool {
	for _, w := range words {
		if names[w] {
			return true
		}
	}
	return false
}
