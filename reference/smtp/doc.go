// Package smtp is protospec's reference SMTP server (RFC 5321): strict,
// durable and bounded. It delivers the mail for its local domains (the
// mail fixture's bob.test and alice.test by default) into a
// internal/mailstore Maildir store and answers 250 to the end of DATA only
// once the store committed the message (file fsynced, linked into new/,
// directory fsynced); the same holds for the 250 to BDAT LAST. By default
// it relays nothing: a recipient outside the local domains is refused
// with 550 5.7.1, from an authenticated client too. With Server.Relay
// set, an authenticated client (or one of Server.RelayNets) may relay:
// the message is committed to a durable queue before the 250 and a
// worker sends it on by MX through Server.Resolver, with retries and a
// bounce to the reverse-path (queue.go).
//
//	st, _ := mailstore.Open(dir, 0)
//	srv := &smtp.Server{Store: st, TLSConfig: fixture.ServerConfig()}
//	// a submission port: AUTH (after STARTTLS) before MAIL
//	sub := &smtp.Server{Store: st, TLSConfig: fixture.ServerConfig(), Submission: true}
//	go srv.Serve(l)
//	defer srv.Close()
//
// Extensions announced in EHLO: PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES (RFC 2034, 3463; every 2xx,
// 4xx and 5xx reply but the greeting and EHLO's carries an enhanced
// code), SMTPUTF8 (RFC 6531), CHUNKING (RFC 3030), DSN (RFC 3461) and,
// with a TLSConfig, STARTTLS (RFC 3207), then under TLS AUTH PLAIN LOGIN
// (RFC 4954, 4616).
//
// AUTH is never offered in the clear (538 5.7.11 to an AUTH before TLS);
// credentials are checked by Server.Auth, by default against the mail
// fixture's users (bob/bob, alice/alice). 235 2.7.0 on success; 535 5.7.8
// on bad credentials (a malformed PLAIN message too), after
// AuthFailDelay, and 421 closes the session
// after MaxAuthFailures of them (at least 3, RFC 4954 9); 503 to a second
// AUTH or one inside a transaction; 504 5.5.4 to another mechanism; 501
// 5.5.2 to a response that is not strict base64, 501 to "*"; 500 5.5.6
// to a response line over 4 KiB. The initial-response form and the 334
// challenges both work; Received says ESMTPA/ESMTPSA after AUTH (RFC 4954
// 7). MAIL takes AUTH= (an xtext of a mailbox or "<>") where AUTH is
// offered, checks it and trusts it not. With Submission set the server is
// a message submission agent (RFC 6409): MAIL before AUTH gets 530
// 5.7.0, an envelope domain that is not fully qualified 554 5.1.2.
//
// BDAT n [LAST] reads exactly n octets, whatever the answer to it (a
// refused BDAT's chunk is never read as commands), with the data
// deadlines and straight into the store; the SIZE limit holds across the
// chunks (552, then 503 to every later BDAT until RSET), DATA after BDAT
// in one transaction gets 503, BDAT 0 LAST ends a message, and the
// Received fields of the header are counted across chunks as in DATA.
// The DSN parameters (RET=FULL|HDRS and ENVID=xtext on MAIL,
// NOTIFY=NEVER|SUCCESS,FAILURE,DELAY and ORCPT=addr-type;xtext on RCPT)
// are checked strictly (501 on a bad value) and not kept: no DSN is ever
// sent, the server delivering locally. An unknown MAIL or RCPT parameter
// gets 555 (RFC 5321 4.1.1.11).
//
// Strictness: command lines end with CRLF (a bare LF is refused with 500),
// hold at most 512 octets (MAIL and RCPT 664 more for their parameters:
// SIZE, BODY, SMTPUTF8, AUTH= and DSN's),
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
