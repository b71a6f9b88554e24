// Package postfix launches Postfix as an SMTP target: master(8) in the
// foreground from a config directory of the work directory (conf/main.cf,
// conf/master.cf: main.cf.tmpl, master.cf.tmpl), smtpd(8) on a free
// 127.0.0.1 port, the fixture's domains (bob.test, alice.test) delivered
// by virtual(8) into the work directory's Maildir store (targets/mta),
// STARTTLS with the run's certificate, nothing relayed and no DNS asked:
// mail for any other domain is refused (554 Relay access denied), and the
// transport of anything that would leave is error(8). The bare
// "Postmaster" (qualified as postmaster@localhost) reaches the fixture's
// postmaster; errors are answered at once (smtpd_error_sleep_time 0).
//
//	protospec run smtp --target postfix --baseline builtin
//
// Debian's postfix conflicts with exim4 and opensmtpd (all three provide
// mail-transport-agent): postfix is the one installed (apt-get install
// postfix, with the debconf answer "No configuration" and a policy-rc.d
// that keeps its daemon from starting); the others run unpacked. Postfix
// starts as root (master, then its daemons as the postfix account) and
// delivers as targets/mta.MailUID.
//
// Offered (EHLO): PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
// SMTPUTF8, CHUNKING, DSN, STARTTLS. Not offered: AUTH (it needs a SASL
// server, Dovecot or Cyrus, beside postfix), a VRFY that confirms (postfix
// answers 252 for an address it would accept).
package postfix

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/protospec/protospec/internal/smtp"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/mta"
)

// Baseline lists the smtp specs postfix is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed master.cf.tmpl
var masterConfig string

//go:embed main.cf.tmpl
var mainConfig string

var mainTemplate = template.Must(template.New("main.cf").Funcs(template.FuncMap{"join": filepath.Join}).Option("missingkey=error").Parse(mainConfig))

// Master is postfix's master daemon, which the launcher runs.
const Master = "/usr/lib/postfix/sbin/master"

var launcher = targets.Declare(targets.Declared{
	Name:     "postfix",
	Protocol: mta.Protocol,
	Binary:   Master,
	Package:  "postfix",
	Requires: mta.NeedRoot("postfix", false),
	// master has no version option: postconf tells it.
	Version:  func(*targets.Run) string { return Version() },
	Baseline: Baseline,
	Features: []string{smtp.FeatureSTARTTLS, smtp.FeaturePipelining, smtp.FeatureSize, smtp.Feature8BitMIME,
		smtp.FeatureEnhancedCodes, smtp.FeatureSMTPUTF8, smtp.FeatureChunking, smtp.FeatureDSN},
	Reasons: map[string]string{
		smtp.FeatureAuth: "postfix offers AUTH through a SASL server (Dovecot or Cyrus) that the launcher does not run",
		smtp.FeatureVRFY: "postfix answers VRFY of an address it accepts with 252, not 250 (it does not look the mailbox up)",
	},
	Vars:           vars(),
	Prepare:        prepare,
	ConfigTemplate: masterConfig,
	ConfigFile:     filepath.Join("conf", "master.cf"),
	// -d: the foreground, in the launcher's process group (without it
	// master detaches into a session of its own); -s: standard output
	// kept, where maillog_file = /dev/stdout logs. Postfix's daemons fork
	// from it.
	Argv: func(r *targets.Run) []string { return []string{"-c", r.Path("conf"), "-d", "-s"} },
	// What postfix(1) sets for master: the log service its daemons (and
	// master itself) log through.
	Env: func(r *targets.Run) []string {
		return []string{"POSTLOG_SERVICE=postlog", "POSTLOG_HOSTNAME=" + mta.Hostname}
	},
	Probe:     mta.Probe,
	Endpoints: mta.Endpoints,
	Finish:    mta.Finish,
	Output:    "maillog",
	KeptNote:  "config, queue and log",
})

// vars are the values of main.cf besides the work directory's paths.
func vars() map[string]any {
	return map[string]any{
		"hostname": mta.Hostname,
		"domains":  strings.Join(mta.Domains(), ", "),
		"uid":      mta.MailUID,
		"gid":      mta.MailGID,
		"maxSize":  mta.MaxSize,
	}
}

// Version is "postfix 3.7.11", as postconf tells mail_version; "postfix"
// if it cannot.
func Version() string {
	v, err := targets.Version("postconf", "-d", "-h", "mail_version")
	if err != nil || v == "" || strings.ContainsAny(v, " :") {
		return "postfix"
	}
	return "postfix " + v
}

// prepare writes the Maildir store and the certificate (mta.Prepare), the
// queue's directories (as postfix-files lists them: postfix check would
// make them, in two seconds), data/, conf/main.cf and conf/vmailbox.
func prepare(r *targets.Run) error {
	if err := mta.Prepare(r); err != nil {
		return err
	}
	owner, err := lookupIDs("postfix", "postfix")
	if err != nil {
		return err
	}
	postdrop, err := lookupIDs("", "postdrop")
	if err != nil {
		return err
	}
	type dir struct {
		name     string
		uid, gid int
		mode     os.FileMode
	}
	dirs := []dir{
		{"queue", 0, 0, 0o755}, {"queue/pid", 0, 0, 0o755},
		{"queue/maildrop", owner[0], postdrop[1], 0o730}, {"queue/public", owner[0], postdrop[1], 0o710},
		{"data", owner[0], owner[1], 0o700}, {"conf", 0, 0, 0o755},
	}
	for _, q := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		dirs = append(dirs, dir{"queue/" + q, owner[0], owner[1], 0o700})
	}
	for _, d := range dirs {
		p := r.Path(d.name)
		if err := os.Mkdir(p, d.mode); err != nil {
			return err
		}
		if err := os.Chown(p, d.uid, d.gid); err != nil {
			return err
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return err
		}
	}
	main, err := MainConfig(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(r.Path("conf", "main.cf"), main, 0o644); err != nil {
		return err
	}
	var vmailbox strings.Builder
	for _, m := range mta.Mailboxes() {
		fmt.Fprintf(&vmailbox, "%s %s/\n", m.Address, m.Mailbox)
	}
	if err := os.WriteFile(r.Path("conf", "vmailbox"), []byte(vmailbox.String()), 0o644); err != nil {
		return err
	}
	// Postfix rereads a file changed in the last second until it is
	// older (300 ms at a time, 1.5 s for each of main.cf and vmailbox at
	// every start): they are dated a minute back.
	old := time.Now().Add(-time.Minute)
	for _, f := range []string{"main.cf", "vmailbox"} {
		if err := os.Chtimes(r.Path("conf", f), old, old); err != nil {
			return err
		}
	}
	return nil
}

// MainConfig renders conf/main.cf for r.
func MainConfig(r *targets.Run) ([]byte, error) {
	r.Vars["maildir"] = mta.MaildirPath(r)
	r.Vars["cert"] = mta.CertPath(r)
	r.Vars["key"] = mta.KeyPath(r)
	var b bytes.Buffer
	if err := mainTemplate.Execute(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// lookupIDs returns the uid of the account name (if set) and the gid of
// the group group.
func lookupIDs(name, group string) ([2]int, error) {
	var ids [2]int
	if name != "" {
		u, err := user.Lookup(name)
		if err != nil {
			return ids, fmt.Errorf("postfix's account: %w (reinstall postfix: its postinst makes it)", err)
		}
		ids[0], _ = strconv.Atoi(u.Uid)
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return ids, fmt.Errorf("postfix's group: %w (reinstall postfix: its postinst makes it)", err)
	}
	ids[1], _ = strconv.Atoi(g.Gid)
	return ids, nil
}
