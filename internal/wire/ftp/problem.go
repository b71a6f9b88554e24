package ftp

import "fmt"

// Rule IDs of the problems the codec reports, in the form of the suite's
// and pcap's IDs (document/section/slug); the codec's own bounds are
// "ftp/limit/...".
const (
	RuleCRLF         = "ftp/rfc959/4.2/crlf-line-ends"
	RuleNoBareCR     = "ftp/rfc959/4.2/no-bare-cr"
	RuleReplyCode    = "ftp/rfc959/4.2/reply-code"
	RuleReplySP      = "ftp/rfc959/4.2/code-then-space-or-hyphen"
	RuleMultiLine    = "ftp/rfc959/4.2/multi-line-end"
	RuleCommandVerb  = "ftp/rfc959/5.3/command-verb"
	RuleCommandSP    = "ftp/rfc959/5.3/command-argument"
	RuleCommandCRLF  = "ftp/rfc959/5.3/command-crlf"
	RuleIncomplete   = "ftp/rfc959/4.2/incomplete-reply"
	RuleLimitLine    = "ftp/limit/line"
	RuleLimitLines   = "ftp/limit/lines"
	RuleHostPort     = "ftp/rfc959/4.1.2/host-port"
	RuleEPSV         = "ftp/rfc2428/3/epsv-reply"
	RuleEPRT         = "ftp/rfc2428/2/eprt-argument"
	RuleASCIIEncoded = "ftp/rfc959/3.1.1.1/ascii-crlf"
)

// ProblemError is one grammar problem, or a bound of the codec reached.
type ProblemError struct {
	// Rule is the stable ID of the requirement broken (Rule* constants).
	Rule string
	// Detail says what was seen, for people.
	Detail string
	// Fatal reports that the framing was lost: the reply or command
	// returned with it is incomplete, and the stream cannot be read on.
	Fatal bool
	// Err is the underlying error, if any (io.ErrUnexpectedEOF).
	Err error
}

// Error is "rule: detail".
func (p *ProblemError) Error() string { return p.Rule + ": " + p.Detail }

// Unwrap returns the underlying error.
func (p *ProblemError) Unwrap() error { return p.Err }

func problem(rule string, fatal bool, format string, args ...any) *ProblemError {
	return &ProblemError{Rule: rule, Fatal: fatal, Detail: fmt.Sprintf(format, args...)}
}
