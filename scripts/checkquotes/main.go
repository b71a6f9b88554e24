//go:build ignore

// Command checkquotes checks that every spec's sentence is the words of its
// document: each quoted fragment must appear, in order, in the document's
// text once whitespace, line breaks, quote marks and hyphenation are
// normalised. A sentence that opens with a quote mark or comments on its
// document ("RFC 1034 4.3.2 step 3a: \"...\"") is checked on its quoted
// parts only; any other sentence is checked whole. An ellipsis ("..." or "…") separates
// fragments that must appear in order.
//
// The documents' texts are not in the repository (they are public text,
// not the project's): put one plain-text file per document, named after
// the spec IDs' document part, in a folder (rfc9112.txt, rfc1035.txt...).
// It is not run in CI.
//
//	go run ./cmd/protospec list http1 --json > /tmp/http1.json
//	go run scripts/checkquotes/main.go -texts /tmp/rfc /tmp/http1.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

type listed struct {
	ID       string `json:"id"`
	Level    string `json:"level"`
	Doc      string `json:"doc"`
	Section  string `json:"section"`
	Title    string `json:"title"`
	Sentence string `json:"sentence"`
}

var (
	spaceRE  = regexp.MustCompile(`\s+`)
	hyphenRE = regexp.MustCompile(`(\w)- (\w)`)
	quotedRE = regexp.MustCompile(`"([^"]+)"`)
	elideRE  = regexp.MustCompile(`\s*(\.\.\.|…)\s*`)
	// rfcJunk is what a plain-text RFC has between pages.
	rfcJunk = regexp.MustCompile(`(?m)^.*\[Page \d+\]\s*\n\f?\s*\n?RFC \d+ .*\n`)
)

// norm makes two renderings of one document compare equal: the plain
// text quotes a defined term ("strong validator") where the HTML has
// none, so double quotes are dropped; whitespace, line breaks and
// hyphenation are folded.
func norm(s string) string {
	r := strings.NewReplacer("“", "", "”", "", `"`, "", "‘", "'", "’", "'", "\\*", "*", "\u00a0", " ", "\u2011", "-", "\f", " ")
	s = r.Replace(s)
	s = spaceRE.ReplaceAllString(s, " ")
	s = hyphenRE.ReplaceAllString(s, "$1-$2")
	return strings.TrimSpace(s)
}

// commentRE matches a sentence that comments on its document ("RFC 1034
// 4.3.2 step 3a: ...", "As above, over TCP"): only its quoted parts, if
// any, are the document's words.
var commentRE = regexp.MustCompile(`^(RFC \d+|draft-|\d+(\.\d+)*( /|:| [a-z-]+:)|As above)`)

// fragments returns the parts of a sentence that must be the document's
// words, in order; comment is set when the sentence comments rather than
// quotes (and then holds no words to check if fragments is empty).
func fragments(sentence string) (out []string, comment bool) {
	raw := strings.TrimSpace(sentence)
	var parts []string
	if strings.HasPrefix(raw, `"`) || commentRE.MatchString(raw) {
		comment = true
		for _, m := range quotedRE.FindAllStringSubmatch(raw, -1) {
			parts = append(parts, m[1])
		}
	} else {
		parts = []string{raw}
	}
	for _, p := range parts {
		for _, f := range elideRE.Split(norm(p), -1) {
			f = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(f), ".,;:"))
			f = strings.Trim(f, "()")
			if len(f) >= 3 {
				out = append(out, f)
			}
		}
	}
	return out, comment
}

// find reports whether every fragment occurs in text, in order; missing
// is the first that does not.
func find(text string, frags []string) (ok bool, missing string) {
	at := 0
	for _, f := range frags {
		i := strings.Index(text[at:], f)
		if i < 0 {
			// A fragment quoted out of order still counts as the
			// document's words; report order only if absent.
			if strings.Contains(text, f) {
				continue
			}
			return false, f
		}
		at += i + len(f)
	}
	return true, ""
}

// nearest is the document's sentence sharing the most words, in order of
// appearance, with frag.
func nearest(sentences []string, frag string) string {
	fw := words(frag)
	best, bestScore := "", 0
	for _, s := range sentences {
		sw := words(s)
		score := 0
		for w := range fw {
			if sw[w] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = s, score
		}
	}
	return best
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') })
	for i := 0; i+1 < len(f); i++ {
		m[f[i]+" "+f[i+1]] = true
	}
	return m
}

var others = map[string]string{}

// elsewhere names the other document whose text holds frag, if any.
func elsewhere(dir, doc, frag string) string {
	if len(others) == 0 {
		names, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err == nil {
				others[strings.TrimSuffix(filepath.Base(n), ".txt")] = norm(rfcJunk.ReplaceAllString(string(b), "\n"))
			}
		}
	}
	for name, text := range others {
		if name != doc && strings.Contains(text, frag) {
			return name
		}
	}
	return ""
}

var sentenceEnd = regexp.MustCompile(`([.;:])\s+`)

func splitSentences(text string) []string {
	return strings.Split(sentenceEnd.ReplaceAllString(text, "$1\n"), "\n")
}

func main() {
	texts := flag.String("texts", "/tmp/rfc", "folder of the documents' plain texts, <doc>.txt")
	quiet := flag.Bool("q", false, "print only the summary per document")
	flag.Parse()
	var specs []listed
	for _, f := range flag.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		var l []listed
		if err := json.Unmarshal(b, &l); err != nil {
			fmt.Fprintln(os.Stderr, f, err)
			os.Exit(2)
		}
		specs = append(specs, l...)
	}
	docs := map[string]string{}
	sents := map[string][]string{}
	type tally struct{ checked, wrong, cross, comment, notext int }
	per := map[string]*tally{}
	bad := 0
	for _, s := range specs {
		t := per[s.Doc]
		if t == nil {
			t = &tally{}
			per[s.Doc] = t
		}
		if s.Level == "FIXTURE" {
			continue
		}
		text, seen := docs[s.Doc]
		if !seen {
			b, err := os.ReadFile(filepath.Join(*texts, s.Doc+".txt"))
			if err == nil {
				text = norm(rfcJunk.ReplaceAllString(string(b), "\n"))
			}
			docs[s.Doc] = text
			sents[s.Doc] = splitSentences(text)
		}
		if text == "" {
			t.notext++
			continue
		}
		t.checked++
		frags, comment := fragments(s.Sentence)
		if comment && len(frags) == 0 {
			t.comment++
			continue
		}
		ok, missing := find(text, frags)
		if ok {
			continue
		}
		// A spec may quote a companion document ("RFC 9110 9.3.6: ...").
		if other := elsewhere(*texts, s.Doc, missing); other != "" {
			t.cross++
			continue
		}
		t.wrong++
		bad++
		if !*quiet {
			fmt.Printf("%s\n  quote:   %s\n  missing: %s\n  nearest: %s\n\n", s.ID, s.Sentence, missing, nearest(sents[s.Doc], missing))
		}
	}
	var names []string
	for d := range per {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		t := per[d]
		fmt.Printf("%-12s checked %3d  not the document's words %3d  quoted from another document %3d  comment without a quote %3d  no text %3d\n", d, t.checked, t.wrong, t.cross, t.comment, t.notext)
	}
	if bad > 0 {
		os.Exit(1)
	}
}
