// Package dnsfuzz holds DNS's network-fuzz model (model.go, registered with
// fuzz/engine: `protospec fuzz dns`) and native Go fuzz targets for
// protospec's DNS code: the wire format round trip, the zone-file parser,
// the reference authoritative server, the reference resolver (client side
// and upstream side) and the model itself. stress.go registers the DNS
// stress battery (`protospec stress dns`): the other hostile client.
//
// Run one with a count budget, e.g.:
//
//	go test -run='^$' -fuzz='^FuzzAuthServer$' -fuzztime=20000x ./fuzz/dns
package dnsfuzz
