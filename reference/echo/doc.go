// Package echo is the reference implementation of the simple line and byte
// services that protospec uses as its smallest targets: uppercase (a
// protospec test protocol), echo (RFC 862), discard (RFC 863), daytime
// (RFC 867) and chargen (RFC 864), each over TCP and UDP, and the load
// client of `protospec bench echo` ([LoadClient], registered with
// internal/loadgen).
//
// One [Server] runs one [Service] and may serve several listeners and packet
// conns at once. The conformance suite in suites/echo is written against the
// behaviour defined below; changing it breaks the suite.
//
// # Byte rule
//
// [Upper] replaces every byte in 'a'..'z' (0x61..0x7A) with the matching byte
// in 'A'..'Z' (0x41..0x5A) and leaves every other byte unchanged: CR, LF,
// digits, punctuation, NUL and every byte >= 0x80. UTF-8 multibyte sequences
// therefore pass through unchanged, valid UTF-8 stays valid, and the length
// never changes.
//
// # uppercase over TCP
//
// The byte stream is split into lines, each ended by LF (0x0A). For every
// complete line the server sends back [Upper] of the line, LF included:
// "héllo\r\n" gives "HéLLO\r\n" and "\n" gives "\n". Replies come in order,
// one per line, and the server keeps serving lines until the client closes.
//
//   - Half-close: if the client half-closes (EOF) while a partial line is
//     pending (bytes without a trailing LF), the server sends [Upper] of the
//     partial line without adding an LF, then closes. With nothing pending it
//     just closes.
//   - Line length: a line may be at most MaxLine bytes, counting its LF
//     (default 4096). As soon as MaxLine bytes of one line have arrived
//     without an LF, the server sends exactly "error: line too long\n"
//     ([LineTooLongReply]) after the replies to the earlier lines and closes
//     the connection. Error replies are the only replies that contain
//     lowercase ASCII, so a client can always tell an error from an
//     uppercased line.
//   - Idle timeout: if no complete line arrives within IdleTimeout
//     (default 60 s, restarted after every complete line) the server closes.
//   - Write timeout: every write has a deadline of WriteTimeout (default
//     10 s); a write that misses it ends the connection.
//   - Connection limit: at most MaxConns connections (default 512) are
//     served at once, and at most MaxConnsPerClient (default 64) of them
//     from one client address, so that one client cannot take every slot;
//     a connection over either limit gets exactly
//     "error: too many connections\n" ([TooManyConnsReply]) and is closed at
//     once. (Under a flood, when 64 such replies are already being sent,
//     further over-limit connections are closed without the text.)
//
// # uppercase over UDP
//
// Each datagram (0..65507 bytes, the empty datagram included) is answered
// with exactly one datagram holding [Upper] of the whole datagram: no line
// splitting, no LF added. The reply is sent from the socket that received
// the datagram (so from the service port) to the datagram's source address
// and port.
//
// # echo (RFC 862)
//
// TCP: every byte received is sent back unchanged as soon as it has been
// read; there are no lines. When the client half-closes, the server finishes
// sending what it has read and closes. Idle timeout (no byte within
// IdleTimeout), MaxConns and MaxConnsPerClient apply as for uppercase, but a connection over
// the limit is closed without any text, since every byte echo sends must be
// an echoed byte. UDP: each datagram is answered with an identical datagram
// from the service port.
//
// # discard (RFC 863)
//
// TCP: everything received is read and thrown away and nothing is ever sent;
// the connection is closed after IdleTimeout without data or when the client
// closes. UDP: nothing is sent.
//
// # daytime (RFC 867)
//
// TCP: on connect the server sends the current date and time, always in
// UTC, as one ASCII line in RFC 867's suggested "Weekday, Month Day, Year
// Time-Zone" form, and closes:
//
//	Saturday, November 21, 2026 20:57:09-UTC\r\n
//
// The day of the month has no leading zero; the time is 24-hour hh:mm:ss.
// UDP: any datagram is answered with one datagram holding that same line.
//
// # chargen (RFC 864)
//
// The pattern is RFC 864's rotating pattern over the 95 printable ASCII
// characters 0x20..0x7E: line n (counting from 0) is the 72 characters that
// start at character n mod 95 of that sequence, wrapping from 0x7E back to
// 0x20, followed by CRLF. Line 0 therefore starts with a space; RFC 864's
// sample starts one character later, which is the same pattern shifted by
// one line.
//
// TCP: on connect the server sends the pattern from line 0 on, without end,
// until the client closes or a write misses its WriteTimeout deadline; data
// the client sends is thrown away. UDP: any datagram is answered with one
// datagram holding exactly the first 512 bytes of the TCP stream (6 whole
// lines of 74 bytes and the first 68 characters of line 6, with no CRLF
// after them), within RFC 864's limit of 512 bytes.
//
// # Example
//
//	l, err := net.Listen("tcp", "127.0.0.1:0")
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv := &echo.Server{Service: echo.Uppercase}
//	go srv.Serve(l)
//	defer srv.Close()
//	// printf 'hello\n' | nc 127.0.0.1 PORT  prints HELLO
package echo
