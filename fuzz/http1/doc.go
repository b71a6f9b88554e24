// Package http1fuzz holds the native Go fuzz targets for the HTTP/1.x
// reference implementation: the request parser, the chunked decoder, the
// Set-Cookie parser and a whole server connection. Run one with
//
//	go test -run='^$' -fuzz='^FuzzServerConn$' -fuzztime=20000x ./fuzz/http1
package http1fuzz
