package ftp

import (
	"fmt"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc959_4_2   = spec.Section(proto, "rfc959", "4.2", "FTP Replies")
	rfc959_4_2_1 = spec.Section(proto, "rfc959", "4.2.1", "Reply Codes by Function Groups")
)

// knownCodes are the reply codes of RFC 959 4.2.1 and of the extensions
// the suite exercises (RFC 1123 4.1.3.4: 554 and 555 for REST; RFC 2228:
// 232, 234, 334, 335, 336, 431, 533, 534, 535, 536, 631-633; RFC 2428:
// 229, 522).
var knownCodes = map[int]bool{}

func init() {
	for _, c := range []int{110, 120, 125, 150, 200, 202, 211, 212, 213, 214, 215, 220, 221, 225, 226, 227, 230, 250, 257,
		331, 332, 350, 421, 425, 426, 450, 451, 452, 500, 501, 502, 503, 504, 530, 532, 550, 551, 552, 553,
		229, 522, 554, 555, 232, 234, 334, 335, 336, 431, 533, 534, 535, 536, 631, 632, 633} {
		knownCodes[c] = true
	}
}

// sampleCommands are commands of every kind, valid and not, whose
// replies the reply-format specs look at.
var sampleCommands = []string{"NOOP", "PWD", "SYST", "TYPE I", "TYPE Z", unknownCmd, "CWD " + uploadDir, "CDUP", "CWD no-such-dir-protospec", "MODE S", "STRU F", "REST 0", "REST x", "HELP", "STAT", "FEAT", "PASV", "PORT 1,2", "MKD " + uploadDir, "DELE no-such-file-protospec"}

var regexp3 = regexp.MustCompile(`^[1-5][0-9][0-9][ -]`)

var singleLine = regexp.MustCompile(`^[1-5][0-9][0-9] `)

var _ = Describe("RFC 959 4.2 replies", func() {
	rfc959_4_2.It("every-command-replies", spec.MUST, "answers every command, valid or not, with a reply",
		spec.Inferred("Every command must generate at least one reply, although there may be more than one; in the latter case, the multiple replies must be easily distinguished.", old).SharedBecause("thousand-pasv checks the flood case"), func(t *spec.T) {
			f := loggedIn(t)
			for _, c := range sampleCommands {
				f.cmd(c)
			}
			f.must("NOOP", 200)
		})

	rfc959_4_2.It("reply-format", spec.MUST, "sends single-line replies as three digits, a space and text, ended by CR LF",
		spec.Inferred("A reply is defined to contain the 3-digit code, followed by Space <SP>, followed by one line of text (where some maximum line length has been specified), and terminated by the Telnet end-of-line code.", old), func(t *spec.T) {
			f := loggedIn(t)
			for _, c := range sampleCommands {
				r := f.cmd(c)
				if r.bareLF {
					t.Mismatch("replies ended by CR LF (the Telnet end of line)", "the reply to %s: %s", c, r)
				}
				if !r.multi && !singleLine.MatchString(r.lines[0]) {
					t.Mismatch("a single-line reply \"ddd text\"", "the reply to %s: %s", c, r)
				}
			}
		})

	rfc959_4_2.It("multi-line-format", spec.MUST, "frames multi-line replies as ddd- first line and ddd SP last line of the same code",
		spec.Inferred(`Thus the format for multi-line replies is that the first line will begin with the exact required reply code, followed immediately by a Hyphen, "-" (also known as Minus), followed by text.`, old), func(t *spec.T) {
			f := loggedIn(t)
			seen := 0
			for _, c := range []string{"HELP", "STAT", "FEAT", "STAT " + uploadDir} {
				r := f.cmd(c)
				if !r.multi {
					continue
				}
				seen++
				first, last := r.lines[0], r.lines[len(r.lines)-1]
				code := itoa(r.code)
				if !strings.HasPrefix(first, code+"-") || !(strings.HasPrefix(last, code+" ") || last == code) {
					t.Mismatch("a first line "+code+"- and a last line "+code+" text", "the reply to %s: %s", c, r)
				}
			}
			if seen == 0 {
				t.Skipf("not applicable: no reply to HELP, STAT or FEAT used the multi-line form")
			}
			f.must("NOOP", 200)
		})

	rfc959_4_2.It("multi-line-padding", spec.MUST, "keeps a listing line that starts with the reply's code from ending a multi-line STAT",
		spec.Inferred("If an intermediary line begins with a 3-digit number, the Server must pad the front  to avoid confusion.", old), func(t *spec.T) {
			f := loggedIn(t)
			dir := uploadDir + "/" + unique("pad")
			f.needUpload()
			f.must("MKD "+dir, 257)
			for _, n := range []string{"211 end", "212 end", "213 end"} {
				f.put(dir+"/"+n, []byte("x\n"))
				remember(dir + "/" + n)
			}
			f.must("STAT "+dir, 211, 212, 213)
			f.must("NOOP", 200)
		})

	rfc959_4_2.It("one-preliminary-reply", spec.MUST, "sends at most one 1yz reply per transfer command",
		spec.Inferred("The server-FTP process may send at most, one 1yz reply per command.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("one-1yz", []byte("x\n"))
			f.must("TYPE I", 200)
			for _, c := range []string{"RETR " + path, "LIST " + uploadDir, "NLST " + uploadDir} {
				x := f.retrieve(viaPASV, c)
				if x.final.class() == 1 {
					t.Mismatch("one 1yz reply, then the completion reply", "%s for %s", x, c)
				}
				expectTransfer(t, c, x)
			}
		})

	rfc959_4_2.It("queues-commands", spec.SHOULD, "answers commands sent together, one reply each, in order",
		spec.Inferred("(The user-process sending another command before the completion reply would be in violation of protocol; but server-FTP processes should queue any commands that arrive while a preceding command is in progress.)", old+"; lower-case should"), func(t *spec.T) {
			f := loggedIn(t)
			f.c.Send("NOOP\r\nPWD\r\nTYPE I\r\nNOOP\r\n")
			for i, want := range [][]int{{200}, {257}, {200}, {200}} {
				expectCode(t, f.read(), fmt.Sprintf("reply %d of 4 to commands sent together", i+1), want...)
			}
		})

	rfc959_4_2.It("codes-defined", spec.MUST, "uses only the defined reply codes",
		spec.Inferred("The reply codes, on the other hand, must strictly follow the specifications in the last section; that is, Server implementations should not invent new codes for situations that are only slightly different from the ones described here, but rather should adapt codes already defined.", old), func(t *spec.T) {
			f := connect(t)
			if !knownCodes[f.greet.code] {
				t.Mismatch("a code RFC 959 4.2.1 defines", "the greeting %s", f.greet)
			}
			f.login(user, password)
			for _, c := range sampleCommands {
				if r := f.cmd(c); !knownCodes[r.code] {
					t.Mismatch("a code RFC 959 4.2.1 (or RFC 2228, RFC 2428) defines", "the reply to %s: %s", c, r)
				}
			}
		})

	rfc959_4_2.It("type-200", spec.MUST, "answers a successful TYPE with 200",
		spec.Inferred("A command such as TYPE or ALLO whose successful execution does not offer the user-process any new information will cause a 200 reply to be returned.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			f.must("TYPE A", 200)
		})

	rfc959_4_2.It("parameter-504", spec.MUST, "answers MODE C with 200 or 504: MODE is implemented, C may not be",
		spec.Inferred("A refinement of that is the 504 reply for a command that is implemented, but that requests an unimplemented parameter.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("MODE C", 200, 504)
			f.must("MODE S", 200)
		})

	rfc959_4_2_1.It("unknown-command-500", spec.MUST, "answers an unknown command with 500 (or 502)",
		spec.Inferred("500 Syntax error, command unrecognized.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must(unknownCmd, 500, 502)
			f.must(unknownCmd+" with arguments", 500, 502)
		})

	rfc959_4_2_1.It("bad-arguments-501", spec.MUST, "answers PORT with malformed arguments with 501 (or 500)",
		spec.Inferred("501 Syntax error in parameters or arguments.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("PORT 1,2,3", 501, 500)
			f.must("PORT a,b,c,d,e,f", 501, 500)
			f.must("TYPE Q", 501, 504, 500)
		})

	rfc959_4_2_1.It("bad-sequence-503", spec.MUST, "answers RNTO without RNFR with 503",
		spec.Inferred("503 Bad sequence of commands.", old+"; 4.2 names \"RNTO command without a preceding RNFR\" as the case"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("RNTO "+uploadDir+"/"+unique("rnto"), 503)
		})

	rfc959_4_2_1.It("not-found-550", spec.MUST, "answers RETR and DELE of a missing file with 550 (or 450)",
		spec.Inferred("550 Requested action not taken. File unavailable (e.g., file not found, no access).", old), func(t *spec.T) {
			f := loggedIn(t)
			name := uploadDir + "/" + unique("missing")
			f.must("TYPE I", 200)
			expectCode(t, f.retrieve(viaPASV, "RETR "+name).final, "the reply to RETR of a missing file", 550, 450)
			f.must("DELE "+name, 550, 450)
		})
})
