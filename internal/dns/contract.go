// Package dns is the contract of DNS that every room of it shares
// (reference/dns, suites/dns, fuzz/dns, pcap/dns and the nsd, knot,
// unbound and dnsmasq launchers): its name, its services with their
// well-known ports, its features and params.
package dns

import "github.com/protospec/protospec/internal/protocol"

// Name is the protocol's name in every registry and on the command line.
const Name = "dns"

// Contract is DNS's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "DNS (RFC 1034, 1035, 2181, 2308, 5452, 5936, 6891, 7766, 8906, 9619)",
	Services: []protocol.Service{
		{Name: "dns", Transport: "udp", Port: 53}, {Name: "dns", Transport: "tcp", Port: 53},
	},
})
