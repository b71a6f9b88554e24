package ftp

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc959_a2 = spec.Section(proto, "rfc959", "A.II", "Appendix II - Directory Commands")

var _ = Describe("RFC 959 Appendix II directory commands", func() {
	rfc959_a2.It("mkd-absolute", spec.MUST, "names the new directory by its absolute pathname in MKD's 257",
		spec.Inferred("The 257 reply to the MKD command must always contain the absolute pathname of the created directory.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			name := unique("mkd-abs")
			f.needUpload()
			r := f.must("MKD "+name, 257)
			dir, ok := quoted(r)
			if !ok || !strings.HasPrefix(dir, "/") || !strings.HasSuffix(dir, "/"+name) {
				t.Mismatch(`257 "/.../`+name+`"`, "%s", r)
			}
			f.must("CWD "+dir, 250)
		})

	rfc959_a2.It("mkd-quote-doubling", spec.SHOULD, "doubles the double quotes of a new directory's name in MKD's 257",
		spec.Inferred(`The directory name can contain any character; embedded double-quotes should be escaped by double-quotes (the "quote-doubling" convention).`, old+"; lower-case should"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			name := unique(`q"uote`)
			f.needUpload()
			r := f.cmd("MKD " + name)
			if r.code == 553 || r.code == 550 || r.code == 501 {
				t.Skipf("not applicable: the server refuses a directory name with a double quote (%d)", r.code)
			}
			expectCode(t, r, "the reply to MKD", 257)
			dir, ok := quoted(r)
			if !ok || !strings.HasSuffix(dir, name) {
				t.Mismatch(`257 "...`+strings.ReplaceAll(name, `"`, `""`)+`"`, "%s", r)
			}
		})

	rfc959_a2.It("mkd-existing", spec.MUST, "refuses MKD of an existing directory with an error reply",
		spec.Inferred(`The prior existence of a subdirectory with the same name is an error, and the server must return an "access denied" error reply in that case.`, old), func(t *spec.T) {
			f := loggedIn(t)
			dir := uploadDir + "/" + unique("mkd-twice")
			f.needUpload()
			f.must("MKD "+dir, 257)
			f.must("MKD "+dir, 5)
		})

	rfc959_a2.It("pwd-257", spec.MUST, "answers PWD with 257 and the quoted directory, as MKD does",
		spec.Inferred("Essentially because the PWD command returns the same type of information as the successful MKD command, the successful PWD command uses the 257 reply code as well.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			r := f.must("PWD", 257)
			if dir, ok := quoted(r); !ok || !strings.HasPrefix(dir, "/") {
				t.Mismatch(`257 "/..."`, "%s", r)
			}
		})

	rfc959_a2.It("rmd-as-dele", spec.MUST, "answers RMD of a missing directory as DELE of a missing file (450 or 550)",
		spec.Inferred("The reply codes for RMD be identical to the reply codes for its file analogue, DELE.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("RMD "+uploadDir+"/"+unique("no-dir"), 450, 550)
		})

	rfc959_a2.It("cdup-as-cwd", spec.MUST, "answers CDUP with a success code of CWD's (250) or of its row (200)",
		spec.Inferred("The reply codes for CDUP be identical to the reply codes of CWD.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			f.must("CDUP", 250, 200)
		})
})
