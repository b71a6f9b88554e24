package ftp

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc2389_3_2 = spec.Section(proto, "rfc2389", "3.2", "FEAT Command Responses")
	rfc1123_4_1 = spec.Section(proto, "rfc1123", "4.1.2.9", "STOU Command")
)

var _ = Describe("RFC 2389 FEAT", func() {
	rfc2389_3_2.It("feat-reply", spec.MUST, "answers FEAT with 211 (feature lines each indented by one space) or, without FEAT, 500 or 502",
		spec.Quote("Replies to the FEAT command MUST comply with the following syntax."), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("FEAT")
			if r.code == 500 || r.code == 502 {
				return
			}
			expectCode(t, r, "the reply to FEAT", 211)
			for _, l := range r.lines[1:max(1, len(r.lines)-1)] {
				if !strings.HasPrefix(l, " ") || strings.HasPrefix(l, "  ") || len(strings.TrimSpace(l)) == 0 {
					t.Mismatch("feature lines of one space and a feature name", "%q in %s", l, r)
				}
			}
		})

	rfc2389_3_2.It("feat-no-features-single-line", spec.MUST, "sends a FEAT reply listing no feature on one line",
		spec.Quote(`The "no-features" reply MUST NOT use the multi-line response format, exactly one response line is required and permitted.`), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("FEAT")
			if r.code != 211 {
				t.Skipf("not applicable: FEAT answered %d", r.code)
			}
			if r.multi && len(r.lines) <= 2 {
				t.Mismatch("a single-line 211 when no feature is listed", "%s", r)
			}
		})

	rfc2389_3_2.It("feat-arguments-501", spec.MUST, "refuses FEAT with an argument with 501",
		spec.Inferred("Errors in the command syntax, such as giving parameters, will result in a 501 reply.", "RFC 2389 states the reply with \"will\""), func(t *spec.T) {
			f := loggedIn(t)
			if r := f.cmd("FEAT"); r.code == 500 || r.code == 502 {
				t.Skipf("not applicable: the server does not implement FEAT (%d)", r.code)
			}
			f.must("FEAT SIZE", 501)
		})

	rfc1123_4_1.It("stou-file-name", spec.MUST, "names the file STOU writes in its 125 or 150 reply, as FILE: pppp",
		spec.Quote(`When it receives an STOU command, a Server-FTP MUST return the actual file name in the "125 Transfer Starting" or the "150 Opening Data Connection" message that precedes the transfer (the 250 reply code mentioned in RFC-959 is incorrect).`), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			f.must("TYPE I", 200)
			x := f.store(viaPASV, "STOU", []byte("unique\n"))
			if x.final.code == 500 || x.final.code == 502 {
				t.Skipf("not applicable: the server does not implement STOU (%d)", x.final.code)
			}
			expectTransfer(t, "STOU", x)
			text := x.pre.text()
			i := strings.Index(text, "FILE: ")
			if i < 0 {
				t.Mismatch("a 125 or 150 FILE: pppp", "%s", x.pre)
			}
			name := strings.Fields(text[i+6:] + " ")[0]
			t.Check(spec.Equal("the file STOU named", []byte("unique\n"), f.getFile(name)))
		})
})
