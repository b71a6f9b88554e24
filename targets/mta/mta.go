// Package mta holds what the launchers of third-party mail servers
// (targets/postfix, targets/exim4, targets/opensmtpd) share: the work
// directory's Maildir store, laid out as internal/smtp.WriteFixture writes
// it (maildir/bob, maildir/alice, maildir/postmaster) and owned by the
// account the servers deliver as (MailUID), the run's TLS certificate in
// tls/, the fixture's addresses and their mailboxes, the readiness probe
// (a 220 greeting), the endpoint and the target's Maildir directory
// (smtp.DirMaildir).
//
// Every launcher serves the fixture's domains (bob.test, alice.test) on a
// free 127.0.0.1 port, names itself localhost, delivers the fixture's
// addresses (bob@bob.test, alice@alice.test, postmaster@ of both) into
// the store and nothing else: no other domain is relayed, no DNS is asked.
package mta

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/smtp"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
	"github.com/protospec/protospec/targets"
)

// Protocol is what the launchers serve.
const Protocol = smtp.Name

// Hostname is the name every launcher's server gives itself (greeting,
// EHLO, Received).
const Hostname = "localhost"

// MailUID and MailGID own the Maildir store: the servers deliver as them.
// They are unknown to the host (a launcher that needs a name for them
// adds it to its own user files, targets.UsersOverlay).
const (
	MailUID = 60125
	MailGID = 60125
)

// MaxSize is the largest message the launchers accept (SIZE), the
// reference's default.
const MaxSize = smtp.DefaultMaxBytes

// Work directory entries.
const (
	// Maildir is the store the servers deliver into.
	Maildir = "maildir"
	// TLSDir holds the run's certificate: cert.pem (with the chain) and
	// key.pem.
	TLSDir = "tls"
)

// Mailbox is one fixture address and the mailbox of the store it is
// delivered into.
type Mailbox struct {
	Address, Mailbox string
}

// Mailboxes are the fixture's addresses, sorted, with their mailboxes,
// and postmaster@Hostname: a server qualifies the bare "Postmaster" that
// RFC 5321 2.3.5 says it MUST accept with its own name, and delivers it
// to the fixture's postmaster.
func Mailboxes() []Mailbox {
	m := []Mailbox{{Address: "postmaster@" + Hostname, Mailbox: mailstore.PostmasterMailbox}}
	for addr, mb := range mailstore.FixtureMailboxes() {
		m = append(m, Mailbox{Address: addr, Mailbox: mb})
	}
	sort.Slice(m, func(i, j int) bool { return m[i].Address < m[j].Address })
	return m
}

// Domains are the domains delivered locally: the fixture's, and
// Hostname (for postmaster@Hostname alone, see Mailboxes).
func Domains() []string { return append(append([]string(nil), mailstore.FixtureDomains...), Hostname) }

// NeedRoot is the launchers' Requires: the servers start as root and
// switch to their own accounts.
func NeedRoot(name string, overlay bool) func() error {
	return func() error {
		if os.Geteuid() != 0 {
			return fmt.Errorf("%s needs root: it starts as root and switches to its own accounts", name)
		}
		if overlay {
			if err := targets.OverlayAvailable(); err != nil {
				return fmt.Errorf("%s takes its accounts from a private mount namespace, which cannot be made here: %w", name, err)
			}
		}
		return nil
	}
}

// Prepare writes the Maildir store (owned by MailUID) and the run's TLS
// certificate into the work directory, which it opens to the servers'
// accounts.
func Prepare(r *targets.Run) error {
	if err := os.Chmod(r.Dir, 0o755); err != nil {
		return err
	}
	if err := Reachable(r.Dir); err != nil {
		return err
	}
	store := MaildirPath(r)
	if err := smtp.WriteFixture(store); err != nil {
		return err
	}
	if err := ChownTree(store, MailUID, MailGID); err != nil {
		return err
	}
	fx, err := r.Opts.TLSFixture()
	if err != nil {
		return err
	}
	_, err = fx.WriteDir(r.Path(TLSDir))
	return err
}

// MaildirPath is the store's directory.
func MaildirPath(r *targets.Run) string { return r.Path(Maildir) }

// CertPath and KeyPath are the run's certificate chain and key.
func CertPath(r *targets.Run) string { return r.Path(TLSDir, "cert.pem") }
func KeyPath(r *targets.Run) string  { return r.Path(TLSDir, "key.pem") }

// ChownTree gives dir and everything under it to uid:gid.
func ChownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// Reachable checks that every directory above dir lets other users pass
// (o+x): the servers reach the store as their own accounts.
func Reachable(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the work directory %s is not reachable by the mail server's accounts: %s is mode %v (choose a work directory under /tmp)", abs, d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// probeLimits bound the probe's read of the greeting.
var probeLimits = ftpwire.Limits{MaxLine: 4096, MaxLines: 64}

// Probe is the readiness probe: the port greets with 220.
func Probe(r *targets.Run) func(context.Context) error {
	addr := r.Addr(0)
	return func(ctx context.Context) error {
		d := dial.Dialer{Timeout: time.Second}
		c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		rep, err := ftpwire.ReadReply(bufio.NewReader(c), probeLimits)
		if err != nil {
			return fmt.Errorf("greeting: %w", err)
		}
		if rep.Code != 220 {
			return fmt.Errorf("greeting %d, want 220", rep.Code)
		}
		c.Write([]byte("QUIT\r\n"))
		return nil
	}
}

// Endpoints is the one service, smtp/tcp.
func Endpoints(r *targets.Run) map[string]targets.Endpoint {
	return map[string]targets.Endpoint{smtp.ServiceTCP: {Network: "tcp", Addr: r.Addr(0)}}
}

// Finish gives the target its Maildir store (smtp.DirMaildir).
func Finish(r *targets.Run, t *targets.Static) {
	if t.Dirs == nil {
		t.Dirs = map[string]string{}
	}
	t.Dirs[smtp.DirMaildir] = MaildirPath(r)
}

// ConfigPorts is the port the launchers' golden configurations are
// rendered for.
var ConfigPorts = []int{40025}
