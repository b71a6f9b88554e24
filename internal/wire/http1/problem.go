package http1

import "fmt"

// Level is how strongly the RFC words the requirement a problem breaks.
type Level uint8

// The levels of a problem.
const (
	// LevelMust is a MUST or MUST NOT of the message grammar or framing.
	LevelMust Level = iota + 1
	// LevelShould is a SHOULD, or a form the RFC lets a recipient accept
	// (a bare LF line end, "Content-Length: 5, 5").
	LevelShould
	// LevelNote is not a grammar problem: a bound of the codec was reached
	// or the stream ended inside a message.
	LevelNote
)

// String is "MUST", "SHOULD" or "NOTE".
func (l Level) String() string {
	switch l {
	case LevelMust:
		return "MUST"
	case LevelShould:
		return "SHOULD"
	case LevelNote:
		return "NOTE"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Kind names one grammar or framing problem. Its String and Rule are
// stable: check rules and baselines key on them.
type Kind uint8

// The problems the codec reports.
const (
	KindBareLF Kind = iota + 1
	KindBareCR
	KindEmptyLineBeforeStart
	KindWhitespaceAfterStartLine
	KindRequestLine
	KindStatusLine
	KindStatusLineSyntax
	KindHost
	KindFieldNoColon
	KindFieldName
	KindFieldValue
	KindSpaceBeforeColon
	KindObsFold
	KindCLWithTE
	KindTEInHTTP10
	KindRequestChunked
	KindChunkedTwice
	KindInvalidCL
	KindDuplicateCL
	KindCL1xx204
	KindTE1xx204
	KindBodyAfterNoBody
	KindBodyIncomplete
	KindChunkSize
	KindChunkSizeJunk
	KindChunkExt
	KindChunkLineEnd
	KindChunkDataEnd
	KindTrailerEnd
	KindChunkedIncomplete
	KindHeadIncomplete
	KindHeadTooLarge
	KindChunkLineTooLong
	KindTooManyFields
	KindBodyTooLarge
	kindCount
)

// Rule IDs shared with the pcap check rules (document/section/slug).
const (
	RuleCRLF              = "http1/rfc9112/2.2/crlf-line-ends"
	RuleNoBareCR          = "http1/rfc9112/2.2/no-bare-cr"
	RuleEmptyLineBefore   = "http1/rfc9112/2.2/empty-line-before-start-line"
	RuleNoWhitespaceAfter = "http1/rfc9112/2.2/no-whitespace-after-start-line"
	RuleRequestLine       = "http1/rfc9112/3/request-line-syntax"
	RuleHost              = "http1/rfc9112/3.2/host-required"
	RuleStatusLine        = "http1/rfc9112/4/status-line-syntax"
	RuleFieldLine         = "http1/rfc9112/5/field-line-syntax"
	RuleFieldValue        = "http1/rfc9110/5.5/field-value-chars"
	RuleNoSpaceColon      = "http1/rfc9112/5.1/no-space-before-colon"
	RuleNoObsFold         = "http1/rfc9112/5.2/no-obs-fold"
	RuleCLWithTE          = "http1/rfc9112/6.1/no-content-length-with-transfer-encoding"
	RuleTEInHTTP10        = "http1/rfc9112/6.1/no-transfer-encoding-in-http10"
	RuleRequestChunked    = "http1/rfc9112/6.1/request-chunked-final"
	RuleChunkedOnce       = "http1/rfc9112/6.1/chunked-once"
	RuleValidCL           = "http1/rfc9112/6.3/valid-content-length"
	RuleSingleCL          = "http1/rfc9110/8.6/single-content-length"
	RuleCL1xx204          = "http1/rfc9110/8.6/no-content-length-in-1xx-204"
	RuleTE1xx204          = "http1/rfc9112/6.1/no-transfer-encoding-in-1xx-204"
	RuleNoBodyAfter       = "http1/rfc9112/6.3/no-body-in-head-204-304"
	RuleBodyComplete      = "http1/rfc9112/6.3/body-complete"
	RuleChunked           = "http1/rfc9112/7.1/chunked-syntax"
	RuleIncomplete        = "http1/rfc9112/8/incomplete-message"
	RuleLimitHead         = "http1/limit/head"
	RuleLimitChunkLine    = "http1/limit/chunk-line"
	RuleLimitFields       = "http1/limit/fields"
	RuleLimitBody         = "http1/limit/body"
)

var kinds = [kindCount]struct {
	name  string
	rule  string
	level Level
}{
	KindBareLF:                   {"bare-lf", RuleCRLF, LevelShould},
	KindBareCR:                   {"bare-cr", RuleNoBareCR, LevelMust},
	KindEmptyLineBeforeStart:     {"empty-line-before-start", RuleEmptyLineBefore, LevelShould},
	KindWhitespaceAfterStartLine: {"whitespace-after-start-line", RuleNoWhitespaceAfter, LevelMust},
	KindRequestLine:              {"request-line", RuleRequestLine, LevelMust},
	KindStatusLine:               {"status-line", RuleStatusLine, LevelMust},
	KindStatusLineSyntax:         {"status-line-syntax", RuleStatusLine, LevelMust},
	KindHost:                     {"host", RuleHost, LevelMust},
	KindFieldNoColon:             {"field-no-colon", RuleFieldLine, LevelMust},
	KindFieldName:                {"field-name", RuleFieldLine, LevelMust},
	KindFieldValue:               {"field-value", RuleFieldValue, LevelMust},
	KindSpaceBeforeColon:         {"space-before-colon", RuleNoSpaceColon, LevelMust},
	KindObsFold:                  {"obs-fold", RuleNoObsFold, LevelMust},
	KindCLWithTE:                 {"content-length-with-transfer-encoding", RuleCLWithTE, LevelMust},
	KindTEInHTTP10:               {"transfer-encoding-in-http10", RuleTEInHTTP10, LevelMust},
	KindRequestChunked:           {"request-chunked-not-final", RuleRequestChunked, LevelMust},
	KindChunkedTwice:             {"chunked-twice", RuleChunkedOnce, LevelMust},
	KindInvalidCL:                {"invalid-content-length", RuleValidCL, LevelMust},
	KindDuplicateCL:              {"duplicate-content-length", RuleSingleCL, LevelShould},
	KindCL1xx204:                 {"content-length-in-1xx-204", RuleCL1xx204, LevelMust},
	KindTE1xx204:                 {"transfer-encoding-in-1xx-204", RuleTE1xx204, LevelMust},
	KindBodyAfterNoBody:          {"body-after-no-body", RuleNoBodyAfter, LevelMust},
	KindBodyIncomplete:           {"body-incomplete", RuleBodyComplete, LevelMust},
	KindChunkSize:                {"chunk-size", RuleChunked, LevelMust},
	KindChunkSizeJunk:            {"chunk-size-junk", RuleChunked, LevelMust},
	KindChunkExt:                 {"chunk-ext", RuleChunked, LevelMust},
	KindChunkLineEnd:             {"chunk-line-end", RuleChunked, LevelMust},
	KindChunkDataEnd:             {"chunk-data-end", RuleChunked, LevelMust},
	KindTrailerEnd:               {"trailer-end", RuleChunked, LevelMust},
	KindChunkedIncomplete:        {"chunked-incomplete", RuleChunked, LevelMust},
	KindHeadIncomplete:           {"head-incomplete", RuleIncomplete, LevelNote},
	KindHeadTooLarge:             {"head-too-large", RuleLimitHead, LevelNote},
	KindChunkLineTooLong:         {"chunk-line-too-long", RuleLimitChunkLine, LevelNote},
	KindTooManyFields:            {"too-many-fields", RuleLimitFields, LevelNote},
	KindBodyTooLarge:             {"body-too-large", RuleLimitBody, LevelNote},
}

// String is the kind's stable short name, e.g. "obs-fold".
func (k Kind) String() string {
	if k == 0 || k >= kindCount {
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
	return kinds[k].name
}

// Rule is the rule ID of the requirement the kind breaks, in the form of
// the suite's and pcap's IDs ("http1/rfc9112/5.2/no-obs-fold"); the
// codec's own bounds are "http1/limit/...".
func (k Kind) Rule() string {
	if k == 0 || k >= kindCount {
		return ""
	}
	return kinds[k].rule
}

// Level is the strength of the requirement the kind breaks.
func (k Kind) Level() Level {
	if k == 0 || k >= kindCount {
		return 0
	}
	return kinds[k].level
}

// Problem is one grammar or framing problem found in a message.
type Problem struct {
	Kind Kind
	// Offset is where in the message (from its first byte, leading empty
	// lines included) the problem was seen.
	Offset int64
	// Fatal reports that the framing was lost: the decoder reads no more
	// messages from the stream.
	Fatal bool
	// Detail says what was seen, for people.
	Detail string
}

// Error is "rule: detail".
func (p Problem) Error() string { return p.Kind.Rule() + ": " + p.Detail }

// Rule is p.Kind.Rule().
func (p Problem) Rule() string { return p.Kind.Rule() }

// Level is p.Kind.Level().
func (p Problem) Level() Level { return p.Kind.Level() }

// maxProblems bounds the problems kept per message.
const maxProblems = 32
