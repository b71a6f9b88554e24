// Package ftp is the observers' FTP wire codec (suite oracle, pcap
// dissector, fuzz model, load client): replies (RFC 959 4.2, multi-line
// "123-" ... "123 "), commands (RFC 959 5.3), the host-port forms of PORT
// and PASV (RFC 959 4.1.2, RFC 1123 4.1.2.6) and of EPRT and EPSV
// (RFC 2428), and the TYPE A line-end conversion (RFC 959 3.1.1.1).
//
// Parsers are strict about the grammar but report what they found: a
// grammar problem is a *ProblemError with a stable rule ID, returned
// together with whatever could be read, so that an oracle can judge and a
// dissector can keep going. Problems marked Fatal lost the framing.
//
// Importers alias it ftpwire:
//
//	import ftpwire "github.com/protospec/protospec/internal/wire/ftp"
//
//	rep, err := ftpwire.ReadReply(br, ftpwire.Limits{})
//	if rep.Code != 227 { ... }
//	ap, err := ftpwire.ParsePASV(rep.Text())
package ftp
