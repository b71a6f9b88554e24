// Package ftpd holds what the launchers of third-party FTP servers
// (targets/vsftpd, targets/proftpd, targets/pureftpd) share: the layout of
// their work directory, the fixture tree and its accounts, the ports (the
// control port and a run of passive data ports, all on 127.0.0.1), the
// readiness probe (a 220 greeting) and the endpoints.
//
// Every server serves the same tree, the fixture of internal/ftp written
// into tree/ of the work directory: the authenticated user (bob) is
// confined to tree/bob and may write in its upload/ only (which bob
// owns), the anonymous user (anonymous or ftp, any password) is confined
// to tree/anon and may write nowhere. The servers run as root (they
// switch to the accounts' uids after login); the accounts have uids of
// their own (UID, AnonUID), unknown to the host, so nothing on the host
// can be reached as them.
package ftpd

import (
	"bufio"
	"context"
	cryptotls "crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/targets"
)

// Uids and gids of the fixture's accounts on the servers.
const (
	UID     = 60123
	GID     = 60123
	AnonUID = 60124
	AnonGID = 60124
)

// Tree is the fixture tree's directory in the work directory.
const Tree = "tree"

// Protocol is the FTP contract's name.
const Protocol = ftp.Name

// Services of the contract.
const (
	ServiceTCP = ftp.ServiceTCP
	ServiceTLS = ftp.ServiceTLS
)

// Features every FTP launcher offers: AUTH TLS with the run's
// certificate, active data connections, the anonymous read-only area,
// bob's upload area, the UTF-8 file name.
var Features = []string{ftp.FeatureAuthTLS, ftp.FeatureActive, ftp.FeatureAnonymous, ftp.FeatureUpload, ftp.FeatureUTF8Names}

// Home is the work-directory path of a fixture user's root.
func Home(r *targets.Run, home string) string { return r.Path(Tree, home) }

// BobHome and AnonHome are the roots of bob and of anonymous sessions.
func BobHome(r *targets.Run) string  { return Home(r, ftp.BobHome) }
func AnonHome(r *targets.Run) string { return Home(r, ftp.AnonymousHome) }

// PassivePorts is how many ports the passive range has: enough for the
// concurrent data connections of a run (one per session in passive mode
// at a time).
const PassivePorts = 16

// Ports is Declared.Ports of an FTP launcher: the control port L, the
// passive range, the implicit-TLS control port T (TLS from the first
// byte, "ftp/tls"), then L-1 and T-1, the ports RFC 959 has a server's
// active data connections come from (20 for 21), free for a server that
// binds them.
const Ports = 1 + PassivePorts + 1 + 2

// Indexes in Run.Ports.
const (
	tlsPort     = PassivePorts + 1
	dataPort    = PassivePorts + 2
	tlsDataPort = PassivePorts + 3
)

// FreePorts is Declared.FreePorts of an FTP launcher: a run of
// consecutive free ports L-1, L, T-1, T and the passive range, returned
// in the order of Ports: L, the passive range, T, L-1, T-1.
func FreePorts(host string, n int) ([]int, error) {
	if n != Ports {
		return nil, fmt.Errorf("ftpd: %d ports asked for, the layout has %d", n, Ports)
	}
	var run []int
	for tries := 0; ; tries++ {
		var err error
		if run, err = targets.PortRun(host, n); err != nil {
			return nil, err
		}
		// A server that also listens on [::1] (FeatureIPv6) needs the
		// ports free there too.
		if !IPv6() || freeOn("::1", run) || tries == 20 {
			break
		}
	}
	ports := []int{run[1]}
	ports = append(ports, run[4:]...)
	return append(ports, run[3], run[0], run[2]), nil
}

// IPv6 reports whether this machine has the IPv6 loopback, [::1].
func IPv6() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freeOn reports whether every port is free for TCP on host.
func freeOn(host string, ports []int) bool {
	var hold []net.Listener
	defer func() {
		for _, l := range hold {
			l.Close()
		}
	}()
	for _, p := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		hold = append(hold, l)
	}
	return true
}

// Vars are Declared.Vars of an FTP launcher, for its config template:
// .Vars.pasvFirst and .Vars.pasvLast index the passive range in Ports,
// .Vars.tlsPort the implicit-TLS port, .Vars.dataPort and
// .Vars.tlsDataPort the ports L-1 and T-1;
// .Vars.bobHome and .Vars.anonHome are the users' roots under tree/.
func Vars() map[string]any {
	return map[string]any{
		"pasvFirst": 1, "pasvLast": PassivePorts, "tlsPort": tlsPort, "dataPort": dataPort, "tlsDataPort": tlsDataPort,
		"bobHome": ftp.BobHome, "anonHome": ftp.AnonymousHome,
	}
}

// Passive returns the first and last ports of r's passive range.
func Passive(r *targets.Run) (first, last int) { return r.Port(1), r.Port(PassivePorts) }

// TLSAddr is the implicit-TLS control address.
func TLSAddr(r *targets.Run) string { return r.Addr(tlsPort) }

// NeedRoot is Declared.Requires of a launcher whose server must start
// as root: it switches to the accounts' uids and confines them with
// chroot(2). With overlay, the launcher also needs a private mount
// namespace for its accounts (targets.OverlayAvailable).
func NeedRoot(name string, overlay bool) func() error {
	return func() error {
		if os.Geteuid() != 0 {
			return fmt.Errorf("%s needs root: it switches to the fixture's accounts and confines them with chroot", name)
		}
		if overlay {
			if err := targets.OverlayAvailable(); err != nil {
				return fmt.Errorf("%s takes the fixture's accounts from a private mount namespace, which cannot be made here: %w", name, err)
			}
		}
		return nil
	}
}

// Prepare writes the fixture tree into tree/ (bob/upload/ owned by bob,
// the rest by root and read-only to the accounts) and the run's TLS
// certificate into tls/ (cert.pem with the chain, key.pem).
func Prepare(r *targets.Run) error {
	// The servers' session processes, no longer root, must reach the tree
	// and the certificate through the work directory.
	if err := os.Chmod(r.Dir, 0o755); err != nil {
		return err
	}
	if err := Reachable(r.Dir); err != nil {
		return err
	}
	if err := ftp.Write(r.Path(Tree)); err != nil {
		return err
	}
	if err := os.Chown(filepath.Join(BobHome(r), strings.TrimPrefix(ftp.UploadDir, "/")), UID, GID); err != nil {
		return err
	}
	fx, err := r.Opts.TLSFixture()
	if err != nil {
		return err
	}
	_, err = fx.WriteDir(r.Path("tls"))
	return err
}

// Reachable checks that every directory above dir lets other users pass
// (o+x): a server changes into the tree as the fixture's accounts before
// it confines them there.
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
			return fmt.Errorf("the work directory %s is not reachable by the fixture's accounts: %s is mode %v (choose a work directory under /tmp)", abs, d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// Probe is the readiness probe: the control port greets with 220 (a
// single or multi-line reply).
func Probe(r *targets.Run) func(context.Context) error { return ftp.GreetingProbe(r.Addr(0)) }

// ProbeAll is the readiness probe of a server on several sockets: the
// control port greets with 220, on [::1] too when r.Vars["ipv6"] is
// true, and with implicit so does the implicit-TLS port after a TLS
// handshake (the certificate is not verified: liveness, not trust).
func ProbeAll(r *targets.Run, implicit bool) func(context.Context) error {
	probes := []func(context.Context) error{ftp.GreetingProbe(r.Addr(0))}
	if r.Vars["ipv6"] == true {
		probes = append(probes, ftp.GreetingProbe(ftp.IPv6Addr(r.Addr(0))))
	}
	if implicit {
		probes = append(probes, greets(dial.Endpoint{Network: "tcp", Addr: TLSAddr(r), Security: dial.TLS, ServerName: "localhost"}))
	}
	return func(ctx context.Context) error {
		for _, p := range probes {
			if err := p(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}

// greets is a probe that ep sends a 220 greeting.
func greets(ep dial.Endpoint) func(context.Context) error {
	return func(ctx context.Context) error {
		d := dial.Dialer{Timeout: time.Second, TLS: &cryptotls.Config{InsecureSkipVerify: true}}
		c, err := d.Dial(ctx, ep)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		br := bufio.NewReader(io.LimitReader(c, 64<<10))
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return fmt.Errorf("greeting: %w", err)
			}
			if len(line) < 4 || !strings.HasPrefix(line, "220") {
				return fmt.Errorf("greeting %q, want 220", strings.TrimSpace(line))
			}
			if line[3] == ' ' {
				io.WriteString(c, "QUIT\r\n")
				return nil
			}
		}
	}
}

// Endpoints are the control connection's services: plain (where AUTH
// TLS, RFC 4217, upgrades the session), and with implicit the
// implicit-TLS port (TLS from the first byte, as port 990 has it).
func Endpoints(r *targets.Run, implicit bool) map[string]targets.Endpoint {
	eps := map[string]targets.Endpoint{ServiceTCP: {Network: "tcp", Addr: r.Addr(0)}}
	if implicit {
		eps[ServiceTLS] = targets.Endpoint{Network: "tcp", Addr: TLSAddr(r), Security: dial.TLS, ServerName: "localhost"}
	}
	return eps
}

// UsersOverlay writes the host's user files with the fixture's accounts
// into etc/ and returns the Overlay that binds them: bob (UID, at home in
// tree/bob, shell /bin/sh) and ftp, the account anonymous sessions run as
// (AnonUID, locked; at home in tree/anon, which pure-ftpd takes as the
// anonymous root).
func UsersOverlay(r *targets.Run) (targets.Overlay, error) {
	return targets.UsersOverlay(r.Path("etc"),
		targets.UnixUser{Name: ftp.UserBob, Password: ftp.PasswordBob, UID: UID, GID: GID, Group: ftp.UserBob, Home: BobHome(r), Shell: "/bin/sh"},
		targets.UnixUser{Name: ftp.UserFTP, UID: AnonUID, GID: AnonGID, Group: ftp.UserFTP, Home: AnonHome(r), Shell: "/usr/sbin/nologin"})
}

// ConfigPorts are the ports the launchers' golden configurations are
// rendered for: 40021, the passive run from 40100, 40991, 40020 and
// 40990.
var ConfigPorts = func() []int {
	p := []int{40021}
	for i := range PassivePorts {
		p = append(p, 40100+i)
	}
	return append(p, 40991, 40020, 40990)
}()
