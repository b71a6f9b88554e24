// Package ftp is protospec's reference FTP server: strict, bounded and
// durable, the default target of suites/ftp and the server behind
// `protospec serve ftp`.
//
//	s := &ftp.Server{Root: dir, TLSConfig: cfg} // dir as internal/ftp.Write lays it out
//	go s.Serve(l)                                // plain control connections, AUTH TLS offered
//	go s.ServeTLS(tl, cfg)                       // TLS from the first byte (implicit FTPS)
//	defer s.Close()                              // 421 to every session
//
// What it implements, and the choices it makes where the RFCs leave one:
//
//   - RFC 959: USER, PASS, ACCT (202 once logged in), CWD, CDUP (200, the
//     code of 5.4), PWD, MKD, RMD, DELE, RNFR/RNTO, LIST, NLST, RETR, STOR,
//     STOU, APPE, REST, ABOR, TYPE A and I (A N and L 8 too; A converts
//     line ends both ways: LF on disk, CRLF on the wire), MODE S only (B and
//     C answer 504), STRU F only (R and P answer 504), PORT, PASV, SYST,
//     STAT (also during a transfer), HELP, NOOP, ALLO (202), SITE (202),
//     REIN, QUIT. SMNT and the RFC 2228 commands other than AUTH, PBSZ and
//     PROT answer 502. Sequencing per section 6: PASS only after USER,
//     RNTO only right after RNFR (else 503), REST applies to the next
//     transfer command.
//   - Commands are read strictly: a verb of three or four letters, SP and
//     an argument, CRLF. A bare LF line end, a line over MaxLine (default
//     512 bytes) or an unknown verb answer 500; Telnet IAC sequences (IP,
//     DM before ABOR) are dropped, and urgent data is read inline.
//   - RFC 2428 EPRT/EPSV with IPv6, EPSV ALL (then PORT, PASV and EPRT
//     answer 503), 522 for a network protocol other than the control
//     connection's; PASV on an IPv6 control connection answers 501.
//   - RFC 2389 FEAT and OPTS (OPTS UTF8 ON, OPTS MLST facts); RFC 3659
//     MDTM, SIZE (in the current TYPE: a TYPE A size counts the CR each LF
//     gains), REST STREAM, MLST and MLSD with type, size, modify, perm and
//     unique facts; RFC 2640 UTF-8 paths (always on; invalid UTF-8 paths
//     answer 501); RFC 7151 HOST before USER (220 for localhost or a
//     loopback literal, 504 for others, 503 after login).
//   - RFC 4217 AUTH TLS (234, then the handshake; user state reset), PBSZ
//     (200 PBSZ=0, only once protected), PROT C and P (S and E answer 536):
//     with PROT P every data connection is TLS with the server as TLS
//     server, whichever side opened it. ServeTLS offers the same on TLS
//     from the first byte.
//   - RFC 2577: PORT and EPRT to an address other than the control
//     connection's peer, or to a port below 1024, answer 504 and open
//     nothing; a passive data connection from any other address is closed
//     and the server keeps listening until DataTimeout; paths never leave
//     the user's root (".." stops at "/", absolute paths are from the
//     root, "~" is the root, symbolic links that leave it are refused: the
//     files are reached through an os.Root); USER answers 331 for any
//     name; a failed PASS answers 530 after LoginDelay, and the third
//     closes the connection with 421; anonymous users may not write
//     (553 for STOR, STOU and APPE, 550 otherwise), bob may write under
//     /upload only.
//   - Limits: MaxConns and MaxConnsPerClient (421 and close beyond),
//     IdleTimeout (421 and close; a running transfer is not idleness),
//     StallTimeout per data read or write (426), DataTimeout to open the
//     data connection (425), MaxUploadBytes per file, MaxUploadFiles and
//     MaxUploadTotal per writable area (552; 550 for MKD), listings and
//     replies streamed, every read and write with a deadline.
//   - Durability: STOR, STOU, APPE and REST+STOR write a hidden temporary
//     file beside the target, fsync it, rename it over the target and
//     fsync the directory before the 226; an aborted or dropped upload
//     removes the temporary file and leaves the target as it was. REST
//     with STOR keeps the first n bytes of the existing file (554 if it is
//     shorter); with TYPE A, REST counts octets of the converted data
//     stream (RFC 3659 5) for RETR and for uploads alike (554 for an
//     offset inside the CRLF an LF became).
//   - Codes follow RFC 959 5.4's list per command where it has one: LIST,
//     NLST and STAT answer 450 for a missing path (MLSD, MDTM and SIZE
//     550, as RFC 3659 says).
//   - During a transfer the control connection answers ABOR (426 for the
//     transfer, then 226), STAT (213 with the bytes so far), NOOP and QUIT
//     (the transfer's reply, then 221); other commands answer 503.
//   - Close and shutdown send 421 to every session before closing it.
//
// Active data connections come from the control connection's local
// address and a port the system chooses, not from port L-1 (binding it
// needs a privilege and a free neighbour port); internal/ftp's
// FeatureDataPortL1 is not offered.
package ftp
