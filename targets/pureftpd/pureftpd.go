// Package pureftpd launches Pure-FTPd as an FTP target: the fixture tree
// of internal/ftp in a work directory, served on a free 127.0.0.1 control
// port with a run of free passive data ports, to the fixture's user
// (chrooted, writing in upload/) and to anonymous (chrooted, read-only),
// with AUTH TLS on the control port. Pure-FTPd has no configuration file
// (Debian's wrapper makes its flags from /etc/pure-ftpd): the launcher
// passes the flags itself (argv).
//
//	protospec run ftp --target pureftpd --baseline builtin
//	protospec run ftp --tls --target pureftpd --baseline builtin
//
// Debian's pure-ftpd conflicts with vsftpd and proftpd (all three provide
// ftp-server) and pulls in openbsd-inetd: the launcher runs pure-ftpd
// installed, or else unpacked (pure-ftpd) in the tree of
// targets.UnpackedTree. It authenticates unix accounts (-l unix) and
// takes the anonymous root from the home of the ftp account: both come
// from copies of /etc/passwd, /etc/shadow and /etc/group with the
// fixture's accounts, bound over the host's in a private mount namespace
// of the server (targets.Overlay), so that nothing on the host changes.
// That needs root, as pure-ftpd's chroot does.
//
// Offered: passive (PASV, EPSV) and active (PORT, EPRT, from port 20)
// data connections, AUTH TLS with PROT P, IPv6 (a second pure-ftpd on
// [::1], where the machine has it), MLST/MLSD, REST STREAM, SIZE, MDTM,
// UTF8. Not offered: implicit TLS ("ftp/tls": pure-ftpd has none), HOST.
package pureftpd

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/ftpd"
)

// Baseline lists the ftp specs pure-ftpd is known to fail.
//
//go:embed baseline.txt
var Baseline string

var launcher = targets.Declare(targets.Declared{
	Name:     "pureftpd",
	Protocol: ftpd.Protocol,
	Binary:   "pure-ftpd",
	Package:  "pure-ftpd",
	Unpacked: []string{"pure-ftpd"},
	Requires: ftpd.NeedRoot("pure-ftpd", true),
	// "pure-ftpd v1.0.50 [privsep]", the first line of its usage.
	VersionArgs: []string{"-h"},
	VersionText: func(s string) string {
		f := strings.Fields(s)
		if len(f) >= 2 {
			return "pure-ftpd " + strings.TrimPrefix(f[1], "v")
		}
		return s
	},
	Baseline: Baseline,
	Features: ftpd.Features,
	Reasons: map[string]string{
		ftp.FeatureDataPortL1: "pure-ftpd opens active data connections from port 20 whatever its control port, not L-1 (measured)",
		ftpd.ServiceTLS:       "pure-ftpd has no implicit TLS (TLS from the first byte): it offers AUTH TLS on ftp/tcp, which the TLS specs of a plain run use",
	},
	Vars:      ftpd.Vars(),
	Ports:     ftpd.Ports,
	FreePorts: ftpd.FreePorts,
	Prepare:   ftpd.Prepare,
	Argv:      argv,
	Check: func(r *targets.Run) error {
		r.Vars["ipv6"] = ftpd.IPv6()
		return nil
	},
	// pure-ftpd binds one address: a second instance serves [::1].
	Companions: func(r *targets.Run) ([][]string, error) {
		if r.Vars["ipv6"] != true {
			return nil, nil
		}
		return [][]string{append([]string{r.Bin}, flags(r, true)...)}, nil
	},
	Finish: func(r *targets.Run, t *targets.Static) {
		if r.Vars["ipv6"] == true {
			t.Features[ftp.FeatureIPv6] = true
		} else {
			t.Reasons[ftp.FeatureIPv6] = "this machine has no IPv6 loopback (::1): pure-ftpd listens on 127.0.0.1 only"
		}
	},
	Overlay:   ftpd.UsersOverlay,
	Probe:     func(r *targets.Run) func(context.Context) error { return ftpd.ProbeAll(r, false) },
	Endpoints: func(r *targets.Run) map[string]targets.Endpoint { return ftpd.Endpoints(r, false) },
	// pure-ftpd logs to syslog only; what it prints when it cannot
	// start goes here.
	Output:   "pure-ftpd.out",
	KeptNote: "certificate and transfer log",
})

// argv are pure-ftpd's flags: in the foreground (no -B) on the control
// port, IPv4 only, no reverse DNS, everyone chrooted to their home, the
// unix accounts (the overlay's), anonymous read-only, the passive run
// announced as 127.0.0.1, TLS optional (-Y 1) with the run's certificate,
// client limits above what a suite opens at once, transfers logged.
func argv(r *targets.Run) []string { return flags(r, false) }

// flags are argv for the 127.0.0.1 instance, or with ipv6 for the [::1]
// one (IPv6 only, no forced passive address: EPSV names none).
func flags(r *targets.Run, ipv6 bool) []string {
	first, last := ftpd.Passive(r)
	f := []string{"-S", fmt.Sprintf("127.0.0.1,%d", r.Port(0)), "-4"}
	if ipv6 {
		f = []string{"-S", fmt.Sprintf("::1,%d", r.Port(0)), "-6"}
	}
	f = append(f, "-H", "-A",
		"-l", "unix",
		"-i",
		"-p", fmt.Sprintf("%d:%d", first, last))
	if !ipv6 {
		f = append(f, "-P", "127.0.0.1")
	}
	pid := "pure-ftpd.pid"
	if ipv6 {
		pid = "pure-ftpd-ipv6.pid"
	}
	return append(f,
		"-Y", "1",
		"-2", r.Path("tls", "cert.pem")+","+r.Path("tls", "key.pem"),
		"-c", "50", "-C", "50",
		"-g", r.Path(pid),
		"-f", "none",
		"-O", "clf:"+r.Path("xfer.log"),
	)
}
