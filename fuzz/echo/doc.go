// Package echofuzz holds the echo family's network-fuzz model (model.go,
// registered with fuzz/engine: `protospec fuzz echo`) and the native Go fuzz
// targets for reference/echo: the Upper byte rule, and the uppercase, echo
// and UDP uppercase servers driven through real loopback sockets and
// checked against a model of the protocol. stress.go registers the echo
// stress battery (`protospec stress echo`).
//
// Run one target with a count budget, for example:
//
//	go test -run='^$' -fuzz='^FuzzUppercaseTCPServer$' -fuzztime=20000x ./fuzz/echo
package echofuzz
