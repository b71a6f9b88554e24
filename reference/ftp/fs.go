package ftp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// tempPrefix names the hidden temporary files of uploads; listings skip them.
const tempPrefix = ".ftp-upload-"

var errBadPath = errors.New("bad path")

// resolve maps a client's path onto the user's root: the virtual path
// (absolute, clean) and the name inside the os.Root ("." for the root).
// ".." stops at "/", an absolute path starts at the root, "~" and "~/x"
// are the root; "~user" and invalid UTF-8 (RFC 2640) are refused.
func (ss *session) resolve(arg string) (vpath, name string, err error) {
	if !utf8.ValidString(arg) {
		return "", "", errBadPath
	}
	switch {
	case arg == "":
		arg = ss.cwd
	case arg == "~":
		arg = "/"
	case strings.HasPrefix(arg, "~/"):
		arg = arg[1:]
	case strings.HasPrefix(arg, "~"):
		return "", "", errBadPath
	}
	if !strings.HasPrefix(arg, "/") {
		arg = path.Join(ss.cwd, arg)
	}
	vpath = path.Clean(arg)
	name = strings.TrimPrefix(vpath, "/")
	if name == "" {
		name = "."
	}
	return vpath, name, nil
}

// writable reports whether the user may create or change vpath: never
// for anonymous users (RFC 2577 and the fixture), under WritableDir only
// for the others. strict leaves WritableDir itself out (no RMD, DELE or
// rename of it).
func (ss *session) writable(vpath string, strict bool) bool {
	w := ss.account.WritableDir
	if ss.account.Anonymous || w == "" {
		return false
	}
	if w == "/" {
		return !strict || vpath != "/"
	}
	return strings.HasPrefix(vpath, w+"/") || (!strict && vpath == w)
}

// quote is a path inside a 257 reply: RFC 959 appendix II doubles every
// quote inside it.
func quote(p string) string { return `"` + strings.ReplaceAll(p, `"`, `""`) + `"` }

func (ss *session) cmdPWD(string) error {
	return ss.reply(257, quote(ss.cwd)+" is the current directory.")
}

func (ss *session) cmdCWD(arg string) error {
	vpath, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(550, "No such directory.")
	}
	st, err := ss.root.Stat(name)
	if err != nil || !st.IsDir() {
		return ss.reply(550, "No such directory.")
	}
	ss.cwd = vpath
	return ss.reply(250, "Directory changed to "+vpath+".")
}

func (ss *session) cmdCDUP(string) error {
	vpath, _, _ := ss.resolve("..")
	ss.cwd = vpath
	// RFC 959 5.4 lists 200 for CDUP.
	return ss.reply(200, "Directory changed to "+vpath+".")
}

func (ss *session) cmdMKD(arg string) error {
	vpath, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(550, "Bad directory name.")
	}
	if !ss.writable(vpath, true) {
		return ss.reply(550, "Permission denied.")
	}
	if n, _ := ss.usage(); n >= ss.s.maxUploadFiles() {
		return ss.reply(550, "Exceeded storage allocation: too many files.")
	}
	if err := ss.root.Mkdir(name, 0o755); err != nil {
		return ss.reply(550, "Cannot create the directory.")
	}
	ss.syncDir(path.Dir(name))
	return ss.reply(257, quote(vpath)+" created.")
}

func (ss *session) cmdRMD(arg string) error {
	return ss.remove(arg, true, "No such directory.", "Cannot remove the directory (not empty?).", "Directory removed.")
}

func (ss *session) cmdDELE(arg string) error {
	return ss.remove(arg, false, "No such file.", "Cannot delete the file.", "File deleted.")
}

// remove removes the directory (dir) or file arg names, for RMD and
// DELE: 550 with missing when there is no such one, with failed when the
// removal fails; 250 with done once the directory entry is synced.
func (ss *session) remove(arg string, dir bool, missing, failed, done string) error {
	vpath, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(550, missing)
	}
	if !ss.writable(vpath, true) {
		return ss.reply(550, "Permission denied.")
	}
	st, err := ss.root.Lstat(name)
	if err != nil || st.IsDir() != dir {
		return ss.reply(550, missing)
	}
	if err := ss.root.Remove(name); err != nil {
		return ss.reply(550, failed)
	}
	ss.syncDir(path.Dir(name))
	return ss.reply(250, done)
}

func (ss *session) cmdRNFR(arg string) error {
	vpath, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(550, "No such file or directory.")
	}
	if !ss.writable(vpath, true) {
		return ss.reply(550, "Permission denied.")
	}
	if _, err := ss.root.Lstat(name); err != nil {
		return ss.reply(550, "No such file or directory.")
	}
	ss.rnfr = vpath
	return ss.reply(350, "Ready for RNTO.")
}

func (ss *session) cmdRNTO(arg string) error {
	from := ss.rnfr
	ss.rnfr = ""
	if from == "" {
		// RFC 959 4.1.3: RNTO "must be preceded by a RNFR command"; 503.
		return ss.reply(503, "RNTO must come right after RNFR.")
	}
	vpath, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(553, "File name not allowed.")
	}
	if !ss.writable(vpath, true) {
		return ss.reply(553, "File name not allowed: permission denied.")
	}
	fromName := strings.TrimPrefix(from, "/")
	if err := ss.root.Rename(fromName, name); err != nil {
		return ss.reply(553, "Cannot rename.")
	}
	ss.syncDir(path.Dir(name))
	ss.syncDir(path.Dir(fromName))
	return ss.reply(250, "Renamed.")
}

// syncDir fsyncs a directory of the root, so that an entry made in it is
// durable; errors are ignored (a file system without directory fsync).
func (ss *session) syncDir(name string) error {
	d, err := ss.root.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// mdtm is the RFC 3659 time-val of t: YYYYMMDDHHMMSS in UTC.
func mdtm(t time.Time) string { return t.UTC().Format("20060102150405") }

func (ss *session) cmdMDTM(arg string) error {
	_, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(550, "No such file.")
	}
	st, err := ss.root.Stat(name)
	if err != nil || !st.Mode().IsRegular() {
		// RFC 3659 3.1: 550 for a file that does not exist or is not a file.
		return ss.reply(550, "No such file.")
	}
	return ss.reply(213, mdtm(st.ModTime()))
}

// maxASCIISize bounds the files whose TYPE A size SIZE computes by reading.
const maxASCIISize = 64 << 20

func (ss *session) cmdSIZE(arg string) error {
	_, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(550, "No such file.")
	}
	st, err := ss.root.Stat(name)
	if err != nil || !st.Mode().IsRegular() {
		return ss.reply(550, "No such file.")
	}
	if !ss.typeA {
		return ss.reply(213, strconv.FormatInt(st.Size(), 10))
	}
	// RFC 3659 4: the size is "the number of octets ... that would be
	// transmitted over the data connection" in the current TYPE.
	if st.Size() > maxASCIISize {
		return ss.reply(550, "SIZE in TYPE A is not computed for files this large.")
	}
	f, err := ss.root.Open(name)
	if err != nil {
		return ss.reply(550, "No such file.")
	}
	defer f.Close()
	n, err := asciiSize(f)
	if err != nil {
		return ss.reply(550, "Cannot read the file.")
	}
	return ss.reply(213, strconv.FormatInt(n, 10))
}

// asciiSize is the TYPE A length of r: every LF not after a CR gains one.
func asciiSize(r io.Reader) (int64, error) {
	var n int64
	prevCR := false
	buf := make([]byte, 32<<10)
	for {
		k, err := r.Read(buf)
		for _, b := range buf[:k] {
			n++
			if b == '\n' && !prevCR {
				n++
			}
			prevCR = b == '\r'
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// facts is the RFC 3659 7.5 fact list of an entry ("type=file;size=12;..;").
func (ss *session) facts(vpath string, st fs.FileInfo, kind string) string {
	var b strings.Builder
	for _, f := range allFacts {
		if !ss.mlstFacts[f] {
			continue
		}
		switch f {
		case "type":
			if kind == "" {
				kind = "file"
				if st.IsDir() {
					kind = "dir"
				}
			}
			b.WriteString("type=" + kind + ";")
		case "size":
			if !st.IsDir() {
				b.WriteString("size=" + strconv.FormatInt(st.Size(), 10) + ";")
			}
		case "modify":
			b.WriteString("modify=" + mdtm(st.ModTime()) + ";")
		case "perm":
			b.WriteString("perm=" + ss.perm(vpath, st) + ";")
		}
	}
	return b.String()
}

// perm is the RFC 3659 7.5.5 perm fact.
func (ss *session) perm(vpath string, st fs.FileInfo) string {
	w := ss.writable(vpath, true)
	if st.IsDir() {
		p := "el"
		if ss.writable(vpath, false) {
			p += "cmp"
		}
		if w {
			p += "df"
		}
		return p
	}
	if w {
		return "radfw"
	}
	return "r"
}

func (ss *session) cmdMLST(arg string) error {
	vpath, name, err := ss.resolve(arg)
	if err != nil {
		return ss.reply(501, "Bad path.")
	}
	st, err := ss.root.Stat(name)
	if err != nil {
		return ss.reply(550, "No such file or directory.")
	}
	// RFC 3659 7.2: the reply is multi-line, the facts line starting with
	// one SP, then the facts, SP and the pathname.
	return ss.reply(250, "Listing "+vpath, " "+ss.facts(vpath, st, "")+" "+vpath, "End")
}

// maxListEntries bounds the entries of one listing.
const maxListEntries = 100000

// entry is one listed directory entry.
type entry struct {
	name string
	info fs.FileInfo
}

// readDir lists a directory of the root, sorted, hidden upload
// temporaries left out; entries that cannot be stat'ed inside the root
// (links out of it) are left out too.
func (ss *session) readDir(name string) ([]entry, error) {
	d, err := ss.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	// Bounded: a directory of more entries is listed in part.
	names, err := d.Readdirnames(maxListEntries)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	sort.Strings(names)
	var out []entry
	for _, n := range names {
		if strings.HasPrefix(n, tempPrefix) {
			continue
		}
		st, err := ss.root.Stat(path.Join(name, n))
		if err != nil {
			continue
		}
		out = append(out, entry{n, st})
	}
	return out, nil
}

// listLine is one LIST line, in the form of "ls -l" that clients parse.
func listLine(e entry, now time.Time) string {
	mode := "-rw-r--r--"
	size := e.info.Size()
	if e.info.IsDir() {
		mode, size = "drwxr-xr-x", 4096
	}
	t := e.info.ModTime()
	stamp := t.Format("Jan _2  2006")
	if d := now.Sub(t); d > -time.Hour && d < 180*24*time.Hour {
		stamp = t.Format("Jan _2 15:04")
	}
	return fmt.Sprintf("%s 1 ftp ftp %12d %s %s", mode, size, stamp, e.name)
}

// listTarget resolves the argument of LIST, NLST and STAT: options such
// as "-la" that clients send are skipped.
func (ss *session) listTarget(arg string) (string, string, error) {
	for strings.HasPrefix(arg, "-") {
		_, rest, _ := strings.Cut(arg, " ")
		arg = rest
	}
	return ss.resolve(arg)
}

func (ss *session) cmdSTAT(arg string) error {
	if x := ss.currentTransfer(); x != nil {
		// RFC 959 4.1.3: STAT during a transfer gives its status.
		return ss.reply(213, "Status: "+x.verb+" in progress, "+strconv.FormatInt(x.bytes.Load(), 10)+" bytes transferred.")
	}
	if arg == "" {
		t := "binary"
		if ss.typeA {
			t = "ASCII"
		}
		who := "not logged in"
		if ss.loggedIn {
			who = "logged in as " + ss.account.Name
		}
		return ss.reply(211, "protospec reference FTP server status:", " Connected from "+ss.peer.String(), " "+who,
			" TYPE: "+t+", STRUcture: File, MODE: Stream", " Protection: "+map[bool]string{true: "Private", false: "Clear"}[ss.protP],
			"End of status.")
	}
	if !ss.loggedIn {
		return ss.reply(530, "Not logged in.")
	}
	// RFC 959 5.4 lists 450, not 550, for STAT.
	vpath, name, err := ss.listTarget(arg)
	if err != nil {
		return ss.reply(450, "No such file or directory.")
	}
	st, err := ss.root.Stat(name)
	if err != nil {
		return ss.reply(450, "No such file or directory.")
	}
	now := time.Now()
	lines := []string{"Status of " + vpath + ":"}
	if !st.IsDir() {
		lines = append(lines, listLine(entry{path.Base(vpath), st}, now))
	} else {
		ents, err := ss.readDir(name)
		if err != nil {
			return ss.reply(450, "Cannot list the directory.")
		}
		if len(ents) > 1000 {
			ents = ents[:1000]
		}
		for _, e := range ents {
			lines = append(lines, listLine(e, now))
		}
	}
	// RFC 959 5.4: 212 directory status, 213 file status.
	code := 213
	if st.IsDir() {
		code = 212
	}
	return ss.reply(code, append(lines, "End of status.")...)
}

// errNotDir is MLSD's 501 for a file.
var errNotDir = errors.New("not a directory")

func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist)
}

// usage is what the user's writable area holds: entries (files and
// directories) and bytes, counted up to one past the file limit.
func (ss *session) usage() (entries int, bytes int64) {
	w := strings.TrimPrefix(ss.account.WritableDir, "/")
	if w == "" {
		w = "."
	}
	limit := ss.s.maxUploadFiles()
	fs.WalkDir(ss.root.FS(), w, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == w {
			return nil
		}
		entries++
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			bytes += info.Size()
		}
		if entries > limit {
			return fs.SkipAll
		}
		return nil
	})
	return entries, bytes
}
