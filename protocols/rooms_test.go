package protocols

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/internal/loadgen"
	"github.com/protospec/protospec/internal/protocol"
	"github.com/protospec/protospec/internal/stress"
	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/suites/spec"
	"github.com/protospec/protospec/targets/reference"
)

// root is the repository's root, two levels above this package's files.
const root = ".."

// TestRooms checks that every registered protocol has all its rooms: a
// contract, a reference, a suite, a pcap dissector, a network-fuzz model, a
// load client, a stress battery and at least one native fuzz target in fuzz/<p>.
func TestRooms(t *testing.T) {
	names := protocol.Names()
	if len(names) == 0 {
		t.Fatal("no protocol is registered")
	}
	for _, name := range names {
		if _, ok := spec.LookupProtocol(name); !ok {
			t.Errorf("%s: no suite registered (suites/%s: spec.RegisterProtocol)", name, name)
		}
		if p, ok := reference.Lookup(name); !ok || p.Start == nil {
			t.Errorf("%s: no reference registered (targets/reference)", name)
		}
		if _, ok := pcap.Lookup(name); !ok {
			t.Errorf("%s: no pcap dissector registered (pcap/%s: pcap.Register)", name, name)
		}
		if _, err := engine.LookupModel(name); err != nil {
			t.Errorf("%s: no network-fuzz model registered (fuzz/%s: engine.Register): %v", name, name, err)
		}
		if _, err := loadgen.LookupClient(name); err != nil {
			t.Errorf("%s: no load client registered (reference/%s: loadgen.Register): %v", name, name, err)
		}
		if _, err := stress.Lookup(name); err != nil {
			t.Errorf("%s: no stress battery registered (fuzz/%s: stress.Register): %v", name, name, err)
		}
		if n := nativeFuzzTargets(t, filepath.Join(root, "fuzz", name)); n == 0 {
			t.Errorf("%s: fuzz/%s has no native fuzz target (func FuzzXxx(f *testing.F))", name, name)
		}
		for _, room := range []string{"reference", "suites", "fuzz", "pcap", "internal"} {
			if st, err := os.Stat(filepath.Join(root, room, name)); err != nil || !st.IsDir() {
				t.Errorf("%s: no %s/%s folder", name, room, name)
			}
		}
	}
}

// TestEverySuiteRegistered checks the other way round: a protocol whose
// suite folder exists is registered (its rooms are imported by
// protocols.go).
func TestEverySuiteRegistered(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join(root, "suites"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "spec" {
			continue
		}
		if _, ok := protocol.Lookup(d.Name()); !ok {
			t.Errorf("suites/%s exists but no contract %q is registered: import its rooms in protocols/protocols.go", d.Name(), d.Name())
		}
	}
}

// nativeFuzzTargets counts the FuzzXxx(f *testing.F) functions in dir's
// test files.
func nativeFuzzTargets(t *testing.T, dir string) int {
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	n := 0
	for _, f := range files {
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Fuzz") {
				n++
			}
		}
	}
	return n
}

// engines are the protocol-free folders: they know no protocol, every
// protocol registers with them from its own rooms.
var engines = []string{
	"cmd/protospec", "pcap", "fuzz/engine", "internal/loadgen", "internal/protocol", "internal/stress",
	"internal/dial", "internal/tlsfixture", "targets", "suites/spec", "reports", "protocols",
}

// TestEnginesProtocolFree checks that no non-test Go file of an engine
// names a registered protocol in a string literal, a word at a time
// ("run http1", "dns/udp"); comments may.
func TestEnginesProtocolFree(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)
	words := regexp.MustCompile(`\b(` + strings.Join(protocol.Names(), "|") + `)\b`)
	for _, dir := range engines {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if len(files) == 0 {
			t.Errorf("%s: no Go files (the engine list is out of date)", dir)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			ast.Inspect(af, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ImportSpec:
					return false // registration imports name the rooms
				case *ast.BasicLit:
					if n.Kind != token.STRING {
						return true
					}
					s, err := strconv.Unquote(n.Value)
					if err != nil {
						return true
					}
					// Format verbs are not words: "%dns" is %d and "ns".
					if m := words.FindString(verbs.ReplaceAllString(s, " ")); m != "" {
						t.Errorf("%s: the string %q names the protocol %q: let the protocol register it from its rooms", fset.Position(n.Pos()), excerpt(s), m)
					}
				}
				return true
			})
		}
	}
}

func excerpt(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
