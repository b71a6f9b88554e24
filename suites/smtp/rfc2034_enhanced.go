package smtp

import (
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc2034_4 = spec.Section(proto, "rfc2034", "4", "Status Codes and Negative Responses")
	rfc3463_2 = spec.Section(proto, "rfc3463", "2", "Status Code Structure")
)

// enhancedBattery is a session's replies after EHLO, each of which the
// contract has carry an enhanced status code.
func enhancedBattery(t *spec.T) []reply {
	t.Require(featureEnhanced)
	s := hello(t)
	s.need("ENHANCEDSTATUSCODES")
	var out []reply
	for _, c := range []string{"NOOP", "MAIL FROM:<" + sender + ">", "MAIL FROM:<" + sender + ">", "RCPT TO:<" + unknownUser + ">",
		"RCPT TO:<" + foreignRcpt + ">", "RCPT TO:<" + rcptBob + ">", "RSET", "RSET now", "XPROTOSPEC", "VRFY " + rcptBob, "HELP", "QUIT"} {
		out = append(out, s.cmd(c))
	}
	return out
}

// looseCodeRE is any digits.digits.digits at the start of a reply's text.
var looseCodeRE = regexp.MustCompile(`^([0-9]+)\.([0-9]+)\.([0-9]+)(\s|$)`)

var _ = Describe("RFC 2034 and RFC 3463 enhanced status codes", func() {
	rfc2034_4.It("announced-and-used", spec.FIXTURE, "puts an enhanced status code at the start of every reply's text after EHLO",
		spec.Fixture(`A target with the feature smtp/enhanced-codes announces ENHANCEDSTATUSCODES and starts the text of every reply after EHLO (the EHLO reply itself aside) with an enhanced status code.`), func(t *spec.T) {
			for _, r := range enhancedBattery(t) {
				for i := range r.lines {
					if _, ok := r.enhanced(i); !ok {
						t.Mismatch("class.subject.detail at the start of the text of line "+itoa(i+1), "%s", r)
					}
				}
			}
		})

	rfc3463_2.It("class-matches-reply", spec.MUST, "gives each enhanced code the class of its reply code (2, 4 or 5)",
		spec.Inferred(`class = "2"/"4"/"5"`, "the grammar of the class sub-code, which is the reply's success (2), persistent transient (4) or permanent (5) failure"), func(t *spec.T) {
			for _, r := range enhancedBattery(t) {
				for i := range r.lines {
					if e, ok := r.enhanced(i); ok && r.class() != 3 && e[0] != byte('0'+r.class()) {
						t.Mismatch("an enhanced code of class "+itoa(r.code/100)+" in a "+itoa(r.code)+" reply", "%s", r)
					}
				}
			}
		})

	rfc3463_2.It("code-grammar", spec.MUST, "forms enhanced codes as class.subject.detail, subject and detail of 1 to 3 digits",
		spec.Inferred(`status-code = class "." subject "." detail`, "the grammar of the status code"), func(t *spec.T) {
			for _, r := range enhancedBattery(t) {
				for _, txt := range r.texts() {
					if m := looseCodeRE.FindStringSubmatch(txt); m != nil && (len(m[2]) > 3 || len(m[3]) > 3 || !strings.Contains("245", m[1])) {
						t.Mismatch("class (2, 4 or 5) . subject (1*3digit) . detail (1*3digit)", "%q in %s", txt, r)
					}
				}
			}
		})

	rfc3463_2.It("no-leading-zeros", spec.MUST, "writes the sub-codes of enhanced codes without leading zeros",
		spec.Quote(`Each numeric sub-code within the status-code MUST be expressed without leading zero digits.`), func(t *spec.T) {
			for _, r := range enhancedBattery(t) {
				for _, txt := range r.texts() {
					if m := looseCodeRE.FindStringSubmatch(txt); m != nil {
						for _, sub := range m[1:] {
							if len(sub) > 1 && sub[0] == '0' {
								t.Mismatch("sub-codes without leading zeros", "%q in %s", txt, r)
							}
						}
					}
				}
			}
		})
})
