//go:build ignore

// Command move-sections moves each spec declaration of a suite into the
// file of its own chapter: a statement of a Describe body whose specs all
// belong to sections of another chapter (<doc>_<n>, from the section
// variable's name) goes to the file named <doc>_<n>_*.go, created when
// there is none, with the section variables it uses. IDs do not change.
// Unused imports left behind are for the caller to prune (go build names
// them).
//
//	go run scripts/move-sections/main.go suites/http1
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// titles names the chapters that get a new file.
var titles = map[string][2]string{
	"rfc9110_2":  {"versions", "RFC 9110 2 Conformance: Protocol Version"},
	"rfc9110_4":  {"identifiers", "RFC 9110 4 Identifiers in HTTP"},
	"rfc9110_5":  {"fields", "RFC 9110 5 Fields"},
	"rfc9110_6":  {"message", "RFC 9110 6 Message Abstraction"},
	"rfc9110_15": {"status", "RFC 9110 15 Status Codes"},
	"rfc9112_8":  {"incomplete", "RFC 9112 8 Handling Incomplete Messages"},
}

var fileRE = regexp.MustCompile(`^(rfc[0-9a-z]+)_([0-9]+)_[a-z_]+\.go$`)

func chapterOfVar(v string) string {
	parts := strings.SplitN(v, "_", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "_" + parts[1]
}

type move struct {
	from, to int // offsets in the source
	text     string
	vars     map[string]bool
}

func main() {
	dir := os.Args[1]
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	sort.Strings(files)
	fset := token.NewFileSet()
	srcs := map[string][]byte{}
	asts := map[string]*ast.File{}
	chapterFile := map[string]string{}
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(p)
		f, err := parser.ParseFile(fset, p, b, parser.ParseComments)
		if err != nil {
			panic(err)
		}
		srcs[p], asts[p] = b, f
		if m := fileRE.FindStringSubmatch(filepath.Base(p)); m != nil {
			chapterFile[m[1]+"_"+m[2]] = p
		}
	}
	// section variable declarations: name -> (file, offsets)
	type decl struct {
		file     string
		from, to int
	}
	decls := map[string]decl{}
	for p, f := range asts {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR || len(g.Specs) != 1 {
				continue
			}
			vs := g.Specs[0].(*ast.ValueSpec)
			if len(vs.Names) == 1 && len(vs.Values) == 1 {
				if c, ok := vs.Values[0].(*ast.CallExpr); ok {
					if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Section" {
						decls[vs.Names[0].Name] = decl{p, fset.Position(g.Pos()).Offset, fset.Position(g.End()).Offset}
					}
				}
			}
		}
	}
	moves := map[string][]move{}      // source file -> moves
	incoming := map[string][]string{} // target chapter -> texts
	usedElsewhere := map[string]bool{}
	movedVars := map[string]string{} // var -> target chapter
	for _, p := range files {
		f := asts[p]
		if f == nil {
			continue
		}
		m := fileRE.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			continue
		}
		own := m[1] + "_" + m[2]
		cmap := ast.NewCommentMap(fset, f, f.Comments)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			vs := g.Specs[0].(*ast.ValueSpec)
			if len(vs.Values) != 1 {
				continue
			}
			call, ok := vs.Values[0].(*ast.CallExpr)
			if !ok {
				continue
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "Describe" {
				continue
			}
			body := call.Args[len(call.Args)-1].(*ast.FuncLit).Body
			for _, st := range body.List {
				vars := map[string]bool{}
				ast.Inspect(st, func(n ast.Node) bool {
					if c, ok := n.(*ast.CallExpr); ok {
						if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "It" {
							if x, ok := sel.X.(*ast.Ident); ok {
								if _, isSec := decls[x.Name]; isSec {
									vars[x.Name] = true
								}
							}
						}
					}
					return true
				})
				chapters := map[string]bool{}
				for v := range vars {
					chapters[chapterOfVar(v)] = true
				}
				if len(chapters) != 1 {
					for v := range vars {
						usedElsewhere[v] = true
					}
					continue
				}
				var to string
				for c := range chapters {
					to = c
				}
				if to == own || strings.HasPrefix(own, "rfc6265") {
					for v := range vars {
						usedElsewhere[v] = true
					}
					continue
				}
				start := st.Pos()
				for _, cg := range cmap[st] {
					if cg.Pos() < start {
						start = cg.Pos()
					}
				}
				from := fset.Position(start).Offset
				end := fset.Position(st.End()).Offset
				// take the whole lines
				for from > 0 && srcs[p][from-1] != '\n' {
					from--
				}
				for end < len(srcs[p]) && srcs[p][end] != '\n' {
					end++
				}
				end++
				text := string(srcs[p][from:end])
				moves[p] = append(moves[p], move{from, end, text, vars})
				incoming[to] = append(incoming[to], text)
				for v := range vars {
					movedVars[v] = to
				}
			}
		}
	}
	// a section variable moves with its specs unless some stay behind
	varsTo := map[string][]string{}
	for v, to := range movedVars {
		if usedElsewhere[v] {
			continue
		}
		d := decls[v]
		text := string(srcs[d.file][d.from:d.to])
		varsTo[to] = append(varsTo[to], text)
		moves[d.file] = append(moves[d.file], move{d.from, d.to + 1, "", nil})
	}
	for p, ms := range moves {
		sort.Slice(ms, func(i, j int) bool { return ms[i].from > ms[j].from })
		b := srcs[p]
		for _, mv := range ms {
			b = append(append([]byte{}, b[:mv.from]...), b[mv.to:]...)
		}
		srcs[p] = b
	}
	chapters := make([]string, 0, len(incoming))
	for c := range incoming {
		chapters = append(chapters, c)
	}
	sort.Strings(chapters)
	for _, c := range chapters {
		sort.Strings(varsTo[c])
		texts := strings.Join(incoming[c], "\n")
		if p, ok := chapterFile[c]; ok {
			b := srcs[p]
			// before the closing "})" of the last Describe
			i := bytes.LastIndex(b, []byte("\n})"))
			nb := append([]byte{}, b[:i+1]...)
			nb = append(nb, []byte("\n"+texts)...)
			nb = append(nb, b[i+1:]...)
			if vs := varsTo[c]; len(vs) > 0 {
				j := bytes.Index(nb, []byte("\nvar "))
				nb = append(append(append([]byte{}, nb[:j+1]...), []byte(strings.Join(vs, "\n")+"\n")...), nb[j+1:]...)
			}
			srcs[p] = nb
			continue
		}
		t, ok := titles[c]
		if !ok {
			panic("no title for chapter " + c)
		}
		p := filepath.Join(dir, c+"_"+t[0]+".go")
		var b strings.Builder
		fmt.Fprintf(&b, "package %s\n\nimport (\n\t\"bytes\"\n\t\"fmt\"\n\t\"strconv\"\n\t\"strings\"\n\t\"time\"\n\n\t. \"github.com/onsi/ginkgo/v2\"\n\n\tfixture \"github.com/protospec/protospec/internal/http1\"\n\t\"github.com/protospec/protospec/suites/spec\"\n)\n\n", asts[files[0]].Name.Name)
		b.WriteString(strings.Join(varsTo[c], "\n") + "\n\n")
		fmt.Fprintf(&b, "// %s.\nvar _ = Describe(%q, func() {\n%s})\n", t[1], t[1], texts)
		srcs[p] = []byte(b.String())
	}
	for p, b := range srcs {
		out, err := format.Source(b)
		if err != nil {
			os.WriteFile(p, b, 0o644)
			fmt.Fprintln(os.Stderr, p, err)
			continue
		}
		os.WriteFile(p, out, 0o644)
	}
}
