// Package http1fuzz holds HTTP/1.x's network-fuzz model (model.go,
// registered with fuzz/engine: `protospec fuzz http1`) and the native Go
// fuzz targets for the HTTP/1.x reference implementation: the request
// parser, the chunked decoder, the Set-Cookie parser, a whole server
// connection, the model itself, and the observers' codec
// (internal/wire/http1) differentially against the request parser.
// stress.go registers the HTTP/1.x stress battery (`protospec stress
// http1`). Run one with
//
//	go test -run='^$' -fuzz='^FuzzServerConn$' -fuzztime=20000x ./fuzz/http1
package http1fuzz
