package reports

import (
	"regexp"
	"strings"
)

var (
	rfcDoc        = regexp.MustCompile(`^rfc([0-9]{1,5})$`)
	numberSection = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	appendixSect  = regexp.MustCompile(`^[A-Z](\.[0-9]+)*$`)
)

// RequirementURL links a section of a document at the RFC Editor:
// "https://www.rfc-editor.org/rfc/rfc9112#section-9.3" for rfc9112 9.3,
// the "#appendix-A.1" of an appendix, or the whole RFC when the section
// is not numbered (RFC 862's "tcp"). A document that is not an RFC (a
// draft, a protocol protospec defines) has no link: "".
func RequirementURL(doc, section string) string {
	m := rfcDoc.FindStringSubmatch(strings.ToLower(doc))
	if m == nil {
		return ""
	}
	u := "https://www.rfc-editor.org/rfc/rfc" + strings.TrimLeft(m[1], "0")
	switch {
	case numberSection.MatchString(section):
		u += "#section-" + section
	case appendixSect.MatchString(section):
		u += "#appendix-" + section
	}
	return u
}

// Link is the spec's URL, or the one RequirementURL gives for the
// section its sentence is in when the report predates the field.
func (s Spec) Link() string {
	if s.URL != "" {
		if strings.HasPrefix(s.URL, "https://") || strings.HasPrefix(s.URL, "http://") {
			return s.URL
		}
		return ""
	}
	return RequirementURL(s.Doc, s.citedSection())
}

func (s Spec) citedSection() string {
	if s.SentenceSection != "" {
		return s.SentenceSection
	}
	return s.Section
}

// Cite names where the requirement is, as a reader looks it up:
// "RFC 9112 section 9.3 (Persistence)", "RFC 862 tcp", "uppercase tcp".
func (s Spec) Cite() string {
	doc := s.Doc
	if m := rfcDoc.FindStringSubmatch(strings.ToLower(doc)); m != nil {
		doc = "RFC " + m[1]
	}
	sec := s.citedSection()
	var b strings.Builder
	b.WriteString(doc)
	if sec != "" {
		if numberSection.MatchString(sec) {
			b.WriteString(" section ")
		} else if appendixSect.MatchString(sec) {
			b.WriteString(" appendix ")
		} else {
			b.WriteString(" ")
		}
		b.WriteString(sec)
	}
	if s.SectionTitle != "" && s.SentenceSection == "" {
		b.WriteString(" (" + s.SectionTitle + ")")
	}
	return strings.TrimSpace(b.String())
}

// Requirement is the requirement as the reports show it under a failure,
// as h2spec's "-> requirement" does: the citation, the sentence and its
// link, one per line, each line prefixed by indent. Empty when the spec
// carries no sentence.
func (s Spec) Requirement(indent string) string {
	if s.Sentence == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(indent + "-> " + s.Cite() + ":\n")
	sentence := strings.TrimSpace(s.Sentence)
	if !strings.Contains(sentence, `"`) {
		// A sentence that quotes its document itself keeps its own
		// quotes; any other is quoted here.
		sentence = `"` + sentence + `"`
	}
	b.WriteString(indent + "   " + sentence + "\n")
	if s.Inferred != "" {
		b.WriteString(indent + "   (no RFC 2119 keyword: " + s.Inferred + ")\n")
	}
	if u := s.Link(); u != "" {
		b.WriteString(indent + "   " + u + "\n")
	}
	return b.String()
}
