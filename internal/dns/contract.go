// Package dns is the contract of DNS that every room of it shares
// (reference/dns, suites/dns, fuzz/dns, pcap/dns and the nsd, knot,
// unbound and dnsmasq launchers): its name, its services with their
// well-known ports, its features and params.
package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/protospec/protospec/internal/protocol"
)

// Name is the protocol's name in every registry and on the command line.
const Name = "dns"

// Contract is DNS's contract.
var Contract = protocol.Register(protocol.Contract{
	Name:  Name,
	Title: "DNS (RFC 1034, 1035, 2181, 2308, 5452, 5936, 6891, 7766, 8906, 9619)",
	Services: []protocol.Service{
		{Name: "dns", Transport: "udp", Port: 53}, {Name: "dns", Transport: "tcp", Port: 53},
	},
	Features: []protocol.Feature{
		// Allow-lists name a client address (127.0.0.66) the user's
		// configuration must refuse: no server does that by default.
		{Name: "dns/axfr-acl", Doc: "AXFR refused to 127.0.0.66", Optional: true},
		{Name: "dns/allowlist", Doc: "recursion refused to 127.0.0.66", Optional: true},
	},
	Probe: probe,
})

// probe checks that a DNS server answers at addr over the service's
// transport: one SOA query for the root, any response with its ID.
func probe(ctx context.Context, service, addr string) error {
	_, transport, _ := strings.Cut(service, "/")
	if transport != "udp" && transport != "tcp" {
		return fmt.Errorf("dns: no probe for %s", service)
	}
	timeout := time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	c := &mdns.Client{Net: transport, Timeout: timeout}
	q := new(mdns.Msg)
	q.SetQuestion(".", mdns.TypeSOA)
	r, _, err := c.ExchangeContext(ctx, q, addr)
	if err != nil {
		return fmt.Errorf("dns: %s at %s: %w", service, addr, err)
	}
	if r.Id != q.Id || !r.Response {
		return fmt.Errorf("dns: %s at %s: not a response to the query", service, addr)
	}
	return nil
}
