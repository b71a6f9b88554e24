package ftp

// The FTP test fixture: the file tree every FTP target serves and its
// users. Write lays it out as
//
//	DIR/anon/         anonymous's root ("/" after an anonymous login), read only
//	DIR/anon/pub/...  the public files (Files)
//	DIR/bob/          bob's root ("/" after USER bob / PASS bob)
//	DIR/bob/pub/...   the same public files, so that both users see the same paths
//	DIR/bob/upload/   bob's writable area, empty
//	DIR/users.txt     one "name:password:home" line per user (home relative to DIR)
//
// The suite uses the exported paths (as the client sees them, from the
// login root) as its expectations; launchers point their users at the
// homes.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Users of the fixture.
const (
	UserBob     = "bob"
	PasswordBob = "bob"
	// UserAnonymous logs in anonymously with any password (RFC 1635 asks
	// for an e-mail address; AnonymousPassword is one). "ftp" is its
	// alias.
	UserAnonymous     = "anonymous"
	UserFTP           = "ftp"
	AnonymousPassword = "guest@example.com"
	// BadPassword is a password no fixture user has.
	BadPassword = "not-the-password"
)

// Homes of the users, relative to the fixture directory.
const (
	AnonymousHome = "anon"
	BobHome       = "bob"
	// UsersFile lists the users, "name:password:home" per line.
	UsersFile = "users.txt"
)

// Paths as a logged-in client names them (from its root).
const (
	PubDir     = "/pub"
	UploadDir  = "/upload"
	HelloFile  = "/pub/hello.txt"
	EmptyFile  = "/pub/empty.txt"
	TextFile   = "/pub/lines.txt" // LF line ends: TYPE A sends them as CRLF
	BinaryFile = "/pub/data/64k.bin"
	SmallBin   = "/pub/data/1k.bin"
	NestedDir  = "/pub/nested"
	NestedFile = "/pub/nested/deeper/leaf.txt"
	UTF8File   = "/pub/grüße-κόσμε.txt"
	// Missing is a path that exists under no root.
	Missing = "/pub/no-such-file.txt"
)

// TextContent is TextFile's content: LF line ends, an empty line, no CR.
// Its TYPE A size on the wire is len(TextContent) plus one per LF.
const TextContent = "first line\nsecond line\n\nfourth line, after an empty one\nlast line\n"

// ModTime is the modification time of every fixture file and directory,
// so that MDTM and the MLSx "modify" fact are the same on every run.
var ModTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// File is one file of the public tree.
type File struct {
	// Path is the client's path, from the login root ("/pub/hello.txt").
	Path    string
	Content []byte
}

// Pattern returns n bytes where byte i is byte(i*7+3): the content of the
// .bin files, easy to check at any REST offset.
func Pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// Files lists every public file, present under both users' roots.
var Files = []File{
	{Path: HelloFile, Content: []byte("Hello, FTP!\n")},
	{Path: EmptyFile, Content: []byte{}},
	{Path: TextFile, Content: []byte(TextContent)},
	{Path: SmallBin, Content: Pattern(1024)},
	{Path: BinaryFile, Content: Pattern(65536)},
	{Path: NestedFile, Content: []byte("a leaf two levels down\n")},
	{Path: UTF8File, Content: []byte("a file with a UTF-8 name\n")},
}

// Dirs lists the public directories (under both roots).
var Dirs = []string{PubDir, "/pub/data", NestedDir, "/pub/nested/deeper"}

// Lookup returns the public file with client path p.
func Lookup(p string) (File, bool) {
	for _, f := range Files {
		if f.Path == p {
			return f, true
		}
	}
	return File{}, false
}

// User is one fixture user.
type User struct {
	Name, Password string
	// Home is the user's root, relative to the fixture directory.
	Home string
	// Anonymous users log in with any password and may not write.
	Anonymous bool
}

// Users lists the fixture's users.
var Users = []User{
	{Name: UserBob, Password: PasswordBob, Home: BobHome},
	{Name: UserAnonymous, Home: AnonymousHome, Anonymous: true},
	{Name: UserFTP, Home: AnonymousHome, Anonymous: true},
}

// ErrBadDir is returned by Write when dir is empty.
var ErrBadDir = errors.New("fixture: empty target directory")

// Write writes the fixture tree and the users file into dir (created if
// missing), every file and directory with modification time ModTime.
// Directories are 0755 and files 0644: a launcher whose server wants a
// read-only anonymous root (vsftpd) makes it so itself, and a temporary
// directory holding the fixture stays removable.
func Write(dir string) error {
	if dir == "" {
		return ErrBadDir
	}
	var dirs []string
	for _, home := range []string{AnonymousHome, BobHome} {
		base := filepath.Join(dir, home)
		dirs = append(dirs, base)
		for _, d := range Dirs {
			dirs = append(dirs, filepath.Join(base, filepath.FromSlash(strings.TrimPrefix(d, "/"))))
		}
	}
	upload := filepath.Join(dir, BobHome, strings.TrimPrefix(UploadDir, "/"))
	dirs = append(dirs, upload)
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
		// A second Write over a read-only tree must still work.
		if err := os.Chmod(d, 0o755); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
	}
	for _, home := range []string{AnonymousHome, BobHome} {
		for _, f := range Files {
			p := filepath.Join(dir, home, filepath.FromSlash(strings.TrimPrefix(f.Path, "/")))
			if err := os.WriteFile(p, f.Content, 0o644); err != nil {
				return fmt.Errorf("fixture: %w", err)
			}
			if err := os.Chtimes(p, ModTime, ModTime); err != nil {
				return fmt.Errorf("fixture: %w", err)
			}
		}
	}
	var users strings.Builder
	for _, u := range Users {
		fmt.Fprintf(&users, "%s:%s:%s\n", u.Name, u.Password, u.Home)
	}
	if err := os.WriteFile(filepath.Join(dir, UsersFile), []byte(users.String()), 0o644); err != nil {
		return fmt.Errorf("fixture: %w", err)
	}
	// Directory mtimes last (children first): writing into them changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i], ModTime, ModTime); err != nil {
			return fmt.Errorf("fixture: %w", err)
		}
	}
	return nil
}
