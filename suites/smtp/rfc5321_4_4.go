package smtp

import (
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc5321_4_4 = spec.Section(proto, "rfc5321", "4.4", "Trace Information")

// dateOffsetRE is the end of a Received field: "; " date-time with a
// numeric zone (RFC 5322 3.3).
var dateOffsetRE = regexp.MustCompile(`;\s*(\w{3},\s*)?\d{1,2}\s+\w{3}\s+\d{4}\s+\d{2}:\d{2}(:\d{2})?\s+[+-]\d{4}(\s*\([^)]*\))?\s*$`)

// traced delivers one letter to bob and returns the header fields the
// server put in front of it.
func traced(t *spec.T, extra string, to ...string) []byte {
	dir := maildir(t)
	s := hello(t)
	l := newLetter("traced\r\n").withHeader(extra)
	if len(to) == 0 {
		to = []string{rcptBob}
	}
	s.deliver(l, to...)
	return expectDelivered(t, dir, boxBob, l)
}

var _ = Describe("RFC 5321 4.4 trace information", func() {
	rfc5321_4_4.It("received-inserted", spec.MUST, "inserts a Received field in front of a delivered message",
		spec.Quote(`When an SMTP server receives a message for delivery or further processing, it MUST insert trace ("time stamp" or "Received") information at the beginning of the message content, as discussed in Section 4.1.1.4.`), func(t *spec.T) {
			if len(received(traced(t, ""))) == 0 {
				t.Mismatch("a Received field in front of the message", "none")
			}
		})

	rfc5321_4_4.It("received-from-clause", spec.MUST, "names the client in the FROM clause of its Received field",
		spec.Quote(`The FROM clause, which MUST be supplied in an SMTP environment, SHOULD contain both (1) the name of the source host as presented in the EHLO command and (2) an address literal containing the IP address of the source, determined from the TCP connection.`), func(t *spec.T) {
			rs := received(traced(t, ""))
			if len(rs) == 0 || !regexp.MustCompile(`(?i)^received:\s*from\s`).MatchString(rs[0]) {
				t.Mismatch("a Received field starting with a FROM clause", "%q", rs)
			}
		})

	rfc5321_4_4.It("received-from-ehlo-and-ip", spec.SHOULD, "puts the EHLO name and the client's IP address in the FROM clause",
		spec.Quote(`The FROM clause, which MUST be supplied in an SMTP environment, SHOULD contain both (1) the name of the source host as presented in the EHLO command and (2) an address literal containing the IP address of the source, determined from the TCP connection.`).SharedBecause("the SHOULD half: what the clause holds"), func(t *spec.T) {
			rs := received(traced(t, ""))
			if len(rs) == 0 || !strings.Contains(rs[0], clientName) || !strings.Contains(rs[0], "127.0.0.1") {
				t.Mismatch("the EHLO name "+clientName+" and 127.0.0.1 in the first Received field", "%q", rs)
			}
		})

	rfc5321_4_4.It("received-for-one-path", spec.MUST, "names at most one path in a FOR clause, with two recipients",
		spec.Quote(`If the FOR clause appears, it MUST contain exactly one <path> entry, even when multiple RCPT commands have been given.`), func(t *spec.T) {
			rs := received(traced(t, "", rcptBob, rcptAlice))
			if len(rs) == 0 {
				t.Skipf("not applicable: no Received field, so no FOR clause (received-inserted judges that)")
			}
			m := regexp.MustCompile(`(?i)\sfor\s+(.*?);`).FindStringSubmatch(rs[0])
			if m != nil && (strings.Count(m[1], "@") != 1 || strings.Contains(m[1], ",")) {
				t.Mismatch("one path in the FOR clause", "%q", m[1])
			}
		})

	rfc5321_4_4.It("received-prepended", spec.MUST, "prepends its Received field and keeps the existing ones in order, unchanged",
		spec.Quote(`SMTP servers MUST prepend Received lines to messages; they MUST NOT change the order of existing lines or insert Received lines in any other location.`), func(t *spec.T) {
			old := "Received: from one.protospec.test by two.protospec.test; Thu, 1 Jan 2026 00:00:01 +0000\r\n" +
				"Received: from zero.protospec.test by one.protospec.test; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
			front := traced(t, old)
			// expectDelivered checked that the old fields follow the
			// server's, unchanged; the server's own must be one.
			if len(received(front)) == 0 {
				t.Mismatch("the server's Received field in front of the existing ones", "%q", front)
			}
		})

	rfc5321_4_4.It("received-date-offset", spec.SHOULD, "dates its Received field with a numeric zone offset",
		spec.Quote(`SMTP servers that create Received header fields SHOULD use explicit offsets in the dates (e.g., -0800), rather than time zone names of any type.`), func(t *spec.T) {
			rs := received(traced(t, ""))
			if len(rs) == 0 || !dateOffsetRE.MatchString(rs[0]) {
				t.Mismatch("\"; date-time\" with a +hhmm or -hhmm zone ending the Received field", "%q", rs)
			}
		})

	rfc5321_4_4.It("return-path", spec.MUST, "puts a Return-Path field with the reverse-path in front of a delivered message",
		spec.Quote(`This use of return-path is required; mail systems MUST support it.`), func(t *spec.T) {
			front := traced(t, "")
			found := false
			for _, f := range fields(front) {
				if strings.HasPrefix(strings.ToLower(f), "return-path:") && strings.Contains(f, "<"+sender+">") {
					found = true
				}
			}
			if !found {
				t.Mismatch("Return-Path: <"+sender+"> in front of the message", "%q", front)
			}
		})
})
