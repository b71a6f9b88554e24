// Package echo is the contract of the echo protocol family that every room
// of it shares (reference/echo, suites/echo, fuzz/echo, pcap/echo and the
// xinetd launcher): its name, its services with their well-known ports and
// the param of `protospec serve echo`.
package echo

import "github.com/protospec/protospec/internal/protocol"

// Name is the protocol's name in every registry and on the command line.
const Name = "echo"

// ParamService is the param of `protospec serve echo` naming the one
// service to serve (without it, serve serves all five).
const ParamService = "service"

// Params of `protospec serve echo` bounding the TCP connections clients
// may hold (the fields of the same names on reference/echo.Server).
const (
	ParamMaxConns          = "max-conns"            // MaxConns
	ParamMaxConnsPerClient = "max-conns-per-client" // MaxConnsPerClient
)

// Contract is the echo family's contract. It has no optional features and
// no fixture: every spec sends what it checks. Its probe is the liveness
// probe of runs.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "socket services: RFC 862 echo, uppercase, RFC 863 discard, RFC 864 chargen, RFC 867 daytime",
	Services: []protocol.Service{
		{Name: "echo", Transport: "tcp", Port: 7}, {Name: "echo", Transport: "udp", Port: 7},
		{Name: "uppercase", Transport: "tcp"}, {Name: "uppercase", Transport: "udp"},
		{Name: "discard", Transport: "tcp", Port: 9}, {Name: "discard", Transport: "udp", Port: 9},
		{Name: "daytime", Transport: "tcp", Port: 13}, {Name: "daytime", Transport: "udp", Port: 13},
		{Name: "chargen", Transport: "tcp", Port: 19}, {Name: "chargen", Transport: "udp", Port: 19},
	},
	Probe: probe,
	Params: []protocol.Param{
		{Name: ParamService, Doc: "serve: serve this service alone, on TCP and UDP of --addr (echo, uppercase, discard, daytime, chargen; default: all five, on --addr's port and the four after it)"},
		{Name: ParamMaxConns, Doc: "serve: concurrent TCP connections; beyond, closed at once (uppercase first sends its error line)", Default: "512"},
		{Name: ParamMaxConnsPerClient, Doc: "serve: concurrent TCP connections of one client address", Default: "64"},
	},
})
