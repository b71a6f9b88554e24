// Package dnsfuzz holds native Go fuzz targets for protospec's DNS code: the
// wire format round trip, the zone-file parser, the reference authoritative
// server and the reference resolver (client side and upstream side).
//
// Run one with a count budget, e.g.:
//
//	go test -run='^$' -fuzz='^FuzzAuthServer$' -fuzztime=20000x ./fuzz/dns
package dnsfuzz
