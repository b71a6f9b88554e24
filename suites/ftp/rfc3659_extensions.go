package ftp

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/protospec/protospec/suites/spec"
)

var (
	rfc3659_3 = spec.Section(proto, "rfc3659", "3", "File Modification Time (MDTM)")
	rfc3659_4 = spec.Section(proto, "rfc3659", "4", "File SIZE")
	rfc3659_5 = spec.Section(proto, "rfc3659", "5", "Restart of Interrupted Transfer (REST)")
	rfc3659_7 = spec.Section(proto, "rfc3659", "7", "Listings for Machine Processing (MLST and MLSD)")
)

// exactFormat is the sentence of RFC 3659 3.1 and 4.1 on the 213 reply.
const exactFormat = "Note that when the 213 response is issued, that is, when there is no error, the format MUST be exactly as specified."

var (
	mdtmReply = regexp.MustCompile(`^213 [0-9]{14}(\.[0-9]+)?$`)
	sizeReply = regexp.MustCompile(`^213 [0-9]+$`)
	// factsLine is an MLSx entry: facts (name=value; each, no spaces),
	// one space, the pathname.
	factsLine = regexp.MustCompile(`^((?:[!-:<-~]+=[!-:<-~]*;)*) (.+)$`)
	timeVal   = regexp.MustCompile(`^[0-9]{14}(\.[0-9]+)?$`)
)

// requireCommand skips the spec when the server answers cmd with 500 or
// 502 (it does not implement it), and returns the reply otherwise.
func (f *ftpc) requireCommand(line string) reply {
	r := f.cmd(line)
	if r.code == 500 || r.code == 502 {
		f.t.Skipf("not applicable: the server does not implement %s (%d)", strings.Fields(line)[0], r.code)
	}
	return r
}

// facts parses an MLSx entry: its facts by lower-case name, and the
// pathname.
func facts(line string) (map[string]string, string, bool) {
	m := factsLine.FindStringSubmatch(line)
	if m == nil {
		return nil, "", false
	}
	out := map[string]string{}
	for _, fv := range strings.Split(strings.TrimSuffix(m[1], ";"), ";") {
		if fv == "" {
			continue
		}
		k, v, _ := strings.Cut(fv, "=")
		out[strings.ToLower(k)] = v
	}
	return out, m[2], true
}

// mlsd lists dir with MLSD, skipping the spec when the server lacks it.
func (f *ftpc) mlsd(dir string) []string {
	d := f.open(viaPASV)
	r := f.cmd("MLSD " + dir)
	if r.code == 500 || r.code == 502 {
		d.close()
		f.t.Skipf("not applicable: the server does not implement MLSD (%d)", r.code)
	}
	expectCode(f.t, r, "the reply to MLSD", 125, 150)
	c := d.get()
	data, err := c.ReadUntilClose(maxData)
	f.t.Check(err)
	c.Close()
	expectCode(f.t, f.read(), "the reply after the MLSD listing", 226, 250)
	if bytes.Contains(data, []byte("\n\r\n")) || bytes.HasPrefix(data, []byte("\r\n")) {
		f.t.Mismatch("no blank line in the MLSD listing", "%s", spec.Excerpt(data, 400))
	}
	var lines []string
	for _, l := range bytes.Split(data, []byte("\r\n")) {
		if len(l) > 0 {
			lines = append(lines, string(l))
		}
	}
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\r\n")) {
		f.t.Mismatch("MLSD entries each ended by CR LF", "%s", spec.Excerpt(data, 400))
	}
	return lines
}

var _ = Describe("RFC 3659 MDTM, SIZE, REST STREAM, MLST and MLSD", func() {
	rfc3659_3.It("mdtm-format", spec.MUST, "answers MDTM of a file with exactly 213 YYYYMMDDHHMMSS[.sss]",
		spec.Quote(exactFormat).SharedBecause("the MDTM case; size-format checks SIZE's").In("3.1"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("mdtm", []byte("x\n"))
			r := f.requireCommand("MDTM " + path)
			if r.multi || !mdtmReply.MatchString(r.lines[0]) {
				t.Mismatch("a single line 213 time-val", "%s", r)
			}
		})

	rfc3659_3.It("mdtm-missing-550", spec.SHOULD, "answers MDTM of a missing file with 550",
		spec.Inferred("Where the command is correctly parsed but the modification time is not available, either because the pathname identifies no existing entity or because the information is not available for the entity named, then a 550 reply should be sent.", "lower-case should in a Standards Track RFC of 2007").In("3.2"), func(t *spec.T) {
			f := loggedIn(t)
			r := f.requireCommand("MDTM " + uploadDir + "/" + unique("missing"))
			expectCode(t, r, "the reply to MDTM of a missing file", 550)
		})

	rfc3659_3.It("mdtm-in-feat", spec.MUST, "lists MDTM in FEAT when it implements MDTM",
		spec.Quote(`When replying to the FEAT command [6], a server-FTP process that supports the MDTM command MUST include a line containing the single word "MDTM".`).In("3.3"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("mdtm-feat", []byte("x\n"))
			f.requireCommand("MDTM " + path)
			if _, ok := f.feat()["MDTM"]; !ok {
				t.Mismatch("a FEAT line MDTM", "FEAT does not list it")
			}
		})

	rfc3659_4.It("size-format", spec.MUST, "answers SIZE of a file with exactly 213 and a number",
		spec.Quote(exactFormat).SharedBecause("the SIZE case; mdtm-format checks MDTM's").In("4.1"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("size", []byte("x\n"))
			f.must("TYPE I", 200)
			r := f.requireCommand("SIZE " + path)
			if r.multi || !sizeReply.MatchString(r.lines[0]) {
				t.Mismatch("a single line 213 1*DIGIT", "%s", r)
			}
		})

	rfc3659_4.It("size-image-exact", spec.MUST, "answers SIZE in TYPE I with the file's exact byte count",
		spec.Quote("Estimates of the file transfer size MUST NOT be returned; only precise information is acceptable."), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(123457)
			path := f.scratch("size-exact", data)
			f.must("TYPE I", 200)
			r := f.requireCommand("SIZE " + path)
			expectCode(t, r, "the reply to SIZE", 213)
			if r.text() != strconv.Itoa(len(data)) {
				t.Mismatch("213 "+strconv.Itoa(len(data)), "%s", r)
			}
		})

	rfc3659_4.It("size-ascii-matches-transfer", spec.MUST, "answers SIZE in TYPE A with the byte count a TYPE A RETR sends",
		spec.Inferred("The SIZE command returns how many octets would be transferred if the file were to be transferred using the current transfer structure, mode, and type.", "RFC 3659 4 defines the value without a key word; 4 adds \"only precise information is acceptable\" in a MUST NOT"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("size-ascii", lfText)
			f.must("TYPE A", 200)
			r := f.requireCommand("SIZE " + path)
			if r.code == 550 {
				t.Skipf("not applicable: the server does not give SIZE in TYPE A (550)")
			}
			expectCode(t, r, "the reply to SIZE in TYPE A", 213)
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR in TYPE A", x)
			if r.text() != strconv.Itoa(len(x.data)) {
				t.Mismatch("213 "+strconv.Itoa(len(x.data))+", the bytes RETR sent in TYPE A", "%s", r)
			}
		})

	rfc3659_4.It("size-missing-550", spec.SHOULD, "answers SIZE of a missing file with 550",
		spec.Inferred("Where the command is correctly parsed but the size is not available, perhaps because the pathname identifies no existing entity or because the entity named cannot be transferred in the current MODE and TYPE (or at all), then a 550 reply should be sent.", "lower-case should in a Standards Track RFC of 2007").In("4.2"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			r := f.requireCommand("SIZE " + uploadDir + "/" + unique("missing"))
			expectCode(t, r, "the reply to SIZE of a missing file", 550)
		})

	rfc3659_4.It("size-in-feat", spec.MUST, "lists SIZE in FEAT when it implements SIZE",
		spec.Quote(`When replying to the FEAT command [6], a server-FTP process that supports the SIZE command MUST include a line containing the single word "SIZE".`).In("4.3"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("size-feat", []byte("x\n"))
			f.must("TYPE I", 200)
			f.requireCommand("SIZE " + path)
			if _, ok := f.feat()["SIZE"]; !ok {
				t.Mismatch("a FEAT line SIZE", "FEAT does not list it")
			}
		})

	rfc3659_5.It("rest-350", spec.MUST, "answers REST with a number with 350",
		spec.Inferred("The server-PI will respond to the REST command with a 350 reply, indicating that the REST parameter has been saved, and that another command, which should be either RETR or STOR, should then follow to complete the restart.", "RFC 3659 5.3 states the reply without a key word").In("5.3"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			expectCode(t, f.requireCommand("REST 100"), "the reply to REST 100", 350)
		})

	rfc3659_5.It("rest-retr-offset", spec.MUST, "sends the file from the REST offset on the next RETR",
		spec.Inferred("The numeric value gives the number of octets of the immediately-following transfer to not actually send, effectively causing the transmission to be restarted at a later point.", "RFC 3659 5.3 defines the value without a key word").In("5.3"), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(50000)
			path := f.scratch("rest-retr", data)
			f.must("TYPE I", 200)
			expectCode(t, f.requireCommand("REST 12345"), "the reply to REST 12345", 350)
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR after REST", x)
			t.Check(spec.Equal("the file from offset 12345", data[12345:], x.data))
		})

	rfc3659_5.It("rest-zero", spec.MUST, "sends the whole file after REST 0",
		spec.Inferred("A value of zero effectively disables restart, causing the entire file to be transmitted.", "RFC 3659 5.3 defines the value without a key word").In("5.3"), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(3000)
			path := f.scratch("rest-zero", data)
			f.must("TYPE I", 200)
			f.requireCommand("REST 0")
			x := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR after REST 0", x)
			t.Check(spec.Equal("the whole file", data, x.data))
		})

	rfc3659_5.It("rest-stor-resumes", spec.MUST, "writes STOR's data at the REST offset, completing a partial upload",
		spec.Inferred("That is, in both cases, octets from the data connection are placed into the file at the location indicated by the restart marker value.", "RFC 3659 5.3 states it without a key word: a resumed STOR must complete the file").In("5.3"), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(40000)
			path := f.scratch("rest-stor", data[:15000])
			f.must("TYPE I", 200)
			expectCode(t, f.requireCommand("REST 15000"), "the reply to REST 15000", 350)
			expectTransfer(t, "STOR after REST", f.store(viaPASV, "STOR "+path, data[15000:]))
			t.Check(spec.Equal("the resumed upload", data, f.getFile(path)))
		})

	rfc3659_5.It("rest-appe-as-stor", spec.MUST, "treats APPE after REST as STOR after REST, when it accepts it",
		spec.Quote("If APPE (append) is permitted, it MUST act identically to STOR when a restart marker has been set.").In("5.3"), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(30000)
			path := f.scratch("rest-appe", data[:10000])
			f.must("TYPE I", 200)
			expectCode(t, f.requireCommand("REST 10000"), "the reply to REST 10000", 350)
			x := f.store(viaPASV, "APPE "+path, data[10000:])
			if x.final.class() == 5 && x.pre.code == 0 {
				t.Skipf("not applicable: the server does not permit APPE after REST (%d)", x.final.code)
			}
			expectTransfer(t, "APPE after REST", x)
			t.Check(spec.Equal("the file after APPE at the restart marker", data, f.getFile(path)))
		})

	rfc3659_5.It("rest-syntax-501", spec.MUST, "refuses REST with a marker that is not digits in stream mode",
		spec.Inferred("An error response will follow a REST command only when the server does not implement the command, or when the restart marker value is syntactically invalid for the current transfer mode (e.g., in STREAM mode, something other than one or more digits appears in the parameter to the REST command).", "RFC 3659 5.3 states when REST fails without a key word").In("5.3"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			f.requireCommand("REST 0")
			expectCode(t, f.cmd("REST abc"), "the reply to REST abc (554 is RFC 1123's invalid REST parameter)", 501, 500, 504, 554)
		})

	rfc3659_5.It("rest-misplaced", spec.MUST, "reacts to REST before LIST in one of the three ways allowed",
		spec.Inferred("The server-PI may react to a badly positioned REST command by issuing an error response to the following command, not being a restartable data transfer command, or it may save the restart value and apply it to the next data transfer command, or it may silently ignore the inappropriate restart attempt.", "the three reactions are the options; any other (a broken session, a wrong offset) is not allowed").In("5.3"), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(2000)
			path := f.scratch("rest-misplaced", data)
			f.must("TYPE I", 200)
			expectCode(t, f.requireCommand("REST 500"), "the reply to REST 500", 350)
			f.must("TYPE A", 200)
			x := f.retrieve(viaPASV, "LIST "+uploadDir)
			if x.pre.code != 0 {
				expectCode(t, x.final, "the end of LIST after REST", 226, 250, 4, 5)
			}
			f.must("TYPE I", 200)
			y := f.retrieve(viaPASV, "RETR "+path)
			expectTransfer(t, "RETR after the misplaced REST", y)
			if !bytes.Equal(y.data, data) && !bytes.Equal(y.data, data[500:]) {
				t.Mismatch("the whole file, or the file from 500 (the saved marker)", "%d bytes", len(y.data))
			}
		})

	rfc3659_5.It("rest-in-feat", spec.MUST, "lists REST STREAM in FEAT when it restarts stream-mode transfers",
		spec.Quote(`Where a server-FTP process supports RESTart in STREAM mode, as specified here, it MUST include, in the response to the FEAT command [6], a line containing exactly the string "REST STREAM".`).In("5.4"), func(t *spec.T) {
			f := loggedIn(t)
			f.must("TYPE I", 200)
			if f.requireCommand("REST 1").code != 350 {
				t.Skipf("not applicable: REST is refused")
			}
			f.must("REST 0", 350)
			if v, ok := f.feat()["REST"]; !ok || !strings.EqualFold(strings.TrimSpace(v), "STREAM") {
				t.Mismatch("a FEAT line REST STREAM", "REST %q", v)
			}
		})

	rfc3659_7.It("mlst-control", spec.MUST, "answers MLST of a file over the control connection with 250 and one entry",
		spec.Inferred("In all cases for MLST, a single set of fact lines (usually a single fact line) containing the information about the named file or directory shall be returned over the control connection, without opening a data connection.", "shall: RFC 2119's MUST").In("7.1"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("mlst", []byte("12345\n"))
			r := f.requireCommand("MLST " + path)
			expectCode(t, r, "the reply to MLST", 250)
			if !r.multi || len(r.lines) < 3 {
				t.Mismatch("250- first line, an entry line, 250 last line", "%s", r)
			}
			fs, name, ok := facts(strings.TrimPrefix(r.lines[1], " "))
			if !ok || !strings.HasSuffix(name, basename(path)) {
				t.Mismatch("an entry \" facts pathname\" naming "+basename(path), "%q", r.lines[1])
			}
			if v, has := fs["type"]; has && !strings.EqualFold(v, "file") {
				t.Mismatch("type=file", "type=%s", v)
			}
		})

	rfc3659_7.It("mlst-leading-space", spec.MUST, "starts MLST's entry line with a space",
		spec.Inferred("Note that for MLST the fact set is preceded by a space.", "RFC 3659 7.2 makes the space \"required even when that would not be possible\"").In("7.2"), func(t *spec.T) {
			f := loggedIn(t)
			r := f.requireCommand("MLST " + uploadDir)
			expectCode(t, r, "the reply to MLST", 250)
			if len(r.lines) < 3 || !strings.HasPrefix(r.lines[1], " ") {
				t.Mismatch("an entry line starting with one space", "%s", r)
			}
		})

	rfc3659_7.It("mlsd-lists-directory", spec.MUST, "lists the named directory's entries with MLSD",
		spec.Inferred("If a directory name is given then MLSD must return a listing of the contents of the named directory, otherwise it issues a 501 reply, and does not open a data connection.", "lower-case must in a Standards Track RFC of 2007").In("7.1"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("mlsd", []byte("x\n"))
			found := false
			for _, l := range f.mlsd(uploadDir) {
				if _, name, ok := facts(l); ok && basename(name) == basename(path) {
					found = true
				}
			}
			if !found {
				t.Mismatch("an entry for "+basename(path), "none in the listing")
			}
		})

	rfc3659_7.It("mlsd-file-501", spec.MUST, "refuses MLSD of a file with 501",
		spec.Inferred("If a directory name is given then MLSD must return a listing of the contents of the named directory, otherwise it issues a 501 reply, and does not open a data connection.", "lower-case must in a Standards Track RFC of 2007").In("7.1").SharedBecause("the otherwise case: a file, not a directory"), func(t *spec.T) {
			f := loggedIn(t)
			path := f.scratch("mlsd-file", []byte("x\n"))
			d := f.open(viaPASV)
			r := f.requireCommand("MLSD " + path)
			d.close()
			expectCode(t, r, "the reply to MLSD of a file", 501)
		})

	rfc3659_7.It("mlsd-format", spec.MUST, "sends MLSD entries as facts, one space and the name, without headers, blanks or tabs",
		spec.Quote("Implementations MUST NOT vary the format by, for example, inserting extra spaces for readability, replacing spaces by tabs, including header or title lines, or inserting blank lines, or in any other way alter this format.").In("7.2"), func(t *spec.T) {
			f := loggedIn(t)
			f.scratch("mlsd-format", []byte("x\n"))
			for _, l := range f.mlsd(uploadDir) {
				if _, _, ok := facts(l); !ok || strings.Contains(l, "\t") {
					t.Mismatch("an entry facts SP pathname (fact=value; ... without spaces)", "%q", l)
				}
			}
		})

	rfc3659_7.It("mlsd-standard-facts", spec.SHOULD, "gives the type, size and modify facts of a file in MLSD",
		spec.Quote("However, servers SHOULD, if conceivably possible, support at least the type, perm, size, unique, and modify facts.").In("7.5.10"), func(t *spec.T) {
			f := loggedIn(t)
			data := binaryData(777)
			path := f.scratch("mlsd-facts", data)
			for _, l := range f.mlsd(uploadDir) {
				fs, name, ok := facts(l)
				if !ok || basename(name) != basename(path) {
					continue
				}
				for _, k := range []string{"type", "size", "modify", "perm"} {
					if _, has := fs[k]; !has {
						t.Mismatch("the "+k+" fact", "%q", l)
					}
				}
				if !strings.EqualFold(fs["type"], "file") || fs["size"] != "777" || !timeVal.MatchString(fs["modify"]) {
					t.Mismatch("type=file, size=777 and modify=YYYYMMDDHHMMSS", "%q", l)
				}
				return
			}
			t.Mismatch("an entry for "+basename(path), "none in the listing")
		})

	rfc3659_7.It("mlsd-type-dir", spec.MUST, "marks a subdirectory type=dir and a file type=file in MLSD",
		spec.Inferred("Five values are possible for the type fact:", "RFC 3659 7.5.1 defines the values; a wrong one breaks the machine processing MLSD is for").In("7.5.1"), func(t *spec.T) {
			f := loggedIn(t)
			dir := unique("mlsd-dir")
			f.needUpload()
			f.must("MKD "+uploadDir+"/"+dir, 257)
			path := f.scratch("mlsd-type", []byte("x\n"))
			want := map[string]string{dir: "dir", basename(path): "file"}
			for _, l := range f.mlsd(uploadDir) {
				fs, name, ok := facts(l)
				if w, named := want[basename(name)]; ok && named {
					if v, has := fs["type"]; has && !strings.EqualFold(v, w) {
						t.Mismatch("type="+w+" for "+basename(name), "%q", l)
					}
					delete(want, basename(name))
				}
			}
			if len(want) > 0 {
				t.Mismatch("entries for the new directory and file", "missing %v", want)
			}
		})

	rfc3659_7.It("mlsd-unqualified-names", spec.SHOULD, "names MLSD's entries without the listed directory's path",
		spec.Quote("File names returned in the output from an MLSD command SHOULD be unqualified names within the directory named, or the current directory if no argument was given.").In("7.3.1"), func(t *spec.T) {
			f := loggedIn(t)
			f.scratch("mlsd-names", []byte("x\n"))
			for _, l := range f.mlsd(uploadDir) {
				fs, name, ok := facts(l)
				if ok && strings.Contains(name, "/") && !strings.EqualFold(fs["type"], "cdir") && !strings.EqualFold(fs["type"], "pdir") {
					t.Mismatch("an unqualified name", "%q", l)
				}
			}
		})

	rfc3659_7.It("mlsd-missing-550", spec.MUST, "refuses MLSD of a missing directory with 550",
		spec.Inferred("Giving a name that does not exist, or for which access permission (to obtain directory information as requested) is not granted will elicit a 550 reply.", "RFC 3659 7.2.1 states the reply with \"will\"").In("7.2.1"), func(t *spec.T) {
			f := loggedIn(t)
			d := f.open(viaPASV)
			r := f.requireCommand("MLSD " + uploadDir + "/" + unique("no-dir"))
			d.close()
			expectCode(t, r, "the reply to MLSD of a missing directory", 550)
		})
})
