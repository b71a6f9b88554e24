package ftp

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// lftpScript is the settings every lftp run starts with: no retries, a
// deadline on every wait, the data-connection mode, and TLS either off
// or forced on both connections with the run's CA verified.
func lftpScript(s *server, passive, tls bool) string {
	set := []string{
		"set cmd:fail-exit yes",
		"set net:max-retries 1",
		"set net:timeout 20",
		"set net:reconnect-interval-base 1",
		fmt.Sprintf("set ftp:passive-mode %v", onOff(passive)),
		// The reference announces 127.0.0.1 in 227: take it as given.
		"set ftp:ignore-pasv-address no",
		"set ftp:prefer-epsv no",
	}
	if tls {
		set = append(set,
			"set ftp:ssl-force true",
			"set ftp:ssl-protect-data true",
			"set ftp:ssl-protect-list true",
			"set ssl:verify-certificate yes",
			"set ssl:check-hostname yes",
			"set ssl:ca-file "+s.ca)
	} else {
		set = append(set, "set ftp:ssl-allow no")
	}
	return strings.Join(set, "; ")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// TestLftpMirror: lftp mirrors a tree up (mirror -R) into upload/ and back
// down, in passive and in active mode; the tree comes back byte for byte,
// and the server's copy under its root is the same.
func TestLftpMirror(t *testing.T) {
	lftp := need(t, "lftp")
	for _, passive := range []bool{true, false} {
		t.Run(map[bool]string{true: "passive", false: "active"}[passive], func(t *testing.T) {
			s := serve(t, false)
			mirror(t, lftp, s, passive, false)
		})
	}
}

// TestLftpTLS: the same mirror over AUTH TLS with PROT P on every data
// connection, the server's certificate verified against the run's CA.
func TestLftpTLS(t *testing.T) {
	lftp := need(t, "lftp")
	s := serve(t, true)
	for _, passive := range []bool{true, false} {
		t.Run(map[bool]string{true: "passive", false: "active"}[passive], func(t *testing.T) {
			mirror(t, lftp, s, passive, true)
		})
	}
}

func mirror(t *testing.T, lftp string, s *server, passive, tls bool) {
	t.Helper()
	up, down := t.TempDir(), t.TempDir()
	writeTree(t, up)
	remote := fmt.Sprintf("upload/lftp-%s-%s", onOff(passive), map[bool]string{true: "tls", false: "plain"}[tls])
	script := fmt.Sprintf("%s; open -u bob,bob ftp://%s; mirror -R %s %s; mirror %s %s; bye",
		lftpScript(s, passive, tls), s.addr, quote(up), remote, remote, quote(filepath.Join(down, "tree")))
	run(t, lftp, "-c", script)
	sameTree(t, up, filepath.Join(down, "tree"))
	sameTree(t, up, s.bobPath(remote))
}

// quote quotes an argument for lftp's command parser.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
