// Package mailstore is the durable Maildir store that SMTP delivery writes
// and the POP3 and IMAP references read. A store is a directory of
// mailboxes, each a Maildir (tmp/, new/, cur/):
//
//	st, err := mailstore.Open(dir, 0)       // 0: DefaultMaxMessageBytes
//	id, err := st.Deliver("bob", msg)       // on disk when it returns
//	msgs, err := st.List("bob")             // new/ and cur/, oldest first
//	body, err := st.Read("bob", id)
//	err = st.Delete("bob", id)
//
// Durability follows the Maildir delivery protocol with the fsyncs that
// make it survive a crash: a message is written into tmp/ under a unique
// name, the file is fsynced and closed, linked into new/ of every
// recipient mailbox, each new/ directory is fsynced, and only then does
// Commit (and Deliver) return. A server that answers 250 (or OK) after
// that has the message on disk; a crash before leaves at most a file in
// tmp/, which no reader lists and CleanTmp removes.
//
// Mailbox names and message ids are validated before they reach a path:
// neither can name anything outside the store.
package mailstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultMaxMessageBytes bounds a message when Open is given 0.
const DefaultMaxMessageBytes = 10 << 20

// MaxMailboxName is the longest mailbox name Valid accepts.
const MaxMailboxName = 64

// Errors of the store.
var (
	ErrTooLarge       = errors.New("mailstore: message exceeds the size limit")
	ErrBadMailbox     = errors.New("mailstore: invalid mailbox name")
	ErrBadID          = errors.New("mailstore: invalid message id")
	ErrNotFound       = errors.New("mailstore: no such message")
	ErrNoMailbox      = errors.New("mailstore: no such mailbox")
	ErrDraftFinished  = errors.New("mailstore: draft already committed or aborted")
	errNoRecipientBox = errors.New("mailstore: no mailbox to deliver to")
)

// Store is one store directory. Its methods are safe for concurrent use,
// by several goroutines and by several processes on the same directory.
type Store struct {
	root     string
	maxBytes int64
}

// Open opens (creating it if need be) the store at dir; maxBytes bounds
// each message (0: DefaultMaxMessageBytes).
func Open(dir string, maxBytes int64) (*Store, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	return &Store{root: abs, maxBytes: maxBytes}, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// MaxMessageBytes is the size limit of one message.
func (s *Store) MaxMessageBytes() int64 { return s.maxBytes }

// ValidMailbox reports whether name may name a mailbox: 1 to
// MaxMailboxName characters of [A-Za-z0-9._+-], starting with a letter or
// digit (so no ".", "..", hidden or path-separated names).
func ValidMailbox(name string) error {
	if name == "" || len(name) > MaxMailboxName || !isAlnum(name[0]) {
		return fmt.Errorf("%w: %q", ErrBadMailbox, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '+' && c != '-' {
			return fmt.Errorf("%w: %q", ErrBadMailbox, name)
		}
	}
	return nil
}

// validID reports whether id is a message id this store makes: the
// characters of a unique name ([A-Za-z0-9._-]), not starting with a dot,
// at most 200 bytes.
func validID(id string) error {
	if id == "" || len(id) > 200 || id[0] == '.' {
		return ErrBadID
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return ErrBadID
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (s *Store) dir(mailbox string) string { return filepath.Join(s.root, mailbox) }

// Create makes the mailbox's Maildir if it does not exist, fsyncing the
// directories it creates.
func (s *Store) Create(mailbox string) error {
	if err := ValidMailbox(mailbox); err != nil {
		return err
	}
	d := s.dir(mailbox)
	if _, err := os.Stat(filepath.Join(d, "cur")); err == nil {
		return nil
	}
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.Mkdir(filepath.Join(d, sub), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	if err := syncDir(d); err != nil {
		return err
	}
	return syncDir(s.root)
}

// Mailboxes lists the store's mailboxes, sorted.
func (s *Store) Mailboxes() ([]string, error) {
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && ValidMailbox(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

var counter atomic.Uint64

// hostname is the host part of unique names, with every character
// outside [A-Za-z0-9-] replaced by '_' (the Maildir spec escapes '/' and
// ':'; this store keeps ids to plain characters).
var hostname = func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	b := []byte(h)
	for i, c := range b {
		if !isAlnum(c) && c != '-' {
			b[i] = '_'
		}
	}
	return string(b)
}()

// uniqueName is a Maildir unique name (cr.yp.to/proto/maildir.html):
// seconds, then M (microseconds), P (process id), Q (a per-process
// counter) and R (random bits), then the host name, e.g.
// 1764758400.M123456P4242Q7R5f3a9c01.host.
func uniqueName() string {
	now := time.Now()
	var r [4]byte
	rand.Read(r[:])
	return fmt.Sprintf("%d.M%dP%dQ%dR%s.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(),
		counter.Add(1), hex.EncodeToString(r[:]), hostname)
}

// Draft is a message being written into tmp/; Commit delivers it.
type Draft struct {
	s         *Store
	mailboxes []string
	name      string
	path      string
	f         *os.File
	n         int64
	err       error
	done      bool
}

// NewDraft starts a message for the given mailboxes (created if missing;
// at least one, duplicates delivered once).
func (s *Store) NewDraft(mailboxes ...string) (*Draft, error) {
	var boxes []string
	seen := map[string]bool{}
	for _, m := range mailboxes {
		if err := s.Create(m); err != nil {
			return nil, err
		}
		if !seen[m] {
			seen[m] = true
			boxes = append(boxes, m)
		}
	}
	if len(boxes) == 0 {
		return nil, errNoRecipientBox
	}
	name := uniqueName()
	path := filepath.Join(s.dir(boxes[0]), "tmp", name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &Draft{s: s, mailboxes: boxes, name: name, path: path, f: f}, nil
}

// Write appends to the message; past the store's size limit it fails with
// ErrTooLarge (and keeps failing).
func (d *Draft) Write(p []byte) (int, error) {
	if d.done {
		return 0, ErrDraftFinished
	}
	if d.err != nil {
		return 0, d.err
	}
	if d.n+int64(len(p)) > d.s.maxBytes {
		d.err = ErrTooLarge
		return 0, d.err
	}
	n, err := d.f.Write(p)
	d.n += int64(n)
	if err != nil {
		d.err = err
	}
	return n, err
}

// Size is the number of bytes written so far.
func (d *Draft) Size() int64 { return d.n }

// Abort discards the draft.
func (d *Draft) Abort() {
	if d.done {
		return
	}
	d.done = true
	d.f.Close()
	os.Remove(d.path)
}

// Commit makes the message durable in every mailbox and returns its id
// (the same in each). When it returns nil the message is in new/ of each
// mailbox and survives a crash. On an error the draft is discarded; when
// the error comes from a later mailbox, the ones before it (named in the
// error) keep their copy: a partial delivery, which the caller reports as
// a failure.
func (d *Draft) Commit() (string, error) {
	if d.done {
		return "", ErrDraftFinished
	}
	if d.err != nil {
		d.Abort()
		return "", d.err
	}
	d.done = true
	defer os.Remove(d.path)
	if err := d.f.Sync(); err != nil {
		d.f.Close()
		return "", err
	}
	if err := d.f.Close(); err != nil {
		return "", err
	}
	var linked []string
	for _, m := range d.mailboxes {
		dst := filepath.Join(d.s.dir(m), "new", d.name)
		if err := os.Link(d.path, dst); err != nil {
			if !errors.Is(err, syscall.EXDEV) {
				return "", fmt.Errorf("mailstore: delivering to %s (delivered to %v): %w", m, linked, err)
			}
			if err := copyDurable(d.path, dst); err != nil {
				return "", fmt.Errorf("mailstore: delivering to %s (delivered to %v): %w", m, linked, err)
			}
		}
		if err := syncDir(filepath.Join(d.s.dir(m), "new")); err != nil {
			return "", fmt.Errorf("mailstore: delivering to %s (delivered to %v): %w", m, linked, err)
		}
		linked = append(linked, m)
	}
	return d.name, nil
}

func copyDurable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".copy"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	out.Close()
	return os.Rename(tmp, dst)
}

// Deliver stores msg in mailbox (created if missing) durably and returns
// its id.
func (s *Store) Deliver(mailbox string, msg []byte) (string, error) {
	d, err := s.NewDraft(mailbox)
	if err != nil {
		return "", err
	}
	if _, err := d.Write(msg); err != nil {
		d.Abort()
		return "", err
	}
	return d.Commit()
}

// Message is one message of a mailbox.
type Message struct {
	// ID is the message's unique name (without the ":2," info).
	ID string
	// Size is its length in bytes.
	Size int64
	// New is true while it is in new/ (not yet seen by a reader).
	New bool
	// Flags are the Maildir flags of a message in cur/ ("S", "RS"...).
	Flags string
	// Delivered is the file's modification time.
	Delivered time.Time
}

// List returns the messages of new/ and cur/, oldest first (by
// modification time, then id).
func (s *Store) List(mailbox string) ([]Message, error) {
	if err := ValidMailbox(mailbox); err != nil {
		return nil, err
	}
	var out []Message
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(s.dir(mailbox), sub))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoMailbox
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() {
				continue
			}
			id, flags, _ := strings.Cut(e.Name(), ":2,")
			if validID(id) != nil {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // deleted meanwhile
			}
			out = append(out, Message{ID: id, Size: info.Size(), New: sub == "new", Flags: flags, Delivered: info.ModTime()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Delivered.Equal(out[j].Delivered) {
			return out[i].Delivered.Before(out[j].Delivered)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// path finds the file of message id in mailbox.
func (s *Store) path(mailbox, id string) (string, error) {
	if err := ValidMailbox(mailbox); err != nil {
		return "", err
	}
	if err := validID(id); err != nil {
		return "", err
	}
	p := filepath.Join(s.dir(mailbox), "new", id)
	if _, err := os.Lstat(p); err == nil {
		return p, nil
	}
	matches, err := filepath.Glob(filepath.Join(s.dir(mailbox), "cur", id+":2,*"))
	if err != nil {
		return "", err
	}
	if len(matches) == 0 {
		// The plain name, as other Maildir writers leave it in cur/.
		p = filepath.Join(s.dir(mailbox), "cur", id)
		if _, err := os.Lstat(p); err == nil {
			return p, nil
		}
		return "", ErrNotFound
	}
	return matches[0], nil
}

// Open opens message id of mailbox for reading.
func (s *Store) Open(mailbox, id string) (*os.File, error) {
	p, err := s.path(mailbox, id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Read returns message id of mailbox, at most the store's size limit.
func (s *Store) Read(mailbox, id string) ([]byte, error) {
	f, err := s.Open(mailbox, id)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, s.maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.maxBytes {
		return nil, ErrTooLarge
	}
	return b, nil
}

// SetFlags moves message id into cur/ with the given Maildir flags (a
// subset of "DFPRST", kept in ASCII order as the spec asks), durably.
func (s *Store) SetFlags(mailbox, id, flags string) error {
	for i := 0; i < len(flags); i++ {
		if !strings.ContainsRune("DFPRST", rune(flags[i])) || (i > 0 && flags[i] <= flags[i-1]) {
			return fmt.Errorf("mailstore: invalid flags %q", flags)
		}
	}
	p, err := s.path(mailbox, id)
	if err != nil {
		return err
	}
	dst := filepath.Join(s.dir(mailbox), "cur", id+":2,"+flags)
	if p == dst {
		return nil
	}
	if err := os.Rename(p, dst); err != nil {
		return err
	}
	if err := syncDir(filepath.Join(s.dir(mailbox), "cur")); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

// Delete removes message id from mailbox, durably.
func (s *Store) Delete(mailbox, id string) error {
	p, err := s.path(mailbox, id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ErrNotFound
		}
		return err
	}
	return syncDir(filepath.Dir(p))
}

// CleanTmp removes the files in the mailboxes' tmp/ older than age (the
// Maildir spec suggests 36 hours): what deliveries interrupted by a crash
// left behind.
func (s *Store) CleanTmp(age time.Duration) (int, error) {
	boxes, err := s.Mailboxes()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range boxes {
		ents, err := os.ReadDir(filepath.Join(s.dir(m), "tmp"))
		if err != nil {
			continue
		}
		for _, e := range ents {
			info, err := e.Info()
			if err == nil && info.Mode().IsRegular() && time.Since(info.ModTime()) > age {
				if os.Remove(filepath.Join(s.dir(m), "tmp", e.Name())) == nil {
					n++
				}
			}
		}
	}
	return n, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
