package ftp

import (
	"bytes"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc959_4_1_1 = spec.Section(proto, "rfc959", "4.1.1", "Access Control Commands")
	rfc959_4_1_2 = spec.Section(proto, "rfc959", "4.1.2", "Transfer Parameter Commands")
	rfc959_4_1_3 = spec.Section(proto, "rfc959", "4.1.3", "FTP Service Commands")
)

// old says why an RFC 959 sentence carries a level without an RFC 2119
// keyword.
const old = "RFC 959 predates RFC 2119; the sentence states what the server does"

// bigSize is the size of the files a transfer that must still be running
// when a command arrives uses.
const bigSize = 8 << 20

var _ = Describe("RFC 959 4.1.1 access control commands", func() {
	rfc959_4_1_1.It("user-pass-login", spec.MUST, "logs the fixture's user in with USER and PASS",
		spec.Inferred("The user identification is that which is required by the server for access to its file system.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("PWD", 257)
		})

	rfc959_4_1_1.It("pass-needs-user", spec.MUST, "refuses PASS that does not follow USER",
		spec.Inferred("This command must be immediately preceded by the user name command, and, for some sites, completes the user's identification for access control.", old+`: "must" binds the order, and the server's side is to refuse PASS out of it (503 or 530)`), func(t *spec.T) {
			f := connect(t)
			// A server may delay every PASS reply, as it delays a wrong
			// password (proftpd's mod_delay): read it as readSlow does.
			f.send("PASS " + password)
			r, err := f.readSlow()
			t.Check(err)
			expectCode(t, r, "the reply to PASS without USER", 503, 530, 500, 501, 421)
			expectCode(t, f.cmd("CWD "+uploadDir), "CWD after the refused PASS (not logged in)", 530)
		})

	rfc959_4_1_1.It("wrong-password", spec.MUST, "refuses a wrong password with 530 and keeps the user logged out",
		spec.Inferred("A failure at any point in the sequence necessitates the repetition of the entire sequence from the beginning.", old).In("4.2"), func(t *spec.T) {
			f := connect(t)
			if f.cmd("USER "+user).code != 331 {
				t.Skipf("not applicable: USER %s did not ask for a password", user)
			}
			f.mustSlow("PASS "+wrongPass, 530)
			expectCode(t, f.cmd("CWD "+uploadDir), "CWD after the failed login", 530)
			f.login(user, password)
			f.must("CWD "+uploadDir, 250)
		})

	rfc959_4_1_1.It("new-user", spec.MAY, "accepts a new USER at any point, starting the login again",
		spec.Inferred("Servers may allow a new USER command to be entered at any point in order to change the access control and/or accounting information.", old+"; lower-case may"), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("USER " + user)
			if r.code == 331 {
				r = f.cmd("PASS " + password)
			}
			expectCode(t, r, "the second login's last reply", 230)
		})

	rfc959_4_1_1.It("rein-resets", spec.MUST, "after a 220 to REIN, treats the session as newly opened (530 to CWD)",
		spec.Inferred("This is identical to the state in which a user finds himself immediately after the control connection is opened.", old), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("REIN")
			if r.code == 500 || r.code == 502 {
				t.Skipf("not applicable: the server does not implement REIN (%d)", r.code)
			}
			if r.code == 120 {
				r = f.read()
			}
			expectCode(t, r, "the reply to REIN", 220)
			expectCode(t, f.cmd("CWD "+uploadDir), "CWD after REIN", 530)
			f.login(user, password)
			f.must("CWD "+uploadDir, 250)
		})

	rfc959_4_1_1.It("quit-closes", spec.MUST, "answers QUIT with 221 and closes the control connection",
		spec.Inferred("This command terminates a USER and if file transfer is not in progress, the server closes the control connection.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("QUIT", 221)
			t.Check(f.c.ExpectClosed(t.StepTimeout()))
		})

	rfc959_4_1_1.It("cwd-changes-directory", spec.MUST, "changes the working directory with CWD, as PWD and relative names show",
		spec.Inferred("This command allows the user to work with a different directory or dataset for file storage or retrieval without altering his login or accounting information.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("cwd", []byte("cwd\n"))
			f.must("CWD "+uploadDir, 250)
			dir, ok := quoted(f.must("PWD", 257))
			if !ok || !strings.HasSuffix(strings.TrimSuffix(dir, "/"), uploadDir) {
				t.Mismatch("PWD naming a directory ending in "+uploadDir, "%q", dir)
			}
			got := f.getFile(basename(path))
			t.Check(spec.Equal("the file retrieved by its relative name", []byte("cwd\n"), got))
		})

	rfc959_4_1_1.It("cwd-keeps-parameters", spec.MUST, "keeps TYPE I across CWD",
		spec.Inferred("Transfer parameters are similarly unchanged.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("cwd-type", lfText)
			f.must("TYPE I", 200)
			f.must("CWD "+uploadDir, 250)
			x := f.retrieve(viaPASV, "RETR "+basename(path))
			expectTransfer(t, "RETR after CWD", x)
			t.Check(spec.Equal("the file in TYPE I after CWD", lfText, x.data))
		})

	rfc959_4_1_1.It("cdup-parent", spec.MUST, "returns to the parent directory with CDUP",
		spec.Inferred("This command is a special case of CWD, and is included to simplify the implementation of programs for transferring directory trees between operating systems having different syntaxes for naming the parent directory.", old), func(t *spec.T) {
			f := loggedIn(t)
			top, _ := quoted(f.must("PWD", 257))
			f.must("CWD "+uploadDir, 250)
			f.must("CDUP", 200, 250)
			back, _ := quoted(f.must("PWD", 257))
			if back != top {
				t.Mismatch("PWD after CDUP naming "+top, "%q", back)
			}
		})

	rfc959_4_1_1.It("close-aborts-transfer", spec.MUST, "ends a transfer in progress when the control connection closes",
		spec.Inferred("An unexpected close on the control connection will cause the server to take the effective action of an abort (ABOR) and a logout (QUIT).", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.bigFile("close-aborts", bigSize)
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			r := f.cmd("RETR " + path)
			expectCode(t, r, "the reply to RETR", 125, 150)
			c := d.get()
			first, err := c.ReadN(64 << 10)
			t.Check(err)
			_ = first
			f.c.Close()
			wait := drain(c, 4*t.StepTimeout())
			n, err := wait()
			if err != nil && !isReset(err) {
				t.Mismatch("the data connection closed by the server once the control connection closed", "after %d more bytes: %v", n, err)
			}
			if int64(64<<10)+n >= bigSize {
				t.Note("the whole file was sent before the server ended the transfer (%d bytes)", int64(64<<10)+n)
			}
		})
})

var _ = Describe("RFC 959 4.1.2 transfer parameter commands", func() {
	rfc959_4_1_2.It("parameters-remembered", spec.MUST, "keeps TYPE I for every later transfer of the session",
		spec.Inferred(`This implies that the server must "remember" the applicable default values.`, old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("remember", lfText)
			f.must("TYPE I", 200)
			for i := 0; i < 2; i++ {
				x := f.retrieve(viaPASV, "RETR "+path)
				expectTransfer(t, "RETR", x)
				t.Check(spec.Equal("the file in TYPE I, transfer "+string(rune('1'+i)), lfText, x.data))
				f.must("NOOP", 200)
			}
		})

	rfc959_4_1_2.It("port-data-port", spec.MUST, "connects to the port PORT names for the transfer",
		spec.Inferred("The argument is a HOST-PORT specification for the data port to be used in data connection.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("port", []byte("over PORT\n"))
			f.must("TYPE I", 200)
			x := f.retrieve(viaPORT, "RETR "+path)
			expectTransfer(t, "RETR over PORT", x)
			t.Check(spec.Equal("the file over PORT", []byte("over PORT\n"), x.data))
		})

	rfc959_4_1_2.It("pasv-listens", spec.MUST, "listens on the port 227 names, not its default data port, and serves the transfer there",
		spec.Inferred(`This command requests the server-DTP to "listen" on a data port (which is not its default data port) and to wait for a connection rather than initiate one upon receipt of a transfer command.`, old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("pasv", []byte("over PASV\n"))
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			if strings.HasSuffix(d.addr, ":"+itoa(f.serverPort()-1)) {
				t.Mismatch("a passive port other than the default data port L-1", "%s", d.addr)
			}
			x := f.retrieveOn(d, "RETR "+path)
			expectTransfer(t, "RETR over PASV", x)
			t.Check(spec.Equal("the file over PASV", []byte("over PASV\n"), x.data))
		})

	rfc959_4_1_2.It("pasv-address", spec.MUST, "names its own address in the 227 reply",
		spec.Inferred("The response to this command includes the host and port address this server is listening on.", old), func(t *spec.T) {
			f := loggedIn(t)
			r := f.must("PASV", 227)
			ap, err := parsePASV(r.text())
			t.Check(err)
			if ap.Addr() != f.serverIP() {
				t.Mismatch("the control connection's server address "+f.serverIP().String(), "%s in %s", ap.Addr(), r)
			}
		})

	rfc959_4_1_2.It("type-default-ascii", spec.MUST, "sends a text file with CR LF line ends when no TYPE was given",
		spec.Inferred("The default representation type is ASCII Non-print.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("default-type", lfText)
			g := loggedIn(t)
			x := g.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR without TYPE", x)
			t.Check(spec.Equal("the LF text file in the default type (NVT-ASCII)", crlf(lfText), x.data))
		})

	rfc959_4_1_2.It("type-a-lowercase-n", spec.MUST, "accepts TYPE A N, the default spelled out",
		spec.Inferred("If the Format parameter is changed, and later just the first argument is changed, Format then returns to the Non-print default.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE A N", 200)
			f.must("TYPE I", 200)
			f.must("TYPE A", 200)
		})

	rfc959_4_1_2.It("stru-default-file", spec.MUST, "accepts STRU F, the default structure",
		spec.Inferred("The default structure is File.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("STRU F", 200)
		})

	rfc959_4_1_2.It("mode-default-stream", spec.MUST, "sends in stream mode by default: the bytes of the file, ended by the close",
		spec.Inferred("The default transfer mode is Stream.", old), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(3000)
			path := f.scratch("stream", data)
			f.must("TYPE I", 200)
			f.must("MODE S", 200)
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR in MODE S", x)
			t.Check(spec.Equal("the stream-mode bytes", data, x.data))
		})
})

var _ = Describe("RFC 959 4.1.3 FTP service commands", func() {
	rfc959_4_1_3.It("retr-copy", spec.MUST, "sends the exact bytes of a file with RETR in TYPE I",
		spec.Inferred("This command causes the server-DTP to transfer a copy of the file, specified in the pathname, to the server- or user-DTP at the other end of the data connection.", old), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(70000)
			path := f.scratch("retr", data)
			t.Check(spec.Equal("the retrieved file", data, f.getFile(path)))
		})

	rfc959_4_1_3.It("retr-unaffected", spec.MUST, "leaves the file unchanged by RETR",
		spec.Inferred("The status and contents of the file at the server site shall be unaffected.", old), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(5000)
			path := f.scratch("retr-twice", data)
			f.getFile(path)
			t.Check(spec.Equal("the file retrieved a second time", data, f.getFile(path)))
		})

	rfc959_4_1_3.It("stor-stores", spec.MUST, "stores what STOR sends, byte for byte",
		spec.Inferred("This command causes the server-DTP to accept the data transferred via the data connection and to store the data as a file at the server site.", old).SharedBecause("stor-complete-at-226 checks the durability case"), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(1 << 20)
			path := f.scratch("stor", data)
			t.Check(spec.Equal("the stored file read back", data, f.getFile(path)))
		})

	rfc959_4_1_3.It("stor-replaces", spec.MUST, "replaces an existing file's contents with STOR (a shorter file is not padded)",
		spec.Inferred("If the file specified in the pathname exists at the server site, then its contents shall be replaced by the data being transferred.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("stor-replace", binaryData(4000))
			f.put(path, []byte("short\n"))
			t.Check(spec.Equal("the replaced file", []byte("short\n"), f.getFile(path)))
		})

	rfc959_4_1_3.It("stor-creates", spec.MUST, "creates a new file with STOR, listed afterwards",
		spec.Inferred("A new file is created at the server site if the file specified in the pathname does not already exist.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("stor-new", []byte("new\n"))
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "NLST "+uploadDir)
			expectTransfer(t, "NLST", x)
			if !hasName(x.data, basename(path)) {
				t.Mismatch("the new file "+basename(path)+" in NLST "+uploadDir, "%s", spec.Excerpt(x.data, 400))
			}
		})

	rfc959_4_1_3.It("stou-unique", spec.MUST, "stores with STOU under a new name, leaving existing files alone",
		spec.Inferred("This command behaves like STOR except that the resultant file is to be created in the current directory under a name unique to that directory.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			f.must("TYPE I", 200)
			a := f.store(viaPASV, "STOU", []byte("one\n"))
			if a.final.code == 500 || a.final.code == 502 {
				t.Skipf("not applicable: the server does not implement STOU (%d)", a.final.code)
			}
			expectTransfer(t, "the first STOU", a)
			b := f.store(viaPASV, "STOU", []byte("two\n"))
			expectTransfer(t, "the second STOU", b)
			na, nb := stouName(a), stouName(b)
			if na == "" || nb == "" || na == nb {
				t.Mismatch("two different file names in the replies to two STOUs", "%q and %q (%s; %s)", na, nb, a, b)
			}
			t.Check(spec.Equal("the first STOU's file", []byte("one\n"), f.getFile(na)))
			t.Check(spec.Equal("the second STOU's file", []byte("two\n"), f.getFile(nb)))
		})

	rfc959_4_1_3.It("appe-appends", spec.MUST, "appends APPE's data to an existing file",
		spec.Inferred("If the file specified in the pathname exists at the server site, then the data shall be appended to that file; otherwise the file specified in the pathname shall be created at the server site.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("appe", []byte("head\n"))
			x := f.store(viaPASV, "APPE "+path, []byte("tail\n"))
			if x.final.code == 502 {
				t.Skipf("not applicable: the server does not implement APPE (502)")
			}
			expectTransfer(t, "APPE", x)
			t.Check(spec.Equal("the file after APPE", []byte("head\ntail\n"), f.getFile(path)))
		})

	rfc959_4_1_3.It("appe-creates", spec.MUST, "creates the file APPE names when it does not exist",
		spec.Inferred("If the file specified in the pathname exists at the server site, then the data shall be appended to that file; otherwise the file specified in the pathname shall be created at the server site.", old).SharedBecause("the sentence's otherwise case: appe-appends checks the first"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			path := uploadDir + "/" + unique("appe-new")
			x := f.store(viaPASV, "APPE "+path, []byte("created\n"))
			if x.final.code == 502 {
				t.Skipf("not applicable: the server does not implement APPE (502)")
			}
			expectTransfer(t, "APPE", x)
			t.Check(spec.Equal("the file APPE created", []byte("created\n"), f.getFile(path)))
		})

	rfc959_4_1_3.It("allo-as-noop", spec.SHOULD, "treats ALLO as a NOOP (200 or 202) and takes the STOR after it",
		spec.Inferred("The ALLO command should be treated as a NOOP (no operation) by those servers which do not require that the maximum size of the file be declared beforehand, and those servers interested in only the maximum record or page size should accept a dummy value in the first argument and ignore it.", old+"; lower-case should"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			f.must("ALLO 6", 200, 202)
			path := uploadDir + "/" + unique("allo")
			expectTransfer(t, "STOR after ALLO", f.store(viaPASV, "STOR "+path, []byte("allo!\n")))
		})

	rfc959_4_1_3.It("rename", spec.MUST, "renames a file with RNFR then RNTO",
		spec.Inferred("Together the two commands cause a file to be renamed.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("rnfr", []byte("renamed\n"))
			to := uploadDir + "/" + unique("rnto")
			f.must("RNFR "+path, 350)
			f.must("RNTO "+to, 250)
			t.Check(spec.Equal("the file under its new name", []byte("renamed\n"), f.getFile(to)))
			x := f.retrieve(viaPASV, "RETR "+path)
			expectCode(t, x.final, "RETR of the old name", 450, 550)
		})

	rfc959_4_1_3.It("abor-in-progress", spec.MUST, "answers ABOR during a transfer with 426 then 226 (or 226 for a finished transfer, then 225 or 226)",
		spec.Inferred("In the second case, the server aborts the FTP service in progress and closes the data connection, returning a 426 reply to indicate that the service request terminated abnormally.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.bigFile("abor", bigSize)
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			expectCode(t, f.cmd("RETR "+path), "the reply to RETR", 125, 150)
			c := d.get()
			_, err := c.ReadN(64 << 10)
			t.Check(err)
			wait := drain(c, 4*t.StepTimeout())
			f.send("ABOR")
			r := f.read()
			switch {
			case r.code == 426 || r.code == 451:
				expectCode(t, f.read(), "the reply to ABOR after the "+itoa(r.code), 226, 225)
			case r.code == 226 || r.code == 250:
				expectCode(t, f.read(), "the reply to ABOR after the finished transfer", 225, 226)
			default:
				t.Mismatch("426 then 226, or 226 then 225 or 226", "%s", r)
			}
			if _, err := wait(); err != nil && !isReset(err) {
				t.Mismatch("the data connection closed after ABOR", "%v", err)
			}
			f.must("NOOP", 200)
		})

	rfc959_4_1_3.It("abor-completed", spec.MUST, "answers ABOR after a completed transfer with 226 (or 225)",
		spec.Inferred("In the first case, the server closes the data connection (if it is open) and responds with a 226 reply, indicating that the abort command was successfully processed.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("abor-done", []byte("done\n"))
			f.getFile(path)
			f.must("ABOR", 225, 226)
		})

	rfc959_4_1_3.It("abor-keeps-control", spec.MUST, "keeps the control connection open after ABOR",
		spec.Inferred("The control connection is not to be closed by the server, but the data connection must be closed.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("PASV", 227)
			f.must("ABOR", 225, 226)
			f.must("NOOP", 200)
		})

	rfc959_4_1_3.It("dele-deletes", spec.MUST, "deletes a file with DELE",
		spec.Inferred("This command causes the file specified in the pathname to be deleted at the server site.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("dele", []byte("gone\n"))
			f.must("DELE "+path, 250)
			x := f.retrieve(viaPASV, "RETR "+path)
			expectCode(t, x.final, "RETR of the deleted file", 450, 550)
		})

	rfc959_4_1_3.It("rmd-removes", spec.MUST, "removes a directory with RMD",
		spec.Inferred("This command causes the directory specified in the pathname to be removed as a directory (if the pathname is absolute) or as a subdirectory of the current working directory (if the pathname is relative).", old), func(t *spec.T) {
			f := loggedIn(t)
			dir := uploadDir + "/" + unique("rmd")
			f.needUpload()
			f.must("MKD "+dir, 257)
			f.must("RMD "+dir, 250)
			expectCode(t, f.cmd("CWD "+dir), "CWD to the removed directory", 550, 450)
		})

	rfc959_4_1_3.It("mkd-creates", spec.MUST, "creates a directory with MKD, relative to the working directory",
		spec.Inferred("This command causes the directory specified in the pathname to be created as a directory (if the pathname is absolute) or as a subdirectory of the current working directory (if the pathname is relative).", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			name := unique("mkd")
			f.needUpload()
			f.must("MKD "+name, 257)
			f.must("CWD "+name, 250)
			dir, _ := quoted(f.must("PWD", 257))
			if !strings.HasSuffix(dir, uploadDir+"/"+name) {
				t.Mismatch("PWD in the new directory ending in "+uploadDir+"/"+name, "%q", dir)
			}
		})

	rfc959_4_1_3.It("pwd-names-directory", spec.MUST, "names the working directory in PWD's reply",
		spec.Inferred("This command causes the name of the current working directory to be returned in the reply.", old), func(t *spec.T) {
			f := loggedIn(t)
			r := f.must("PWD", 257)
			if _, ok := quoted(r); !ok {
				t.Mismatch(`a 257 reply with the directory in quotes ("...")`, "%s", r)
			}
		})

	rfc959_4_1_3.It("list-directory", spec.SHOULD, "lists the files of the directory LIST names",
		spec.Inferred("If the pathname specifies a directory or other group of files, the server should transfer a list of files in the specified directory.", old+"; lower-case should"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("list", []byte("x\n"))
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "LIST "+uploadDir)
			expectTransfer(t, "LIST", x)
			if !bytes.Contains(x.data, []byte(basename(path))) {
				t.Mismatch("a listing naming "+basename(path), "%s", spec.Excerpt(x.data, 400))
			}
		})

	rfc959_4_1_3.It("list-file", spec.SHOULD, "lists one file's information when LIST names a file",
		spec.Inferred("If the pathname specifies a file then the server should send current information on the file.", old+"; lower-case should"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("list-file", []byte("x\n"))
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "LIST "+path)
			expectTransfer(t, "LIST of a file", x)
			lines := splitLines(x.data)
			if len(lines) != 1 || !strings.Contains(lines[0], basename(path)) {
				t.Mismatch("one line naming "+basename(path), "%s", spec.Excerpt(x.data, 400))
			}
		})

	rfc959_4_1_3.It("list-null-argument", spec.MUST, "lists the working directory for LIST without argument",
		spec.Inferred("A null argument implies the user's current working or default directory.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("list-cwd", []byte("x\n"))
			f.must("CWD "+uploadDir, 250)
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "LIST")
			expectTransfer(t, "LIST", x)
			if !bytes.Contains(x.data, []byte(basename(path))) {
				t.Mismatch("a listing of "+uploadDir+" naming "+basename(path), "%s", spec.Excerpt(x.data, 400))
			}
		})

	rfc959_4_1_3.It("nlst-names-only", spec.MUST, "sends names and no other information for NLST",
		spec.Inferred("The server will return a stream of names of files and no other information.", old), func(t *spec.T) {
			f := loggedIn(t)
			a := f.scratch("nlst-a", []byte("a\n"))
			b := f.scratch("nlst-b", []byte("b\n"))
			f.must("CWD "+uploadDir, 250)
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "NLST")
			expectTransfer(t, "NLST", x)
			for _, want := range []string{basename(a), basename(b)} {
				if !hasName(x.data, want) {
					t.Mismatch("a line that is exactly the name "+want, "%s", spec.Excerpt(x.data, 400))
				}
			}
		})

	rfc959_4_1_3.It("nlst-crlf", spec.MUST, "ends NLST's names with CR LF in TYPE A",
		spec.Inferred("The data will be transferred in ASCII or EBCDIC type over the data connection as valid pathname strings separated by <CRLF> or <NL>.", old+"; in ASCII type the end of line is CR LF"), func(t *spec.T) {
			f := loggedIn(t)
			f.scratch("nlst-crlf", []byte("a\n"))
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "NLST "+uploadDir)
			expectTransfer(t, "NLST", x)
			if len(x.data) == 0 || !bytes.HasSuffix(x.data, []byte("\r\n")) || bytes.Count(x.data, []byte("\n")) != bytes.Count(x.data, []byte("\r\n")) {
				t.Mismatch("names each ended by CR LF", "%s", spec.Excerpt(x.data, 400))
			}
		})

	rfc959_4_1_3.It("syst-name", spec.MUST, "starts SYST's 215 reply with a system name",
		spec.Inferred("The reply shall have as its first word one of the system names listed in the current version of the Assigned Numbers document [4].", old), func(t *spec.T) {
			f := loggedIn(t)
			r := f.cmd("SYST")
			if r.code == 502 || r.code == 500 {
				t.Skipf("not applicable: the server does not implement SYST (%d)", r.code)
			}
			expectCode(t, r, "the reply to SYST", 215)
			if !systemName.MatchString(r.text()) {
				t.Mismatch("a first word that is an Assigned Numbers system name (upper case letters, digits, - and /)", "%s", r)
			}
		})

	rfc959_4_1_3.It("stat-general", spec.SHOULD, "answers STAT without argument with the server's status",
		spec.Inferred("If no argument is given, the server should return general status information about the server FTP process.", old+"; lower-case should"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("STAT", 211)
		})

	rfc959_4_1_3.It("stat-pathname", spec.MUST, "lists a directory over the control connection for STAT pathname",
		spec.Inferred(`If the argument is a pathname, the command is analogous to the "list" command except that data shall be transferred over the control connection.`, old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("stat", []byte("x\n"))
			r := f.must("STAT "+uploadDir, 211, 212, 213)
			if !strings.Contains(r.text(), basename(path)) {
				t.Mismatch("a status reply naming "+basename(path), "%s", r)
			}
		})

	rfc959_4_1_3.It("stat-during-transfer", spec.MUST, "answers STAT sent during a transfer, before or after the transfer's 226",
		spec.Inferred("The command may be sent during a file transfer (along with the Telnet IP and Synch signals--see the Section on FTP Commands) in which case the server will respond with the status of the operation in progress, or it may be sent between file transfers.", old), func(t *spec.T) {
			f := loggedIn(t)
			path := f.bigFile("stat-transfer", bigSize)
			f.must("TYPE I", 200)
			d := f.open(viaPASV)
			expectCode(t, f.cmd("RETR "+path), "the reply to RETR", 125, 150)
			c := d.get()
			_, err := c.ReadN(32 << 10)
			t.Check(err)
			wait := drain(c, 4*t.StepTimeout())
			f.send("STAT")
			a := f.read()
			b := f.read()
			n, _ := wait()
			// STAT's row: 211, 212, 213, or a refusal (450, 500, 501, 502,
			// 421, 530); the spec asks for a reply, in either order.
			statRow := []int{211, 212, 213, 450, 500, 501, 502, 421, 530}
			switch {
			case codeIn(a.code, statRow):
				expectCode(t, b, "the transfer's reply after STAT's", 226, 250)
			case a.code == 226 || a.code == 250:
				expectCode(t, b, "the reply to STAT after the transfer", statRow...)
			default:
				t.Mismatch("STAT's reply (211, 212, 213, or a refusal of its row) and the transfer's 226, in either order", "%s then %s", a, b)
			}
			if int64(32<<10)+n != bigSize {
				t.Mismatch("the whole file despite STAT", "%d of %d bytes", int64(32<<10)+n, bigSize)
			}
		})

	rfc959_4_1_3.It("help", spec.MUST, "sends help over the control connection for HELP",
		spec.Inferred("This command shall cause the server to send helpful information regarding its implementation status over the control connection to the user.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("HELP", 211, 214)
		})

	rfc959_4_1_3.It("help-before-login", spec.SHOULD, "answers HELP before USER",
		spec.Inferred("It is suggested that HELP be allowed before entering a USER command.", old+"; suggested"), func(t *spec.T) {
			f := connect(t)
			f.must("HELP", 211, 214)
		})

	rfc959_4_1_3.It("noop-ok", spec.MUST, "answers NOOP with 200 and changes nothing",
		spec.Inferred("It specifies no action other than that the server send an OK reply.", old), func(t *spec.T) {
			f := loggedIn(t)
			f.must("CWD "+uploadDir, 250)
			before, _ := quoted(f.must("PWD", 257))
			f.must("NOOP", 200)
			after, _ := quoted(f.must("PWD", 257))
			if before != after {
				t.Mismatch("the same working directory after NOOP", "%q became %q", before, after)
			}
		})
})

// systemName is a system name of the Assigned Numbers list: UNIX,
// WINDOWS-NT, MACOS, VMS, ...
var systemName = regexp.MustCompile(`^[A-Z][A-Z0-9\-/]*( |$)`)

// hasName reports whether one line of an NLST listing is name or ends in
// /name.
func hasName(listing []byte, name string) bool {
	for _, l := range splitLines(listing) {
		if l == name || strings.HasSuffix(l, "/"+name) {
			return true
		}
	}
	return false
}

// stouName is the file name an STOU transfer's replies give: "FILE:
// name" (RFC 1123 4.1.2.9), else the last word of the 1yz or final reply
// that looks like a file name.
func stouName(x transfer) string {
	for _, r := range []reply{x.pre, x.final} {
		if r.code == 0 {
			continue
		}
		text := r.text()
		if i := strings.Index(text, "FILE:"); i >= 0 {
			return strings.Fields(text[i+5:] + " ")[0]
		}
	}
	for _, r := range []reply{x.pre, x.final} {
		for _, w := range strings.Fields(r.text()) {
			w = strings.Trim(w, `"'().,`)
			if strings.Contains(w, ".") || strings.Contains(w, "/") || len(w) >= 6 && !isWord(w) {
				return w
			}
		}
	}
	return ""
}

// isWord reports an all-letters word ("Opening", "connection").
func isWord(w string) bool {
	for _, c := range w {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
