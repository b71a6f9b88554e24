package launchertest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/internal/tlsfixture"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/ftpd"
)

// FTPClient is one FTP control connection to a target, with deadlines
// and bounded reads, and the data connections it opens: passive (PASV)
// or active (PORT to a listener of the test on 127.0.0.1).
type FTPClient struct {
	t   testing.TB
	c   net.Conn
	br  *bufio.Reader
	tls *tls.Config
	// prot is true after PROT P: data connections are TLS too.
	prot bool
	// DataPeer is the remote address of the last data connection.
	DataPeer string
}

// DialFTP connects to tg's plain control endpoint and reads the 220
// greeting; the connection is closed when the test ends.
func DialFTP(t testing.TB, tg targets.Target) *FTPClient {
	t.Helper()
	return dialFTP(t, tg, ftpd.ServiceTCP, nil)
}

// DialFTPS connects to tg's implicit-TLS control endpoint (TLS from the
// first byte) trusting fx's CA, and reads the 220 greeting.
func DialFTPS(t testing.TB, tg targets.Target, fx *tlsfixture.Fixture) *FTPClient {
	t.Helper()
	return dialFTP(t, tg, ftpd.ServiceTLS, fx)
}

func dialFTP(t testing.TB, tg targets.Target, service string, fx *tlsfixture.Fixture) *FTPClient {
	t.Helper()
	ep, err := tg.Endpoint(service)
	if err != nil {
		t.Fatal(err)
	}
	return dialFTPAt(t, ep, fx)
}

func dialFTPAt(t testing.TB, ep dial.Endpoint, fx *tlsfixture.Fixture) *FTPClient {
	t.Helper()
	d := dial.Dialer{Timeout: 5 * time.Second}
	var cfg *tls.Config
	if fx != nil {
		cfg = &tls.Config{RootCAs: fx.Pool(), ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		d.TLS = cfg
	}
	c, err := d.Dial(context.Background(), ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &FTPClient{t: t, c: c, tls: cfg}
	cl.setConn(c)
	cl.Expect(220)
	return cl
}

func (cl *FTPClient) setConn(c net.Conn) {
	cl.c = c
	cl.br = bufio.NewReader(io.LimitReader(c, 1<<20))
}

// Reply reads one reply, single or multi-line, and returns its code and
// text (the lines joined by "\n").
func (cl *FTPClient) Reply() (int, string) {
	cl.t.Helper()
	cl.c.SetDeadline(time.Now().Add(15 * time.Second))
	var lines []string
	for {
		line, err := cl.br.ReadString('\n')
		if err != nil {
			cl.t.Fatalf("reply: %v (after %q)", err, lines)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(lines) == 1 && (len(line) < 4 || (line[3] != ' ' && line[3] != '-')) {
			cl.t.Fatalf("malformed reply line %q", line)
		}
		if len(line) >= 4 && line[:3] == lines[0][:3] && line[3] == ' ' {
			code, _ := strconv.Atoi(line[:3])
			return code, strings.Join(lines, "\n")
		}
	}
}

// Cmd sends one command and reads its reply.
func (cl *FTPClient) Cmd(format string, args ...any) (int, string) {
	cl.t.Helper()
	cl.c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := fmt.Fprintf(cl.c, format+"\r\n", args...); err != nil {
		cl.t.Fatal(err)
	}
	return cl.Reply()
}

// Expect reads a reply and fails unless its code is want.
func (cl *FTPClient) Expect(want int) string {
	cl.t.Helper()
	code, text := cl.Reply()
	if code != want {
		cl.t.Fatalf("reply %q, want %d", text, want)
	}
	return text
}

// Must sends a command and fails unless the reply's code is want.
func (cl *FTPClient) Must(want int, format string, args ...any) string {
	cl.t.Helper()
	code, text := cl.Cmd(format, args...)
	if code != want {
		cl.t.Fatalf("%s: %q, want %d", strings.Fields(fmt.Sprintf(format, args...))[0], text, want)
	}
	return text
}

// Login logs in (USER, then PASS unless USER was enough) and wants 230.
func (cl *FTPClient) Login(user, pass string) {
	cl.t.Helper()
	code, text := cl.Cmd("USER %s", user)
	if code == 331 {
		code, text = cl.Cmd("PASS %s", pass)
	}
	if code != 230 {
		cl.t.Fatalf("login as %s: %q", user, text)
	}
}

// AuthTLS upgrades the control connection (AUTH TLS, RFC 4217) trusting
// fx's CA for localhost, then protects data connections (PBSZ 0, PROT
// P).
func (cl *FTPClient) AuthTLS(fx *tlsfixture.Fixture) *tls.ConnectionState {
	cl.t.Helper()
	cl.Must(234, "AUTH TLS")
	cl.tls = &tls.Config{RootCAs: fx.Pool(), ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	tc := tls.Client(cl.c, cl.tls)
	tc.SetDeadline(time.Now().Add(15 * time.Second))
	if err := tc.Handshake(); err != nil {
		cl.t.Fatalf("AUTH TLS handshake: %v", err)
	}
	cl.setConn(tc)
	st := tc.ConnectionState()
	return &st
}

// Protect sends PBSZ 0 and PROT P: data connections are TLS from then on.
func (cl *FTPClient) Protect() {
	cl.t.Helper()
	cl.Must(200, "PBSZ 0")
	cl.Must(200, "PROT P")
	cl.prot = true
}

// Transfer runs a command that opens a data connection (RETR, STOR,
// LIST, NLST) in passive or active mode, sends up (STOR) or reads what
// comes, and returns the final reply's code and what was read.
func (cl *FTPClient) Transfer(passive bool, up []byte, format string, args ...any) (int, []byte) {
	cl.t.Helper()
	var open func() (net.Conn, error)
	if passive {
		var addr string
		if host, _, _ := net.SplitHostPort(cl.c.RemoteAddr().String()); strings.Contains(host, ":") {
			// IPv6: EPSV (RFC 2428), the port only.
			text := cl.Must(229, "EPSV")
			i, j := strings.Index(text, "(|||"), strings.LastIndex(text, "|)")
			if i < 0 || j < i+4 {
				cl.t.Fatalf("EPSV reply %q", text)
			}
			addr = net.JoinHostPort(host, text[i+4:j])
		} else {
			text := cl.Must(227, "PASV")
			var err error
			if addr, err = parse227(text); err != nil {
				cl.t.Fatal(err)
			}
			if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
				cl.t.Fatalf("PASV offers %s, not loopback", addr)
			}
		}
		open = func() (net.Conn, error) {
			d := dial.Dialer{Timeout: 5 * time.Second}
			return d.Dial(context.Background(), dial.Endpoint{Network: "tcp", Addr: addr})
		}
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			cl.t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		cl.Must(200, "PORT 127,0,0,1,%d,%d", port>>8, port&0xff)
		open = func() (net.Conn, error) {
			l.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			return l.Accept()
		}
	}
	// In passive mode the client connects before or after the command;
	// after the preliminary reply works with every server.
	var data net.Conn
	var err error
	if passive {
		if data, err = open(); err != nil {
			cl.t.Fatal(err)
		}
	}
	code, text := cl.Cmd(format, args...)
	if code != 150 && code != 125 {
		if data != nil {
			data.Close()
		}
		return code, []byte(text)
	}
	if !passive {
		if data, err = open(); err != nil {
			cl.t.Fatalf("active data connection: %v", err)
		}
	}
	cl.DataPeer = data.RemoteAddr().String()
	if cl.prot {
		tc := tls.Client(data, cl.tls)
		tc.SetDeadline(time.Now().Add(15 * time.Second))
		if err := tc.Handshake(); err != nil {
			cl.t.Fatalf("data connection TLS: %v", err)
		}
		data = tc
	}
	data.SetDeadline(time.Now().Add(15 * time.Second))
	var got []byte
	if up != nil {
		if _, err := data.Write(up); err != nil {
			cl.t.Fatalf("data write: %v", err)
		}
	} else {
		if got, err = io.ReadAll(io.LimitReader(data, 16<<20)); err != nil {
			cl.t.Fatalf("data read: %v", err)
		}
	}
	if tc, ok := data.(*tls.Conn); ok && up != nil {
		tc.CloseWrite()
	}
	data.Close()
	code, _ = cl.Reply()
	return code, got
}

// checkL1 checks, when tg offers ftp.FeatureDataPortL1, that cl's last
// (active) data connection came from the port below its control port.
func checkL1(t testing.TB, tg targets.Target, cl *FTPClient) {
	t.Helper()
	if tg.Feature(ftp.FeatureDataPortL1) != nil {
		return
	}
	_, data, _ := net.SplitHostPort(cl.DataPeer)
	_, ctl, _ := net.SplitHostPort(cl.c.RemoteAddr().String())
	if d, c := atoi(data), atoi(ctl); d != c-1 {
		t.Errorf("%s offered, but the active data connection came from port %d, control port %d", ftp.FeatureDataPortL1, d, c)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// parse227 finds h1,h2,h3,h4,p1,p2 in a 227 reply.
func parse227(text string) (string, error) {
	i := strings.IndexAny(text, "0123456789")
	for ; i >= 0 && i < len(text); i++ {
		var h [4]int
		var p1, p2 int
		if n, _ := fmt.Sscanf(text[i:], "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &p1, &p2); n == 6 {
			return net.JoinHostPort(fmt.Sprintf("%d.%d.%d.%d", h[0], h[1], h[2], h[3]), strconv.Itoa(p1<<8|p2)), nil
		}
		if j := strings.IndexByte(text[i:], '('); j >= 0 {
			i += j
		} else {
			break
		}
	}
	return "", fmt.Errorf("no address in %q", text)
}

// FTPServes checks an FTP launcher's running target against the fixture:
// anonymous reads pub/ and cannot write, the user writes upload/ and reads
// it back in passive and active mode, a wrong password is refused, and
// the same over AUTH TLS and PROT P with the run's certificate, over
// IPv6 with EPSV (when it offers ftp.FeatureIPv6) and over implicit TLS
// (when it offers ftp/tls).
func FTPServes(t *testing.T, tg targets.Target, fx *tlsfixture.Fixture) {
	t.Helper()
	hello, _ := ftp.Lookup(ftp.HelloFile)
	want := string(hello.Content)
	for _, passive := range []bool{true, false} {
		cl := DialFTP(t, tg)
		cl.Login(ftp.UserAnonymous, ftp.AnonymousPassword)
		cl.Must(200, "TYPE I")
		if code, got := cl.Transfer(passive, nil, "RETR %s", ftp.HelloFile); code != 226 || string(got) != want {
			t.Fatalf("anonymous RETR %s (passive %v): %d %q, want 226 %q", ftp.HelloFile, passive, code, got, want)
		}
		if code, _ := cl.Transfer(passive, []byte("x"), "STOR %s/anon.txt", ftp.PubDir); code < 500 {
			t.Errorf("anonymous STOR (passive %v): %d, want a refusal", passive, code)
		}
		cl.Cmd("QUIT")
	}
	cl := DialFTP(t, tg)
	cl.Login(ftp.UserBob, ftp.PasswordBob)
	cl.Must(200, "TYPE I")
	body := []byte("uploaded by the launcher test\r\nbinary \x00\xff bytes\n")
	for _, passive := range []bool{true, false} {
		name := fmt.Sprintf("%s/launcher-%v.bin", ftp.UploadDir, passive)
		if code, _ := cl.Transfer(passive, body, "STOR %s", name); code != 226 {
			t.Fatalf("STOR %s: %d", name, code)
		}
		if code, got := cl.Transfer(!passive, nil, "RETR %s", name); code != 226 || string(got) != string(body) {
			t.Fatalf("RETR %s: %d %q", name, code, got)
		}
		if passive {
			t.Logf("active data connection from %s (control %s)", cl.DataPeer, cl.c.RemoteAddr())
			checkL1(t, tg, cl)
		}
		cl.Must(250, "DELE %s", name)
	}
	cl.Cmd("QUIT")

	bad := DialFTP(t, tg)
	if code, _ := bad.Cmd("USER %s", ftp.UserBob); code == 331 {
		if code, text := bad.Cmd("PASS %s", ftp.BadPassword); code != 530 {
			t.Errorf("wrong password: %q, want 530", text)
		}
	}

	sec := DialFTP(t, tg)
	st := sec.AuthTLS(fx)
	if len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Issuer.CommonName != fx.CA.Subject.CommonName {
		t.Errorf("TLS: the server's certificate is not the run's")
	}
	sec.Login(ftp.UserBob, ftp.PasswordBob)
	sec.Protect()
	sec.Must(200, "TYPE I")
	for _, passive := range []bool{true, false} {
		if code, got := sec.Transfer(passive, nil, "RETR %s", ftp.HelloFile); code != 226 || string(got) != want {
			t.Fatalf("RETR over TLS (passive %v): %d %q", passive, code, got)
		}
	}
	name := ftp.UploadDir + "/launcher-tls.bin"
	if code, _ := sec.Transfer(true, body, "STOR %s", name); code != 226 {
		t.Fatalf("STOR over TLS: %d", code)
	}
	sec.Must(250, "DELE %s", name)
	sec.Cmd("QUIT")

	if tg.Feature(ftp.FeatureIPv6) == nil {
		ep, _ := tg.Endpoint(ftpd.ServiceTCP)
		v6 := dialFTPAt(t, dial.Endpoint{Network: "tcp", Addr: ftp.IPv6Addr(ep.Addr)}, nil)
		v6.Login(ftp.UserBob, ftp.PasswordBob)
		v6.Must(200, "TYPE I")
		if code, got := v6.Transfer(true, nil, "RETR %s", ftp.HelloFile); code != 226 || string(got) != want {
			t.Fatalf("RETR over IPv6 (EPSV): %d %q", code, got)
		}
		t.Logf("IPv6: RETR over EPSV from %s", v6.DataPeer)
		v6.Cmd("QUIT")
	}

	if _, err := tg.Endpoint(ftpd.ServiceTLS); err != nil {
		t.Logf("no implicit TLS: %v", err)
		return
	}
	imp := DialFTPS(t, tg, fx)
	imp.Login(ftp.UserBob, ftp.PasswordBob)
	imp.Protect()
	imp.Must(200, "TYPE I")
	for _, passive := range []bool{true, false} {
		if code, got := imp.Transfer(passive, nil, "RETR %s", ftp.HelloFile); code != 226 || string(got) != want {
			t.Fatalf("RETR over implicit TLS (passive %v): %d %q", passive, code, got)
		}
		if !passive {
			checkL1(t, tg, imp)
		}
	}
	imp.Cmd("QUIT")
}

// FTPLifecycle starts the FTP launcher name with a TLS fixture of its
// own, checks FTPServes, and that Close stops the server and removes its
// work directory, which holds conf.
func FTPLifecycle(t *testing.T, name, conf string) {
	t.Helper()
	fx, err := tlsfixture.New()
	if err != nil {
		t.Fatal(err)
	}
	tmp := TempRoot(t)
	// The servers change into the tree as the fixture's accounts: the
	// test's directories must let them pass.
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tg := Open(t, name, targets.Options{Protocol: ftpd.Protocol, TLS: fx})
	dir := WorkDir(t, tmp, name, conf)
	FTPServes(t, tg, fx)
	CloseStops(t, tg, dir)
}
