// Package ftp is the contract of FTP that every room of it shares
// (reference/ftp, suites/ftp, fuzz/ftp, pcap/ftp and the vsftpd, proftpd and
// pure-ftpd launchers): its name, its services with their well-known
// ports, its features and params, the liveness probe, and the fixture:
// the file tree and the users every FTP target serves.
//
// Services: "ftp/tcp" is the control connection on port 21 (RFC 959),
// where AUTH TLS (RFC 4217) may protect it later (FeatureAuthTLS);
// "ftp/tls" is the control connection with TLS from the first byte (the
// "implicit FTPS" of port 990), the repository's convention for a TLS
// counterpart (protocol.OverTLS maps "ftp/tcp" to it, so `run ftp --tls`
// runs the same specs over it). Over either, data connections are
// protected once the client sends PBSZ 0 and PROT P.
//
// IPv6 (FeatureIPv6): a target that offers it answers on [::1] at the same
// port as "ftp/tcp" (IPv6Addr gives that address).
//
//	if err := ftp.Write("/tmp/ftproot"); err != nil { ... }
//	// anonymous sees AnonymousHome as "/", bob sees BobHome as "/"
package ftp

import (
	"net"

	"github.com/protospec/protospec/internal/protocol"
)

// Name is the protocol's name in every registry and on the command line.
const Name = "ftp"

// Service keys.
const (
	ServiceTCP = "ftp/tcp" // the control connection, plain (AUTH TLS may follow)
	ServiceTLS = "ftp/tls" // the control connection, TLS from the first byte
)

// Features a target may lack (targets.Static.Features); a spec that needs
// one is skipped with the target's reason.
const (
	// FeatureAuthTLS: AUTH TLS, PBSZ and PROT (RFC 4217) on ftp/tcp, with
	// the run's fixture certificate.
	FeatureAuthTLS = "ftp/auth-tls"
	// FeatureIPv6: the control port also answers on [::1] (same port as
	// ftp/tcp), and EPSV/EPRT work there (RFC 2428).
	FeatureIPv6 = "ftp/ipv6"
	// FeatureActive: active data connections (PORT, EPRT) to the control
	// connection's peer.
	FeatureActive = "ftp/active"
	// FeatureAnonymous: anonymous login (user "anonymous" or "ftp", any
	// password) to AnonymousHome, read only: every write is refused.
	FeatureAnonymous = "ftp/anonymous"
	// FeatureUpload: bob may create, append to, rename and delete files
	// and directories under UploadDir.
	FeatureUpload = "ftp/upload"
	// FeatureUTF8Names: the file UTF8File is served under its UTF-8 name
	// (RFC 2640).
	FeatureUTF8Names = "ftp/utf8-names"
	// FeatureDataPortL1: active data connections come from port L-1 of the
	// control port L (RFC 959 3.2's default; port 20 for 21), which needs
	// the right to bind it.
	FeatureDataPortL1 = "ftp/data-port-l-1"
)

// Params of `protospec serve ftp` (and of the reference started for runs,
// through targets.Options.Params). --root, --tls, --cert, --key and
// --ca-out are shorthands for the params of the same names.
const (
	ParamRoot  = "root"   // the fixture tree to serve (as Write writes it)
	ParamTLS   = "tls"    // "true": TLS from the first byte instead of plain
	ParamCert  = "cert"   // PEM certificate chain (AUTH TLS and tls=true)
	ParamKey   = "key"    // PEM private key of ParamCert
	ParamCAOut = "ca-out" // where a new fixture's ca.pem, cert.pem and key.pem go

	ParamPasvRange         = "pasv-range"           // "LOW-HIGH": passive ports to listen on
	ParamMaxConns          = "max-conns"            // concurrent control connections
	ParamMaxConnsPerClient = "max-conns-per-client" // concurrent control connections of one client address
	ParamIdleTimeout       = "idle-timeout"         // silence on the control connection before 421
	ParamStallTimeout      = "stall-timeout"        // no progress of a data transfer before 426
	ParamDataTimeout       = "data-timeout"         // wait for the data connection to open before 425
	ParamLoginDelay        = "login-delay"          // wait before answering a failed PASS (RFC 2577)
	ParamMaxLine           = "max-line"             // longest command line, CRLF included; beyond, 500
	ParamMaxUploadBytes    = "max-upload-bytes"     // largest file STOR/APPE may leave; beyond, 552
	ParamMaxUploadFiles    = "max-upload-files"     // entries a writable area may hold; beyond, 552
	ParamMaxUploadTotal    = "max-upload-total"     // bytes a writable area may hold; beyond, 552
)

// Contract is FTP's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "FTP (RFC 959, 2228, 2389, 2428, 2577, 2640, 3659, 4217, 7151)",
	Services: []protocol.Service{
		{Name: "ftp", Transport: "tcp", Port: 21},
		{Name: "ftp", Transport: "tls", Port: 990},
	},
	Features: []protocol.Feature{
		{Name: FeatureAuthTLS, Doc: "AUTH TLS, PBSZ and PROT (RFC 4217) on ftp/tcp with the run's certificate"},
		{Name: FeatureIPv6, Doc: "the control port answers on [::1] too, with EPSV and EPRT (RFC 2428)"},
		{Name: FeatureActive, Doc: "active data connections (PORT, EPRT) to the client's own address"},
		{Name: FeatureAnonymous, Doc: "anonymous login to the public area, read only"},
		{Name: FeatureUpload, Doc: "user " + UserBob + " may write under " + UploadDir},
		{Name: FeatureUTF8Names, Doc: "the file " + UTF8File + " is served under its UTF-8 name (RFC 2640)"},
		{Name: FeatureDataPortL1, Doc: "active data connections come from port L-1 (RFC 959 3.2)", Optional: true},
	},
	Params: []protocol.Param{
		{Name: ParamRoot, Doc: "serve: the tree to serve, as the fixtures command writes it", Default: "a temporary copy of the fixture"},
		{Name: ParamTLS, Doc: "serve: TLS from the first byte instead of plain (true)", Default: "false"},
		{Name: ParamCert, Doc: "serve: the PEM certificate chain for TLS (tls=true; AUTH TLS too)", Default: "a new fixture leaf for localhost, 127.0.0.1 and ::1"},
		{Name: ParamKey, Doc: "serve: the PEM key of cert"},
		{Name: ParamCAOut, Doc: "serve: with no cert, where the new fixture's ca.pem, cert.pem and key.pem go", Default: "a new temporary directory"},
		{Name: ParamPasvRange, Doc: "serve: passive ports LOW-HIGH", Default: "any free port"},
		{Name: ParamMaxConns, Doc: "serve: concurrent control connections; beyond, 421 and close", Default: "64"},
		{Name: ParamMaxConnsPerClient, Doc: "serve: concurrent control connections of one client address; beyond, 421 and close", Default: "16"},
		{Name: ParamIdleTimeout, Doc: "serve: silence of the client before 421 and close", Default: "5m"},
		{Name: ParamStallTimeout, Doc: "serve: a data transfer without progress for this long is aborted (426)", Default: "1m"},
		{Name: ParamDataTimeout, Doc: "serve: wait for a data connection before 425", Default: "30s"},
		{Name: ParamLoginDelay, Doc: "serve: delay before answering a failed PASS (RFC 2577 brute-force defence)", Default: "500ms"},
		{Name: ParamMaxLine, Doc: "serve: longest command line, CRLF included; beyond, 500", Default: "512"},
		{Name: ParamMaxUploadBytes, Doc: "serve: largest file an upload may leave; beyond, 552", Default: "67108864"},
		{Name: ParamMaxUploadFiles, Doc: "serve: files and directories " + UploadDir + " may hold; beyond, 552 (550 for MKD)", Default: "1000"},
		{Name: ParamMaxUploadTotal, Doc: "serve: bytes " + UploadDir + " may hold; beyond, 552", Default: "268435456"},
	},
	Probe:   LivenessProbe,
	Fixture: Write,
})

// IPv6Addr is the [::1] address at the port of addr ("127.0.0.1:2121"
// gives "[::1]:2121"): where a target with FeatureIPv6 answers too.
func IPv6Addr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return net.JoinHostPort("::1", port)
}
