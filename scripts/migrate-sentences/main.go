//go:build ignore

// Command migrate-sentences rewrites a suite's spec.It("<proto>/<doc>/<section>/<slug>", ...)
// declarations into spec.Section(...).It("<slug>", ...) with the RFC
// sentence that the comment above each spec quoted lifted into data
// (spec.Quote, or spec.Inferred for documents older than RFC 2119). A spec
// without a comment of its own takes the previous spec's sentence, marked
// as shared, for a person to replace with its own. It prints what it could
// not lift. Kept for suites written before the sentence API:
//
//	go run scripts/migrate-sentences/main.go suites/echo suites/http1 suites/dns
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
	"strconv"
	"strings"
)

// pre2119 are the documents written before RFC 2119's key words.
var pre2119 = map[string]bool{"rfc862": true, "rfc863": true, "rfc864": true, "rfc867": true, "rfc1034": true, "rfc1035": true}

type edit struct {
	from, to int
	text     string
}

type section struct{ proto, doc, sec string }

func (s section) varName() string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return r.Replace(s.doc + "_" + s.sec)
}

func main() {
	for _, dir := range os.Args[1:] {
		if err := migrate(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func migrate(dir string) error {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	sort.Strings(files)
	declared := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		if err := migrateFile(path, declared); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

var levelWord = map[string]*regexp.Regexp{
	"spec.MUST":   regexp.MustCompile(`\b(MUST|REQUIRED|SHALL)\b`),
	"spec.SHOULD": regexp.MustCompile(`\b(SHOULD|RECOMMENDED)\b`),
	"spec.MAY":    regexp.MustCompile(`\b(MAY|OPTIONAL)\b`),
}

var keyword = regexp.MustCompile(`\b(MUST|REQUIRED|SHALL|SHOULD|RECOMMENDED|MAY|OPTIONAL)\b`)

func migrateFile(path string, declared map[string]bool) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return err
	}
	line := func(p token.Pos) int { return fset.Position(p).Line }
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	// comment groups by the line they end on
	byEnd := map[int]*ast.CommentGroup{}
	for _, cg := range f.Comments {
		byEnd[line(cg.End())] = cg
	}
	var edits []edit
	var sections []section
	seenSec := map[string]bool{}
	removed := map[*ast.CommentGroup]bool{}
	lastSentence := map[string]string{} // per doc
	used := map[string]bool{}           // doc + sentence already quoted

	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "It" {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "spec" || len(call.Args) < 4 {
			return true
		}
		// The ID: a literal, or a literal + expressions.
		first := call.Args[0]
		var lit *ast.BasicLit
		var rest string
		switch a := first.(type) {
		case *ast.BasicLit:
			lit = a
		case *ast.BinaryExpr:
			l := a
			for {
				if b, ok := l.X.(*ast.BinaryExpr); ok {
					l = b
					continue
				}
				break
			}
			lit, _ = l.X.(*ast.BasicLit)
			rest = string(src[off(l.OpPos):off(a.End())])
		}
		if lit == nil {
			fmt.Printf("%s: cannot read the ID of the spec at line %d\n", path, line(call.Pos()))
			return true
		}
		id, _ := strconv.Unquote(lit.Value)
		parts := strings.SplitN(id, "/", 4)
		if len(parts) != 4 {
			fmt.Printf("%s:%d: ID %q\n", path, line(call.Pos()), id)
			return true
		}
		s := section{parts[0], parts[1], parts[2]}
		if !seenSec[s.varName()] {
			seenSec[s.varName()] = true
			sections = append(sections, s)
		}
		slug := strconv.Quote(parts[3])
		if rest != "" {
			if parts[3] == "" {
				slug = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "+"))
			} else {
				slug += " " + rest
			}
		}
		// The comment: adjacent to the innermost enclosing statement
		// that has one, up to the Describe body.
		var cg *ast.CommentGroup
		inLoop := false
	walk:
		for i := len(stack) - 1; i >= 0; i-- {
			switch st := stack[i].(type) {
			case *ast.FuncLit:
				if isDescribeBody(stack, i) {
					break walk
				}
			case *ast.BlockStmt:
			case *ast.ForStmt, *ast.RangeStmt:
				inLoop = true
				if c := byEnd[line(st.Pos())-1]; c != nil && cg == nil {
					cg = c
				}
			case ast.Stmt:
				if c := byEnd[line(st.Pos())-1]; c != nil && cg == nil {
					cg = c
				}
			}
		}
		doc := parts[1]
		text := ""
		if cg != nil {
			text = sentenceOf(cg.Text())
			if !removed[cg] {
				removed[cg] = true
				edits = append(edits, edit{off(cg.Pos()), lineEnd(src, off(cg.End())), ""})
			}
		}
		shared := ""
		switch {
		case text == "" && lastSentence[doc] != "":
			text = lastSentence[doc]
			shared = "migrated: a sentence of its own is still to be quoted"
		case text == "":
			fmt.Printf("%s:%d: %s has no sentence\n", path, line(call.Pos()), id)
			text = "?"
		case used[doc+"\x00"+text] && !inLoop:
			shared = "one sentence, several cases of it"
		}
		if inLoop && shared == "" {
			shared = "one sentence, one spec per case of the list"
		}
		used[doc+"\x00"+text] = true
		lastSentence[doc] = text
		level := string(src[off(call.Args[1].Pos()):off(call.Args[1].End())])
		var sent string
		switch {
		case level == "spec.FIXTURE":
			sent = "spec.Fixture(" + goString(text) + ")"
		case pre2119[doc] && !keyword.MatchString(text):
			sent = "spec.Inferred(" + goString(text) + ", " + strconv.Quote(strings.ToUpper(doc[:3])+" "+doc[3:]+" predates RFC 2119's key words") + ")"
		case doc == "uppercase":
			sent = "spec.Inferred(" + goString(text) + ", " + strconv.Quote("the uppercase protocol is protospec's own; reference/echo defines it without RFC 2119 key words") + ")"
		case !levelWord[level].MatchString(text):
			fmt.Printf("%s:%d: %s: no %s key word in %q\n", path, line(call.Pos()), id, level, text)
			sent = "spec.Inferred(" + goString(text) + ", " + strconv.Quote("migrated: the comment quoted no "+strings.TrimPrefix(level, "spec.")+" key word; the level is the suite's reading") + ")"
		default:
			sent = "spec.Quote(" + goString(text) + ")"
		}
		if shared != "" {
			sent += ".SharedBecause(" + strconv.Quote(shared) + ")"
		}
		edits = append(edits,
			edit{off(sel.X.Pos()), off(sel.X.End()), s.varName()},
			edit{off(first.Pos()), off(first.End()), slug},
			edit{off(call.Args[2].End()), off(call.Args[2].End()), ", " + sent},
		)
		return true
	})
	if len(edits) == 0 {
		return nil
	}
	// section variables, declared in the first file that uses them
	var decl bytes.Buffer
	for _, s := range sections {
		if declared[s.varName()] {
			continue
		}
		declared[s.varName()] = true
		fmt.Fprintf(&decl, "var %s = spec.Section(%q, %q, %q, %q)\n", s.varName(), s.proto, s.doc, s.sec, title(s))
	}
	if decl.Len() > 0 {
		at := off(f.Decls[0].End())
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
				at = off(g.End())
			}
		}
		edits = append(edits, edit{at, at, "\n\n" + decl.String()})
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].from > edits[j].from })
	out := src
	for _, e := range edits {
		out = append(append(append([]byte{}, out[:e.from]...), e.text...), out[e.to:]...)
	}
	formatted, err := format.Source(out)
	if err != nil {
		os.WriteFile(path+".broken", out, 0o644)
		return fmt.Errorf("formatting: %w", err)
	}
	return os.WriteFile(path, formatted, 0o644)
}

// isDescribeBody reports whether stack[i] is the function of a
// Describe/Context call.
func isDescribeBody(stack []ast.Node, i int) bool {
	if i == 0 {
		return false
	}
	call, ok := stack[i-1].(*ast.CallExpr)
	if !ok {
		return false
	}
	if id, ok := call.Fun.(*ast.Ident); ok {
		return id.Name == "Describe" || id.Name == "Context"
	}
	return false
}

// lineEnd returns the offset after the newline ending the line at i.
func lineEnd(src []byte, i int) int {
	for i < len(src) && src[i] != '\n' {
		i++
	}
	if i < len(src) {
		i++
	}
	return i
}

// sentenceOf joins a comment's lines into one sentence and drops a lone
// section prefix ("9.3: ") and the quotes around a single quotation.
func sentenceOf(c string) string {
	s := strings.Join(strings.Fields(c), " ")
	if m := regexp.MustCompile(`^[0-9][0-9.]*: (".*)$`).FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	if strings.HasPrefix(s, `"`) && strings.Count(s, `"`) == 2 && (strings.HasSuffix(s, `"`) || strings.HasSuffix(s, `".`)) {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "."), `"`)[1:]
	}
	return s
}

func goString(s string) string {
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// title is the heading of a section, where the migration knows it.
func title(s section) string { return titles[s.doc+" "+s.sec] }

var titles = map[string]string{}
