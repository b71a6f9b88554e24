// Package proftpd launches ProFTPD as an FTP target: the fixture tree of
// internal/ftp in a work directory, served on a free 127.0.0.1 control
// port with a run of free passive data ports, to the fixture's user
// (chrooted, writing in upload/) and to anonymous (chrooted, read-only),
// with AUTH TLS on the control port and a virtual host on the
// implicit-TLS port ("ftp/tls", TLS from the first byte)
// (proftpd.conf.tmpl).
//
//	protospec run ftp --target proftpd --baseline builtin
//	protospec run ftp --tls --target proftpd --baseline builtin
//
// Debian's proftpd-basic conflicts with vsftpd and pure-ftpd (all three
// provide ftp-server): the launcher runs proftpd installed, or else
// unpacked (proftpd-core, and proftpd-mod-crypto for mod_tls) in the
// tree of targets.UnpackedTree, its shared libraries installed
// (libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3).
// The accounts are in files of the work directory (AuthUserFile,
// AuthGroupFile): nothing on the host changes. proftpd needs root to
// switch to them.
//
// Offered: passive (PASV, EPSV) and active (PORT, EPRT) data connections,
// AUTH TLS with PROT P and implicit TLS (with mod_tls), MLST/MLSD,
// REST STREAM, SIZE, MDTM, UTF8, HOST, IPv6 (the same ports on [::1],
// where the machine has it). Not offered: active data connections from
// L-1.
package proftpd

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/ftpd"
)

// Baseline lists the ftp specs proftpd is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed proftpd.conf.tmpl
var config string

var launcher = targets.Declare(targets.Declared{
	Name:          "proftpd",
	Protocol:      ftpd.Protocol,
	Binary:        "proftpd",
	Package:       "proftpd-basic",
	Unpacked:      []string{"proftpd-core", "proftpd-mod-crypto"},
	UnpackedNeeds: []string{"libhiredis0.14", "libmemcached11", "libmemcachedutil2", "libpcre2-posix3"},
	Requires:      ftpd.NeedRoot("proftpd", false),
	// "ProFTPD Version 1.3.8".
	VersionArgs: []string{"-v"},
	VersionText: func(s string) string { return strings.Replace(s, "ProFTPD Version ", "proftpd ", 1) },
	Baseline:    Baseline,
	Features:    ftpd.Features,
	Reasons: map[string]string{
		ftp.FeatureDataPortL1: "proftpd opens active data connections from an ephemeral port, not L-1 (measured with the launcher's config)",
	},
	Vars:           ftpd.Vars(),
	Ports:          ftpd.Ports,
	FreePorts:      ftpd.FreePorts,
	Check:          check,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "proftpd.conf",
	// -n: the foreground; its session processes fork from it, in its
	// process group.
	Argv:      func(r *targets.Run) []string { return []string{"-n", "-c", r.Config} },
	Probe:     func(r *targets.Run) func(context.Context) error { return ftpd.ProbeAll(r, r.Vars["tls"] == true) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return ftpd.Endpoints(r, r.Vars["tls"] == true) },
	Finish: func(r *targets.Run, t *targets.Static) {
		if r.Vars["tls"] != true {
			t.Reasons[ftpd.ServiceTLS] = r.Vars["noTLS"].(string)
		}
		if r.Vars["ipv6"] == true {
			t.Features[ftp.FeatureIPv6] = true
		} else {
			t.Reasons[ftp.FeatureIPv6] = "this machine has no IPv6 loopback (::1): proftpd listens on 127.0.0.1 only"
		}
	},
	Output:    "proftpd.out",
	ServerLog: "proftpd.log",
	LogLabel:  "log",
	KeptNote:  "config and logs",
})

// check finds mod_tls beside the binary (without it there is no TLS) and
// the IPv6 loopback (without it proftpd listens on 127.0.0.1 only).
func check(r *targets.Run) error {
	r.Vars["ipv6"] = ftpd.IPv6()
	mod := filepath.Join(r.Tree, "usr", "lib", "proftpd", "mod_tls.so")
	_, err := os.Stat(mod)
	r.Vars["tls"] = err == nil
	if err != nil {
		r.Vars["noTLS"] = fmt.Sprintf("proftpd has no mod_tls (%s): install proftpd-mod-crypto, or unpack it (%s)", mod, targets.UnpackCommand("proftpd-mod-crypto"))
	}
	return nil
}

// prepare writes the fixture and the account files: bob, at home in
// tree/bob, and ftp (anonymous sessions), at home in tree/anon.
func prepare(r *targets.Run) error {
	if err := ftpd.Prepare(r); err != nil {
		return err
	}
	salt, err := targets.CryptSalt()
	if err != nil {
		return err
	}
	passwd := fmt.Sprintf("%s:%s:%d:%d::%s:/bin/false\n%s:*:%d:%d::%s:/bin/false\n",
		ftp.UserBob, targets.SHA512Crypt(ftp.PasswordBob, salt), ftpd.UID, ftpd.GID, ftpd.BobHome(r),
		ftp.UserFTP, ftpd.AnonUID, ftpd.AnonGID, ftpd.AnonHome(r))
	if err := os.WriteFile(r.Path("ftpd.passwd"), []byte(passwd), 0o600); err != nil {
		return err
	}
	group := fmt.Sprintf("%s:x:%d:\n%s:x:%d:\n", ftp.UserBob, ftpd.GID, ftp.UserFTP, ftpd.AnonGID)
	return os.WriteFile(r.Path("ftpd.group"), []byte(group), 0o644)
}
