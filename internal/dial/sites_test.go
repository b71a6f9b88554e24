package dial

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// dialAllowed are the non-test files outside internal/dial that may dial
// by themselves, with the reason. Listeners (net.Listen, ListenPacket,
// ListenUDP) are not dials and are not looked for.
var dialAllowed = map[string]string{
	// The reference resolver's upstream queries are a server's own
	// client, not a pillar of protospec reaching a target: over UDP each
	// query needs a fresh socket with a kernel-chosen random source port
	// (RFC 5452 9.2), which a shared dialer must not impose on the
	// pillars, and the reference keeps no dependency on the tool's
	// transport (its TLS configuration, key log, source address).
	"reference/dns/upstream.go": "the reference resolver's upstream queries (RFC 5452 per-query sockets)",
	// The reference MTA's relay worker is likewise a server's own SMTP
	// client delivering its queue to the next hop, not the tool reaching
	// a target; it must not inherit the tool's TLS key log or source
	// address, and it bounds the dial (10 s) and the session (5 min).
	"reference/smtp/queue.go": "the reference MTA's outbound relay to the next hop (a server's own client)",
}

// dialFuncs are the calls that open a client connection without
// internal/dial, by import path and name ("" matches any name starting
// with Dial).
var dialFuncs = map[string][]string{
	"net":                  {"Dial", "DialTimeout", "DialTCP", "DialUDP", "DialIP", "DialUnix"},
	"crypto/tls":           {"Dial", "DialWithDialer"},
	"github.com/miekg/dns": {""},
}

// TestOneDialer is issue 10's "one dialer used by every pillar": no
// non-test Go file outside internal/dial calls net.Dial, net.DialTimeout,
// tls.Dial, miekg's dns.Dial* or a miekg Client's Exchange, or uses a
// net.Dialer (which covers (&net.Dialer{...}).Dial and DialContext),
// except the allow-listed ones.
func TestOneDialer(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var found []string
	used := map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") || rel == "internal/dial" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, site := range dialSites(fset, f) {
			if _, ok := dialAllowed[rel]; ok {
				used[rel] = true
				continue
			}
			found = append(found, rel+":"+site)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(found)
	if len(found) > 0 {
		t.Errorf("dial through internal/dial (dial.Dialer) instead, or allow-list the file with the reason in dialAllowed:\n  %s", strings.Join(found, "\n  "))
	}
	for rel, why := range dialAllowed {
		if !used[rel] {
			t.Errorf("%s is allow-listed (%s) but dials no more: remove it from dialAllowed", rel, why)
		}
	}
}

// dialSites lists the line and expression of each dial in f.
func dialSites(fset *token.FileSet, f *ast.File) []string {
	imports := map[string]string{} // local name -> import path
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = p
	}
	// miekg's Client dials by itself in Exchange, ExchangeContext and
	// Dial (ExchangeWithConn takes a connection of ours): the receivers
	// are a Client literal or a variable assigned one in the file.
	isClient := func(e ast.Expr) bool {
		for {
			switch x := e.(type) {
			case *ast.ParenExpr:
				e = x.X
				continue
			case *ast.UnaryExpr:
				e = x.X
				continue
			case *ast.CompositeLit:
				if s, ok := x.Type.(*ast.SelectorExpr); ok {
					if id, ok := s.X.(*ast.Ident); ok && imports[id.Name] == "github.com/miekg/dns" && s.Sel.Name == "Client" {
						return true
					}
				}
			}
			return false
		}
	}
	clients := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == len(as.Rhs) {
			for i, r := range as.Rhs {
				if id, ok := as.Lhs[i].(*ast.Ident); ok && isClient(r) {
					clients[id.Name] = true
				}
			}
		}
		return true
	})
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		switch sel.Sel.Name {
		case "Exchange", "ExchangeContext", "Dial", "DialContext":
			id, _ := sel.X.(*ast.Ident)
			if isClient(sel.X) || id != nil && clients[id.Name] {
				out = append(out, strconv.Itoa(fset.Position(sel.Pos()).Line)+": dns.Client."+sel.Sel.Name)
				return true
			}
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		path := imports[pkg.Name]
		hit := path == "net" && sel.Sel.Name == "Dialer"
		for _, name := range dialFuncs[path] {
			if name == sel.Sel.Name || name == "" && strings.HasPrefix(sel.Sel.Name, "Dial") {
				hit = true
			}
		}
		if hit {
			out = append(out, strconv.Itoa(fset.Position(sel.Pos()).Line)+": "+pkg.Name+"."+sel.Sel.Name)
		}
		return true
	})
	return out
}

// The detector sees the forms the rule names and not listeners or
// comments.
func TestDialSites(t *testing.T) {
	src := `package p

import (
	"context"
	"crypto/tls"
	"net"

	mdns "github.com/miekg/dns"
)

// net.Dial("tcp", "x") in a comment is no dial.
func f(ctx context.Context) {
	net.Dial("tcp", "127.0.0.1:1")
	net.DialTimeout("tcp", "127.0.0.1:1", 0)
	(&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:1")
	tls.Dial("tcp", "127.0.0.1:1", nil)
	mdns.DialTimeout("udp", "127.0.0.1:53", 0)
	(&mdns.Client{}).Exchange(nil, "127.0.0.1:53")
	c := &mdns.Client{Net: "tcp"}
	c.ExchangeContext(ctx, nil, "127.0.0.1:53")
	c.ExchangeWithConnContext(ctx, nil, nil)
	net.Listen("tcp", "127.0.0.1:0")
	net.ListenPacket("udp", "127.0.0.1:0")
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(dialSites(fset, f), "; ")
	want := "13: net.Dial; 14: net.DialTimeout; 15: net.Dialer; 16: tls.Dial; 17: mdns.DialTimeout; 18: dns.Client.Exchange; 20: dns.Client.ExchangeContext"
	if got != want {
		t.Errorf("sites %q\nwant %q", got, want)
	}
}
