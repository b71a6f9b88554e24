// Package ftp is the conformance suite of FTP servers: RFC 959 (commands,
// replies, the command-reply sequences of 5.4 and the state diagrams of
// 6, both data-connection directions, ASCII and Image types), RFC 1123
// 4.1, RFC 2428 (EPRT, EPSV, EPSV ALL), RFC 2389 (FEAT, OPTS), RFC 3659
// (MDTM, SIZE, REST STREAM, MLST and MLSD), RFC 2577 (bounce, port
// stealing, password guessing), RFC 4217 and RFC 2228 (AUTH TLS, PBSZ,
// PROT), and the hostile clients every server meets (no data connection,
// a thousand PASVs, slow readers, huge lines, path escapes).
//
// The suite is the client on both connections: it dials the control
// connection and passive data ports, and listens for the server's
// active-mode data connections (spec.T.Listen), checking where they come
// from. Every verifier accepts each reply the RFC allows for the command
// (a class of codes, not the one code a given server sends).
//
//	protospec run ftp                         # against the embedded reference
//	protospec run ftp --target vsftpd --baseline builtin
//	protospec run ftp --target 127.0.0.1:2121 --label-filter 'rfc959 && must'
//
// What a target must serve: the user bob (password bob) with a writable
// directory upload/ at the top of his tree, and anonymous read-only access
// to a directory pub/ holding at least one file (`protospec fixtures ftp`).
package ftp

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	contract "github.com/protospec/protospec/internal/ftp"
	"github.com/protospec/protospec/suites/spec"
)

// proto is the protocol's name in spec IDs.
const proto = contract.Name

var _ = spec.RegisterProtocol(spec.Protocol{
	Name:  proto,
	Title: "FTP: RFC 959, RFC 1123 4.1, RFC 2428, RFC 2389, RFC 3659, RFC 2577, RFC 4217, RFC 2228",
	Docs:  []string{"rfc959", "rfc1123", "rfc2428", "rfc2389", "rfc3659", "rfc2577", "rfc4217", "rfc2228"},
	Examples: []string{
		"ftp",
		"ftp --target vsftpd --baseline builtin",
		"ftp --target 127.0.0.1:2121 --label-filter 'rfc959 && must'",
		"ftp --focus 'ftp/rfc2577/.*'",
	},
})

// service is the control connection's service.
const service = contract.ServiceTCP

// The fixture's accounts (internal/ftp).
const (
	user       = contract.UserBob
	password   = contract.PasswordBob
	anonUser   = contract.UserAnonymous
	anonPass   = contract.AnonymousPassword
	wrongPass  = contract.BadPassword
	unknownCmd = "XYZQ"
)

// The fixture's directories, named relative to the login directory (the
// user's root): upload/ writable by bob, pub/ readable by everyone.
var (
	uploadDir = strings.TrimPrefix(contract.UploadDir, "/")
	publicDir = strings.TrimPrefix(contract.PubDir, "/")
)

// Features of internal/ftp's contract a target may lack; a spec that
// needs one is skipped with the target's reason.
const (
	featureAuthTLS    = contract.FeatureAuthTLS    // AUTH TLS, PBSZ, PROT on ftp/tcp
	featureActive     = contract.FeatureActive     // PORT and EPRT to the client's address
	featureAnonymous  = contract.FeatureAnonymous  // anonymous read-only login to pub/
	featureUpload     = contract.FeatureUpload     // bob writes under upload/
	featureDataPortL1 = contract.FeatureDataPortL1 // active connections from port L-1
)

// quiet is how long a spec listens to conclude that nothing more is
// coming, at the default step timeout (scaled by t.Scaled).
const quiet = 400 * time.Millisecond

// unique returns a name no other spec (nor another run) uses; what the
// spec creates under it is removed when the spec ends (cleanup.go).
func unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	remember(name)
	return name
}

// lfText is a text file with LF line endings, as a Unix server stores
// text: three lines, the last one ending in LF too.
var lfText = []byte("first line\nsecond line\n\nlast line\n")

// crlf is b with every LF turned into CR LF: NVT-ASCII end of line.
func crlf(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for _, c := range b {
		if c == '\n' {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// binaryData is every byte value, several times over, in an order that
// shows any shift: what TYPE I must carry unchanged.
func binaryData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}
