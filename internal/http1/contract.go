// Package http1 is the contract of HTTP/1.x that every room of it shares
// (reference/http1, suites/http1, fuzz/http1, pcap/http1 and the nginx and
// apache2 launchers): its name, its services with their well-known ports,
// its fixture features and params.
package http1

import "github.com/protospec/protospec/internal/protocol"

// Name is the protocol's name in every registry and on the command line.
const Name = "http1"

// Contract is HTTP/1.x's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "HTTP/1.0 and HTTP/1.1 (RFC 9110, RFC 9112, RFC 6265)",
	Services: []protocol.Service{
		{Name: "http", Transport: "tcp", Port: 80},
	},
	Features: []protocol.Feature{
		// RFC 9110 9.3.8 lets a server refuse TRACE, as the reference does.
		{Name: "http1/trace", Doc: "TRACE reflects the request", Optional: true},
	},
})
