package ftp

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var rfc959_5_4 = spec.Section(proto, "rfc959", "5.4", "Sequencing of Commands and Replies")

// rowReason says why a row of RFC 959 5.4's table is a MUST.
const rowReason = `RFC 959 5.4 says of this table "These must be strictly adhered to" (RFC 959 predates RFC 2119); the row lists the command's replies`

// unimplemented are the replies RFC 959 4.2 gives any command a server
// does not implement: 500 (unrecognized) and 502 (not implemented). The
// minimum implementation of 5.1 may not use them.
var unimplemented = []int{500, 502}

// row is one command's row of the command-reply sequences: the replies a
// server may give first (pre: 1yz preliminaries, or a completion), and
// after a 1yz.
type row struct {
	pre, after []int
}

func (r row) check(t *spec.T, cmd string, x transfer) {
	if x.pre.code != 0 {
		expectCode(t, x.pre, "the first reply to "+cmd, r.pre...)
		expectCode(t, x.final, "the reply to "+cmd+" after its "+fmt.Sprint(x.pre.code), r.after...)
		return
	}
	expectCode(t, x.final, "the reply to "+cmd, r.pre...)
}

var _ = Describe("RFC 959 5.4 command-reply sequences", func() {
	rfc959_5_4.It("connection-establishment", spec.MUST, "greets a new control connection with 220, 120 then 220, or 421",
		spec.Inferred("Connection Establishment 120 220 220 421", rowReason), func(t *spec.T) {
			c := t.Dial(service)
			r, err := readReply(c)
			t.Check(err)
			expectCode(t, r, "the greeting", 120, 220, 421)
			if r.code == 120 {
				r, err = readReply(c)
				t.Check(err)
				expectCode(t, r, "the reply after 120", 220)
			}
		})

	rfc959_5_4.It("user-replies", spec.MUST, "answers USER with one of the replies of its row",
		spec.Inferred("USER 230 530 500, 501, 421 331, 332", rowReason), func(t *spec.T) {
			f := connect(t)
			f.must("USER "+user, 230, 530, 500, 501, 421, 331, 332)
			g := connect(t)
			g.must("USER "+anonUser, 230, 530, 500, 501, 421, 331, 332)
		})

	rfc959_5_4.It("pass-replies", spec.MUST, "answers PASS, right and wrong, with one of the replies of its row",
		spec.Inferred("PASS 230 202 530 500, 501, 503, 421 332", rowReason), func(t *spec.T) {
			f := connect(t)
			if f.cmd("USER "+user).code != 331 {
				t.Skipf("not applicable: USER %s did not ask for a password", user)
			}
			f.must("PASS "+password, 230, 202, 530, 500, 501, 503, 421, 332)
			g := connect(t)
			g.must("USER "+user, 331)
			g.mustSlow("PASS "+wrongPass, 230, 202, 530, 500, 501, 503, 421, 332)
		})

	rfc959_5_4.It("acct-replies", spec.MUST, "answers ACCT with a reply of its row (or 500/502 when it has no accounts)",
		spec.Inferred("ACCT 230 202 530 500, 501, 503, 421", rowReason+"; RFC 959 4.2 gives an unimplemented command 502"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("ACCT nobody", 230, 202, 530, 500, 501, 502, 503, 421)
		})

	rfc959_5_4.It("cwd-replies", spec.MUST, "answers CWD, to a directory and to none, with replies of its row",
		spec.Inferred("CWD 250 500, 501, 502, 421, 530, 550", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250, 500, 501, 502, 421, 530, 550)
			f.must("CWD "+unique("no-such-dir"), 250, 500, 501, 502, 421, 530, 550)
		})

	rfc959_5_4.It("cdup-replies", spec.MUST, "answers CDUP with 200 (or 250, as CWD), or a failure of its row",
		spec.Inferred("CDUP 200 500, 501, 502, 421, 530, 550", rowReason+`; Appendix II: "The reply codes for CDUP be identical to the reply codes of CWD", so 250 too`), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			f.must("CDUP", 200, 250, 500, 501, 502, 421, 530, 550)
		})

	rfc959_5_4.It("smnt-replies", spec.MUST, "answers SMNT with a reply of its row",
		spec.Inferred("SMNT 202, 250 500, 501, 502, 421, 530, 550", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("SMNT "+uploadDir, 202, 250, 500, 501, 502, 421, 530, 550)
		})

	rfc959_5_4.It("rein-replies", spec.MUST, "answers REIN with 220 (after 120), 421, 500 or 502",
		spec.Inferred("REIN 120 220 220 421 500, 502", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			r := f.must("REIN", 120, 220, 421, 500, 502)
			if r.code == 120 {
				expectCode(t, f.read(), "the reply to REIN after 120", 220)
			}
		})

	rfc959_5_4.It("quit-replies", spec.MUST, "answers QUIT with 221 (or 500)",
		spec.Inferred("QUIT 221 500", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("QUIT", 221, 500)
		})

	rfc959_5_4.It("port-replies", spec.MUST, "answers PORT with 200, or a failure of its row",
		spec.Inferred("PORT 200 500, 501, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			ln, err := t.Listen(service, f.localIP().String())
			t.Check(err)
			f.must("PORT "+hostPortOf(f, ln.Port()), 200, 500, 501, 421, 530)
		})

	rfc959_5_4.It("pasv-replies", spec.MUST, "answers PASV with 227, or a failure of its row",
		spec.Inferred("PASV 227 500, 501, 502, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("PASV", 227, 500, 501, 502, 421, 530)
		})

	rfc959_5_4.It("mode-replies", spec.MUST, "answers MODE S and MODE B with replies of its row",
		spec.Inferred("MODE 200 500, 501, 504, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("MODE S", 200, 500, 501, 504, 421, 530)
			f.must("MODE B", 200, 500, 501, 504, 421, 530)
			f.must("MODE S", 200, 500, 501, 504, 421, 530)
		})

	rfc959_5_4.It("type-replies", spec.MUST, "answers TYPE A, TYPE I and TYPE E with replies of its row",
		spec.Inferred("TYPE 200 500, 501, 504, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			for _, ty := range []string{"A", "I", "E", "A N"} {
				f.must("TYPE "+ty, 200, 500, 501, 504, 421, 530)
			}
		})

	rfc959_5_4.It("stru-replies", spec.MUST, "answers STRU F and STRU P with replies of its row",
		spec.Inferred("STRU 200 500, 501, 504, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("STRU F", 200, 500, 501, 504, 421, 530)
			f.must("STRU P", 200, 500, 501, 504, 421, 530)
			f.must("STRU F", 200, 500, 501, 504, 421, 530)
		})

	rfc959_5_4.It("allo-replies", spec.MUST, "answers ALLO with 200, 202 or a failure of its row",
		spec.Inferred("ALLO 200 202 500, 501, 504, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("ALLO 1024", 200, 202, 500, 501, 504, 421, 530)
		})

	rfc959_5_4.It("rest-replies", spec.MUST, "answers REST with 350, or a failure of its row",
		spec.Inferred("REST 500, 501, 502, 421, 530 350", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("REST 0", 350, 500, 501, 502, 421, 530)
		})

	storRow := row{pre: []int{125, 150, 532, 450, 452, 553, 500, 501, 421, 530}, after: []int{226, 250, 425, 426, 451, 551, 552}}
	rfc959_5_4.It("stor-replies", spec.MUST, "answers STOR with 125 or 150 then 226 or 250 (or a failure of its row)",
		spec.Inferred("STOR 125, 150 (110) 226, 250 425, 426, 451, 551, 552 532, 450, 452, 553 500, 501, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			storRow.check(t, "STOR", f.store(viaPASV, "STOR "+uploadDir+"/"+unique("stor-row"), []byte("row\n")))
		})

	rfc959_5_4.It("stou-replies", spec.MUST, "answers STOU with 125 or 150 then 226 or 250 (or a failure of its row)",
		spec.Inferred("STOU 125, 150 (110) 226, 250 425, 426, 451, 551, 552 532, 450, 452, 553 500, 501, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			f.must("TYPE I", 200)
			storRow.check(t, "STOU", f.store(viaPASV, "STOU", []byte("row\n")))
		})

	rfc959_5_4.It("retr-replies", spec.MUST, "answers RETR, of a file and of none, with replies of its row",
		spec.Inferred("RETR 125, 150 (110) 226, 250 425, 426, 451 450, 550 500, 501, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("retr-row", []byte("row\n"))
			retr := row{pre: []int{125, 150, 450, 550, 500, 501, 421, 530}, after: []int{226, 250, 425, 426, 451}}
			retr.check(t, "RETR", f.retrieve(viaPASV, "RETR "+path))
			retr.check(t, "RETR", f.retrieve(viaPASV, "RETR "+unique("no-such-file")))
		})

	listRow := row{pre: []int{125, 150, 450, 500, 501, 502, 421, 530}, after: []int{226, 250, 425, 426, 451}}
	rfc959_5_4.It("list-replies", spec.MUST, "answers LIST with 125 or 150 then 226 or 250 (or a failure of its row)",
		spec.Inferred("LIST 125, 150 226, 250 425, 426, 451 450 500, 501, 502, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			listRow.check(t, "LIST", f.retrieve(viaPASV, "LIST"))
		})

	rfc959_5_4.It("nlst-replies", spec.MUST, "answers NLST with 125 or 150 then 226 or 250 (or a failure of its row)",
		spec.Inferred("NLST 125, 150 226, 250 425, 426, 451 450 500, 501, 502, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			listRow.check(t, "NLST", f.retrieve(viaPASV, "NLST"))
		})

	rfc959_5_4.It("appe-replies", spec.MUST, "answers APPE with 125 or 150 then 226 or 250 (or a failure of its row)",
		spec.Inferred("APPE 125, 150 (110) 226, 250 425, 426, 451, 551, 552 532, 450, 550, 452, 553 500, 501, 502, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			appe := row{pre: []int{125, 150, 532, 450, 550, 452, 553, 500, 501, 502, 421, 530}, after: []int{226, 250, 425, 426, 451, 551, 552}}
			appe.check(t, "APPE", f.store(viaPASV, "APPE "+uploadDir+"/"+unique("appe-row"), []byte("row\n")))
		})

	rfc959_5_4.It("rnfr-replies", spec.MUST, "answers RNFR, of a file and of none, with replies of its row",
		spec.Inferred("RNFR 450, 550 500, 501, 502, 421, 530 350", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("rnfr-row", []byte("row\n"))
			f.must("RNFR "+path, 350, 450, 550, 500, 501, 502, 421, 530)
			g := loggedIn(t)
			g.must("RNFR "+unique("no-such-file"), 350, 450, 550, 500, 501, 502, 421, 530)
		})

	rfc959_5_4.It("rnto-replies", spec.MUST, "answers RNTO after RNFR with 250, or a failure of its row",
		spec.Inferred("RNTO 250 532, 553 500, 501, 502, 503, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("rnto-row", []byte("row\n"))
			f.must("RNFR "+path, 350)
			f.must("RNTO "+uploadDir+"/"+unique("rnto-row-new"), 250, 532, 553, 500, 501, 502, 503, 421, 530)
		})

	rfc959_5_4.It("dele-replies", spec.MUST, "answers DELE, of a file and of none, with replies of its row",
		spec.Inferred("DELE 250 450, 550 500, 501, 502, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("dele-row", []byte("row\n"))
			f.must("DELE "+path, 250, 450, 550, 500, 501, 502, 421, 530)
			f.must("DELE "+path, 250, 450, 550, 500, 501, 502, 421, 530)
		})

	rfc959_5_4.It("rmd-replies", spec.MUST, "answers RMD, of a directory and of none, with replies of its row",
		spec.Inferred("RMD 250 500, 501, 502, 421, 530, 550", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			dir := uploadDir + "/" + unique("rmd-row")
			f.needUpload()
			f.must("MKD "+dir, 257)
			f.must("RMD "+dir, 250, 500, 501, 502, 421, 530, 550)
			f.must("RMD "+dir, 250, 500, 501, 502, 421, 530, 550)
		})

	rfc959_5_4.It("mkd-replies", spec.MUST, "answers MKD, new and existing, with replies of its row",
		spec.Inferred("MKD 257 500, 501, 502, 421, 530, 550", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			dir := uploadDir + "/" + unique("mkd-row")
			f.needUpload()
			f.must("MKD "+dir, 257, 500, 501, 502, 421, 530, 550)
			f.must("MKD "+dir, 257, 500, 501, 502, 421, 530, 550)
		})

	rfc959_5_4.It("pwd-replies", spec.MUST, "answers PWD with 257, or a failure of its row",
		spec.Inferred("PWD 257 500, 501, 502, 421, 550", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("PWD", 257, 500, 501, 502, 421, 550)
		})

	rfc959_5_4.It("abor-replies", spec.MUST, "answers ABOR with no transfer in progress with 225 or 226 (or a failure of its row)",
		spec.Inferred("ABOR 225, 226 500, 501, 502, 421", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("ABOR", 225, 226, 500, 501, 502, 421)
		})

	rfc959_5_4.It("syst-replies", spec.MUST, "answers SYST with 215, or a failure of its row",
		spec.Inferred("SYST 215 500, 501, 502, 421", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("SYST", 215, 500, 501, 502, 421)
		})

	rfc959_5_4.It("stat-replies", spec.MUST, "answers STAT, with and without a pathname, with replies of its row",
		spec.Inferred("STAT 211, 212, 213 450 500, 501, 502, 421, 530", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("STAT", 211, 212, 213, 450, 500, 501, 502, 421, 530)
			f.must("STAT "+uploadDir, 211, 212, 213, 450, 500, 501, 502, 421, 530)
		})

	rfc959_5_4.It("help-replies", spec.MUST, "answers HELP, with and without an argument, with 211 or 214 (or a failure of its row)",
		spec.Inferred("HELP 211, 214 500, 501, 502, 421", rowReason), func(t *spec.T) {
			f := loggedIn(t)
			f.must("HELP", 211, 214, 500, 501, 502, 421)
			f.must("HELP RETR", 211, 214, 500, 501, 502, 421)
		})

	rfc959_5_4.It("site-replies", spec.MUST, "answers SITE with an unknown site command with a reply of its row",
		spec.Inferred("SITE 200 202 500, 501, 530", rowReason+"; RFC 959 4.2 gives an unimplemented command 502"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("SITE PROTOSPECNOSUCHTHING", 200, 202, 500, 501, 502, 530)
		})

	rfc959_5_4.It("noop-replies", spec.MUST, "answers NOOP with 200",
		spec.Inferred("NOOP 200 500 421", rowReason+"; NOOP is in the minimum implementation of 5.1, so 500 is no answer"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("NOOP", 200, 421)
		})

	// Before login, every command of the rows that list 530 that acts
	// on the file system or the data connection is refused with 530.
	for _, c := range []struct{ slug, line, row string }{
		{"cwd", "CWD " + publicDir, "CWD 250 500, 501, 502, 421, 530, 550"},
		{"list", "LIST", "LIST 125, 150 226, 250 425, 426, 451 450 500, 501, 502, 421, 530"},
		{"nlst", "NLST", "NLST 125, 150 226, 250 425, 426, 451 450 500, 501, 502, 421, 530"},
		{"retr", "RETR " + publicDir + "/x", "RETR 125, 150 (110) 226, 250 425, 426, 451 450, 550 500, 501, 421, 530"},
		{"stor", "STOR " + uploadDir + "/x", "STOR 125, 150 (110) 226, 250 425, 426, 451, 551, 552 532, 450, 452, 553 500, 501, 421, 530"},
		{"appe", "APPE " + uploadDir + "/x", "APPE 125, 150 (110) 226, 250 425, 426, 451, 551, 552 532, 450, 550, 452, 553 500, 501, 502, 421, 530"},
		{"dele", "DELE " + uploadDir + "/x", "DELE 250 450, 550 500, 501, 502, 421, 530"},
		{"mkd", "MKD " + uploadDir + "/x", "MKD 257 500, 501, 502, 421, 530, 550"},
		{"rmd", "RMD " + uploadDir, "RMD 250 500, 501, 502, 421, 530, 550"},
		{"rnfr", "RNFR " + uploadDir, "RNFR 450, 550 500, 501, 502, 421, 530 350"},
		{"pasv", "PASV", "PASV 227 500, 501, 502, 421, 530"},
		{"port", "PORT 127,0,0,1,200,200", "PORT 200 500, 501, 421, 530"},
	} {
		rfc959_5_4.It(c.slug+"-before-login", spec.MUST, "refuses "+strings.Fields(c.line)[0]+" before login with 530",
			spec.Inferred(c.row, rowReason+": its 530, Not logged in, is the reply to the command before the login sequence completed").SharedBecause("the row's before-login case; "+c.slug+"-replies checks the row after login"), func(t *spec.T) {
				f := connect(t)
				r := f.cmd(c.line)
				if r.class() == 1 {
					// A transfer must not even start: read its end.
					r = f.read()
					t.Mismatch(c.line+" before login: 530", "a transfer started: %s", r)
				}
				expectCode(t, r, "the reply to "+c.line+" before login", 530)
			})
	}
})

// hostPortOf is PORT's argument for port on the client's end of f.
func hostPortOf(f *ftpc, port int) string {
	a := f.localIP().As4()
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d", a[0], a[1], a[2], a[3], port>>8, port&0xff)
}
