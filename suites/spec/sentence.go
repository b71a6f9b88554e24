package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// A Sentence is the requirement as its document words it: the text a
// failure and `protospec list --sentences` show.
type Sentence struct {
	// Text is the document's sentence, quoted exactly (an ellipsis marks
	// what is left out), or the statement of protospec's fixture contract.
	Text string
	// Inferred, when set, says why Text does not carry its level's RFC
	// 2119 keyword: the document predates RFC 2119 (RFC 862-867, 1034,
	// 1035), or it states the requirement without the keyword.
	Inferred string
	// Shared, when set, says why another spec of the same document quotes
	// the same sentence (one sentence, several cases of it).
	Shared string
	// Section, when set, is the section of the document the sentence is
	// in, when it is not the spec's own (a requirement of 9.3 worded in
	// 9.5).
	Section string
}

// Quote is a sentence quoted from the document; it must contain its
// level's keyword.
func Quote(text string) Sentence { return Sentence{Text: text} }

// Inferred is a sentence that states a requirement without an RFC 2119
// keyword; reason says why the spec gives it a level anyway.
func Inferred(text, reason string) Sentence { return Sentence{Text: text, Inferred: reason} }

// Fixture is a statement of protospec's fixture contract, for FIXTURE
// specs: what the fixture's endpoints do, which no RFC demands.
func Fixture(text string) Sentence { return Sentence{Text: text} }

// In says the sentence is in another section of the same document.
func (s Sentence) In(section string) Sentence {
	s.Section = section
	return s
}

// Cite is where the sentence is: "rfc9112 9.5" for a spec of rfc9112.
func (m Meta) Cite() string {
	if m.Sentence.Section != "" {
		return m.ID.Doc + " " + m.Sentence.Section
	}
	return m.ID.Doc + " " + m.ID.Section
}

// SharedBecause marks a sentence that several specs quote, each checking
// one case of it.
func (s Sentence) SharedBecause(reason string) Sentence {
	s.Shared = reason
	return s
}

// keywords are the RFC 2119 key words of each level.
var keywords = map[Level]*regexp.Regexp{
	MUST:   regexp.MustCompile(`\b(MUST|REQUIRED|SHALL)\b`),
	SHOULD: regexp.MustCompile(`\b(SHOULD|RECOMMENDED)\b`),
	MAY:    regexp.MustCompile(`\b(MAY|OPTIONAL)\b`),
}

// CheckSentence checks that a spec's sentence is there and, unless it is
// marked inferred or the spec is FIXTURE, carries its level's RFC 2119
// keyword (MUST, MUST NOT, REQUIRED, SHALL, SHALL NOT for MUST; SHOULD,
// SHOULD NOT, RECOMMENDED, NOT RECOMMENDED for SHOULD; MAY, OPTIONAL for
// MAY).
func CheckSentence(m Meta) error {
	if !m.Level.valid() {
		return fmt.Errorf("spec: %s: level %q is not MUST, SHOULD, MAY or FIXTURE", m.ID, m.Level)
	}
	text := strings.TrimSpace(m.Sentence.Text)
	if text == "" {
		return fmt.Errorf("spec: %s quotes no sentence", m.ID)
	}
	if m.Level == FIXTURE || m.Sentence.Inferred != "" {
		return nil
	}
	if !keywords[m.Level].MatchString(text) {
		return fmt.Errorf("spec: %s is %s but its sentence has no %s keyword (mark it Inferred with a reason): %q", m.ID, m.Level, m.Level, text)
	}
	return nil
}
