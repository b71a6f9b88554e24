// Package http1 is the HTTP/1.0 and HTTP/1.1 reference origin server of
// protospec, built on its own request parser (RFC 9112) rather than
// net/http, so that every acceptance and rejection is explicit and sits
// under the RFC sentence that requires it.
//
// It serves the fixture of internal/http1: static files from Root
// with validators, conditional and range requests (RFC 9110 13 and 14), PUT
// and DELETE under /upload/, and the dynamic endpoints /redirect, /form,
// /session and /echo. It also has an RFC 6265 Set-Cookie parser, a
// client cookie Jar, and the load client of `protospec bench http1`
// (LoadClient, registered with internal/loadgen).
//
// It holds against hostile clients within bounds that are all Server
// fields: connections in total and per source address, request content in
// memory across connections (only /echo and /form keep it; a PUT streams it
// to disk; other routes drop it), and the size and file count of /upload/.
// Accept survives running out of descriptors.
//
//	s := &http1.Server{Root: "/tmp/docroot"}
//	l, _ := net.Listen("tcp", "127.0.0.1:0")
//	go s.Serve(l)
//	defer s.Close()
package http1
