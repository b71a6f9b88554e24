package dns

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/protospec/protospec/internal/dial"
)

// probeTimeout bounds one exchange of a probe.
const probeTimeout = 500 * time.Millisecond

// FixtureProbe is the readiness probe of a server serving the fixture for one service: "dns/udp" and
// "dns/tcp" must answer the SOA of every fixture zone authoritatively over
// their transport, "resolver/udp" and "resolver/tcp" must answer
// version.bind CH TXT (whatever the answer).
func FixtureProbe(ctx context.Context, service, addr string) error {
	svc, netw, _ := strings.Cut(service, "/")
	if netw != "udp" && netw != "tcp" {
		return fmt.Errorf("dns probe: no service %q", service)
	}
	c := &dns.Client{Net: netw, Timeout: probeTimeout}
	switch svc {
	case "dns":
		return askSOA(ctx, c, addr, Origins())
	case "resolver":
		return askVersion(ctx, c, addr)
	}
	return fmt.Errorf("dns probe: no service %q", service)
}

// SOAProbe returns a readiness probe that succeeds once the SOA of every
// zone is answered authoritatively (NOERROR, AA, an answer) by addr over
// both UDP and TCP. Servers that bind before their zones are loaded answer
// SERVFAIL meanwhile.
func SOAProbe(addr string, zones ...string) func(context.Context) error {
	return overBoth(func(ctx context.Context, c *dns.Client) error { return askSOA(ctx, c, addr, zones) })
}

// VersionProbe returns a readiness probe that succeeds once addr answers
// version.bind CH TXT, whatever the answer, over both UDP and TCP.
// Resolvers and forwarders answer it themselves, without asking an
// upstream and so without filling their cache.
func VersionProbe(addr string) func(context.Context) error {
	return overBoth(func(ctx context.Context, c *dns.Client) error { return askVersion(ctx, c, addr) })
}

// Origins are the origins of the fixture's zones, whose SOA answered tells
// that a server has loaded them.
func Origins() []string {
	out := make([]string, 0, len(Zones))
	for _, z := range Zones {
		out = append(out, z.Origin)
	}
	return out
}

// askSOA asks addr for the SOA of every zone and wants authoritative
// answers.
func askSOA(ctx context.Context, c *dns.Client, addr string, zones []string) error {
	for _, z := range zones {
		m := new(dns.Msg)
		m.SetQuestion(z, dns.TypeSOA)
		m.RecursionDesired = false
		r, err := Exchange(ctx, c, m, addr)
		if err != nil {
			return err
		}
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) == 0 {
			return fmt.Errorf("%s SOA over %s: rcode %s, aa %v, %d answers", z, c.Net, dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
		}
	}
	return nil
}

// askVersion asks addr for version.bind CH TXT and wants any answer.
func askVersion(ctx context.Context, c *dns.Client, addr string) error {
	m := new(dns.Msg)
	m.SetQuestion("version.bind.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	_, err := Exchange(ctx, c, m, addr)
	return err
}

// Exchange sends m to addr over c.Net ("udp" or "tcp") with c's timeout
// and reads the answer, on a connection of internal/dial: the exchange of
// probes and launcher tests (miekg's own Exchange would dial by itself).
func Exchange(ctx context.Context, c *dns.Client, m *dns.Msg, addr string) (*dns.Msg, error) {
	if c.Net == "" {
		c = &dns.Client{Net: "udp", Timeout: c.Timeout, UDPSize: c.UDPSize}
	}
	d := dial.Dialer{Timeout: c.Timeout}
	nc, err := d.Connect(ctx, dial.Endpoint{Network: c.Net, Addr: addr})
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	r, _, err := c.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: nc})
	return r, err
}

// overBoth runs ask over UDP, then TCP, with a client of half a second
// per exchange.
func overBoth(ask func(ctx context.Context, c *dns.Client) error) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, netw := range []string{"udp", "tcp"} {
			if err := ask(ctx, &dns.Client{Net: netw, Timeout: probeTimeout}); err != nil {
				return err
			}
		}
		return nil
	}
}
