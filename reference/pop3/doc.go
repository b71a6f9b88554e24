// Package pop3 is protospec's reference POP3 server (RFC 1939): strict,
// bounded and durable. It serves the mailboxes of an internal/mailstore
// Maildir store (the one reference/smtp delivers into) as the maildrops
// of its users, the mail fixture's bob/bob and alice/alice by default.
//
//	st, _ := mailstore.Open(dir, 0)
//	srv := &pop3.Server{Store: st, TLSConfig: fixture.ServerConfig()}
//	go srv.Serve(l)                 // port 110: plain, STLS offered
//	go srv.ServeTLS(tl, cfg)        // port 995: TLS from the first byte (RFC 8314)
//	defer srv.Close()
//
// What it implements, and the choices it makes where the RFCs leave one:
//
//   - RFC 1939: the AUTHORIZATION, TRANSACTION and UPDATE states; USER and
//     PASS, APOP (the greeting carries a new timestamp each time; the
//     digest is MD5 of timestamp and password in lower-case hex), QUIT,
//     STAT, LIST [msg], RETR, DELE, NOOP, RSET, TOP msg n and UIDL [msg].
//     Commands of the other state answer -ERR. Message numbers are those
//     of the listing taken at login for the whole session; messages
//     delivered meanwhile are seen by the next session. A message marked
//     deleted answers -ERR to every command that names it. Multi-line
//     responses are byte-stuffed and end with ".": messages are sent with
//     CRLF line ends (a bare LF in the file becomes CRLF, a last line
//     without an end gets one), and the sizes of STAT and LIST are the
//     octets RETR sends before stuffing.
//   - Unique-ids (UIDL) are the Maildir unique names, which stay the same
//     across sessions and restarts; a name over 70 characters (RFC 1939
//     7's bound) is replaced by "~" and a hash of it.
//   - USER answers +OK for any name, so that it tells no guesser which
//     names exist; a failed PASS, APOP or AUTH answers -ERR [AUTH] after
//     LoginDelay, and the MaxAuthFailures-th closes the connection.
//   - Deletion: DELE only marks; QUIT in the TRANSACTION state removes
//     the marked messages, each durably (the Maildir directory fsynced),
//     before its +OK. A connection dropped, timed out or shut down in any
//     other way removes nothing. Maildir flags are left alone: POP3 has no
//     flags, and RETR changes nothing on disk.
//   - Locking: a login takes an exclusive lock on the maildrop (RFC 1939
//     4); a second login to it answers -ERR [IN-USE] (RFC 2449 8.1.2)
//     until the first session ends. The lock is the server's: two
//     processes serving the same store do not see each other's.
//   - RFC 2449: CAPA (TOP, UIDL, RESP-CODES, AUTH-RESP-CODE, PIPELINING,
//     EXPIRE NEVER, IMPLEMENTATION, and in the AUTHORIZATION state USER
//     and SASL PLAIN where plaintext logins are allowed, and STLS until
//     TLS runs), the response codes [IN-USE], [AUTH] and [SYS/TEMP] of
//     RFC 3206; pipelined commands are answered in order, their responses
//     batched.
//   - RFC 2595 STLS in the AUTHORIZATION state: whatever the client sent
//     after the STLS line before the handshake is dropped unread
//     (CVE-2011-0411), and a USER given before it is forgotten.
//   - RFC 5034 AUTH PLAIN (RFC 4616), with an initial response ("=" for
//     an empty one) or after an empty "+ " challenge; "*" cancels; an
//     authorization identity other than the user's is refused.
//   - Plaintext logins: USER/PASS and AUTH PLAIN send the password as it
//     is, so Plaintext chooses where they work before TLS. The default,
//     PlaintextLoopback, allows them when both ends are loopback addresses
//     (the references of runs, and curl or poplib in tests) and refuses
//     them elsewhere with -ERR [AUTH] (and without USER and SASL in CAPA),
//     so a reference reachable from a network takes passwords only under
//     STLS or ServeTLS. APOP sends no password and works everywhere.
//
// Strictness: a command line is a keyword of three or four letters and
// arguments separated by single spaces, printable ASCII, ended by CRLF (a
// bare LF answers -ERR), at most 255 octets with its CRLF (RFC 2449 4); a
// message number is digits only. Refused commands are counted and the
// MaxErrors-th closes the session.
//
// Bounds: connections in total and per client IP (-ERR [SYS/TEMP] and
// close beyond), an idle timeout (10 minutes by default, RFC 1939 3's
// minimum; on expiry the connection is closed without a response and
// without removing anything, as that section says), a deadline on every
// write (1 minute per flush) and on the TLS handshake, 2 KiB of read and
// 4 KiB of write buffer per session (messages stream from their files,
// never loaded whole), an overlong line read and dropped up to 64 KiB and
// the connection closed beyond; accept errors such as EMFILE back off and
// retry.
//
// It is a state machine of its own over bufio: no POP3 server module
// exists in Go's ecosystem to build on. Each refusal names the RFC
// sentence it enforces.
package pop3
