package loadgen

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
)

// Client is one protocol's load client as `protospec bench` drives it. Each
// protocol registers its own from its rooms (reference/<p>/loadclient.go),
// under the Name of its contract:
//
//	func init() {
//		loadgen.Register(contract.Name, loadgen.Client{
//			Service: "http/tcp",
//			Params:  []protocol.Param{{Name: "paths", Doc: "request targets sent in turn", Default: "/"}},
//			Plan:    planLoad,
//		})
//	}
type Client struct {
	// Service is the target service the client loads unless its params
	// choose another ("http/tcp"; "dns/udp", or "dns/tcp" with tcp=true).
	Service string
	// Params are the settings the client takes as --param k=v, with
	// their documentation and defaults.
	Params []protocol.Param
	// Examples are `protospec bench <protocol>` argument lists shown in
	// the command's help ("--target nginx --param paths=/hello.txt").
	Examples []string
	// Plan checks params (only declared names are given; an absent one
	// takes its default) and returns the load they describe, before any
	// target is started.
	Plan func(params map[string]string) (*Load, error)
}

// Load is a planned load run: the service it needs, what it sends, and how
// to build its Protocol once the target's endpoint is known.
type Load struct {
	// Service is the target service to load ("dns/tcp").
	Service string
	// Workload lists what is sent ("GET /hello.txt", "www.test A"), and
	// Options how ("keep-alive", "udp"), for reports.
	Workload, Options []string
	// Open builds the client of the service at to, whose requests time
	// out after timeout.
	Open func(to Target, timeout time.Duration) (Protocol, error)
}

// Target is where a load goes: the endpoint of the load's service (its
// address and security) and the dialer that reaches it (source address,
// TLS configuration with the run's CA).
type Target struct {
	Endpoint dial.Endpoint
	// Dialer is nil for a plain dialer; the connections' timeout bounds
	// its dials when its own Timeout is zero.
	Dialer *dial.Dialer
}

// TCP is a Target of plain TCP to addr, for tests and callers that
// have only an address.
func TCP(addr string) Target { return Target{Endpoint: dial.Endpoint{Network: "tcp", Addr: addr}} }

// dialer is t's dialer with timeout as its default deadline.
func (t Target) dialer(timeout time.Duration) dial.Dialer {
	var d dial.Dialer
	if t.Dialer != nil {
		d = *t.Dialer
	}
	if d.Timeout <= 0 {
		d.Timeout = timeout
	}
	return d
}

// DialUDP opens a connected UDP socket to t's endpoint, for datagram
// clients; the dial waits at most timeout.
func (t Target) DialUDP(ctx context.Context, timeout time.Duration) (*net.UDPConn, error) {
	d := t.dialer(timeout)
	return d.DialUDP(ctx, t.Endpoint)
}

var clients = protocol.NewRegistry[Client]("load client")

// Register makes a protocol's load client known under name, the Name
// constant of the protocol's contract. A client without Plan or Service,
// or a name registered twice, is a programming error and panics.
func Register(name string, c Client) {
	if c.Plan == nil || c.Service == "" {
		panic(fmt.Sprintf("loadgen: load client %q lacks Plan or Service", name))
	}
	clients.Register(name, c)
}

// LookupClient returns the load client of protocol name, or an error that
// lists the protocols that have one.
func LookupClient(name string) (Client, error) { return clients.Get(name) }

// ClientNames lists the protocols that have a load client, in order.
func ClientNames() []string { return clients.Names() }

// BoolParam reads a boolean param ("true", "false", "1", "0"; absent or
// empty: false), for clients' Plan functions.
func BoolParam(params map[string]string, name string) (bool, error) {
	v := params[name]
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("loadgen: param %s=%q: want true or false", name, v)
	}
	return b, nil
}
