// Package exim4 launches Exim as an SMTP target: the daemon in the
// foreground (exim4 -bdf) from a configuration in the work directory
// (exim4.conf.tmpl), on a free 127.0.0.1 port, delivering the fixture's
// domains (bob.test, alice.test) into the work directory's Maildir store
// (targets/mta), with STARTTLS on the run's certificate and, after it,
// AUTH PLAIN and LOGIN for the fixture's users (bob/bob, alice/alice).
// Nothing is relayed (RCPT of another domain: 550 relay not permitted)
// and no DNS or ident lookup is made. The bare "Postmaster" (qualified
// as postmaster@localhost) reaches the fixture's postmaster; a session is
// closed after 20 refused commands (smtp_max_synprot_errors, as postfix's
// hard error limit and the reference's), not exim's 3; the delivery adds
// Return-Path.
//
//	protospec run smtp --target exim4 --baseline builtin
//
// Debian's exim4-daemon-light conflicts with postfix and opensmtpd (all
// provide mail-transport-agent): the launcher runs exim4 installed, or
// else unpacked (exim4-daemon-light) in the tree of targets.UnpackedTree,
// its shared libraries installed (libidn12 libgnutls-dane0 libnsl2
// libdb5.3).
// Debian builds exim to run as the account Debian-exim, which exim4-base's
// postinst would make: the launcher names it (targets/mta.MailUID) in user
// files of the work directory that a private mount namespace puts over
// the host's (targets.Overlay), so nothing on the host changes. exim
// starts as root; given a configuration with -C it gives root up and
// runs as Debian-exim, re-executing the copy of itself in bin/
// (exim_path) for deliveries.
//
// Offered (EHLO): PIPELINING, SIZE, 8BITMIME, CHUNKING, SMTPUTF8, DSN,
// STARTTLS, AUTH after STARTTLS, and a VRFY that confirms the fixture's
// addresses (acl_smtp_vrfy accepts). Not offered: ENHANCEDSTATUSCODES,
// which exim does not implement.
package exim4

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/protospec/protospec/internal/mailstore"
	"github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/mta"
)

// Baseline lists the smtp specs exim is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed exim4.conf.tmpl
var config string

// User is the account Debian's exim runs as.
const User = "Debian-exim"

var launcher = targets.Declare(targets.Declared{
	Name:          "exim4",
	Protocol:      mta.Protocol,
	Binary:        "exim4",
	Package:       "exim4-daemon-light",
	Unpacked:      []string{"exim4-daemon-light"},
	UnpackedNeeds: []string{"libidn12", "libgnutls-dane0", "libnsl2", "libdb5.3"},
	Requires:      mta.NeedRoot("exim4", true),
	// -bV prints "Exim version 4.96 #2 built ...", but only where the
	// account Debian-exim exists: Version asks inside the overlay.
	VersionArgs: []string{"-bV"},
	Version:     version,
	Baseline:    Baseline,
	Features: []string{smtp.FeatureSTARTTLS, smtp.FeaturePipelining, smtp.FeatureSize, smtp.Feature8BitMIME,
		smtp.FeatureSMTPUTF8, smtp.FeatureChunking, smtp.FeatureDSN, smtp.FeatureVRFY, smtp.FeatureAuth},
	Reasons: map[string]string{
		smtp.FeatureEnhancedCodes: "exim does not implement ENHANCEDSTATUSCODES (RFC 2034)",
	},
	Vars:           map[string]any{"hostname": mta.Hostname, "domains": strings.Join(mta.Domains(), " : "), "maxSize": mta.MaxSize},
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "exim4.conf",
	// -bdf: the daemon in the foreground; -q1m: a queue run each minute
	// (what a first delivery could not do is retried); its session and
	// delivery processes fork from it.
	Argv:      func(r *targets.Run) []string { return []string{"-C", r.Config, "-bdf", "-q1m"} },
	Overlay:   overlay,
	Probe:     mta.Probe,
	Endpoints: mta.Endpoints,
	Finish:    mta.Finish,
	Output:    "exim4.out",
	ServerLog: filepath.Join("log", "paniclog"),
	LogLabel:  "panic log",
	KeptNote:  "config, spool and logs",
})

// prepare writes the store and the certificate (mta.Prepare; the key is
// given to Debian-exim, which reads it), the spool and log directories,
// the copy of the binary that exim re-executes (bin/exim4: the unpacked
// tree may be out of Debian-exim's reach), the address-to-mailbox table
// (mailboxes) and the fixture users' passwords (passwd).
func prepare(r *targets.Run) error {
	r.Vars["maildir"] = mta.MaildirPath(r)
	r.Vars["cert"] = mta.CertPath(r)
	r.Vars["key"] = mta.KeyPath(r)
	if err := mta.Prepare(r); err != nil {
		return err
	}
	if err := mta.ChownTree(r.Path(mta.TLSDir), mta.MailUID, mta.MailGID); err != nil {
		return err
	}
	for _, d := range []string{"spool", "log", "bin"} {
		if err := os.Mkdir(r.Path(d), 0o755); err != nil {
			return err
		}
	}
	if err := mta.ChownTree(r.Path("spool"), mta.MailUID, mta.MailGID); err != nil {
		return err
	}
	if err := mta.ChownTree(r.Path("log"), mta.MailUID, mta.MailGID); err != nil {
		return err
	}
	if err := copyFile(r.Bin, r.Path("bin", "exim4"), 0o755); err != nil {
		return err
	}
	var boxes, passwd strings.Builder
	for _, m := range mta.Mailboxes() {
		fmt.Fprintf(&boxes, "%s: %s\n", m.Address, m.Mailbox)
	}
	for _, u := range mailstore.FixtureUsers {
		fmt.Fprintf(&passwd, "%s: %s\n", u.Name, u.Password)
	}
	if err := os.WriteFile(r.Path("mailboxes"), []byte(boxes.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(r.Path("passwd"), []byte(passwd.String()), 0o640); err != nil {
		return err
	}
	return os.Chown(r.Path("passwd"), 0, mta.MailGID)
}

// overlay names Debian-exim (mta.MailUID) in the work directory's user
// files.
func overlay(r *targets.Run) (targets.Overlay, error) {
	return targets.UsersOverlay(r.Path("etc"), targets.UnixUser{
		Name: User, UID: mta.MailUID, GID: mta.MailGID, Group: User, Home: r.Path("spool"), Shell: "/usr/sbin/nologin"})
}

// version runs exim4 -bV inside the overlay: "exim 4.96".
func version(r *targets.Run) string {
	o, err := overlay(r)
	if err != nil {
		return "exim4"
	}
	argv, err := o.Wrap([]string{r.Bin, "-C", r.Config, "-bV"})
	if err != nil {
		return "exim4"
	}
	line, _ := targets.Version(argv[0], argv[1:]...)
	if v, ok := strings.CutPrefix(line, "Exim version "); ok {
		if f := strings.Fields(v); len(f) > 0 {
			return "exim " + f[0]
		}
	}
	return "exim4"
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
