// Package vsftpd launches vsftpd as an FTP target: the fixture tree of
// internal/ftp in a work directory, served on a free 127.0.0.1 control
// port with a run of free passive data ports, to the fixture's user
// (chrooted, writing in upload/) and to anonymous (chrooted, read-only),
// with AUTH TLS on the control port. vsftpd serves one socket per
// process: beside it run a vsftpd on the implicit-TLS port ("ftp/tls",
// TLS from the first byte) and one on [::1] at the control port
// (ftp/ipv6) (vsftpd.conf.tmpl, rendered for each).
//
//	protospec run ftp --target vsftpd --baseline builtin
//	protospec run ftp --tls --target vsftpd --baseline builtin
//
// vsftpd logs local users in through PAM and the system's user database
// only. Rather than add an account to the host, the launcher runs vsftpd
// in a private mount namespace (unshare -m) in which copies of
// /etc/passwd, /etc/shadow and /etc/group with the fixture's accounts in
// them, and a pam.d of one service (pam_unix), are bound over the host's:
// nothing outside the work directory changes, and the mounts end with the
// server. That needs root, as vsftpd itself does.
//
// Offered: passive (PASV, EPSV) and active (PORT, EPRT, from L-1) data
// connections, AUTH TLS with PROT P, implicit TLS, IPv6 (where the
// machine has ::1), REST STREAM, SIZE, MDTM, ASCII-mode conversion
// (turned on). Not offered (vsftpd 3.0.3 has none): MLST/MLSD, UTF8,
// HOST.
package vsftpd

import (
	"context"
	_ "embed"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/ftpd"
)

// Baseline lists the ftp specs vsftpd is known to fail.
//
//go:embed baseline.txt
var Baseline string

//go:embed vsftpd.conf.tmpl
var config string

// pamService is the PAM stack of the mount namespace's /etc/pam.d/vsftpd:
// the password of the namespace's shadow file, no session modules.
const pamService = `auth required pam_unix.so
account required pam_unix.so
session required pam_permit.so
`

// launcher is declared in init: its Companion renders its own config.
var launcher *targets.DeclaredLauncher

func init() { launcher = targets.Declare(declared) }

var declared = targets.Declared{
	Name:     "vsftpd",
	Protocol: ftpd.Protocol,
	Binary:   "vsftpd",
	Package:  "vsftpd",
	Requires: ftpd.NeedRoot("vsftpd", true),
	// vsftpd -v prints its version on its standard input, which Version
	// gives /dev/null: Finish asks again with a pipe. (Without -v,
	// vsftpd would start on /etc/vsftpd.conf.)
	VersionArgs:    []string{"-v"},
	Baseline:       Baseline,
	Features:       append([]string{ftp.FeatureDataPortL1}, ftpd.Features...),
	Vars:           vars(),
	Ports:          ftpd.Ports,
	FreePorts:      ftpd.FreePorts,
	Prepare:        prepare,
	ConfigTemplate: config,
	ConfigFile:     "vsftpd.conf",
	Argv:           func(r *targets.Run) []string { return []string{r.Config} },
	Overlay:        overlay,
	// vsftpd serves one port of one address family per process, plain or
	// TLS from the first byte: other instances serve the implicit-TLS
	// port and [::1].
	Check: func(r *targets.Run) error {
		r.Vars["ipv6"] = ftpd.IPv6()
		return nil
	},
	Companions: companions,
	Probe:      func(r *targets.Run) func(context.Context) error { return ftpd.ProbeAll(r, true) },
	Endpoints:  func(r *targets.Run) map[string]targets.Endpoint { return ftpd.Endpoints(r, true) },
	Finish: func(r *targets.Run, t *targets.Static) {
		t.Version = version(r.Bin)
		if r.Vars["ipv6"] == true {
			t.Features[ftp.FeatureIPv6] = true
		} else {
			t.Reasons[ftp.FeatureIPv6] = "this machine has no IPv6 loopback (::1): vsftpd listens on 127.0.0.1 only"
		}
	},
	// vsftpd prints "500 OOPS: ..." on stdout when it cannot start.
	Output: "vsftpd.out",
	// "500 OOPS: could not bind listening IPv4 socket": another port.
	PortTaken: func(err error) bool { return strings.Contains(err.Error(), "could not bind listening") },
	ServerLog: "vsftpd.log",
	LogLabel:  "log",
	KeptNote:  "config and logs",
}

// companions write the configs of the implicit-TLS instance
// (vsftpd-tls.conf) and, where the machine has the IPv6 loopback, of the
// [::1] instance (vsftpd-ipv6.conf), and return their command lines.
func companions(r *targets.Run) ([][]string, error) {
	instances := []string{"tls"}
	if r.Vars["ipv6"] == true {
		instances = append(instances, "ipv6")
	}
	var argvs [][]string
	for _, inst := range instances {
		c := *r
		c.Vars = maps.Clone(r.Vars)
		c.Vars["instance"] = inst
		conf, err := launcher.Config(&c)
		if err != nil {
			return nil, err
		}
		path := r.Path("vsftpd-" + inst + ".conf")
		if err := os.WriteFile(path, conf, 0o644); err != nil {
			return nil, err
		}
		argvs = append(argvs, []string{r.Bin, path})
	}
	return argvs, nil
}

// prepare writes the fixture, the certificate, the empty directory
// vsftpd chroots its unprivileged processes into, and the PAM service.
func prepare(r *targets.Run) error {
	if err := ftpd.Prepare(r); err != nil {
		return err
	}
	if err := os.MkdirAll(r.Path("empty"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(r.Path("pam.d"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(r.Path("pam.d", "vsftpd"), []byte(pamService), 0o644)
}

// overlay binds the work directory's user files and pam.d over the
// host's.
func overlay(r *targets.Run) (targets.Overlay, error) {
	o, err := ftpd.UsersOverlay(r)
	if err != nil {
		return nil, err
	}
	o["/etc/pam.d"] = r.Path("pam.d")
	return o, nil
}

// version asks vsftpd, which prints "vsftpd: version 3.0.3" on its
// standard input: a pipe's write end.
func version(bin string) string {
	pr, pw, err := os.Pipe()
	if err != nil {
		return filepath.Base(bin)
	}
	defer pr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-v")
	cmd.Stdin = pw
	// vsftpd -v exits 0 after printing; a failure leaves nothing to read.
	cmd.Run()
	pw.Close()
	pr.SetReadDeadline(time.Now().Add(time.Second))
	b := make([]byte, 200)
	n, _ := pr.Read(b)
	if v, ok := strings.CutPrefix(strings.TrimSpace(string(b[:n])), "vsftpd: version "); ok {
		return "vsftpd " + v
	}
	return filepath.Base(bin)
}

// vars are ftpd.Vars with instance "": the main instance's config.
func vars() map[string]any {
	v := ftpd.Vars()
	v["instance"] = ""
	return v
}
