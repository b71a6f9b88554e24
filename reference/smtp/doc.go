// Package smtp is protospec's reference SMTP server (RFC 5321): strict,
// durable and bounded. It delivers the mail for its local domains (the
// mail fixture's bob.test and alice.test by default) into a
// internal/mailstore Maildir store and answers 250 to the end of DATA only
// once the store committed the message (file fsynced, linked into new/,
// directory fsynced). It relays nothing: a recipient outside the local
// domains is refused with 550 5.7.1 (relaying by MX through the DNS
// reference is not built yet).
//
//	st, _ := mailstore.Open(dir, 0)
//	srv := &smtp.Server{Store: st, TLSConfig: fixture.ServerConfig()}
//	go srv.Serve(l)
//	defer srv.Close()
//
// Extensions announced in EHLO: PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034, 3463), SMTPUTF8
// (RFC 6531) and, with a TLSConfig, STARTTLS (RFC 3207).
//
// Strictness: command lines end with CRLF (a bare LF is refused with 500),
// hold at most 512 octets (MAIL and RCPT 64 more for their parameters),
// text lines at most 1000; paths are parsed per RFC 5321 4.1.2 with no
// space after "FROM:"/"TO:"; commands out of order get 503; a bare CR or
// LF inside the message text refuses the message (554) and never ends it;
// the end of data is only <CRLF>.<CRLF>; dot-stuffing is undone; more
// than MaxHops Received fields refuse the message as a loop. The bytes a
// client sends after STARTTLS before the handshake are dropped
// (CVE-2011-0411).
//
// Bounds: connections in total and per client IP (421 beyond), recipients
// per transaction (452 beyond), errors per session (421), a deadline on
// every read (5 minutes per command, RFC 5321 4.5.3.2.7; 5 minutes per
// read and 30 in all for the message text; an hour for a whole session)
// and every write (1 minute); per
// connection a fixed 8 KiB of buffers (the text streams to the store);
// accept errors such as EMFILE back off and retry.
//
// It is a state machine of its own over bufio rather than
// github.com/emersion/go-smtp, whose server (conn.go as of commit
// 0112262) is more forgiving than a reference may be: commands out of
// sequence get 502 where RFC 5321 4.3.2 lists 503, the RCPT path is
// taken with strings.Trim(arg, "<> ") (its own TODO calls that too
// forgiving), a space after "FROM:" passes unless Strict, the error
// threshold is a constant 3, and it has no per-client connection limit
// nor separate deadlines for commands, message text and whole session.
// Each refusal here names the RFC sentence it enforces.
package smtp
