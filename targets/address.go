package targets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/protocol"
)

// An address target is a list of comma-separated endpoints, each
//
//	[service[/transport]=][tcp://|udp://|tls://|starttls://]host:port
//
// A bare host:port is TCP. tls:// is TCP with TLS from the first byte: it
// answers for the "<service>/tls" services ("http/tls"); starttls:// is a
// TCP service that the protocol upgrades in place (its endpoint has
// Security dial.StartTLS). An endpoint without "service=" serves every
// service of its transport, so "127.0.0.1:7000" answers for daytime/tcp,
// uppercase/tcp and the rest; "uppercase=127.0.0.1:7001" (or
// "uppercase/tcp=...") only for uppercase/tcp, and "http/tls=127.0.0.1:8443"
// (or "http=tls://127.0.0.1:8443") only for http/tls.
type addrRule struct {
	service   string // "" for every service
	transport string // "tcp", "udp" or "tls": the suffix of the service name
	ep        Endpoint
}

// schemes are the address schemes: the transport in service names they
// stand for, the network and the security.
var schemes = []struct {
	scheme, transport, network string
	security                   Security
}{
	{"tcp", "tcp", "tcp", dial.Plain},
	{"udp", "udp", "udp", dial.Plain},
	{"tls", "tls", "tcp", dial.TLS},
	{"starttls", "tcp", "tcp", dial.StartTLS},
}

// ParseAddress parses an address target. It does not touch the network.
func ParseAddress(spec string) ([]Endpoint, []string, error) {
	rules, err := parseRules(spec)
	if err != nil {
		return nil, nil, err
	}
	eps := make([]Endpoint, len(rules))
	svcs := make([]string, len(rules))
	for i, r := range rules {
		eps[i] = r.ep
		svcs[i] = r.service
	}
	return eps, svcs, nil
}

func parseRules(spec string) ([]addrRule, error) {
	var rules []addrRule
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("targets: empty endpoint in %q", spec)
		}
		var r addrRule
		if i := strings.Index(part, "="); i >= 0 {
			r.service, part = part[:i], part[i+1:]
			if r.service == "" || strings.ContainsAny(r.service, " :") {
				return nil, fmt.Errorf("targets: bad service name %q in %q", r.service, spec)
			}
		}
		r.transport, r.ep.Network = "tcp", "tcp"
		scheme := ""
		if s, rest, ok := strings.Cut(part, "://"); ok {
			found := false
			for _, sc := range schemes {
				if sc.scheme == s {
					scheme, part, found = s, rest, true
					r.transport, r.ep.Network, r.ep.Security = sc.transport, sc.network, sc.security
				}
			}
			if !found {
				return nil, fmt.Errorf("targets: unsupported scheme in %q (use tcp://, udp://, tls:// or starttls://)", part)
			}
		}
		if svc, tr, ok := strings.Cut(r.service, "/"); ok {
			if tr != "tcp" && tr != "udp" && tr != "tls" {
				return nil, fmt.Errorf("targets: bad transport %q in %q (tcp, udp or tls)", tr, spec)
			}
			if scheme != "" && tr != r.transport {
				return nil, fmt.Errorf("targets: %s=%s:// names two transports", r.service, scheme)
			}
			r.service, r.transport = svc, tr
			if scheme == "" {
				for _, sc := range schemes {
					if sc.scheme == tr {
						r.ep.Network, r.ep.Security = sc.network, sc.security
					}
				}
			}
		}
		host, port, err := net.SplitHostPort(part)
		if err != nil {
			return nil, fmt.Errorf("targets: bad address %q: %v", part, err)
		}
		if host == "" {
			return nil, fmt.Errorf("targets: address %q has no host", part)
		}
		if p, err := netip.ParseAddrPort("0.0.0.0:" + port); err != nil || p.Port() == 0 {
			return nil, fmt.Errorf("targets: bad port in %q", part)
		}
		r.ep.Addr = net.JoinHostPort(host, port)
		rules = append(rules, r)
	}
	return rules, nil
}

// looksLikeAddress tells an address target from a misspelt launcher name.
func looksLikeAddress(s string) bool {
	return strings.Contains(s, ":") || strings.Contains(s, "=")
}

type addressTarget struct {
	name  string
	rules []addrRule
	// contract is the protocol's, when it is registered: a bare address
	// offers its services, and its optional features need declaring.
	contract *protocol.Contract
	declared map[string]bool
}

// OpenAddress returns a target for a server the user runs. Every TCP
// endpoint is dialled once, so that a wrong address is reported before any
// spec runs; UDP endpoints cannot be checked without speaking the protocol.
func OpenAddress(ctx context.Context, spec string, opts Options) (Target, error) {
	rules, err := parseRules(spec)
	if err != nil {
		return nil, err
	}
	d := dial.Dialer{Timeout: 3 * time.Second}
	for _, r := range rules {
		if r.ep.Network != "tcp" {
			continue
		}
		// A TCP connect only: the TLS handshake is judged by the specs,
		// with the run's CA.
		plain := r.ep
		plain.Security = dial.Plain
		c, err := d.Dial(ctx, plain)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Err != nil {
				err = op.Err
			}
			return nil, fmt.Errorf("targets: cannot connect to %s: %v", r.ep.Addr, err)
		}
		c.Close()
	}
	a := &addressTarget{name: spec, rules: rules, declared: map[string]bool{}}
	for _, f := range opts.Features {
		a.declared[f] = true
	}
	if c, ok := protocol.Lookup(opts.Protocol); ok {
		a.contract = &c
		a.offerUDP(ctx)
	}
	return a, nil
}

// offerUDP adds, for each bare TCP address, the contract's UDP services
// that answer its probe on the same address and port: "HOST:PORT" of a
// DNS server means UDP and TCP. Without a probe UDP cannot be checked,
// and only "udp://" or "service/udp=" endpoints give UDP.
func (a *addressTarget) offerUDP(ctx context.Context) {
	if a.contract.Probe == nil {
		return
	}
	var extra []addrRule
	for _, r := range a.rules {
		if r.service != "" || r.transport != "tcp" {
			continue
		}
		for _, s := range a.contract.Services {
			if s.Transport != "udp" || a.hasRule(s.Name, "udp") {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := a.contract.Probe(pctx, s.Key(), r.ep.Addr)
			cancel()
			if err == nil {
				extra = append(extra, addrRule{service: s.Name, transport: "udp", ep: Endpoint{Network: "udp", Addr: r.ep.Addr, Security: dial.Plain}})
			}
		}
	}
	a.rules = append(a.rules, extra...)
}

// hasRule reports whether an endpoint was given for service on transport.
func (a *addressTarget) hasRule(service, transport string) bool {
	for _, r := range a.rules {
		if r.transport == transport && (r.service == service || r.service == "") {
			return true
		}
	}
	return false
}

func (a *addressTarget) Name() string { return a.name }

func (a *addressTarget) Info() Info {
	eps := map[string]string{}
	for _, r := range a.rules {
		svc := r.service
		if svc == "" {
			svc = "*"
		}
		eps[svc+"/"+r.transport] = r.ep.String()
	}
	return Info{Name: a.name, Kind: KindAddress, Endpoints: eps}
}

func (a *addressTarget) Endpoint(service string) (Endpoint, error) {
	svc, transport, ok := strings.Cut(service, "/")
	if !ok {
		return Endpoint{}, fmt.Errorf("targets: service %q has no transport", service)
	}
	var wildcard *addrRule
	for i, r := range a.rules {
		if r.transport != transport {
			continue
		}
		if r.service == svc {
			return r.ep, nil
		}
		if r.service == "" && wildcard == nil {
			wildcard = &a.rules[i]
		}
	}
	if wildcard != nil && a.contract != nil {
		if _, ok := a.contract.Service(service); !ok {
			// A bare address is a server of the protocol's own
			// services, not of the suite's others (a DNS resolver).
			return Endpoint{}, NotOffered("target %s is a %s server; the suite's %s service needs its own endpoint (add %s=%s://HOST:PORT)", a.name, a.contract.Name, service, svc, transport)
		}
	}
	if wildcard != nil {
		return wildcard.ep, nil
	}
	return Endpoint{}, NotOffered("target %s gives no %s endpoint for %s (add %s=%s://HOST:PORT)", a.name, strings.ToUpper(transport), svc, svc, transport)
}

// Feature implements Target: a user's server is assumed to offer the
// fixture's features (protospec fixtures exports it), and the specs find
// out when it does not, except the contract's optional ones, which the
// user declares (run --feature NAME).
func (a *addressTarget) Feature(name string) error {
	if a.declared[name] || a.contract == nil {
		return nil
	}
	if f, ok := a.contract.Feature(name); ok && f.Optional {
		return NotOffered("%s is optional and target %s does not declare it (run --feature %s if it offers it)", name, a.name, name)
	}
	return nil
}

func (a *addressTarget) Close() error { return nil }
