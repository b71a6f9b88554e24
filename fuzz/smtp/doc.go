// Package smtpfuzz holds SMTP's network-fuzz model (model.go, registered
// with fuzz/engine: `protospec fuzz smtp`), the SMTP stress battery
// (stress.go, `protospec stress smtp`), the reply grammar and the
// dot-stuffing codec both use (wire.go), and the native Go fuzz targets:
// the reply parser and the stuffing codec round trip, the model itself,
// and the whole reference server driven over loopback (no panic, no
// hang, every reply well formed, never a 250 to the end of a message's
// text that the store does not hold).
//
// The model walks a session's states: greeting, EHLO or HELO, MAIL, one
// or more RCPT, DATA and the message text up to its final dot, then the
// next transaction or QUIT, with RSET, NOOP, VRFY and HELP between. It
// never negotiates TLS: a 220 to a STARTTLS that a mutation made ends
// what the session judges. Its oracles are the reply grammar (RFC 5321
// 4.2: a three-digit code, "ddd-" lines of one code, a final "ddd " or
// "ddd" line, CRLF), the order of replies (a 354 only to DATA, never a
// 2yz to DATA; no reply owed to nothing but 421) and the engine's:
// the server stays alive and answers in time.
//
// Run one target with a count budget, e.g.:
//
//	go test -run='^$' -fuzz='^FuzzServer$' -fuzztime=20000x ./fuzz/smtp
package smtpfuzz
