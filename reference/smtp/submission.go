package smtp

import "strings"

// Message submission (RFC 6409), with Server.Submission: MAIL needs AUTH
// first (see mail), and the envelope's domains must be fully qualified.

// submissionDomain checks a path of MAIL or RCPT on a submission server,
// replying to a refusal itself; it reports whether the path may be used.
// RFC 6409 4.2: "The MSA MUST ensure that all domains in the SMTP
// envelope are fully-qualified. ... Reply code 554 is to be used to
// reject a MAIL, RCPT, or DATA command that contains improper domain
// references." The null path and <Postmaster> have no domain to qualify;
// an address literal is not a name.
func (c *session) submissionDomain(a address) bool {
	if !c.s.Submission || a.domain == "" || strings.HasPrefix(a.domain, "[") {
		return true
	}
	if d := strings.TrimSuffix(a.domain, "."); !strings.Contains(d, ".") {
		c.fail(554, "5.1.2 Domain "+a.domain+" is not fully qualified (RFC 6409 4.2)")
		return false
	}
	return true
}
