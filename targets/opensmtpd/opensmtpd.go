// Package opensmtpd launches OpenSMTPD as an SMTP target: smtpd in the
// foreground (smtpd -d) from a configuration in the work directory
// (smtpd.conf.tmpl), on a free 127.0.0.1 port, delivering the fixture's
// domains (bob.test, alice.test) into the work directory's Maildir store
// (targets/mta) through its virtual table and userbase (the mailboxes'
// owner, targets/mta.MailUID, for every fixture user). Nothing is relayed
// (RCPT of another domain: 550 Invalid recipient); the client's address
// is named from /etc/hosts (127.0.0.1 localhost), not DNS: smtpd's
// resolver reads a resolv.conf of the work directory that says "lookup
// file".
//
//	protospec run smtp --target opensmtpd --baseline builtin
//
// Debian's opensmtpd conflicts with postfix and exim4 (all provide
// mail-transport-agent): the launcher runs smtpd installed, or else
// unpacked (opensmtpd) in the tree of targets.UnpackedTree, its shared
// libraries installed (libevent-2.1-7 libdb5.3). smtpd starts
// as root and runs its processes as the accounts opensmtpd and opensmtpq,
// which the package's postinst would make, and uses fixed paths: its
// queue in /var/spool/smtpd, its control socket in /var/run, its chroot
// /var/lib/opensmtpd/empty, its delivery agents in /usr/libexec/opensmtpd.
// A private mount namespace (targets.Overlay) puts the work directory's
// user files (with the two accounts), resolv.conf, var/ and libexec/ (a
// copy of the delivery agents, which the mailboxes' owner must reach)
// over the host's: nothing on the host changes. The work directory must not be
// under /var.
//
// Offered (EHLO): 8BITMIME, ENHANCEDSTATUSCODES, SIZE, DSN. Not offered:
// STARTTLS (and so AUTH): Debian 12's OpenSMTPD 6.8.0p2 fails every TLS
// handshake under OpenSSL 3 ("EVP lib", OpenSMTPD/OpenSMTPD#1171),
// PIPELINING, SMTPUTF8, CHUNKING, VRFY (500 Command unrecognized).
package opensmtpd

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/mta"
)

// Baseline lists the smtp specs OpenSMTPD is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed smtpd.conf.tmpl
var config string

// The accounts Debian's smtpd runs its processes as.
const (
	User      = "opensmtpd"
	QueueUser = "opensmtpq"
	UID       = 60126
	QueueUID  = 60127
)

// noTLS is why STARTTLS and AUTH are not offered.
const noTLS = "Debian 12's OpenSMTPD 6.8.0p2 fails every TLS handshake under OpenSSL 3 (\"EVP lib\", OpenSMTPD/OpenSMTPD#1171): the launcher offers no STARTTLS"

var launcher = targets.Declare(targets.Declared{
	Name:          "opensmtpd",
	Protocol:      mta.Protocol,
	Binary:        "smtpd",
	Package:       "opensmtpd",
	Unpacked:      []string{"opensmtpd"},
	UnpackedNeeds: []string{"libevent-2.1-7", "libdb5.3"},
	Requires:      mta.NeedRoot("opensmtpd", true),
	// -h prints "version: OpenSMTPD 6.8.0p2" and the usage.
	VersionArgs: []string{"-h"},
	VersionText: func(s string) string { return strings.Replace(s, "version: OpenSMTPD ", "opensmtpd ", 1) },
	Baseline:    Baseline,
	Features:    []string{smtp.FeatureSize, smtp.Feature8BitMIME, smtp.FeatureEnhancedCodes, smtp.FeatureDSN},
	Reasons: map[string]string{
		smtp.FeatureSTARTTLS:   noTLS,
		smtp.FeatureAuth:       noTLS + ", and so no AUTH (OpenSMTPD offers it over TLS only)",
		smtp.FeaturePipelining: "OpenSMTPD 6.8 does not announce PIPELINING",
		smtp.FeatureSMTPUTF8:   "OpenSMTPD 6.8 does not implement SMTPUTF8 (RFC 6531)",
		smtp.FeatureChunking:   "OpenSMTPD 6.8 does not implement CHUNKING (RFC 3030)",
		smtp.FeatureVRFY:       "OpenSMTPD 6.8 does not implement VRFY (500 Command unrecognized)",
	},
	Vars:           map[string]any{"hostname": mta.Hostname, "maxSize": mta.MaxSize},
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "smtpd.conf",
	// -d: the foreground, logging to standard error; its processes fork
	// from it.
	Argv:      func(r *targets.Run) []string { return []string{"-d", "-f", r.Config} },
	Overlay:   overlay,
	Probe:     mta.Probe,
	Endpoints: mta.Endpoints,
	Finish:    mta.Finish,
	Output:    "smtpd.out",
	KeptNote:  "config, spool and log",
})

// prepare writes the store (mta.Prepare), the tables (domains, vusers:
// address to user, users: the userbase, every user's directory its
// mailbox of the store), var/ (spool, run, chroot) and libexec/opensmtpd
// (the delivery agents, copied from beside the binary).
func prepare(r *targets.Run) error {
	if strings.HasPrefix(r.Dir+"/", "/var/") {
		return fmt.Errorf("the work directory %s is under /var, which the server sees replaced (choose a work directory under /tmp)", r.Dir)
	}
	if err := mta.Prepare(r); err != nil {
		return err
	}
	var vusers, users strings.Builder
	seen := map[string]bool{}
	for _, m := range mta.Mailboxes() {
		fmt.Fprintf(&vusers, "%s %s\n", m.Address, m.Mailbox)
		if !seen[m.Mailbox] {
			seen[m.Mailbox] = true
			fmt.Fprintf(&users, "%s %d:%d:%s\n", m.Mailbox, mta.MailUID, mta.MailGID, filepath.Join(mta.MaildirPath(r), m.Mailbox))
		}
	}
	tables := map[string]string{"domains": strings.Join(mta.Domains(), "\n") + "\n", "vusers": vusers.String(), "users": users.String(),
		// smtpd's resolver (libasr) names each client with DNS first
		// (PTR, then A to confirm), off the machine: /etc/hosts only.
		"resolv.conf": "lookup file\nnameserver 127.0.0.1\n"}
	for name, text := range tables {
		if err := os.WriteFile(r.Path(name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"var/spool", "var/run", "var/lib/opensmtpd/empty", "libexec/opensmtpd"} {
		if err := os.MkdirAll(r.Path(d), 0o755); err != nil {
			return err
		}
	}
	agents := filepath.Join(r.Tree, "usr", "libexec", "opensmtpd")
	ents, err := os.ReadDir(agents)
	if err != nil {
		return fmt.Errorf("OpenSMTPD's delivery agents: %w", err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			if err := copyFile(filepath.Join(agents, e.Name()), r.Path("libexec", "opensmtpd", e.Name()), 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// overlay puts the work directory's user files (with opensmtpd and
// opensmtpq), var/ and libexec/ over the host's.
func overlay(r *targets.Run) (targets.Overlay, error) {
	o, err := targets.UsersOverlay(r.Path("etc"),
		targets.UnixUser{Name: User, UID: UID, GID: UID, Group: User, Home: "/var/lib/opensmtpd/empty", Shell: "/usr/sbin/nologin"},
		targets.UnixUser{Name: QueueUser, UID: QueueUID, GID: QueueUID, Group: QueueUser, Home: "/var/lib/opensmtpd/empty", Shell: "/usr/sbin/nologin"})
	if err != nil {
		return nil, err
	}
	o["/var"] = r.Path("var")
	o["/usr/libexec"] = r.Path("libexec")
	o["/etc/resolv.conf"] = r.Path("resolv.conf")
	return o, nil
}

// copyFile copies src to dst with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
