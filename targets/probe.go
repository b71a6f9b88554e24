package targets

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// HTTPGetProbe returns a readiness probe that succeeds once a TCP
// connection to addr is accepted and "GET path HTTP/1.1" on a second one
// is answered 200.
func HTTPGetProbe(addr, path string) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := DialProbe(addr)(ctx); err != nil {
			return err
		}
		return probeGet(ctx, addr, path)
	}
}

// probeGet sends "GET path HTTP/1.1" to addr and succeeds when the status
// line says 200. It reads at most one line of 512 bytes within ctx's
// deadline (or a second).
func probeGet(ctx context.Context, addr, path string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Second)
	}
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path); err != nil {
		return err
	}
	line, err := bufio.NewReader(&limitedConn{c, 512}).ReadString('\n')
	if err != nil {
		return fmt.Errorf("GET %s: no status line: %w", path, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "HTTP/1.1 200 ") && line != "HTTP/1.1 200" {
		return fmt.Errorf("GET %s answered %q, want 200", path, line)
	}
	return nil
}

// limitedConn reads at most n bytes from c.
type limitedConn struct {
	c net.Conn
	n int
}

func (l *limitedConn) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("status line longer than 512 bytes")
	}
	if len(b) > l.n {
		b = b[:l.n]
	}
	n, err := l.c.Read(b)
	l.n -= n
	return n, err
}

// DNSSOAProbe returns a readiness probe that succeeds once the SOA of
// every zone is answered authoritatively (NOERROR, AA, an answer) by addr
// over both UDP and TCP. Servers that bind before their zones are loaded
// answer SERVFAIL meanwhile.
func DNSSOAProbe(addr string, zones ...string) func(context.Context) error {
	return dnsProbe(addr, func(ctx context.Context, c *dns.Client, netw string) error {
		for _, z := range zones {
			m := new(dns.Msg)
			m.SetQuestion(z, dns.TypeSOA)
			m.RecursionDesired = false
			r, _, err := c.ExchangeContext(ctx, m, addr)
			if err != nil {
				return err
			}
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) == 0 {
				return fmt.Errorf("%s SOA over %s: rcode %s, aa %v, %d answers", z, netw, dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
			}
		}
		return nil
	})
}

// DNSVersionProbe returns a readiness probe that succeeds once addr
// answers version.bind CH TXT, whatever the answer, over both UDP and
// TCP. Resolvers and forwarders answer it themselves, without asking an
// upstream and so without filling their cache.
func DNSVersionProbe(addr string) func(context.Context) error {
	return dnsProbe(addr, func(ctx context.Context, c *dns.Client, netw string) error {
		m := new(dns.Msg)
		m.SetQuestion("version.bind.", dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		_, _, err := c.ExchangeContext(ctx, m, addr)
		return err
	})
}

// dnsProbe runs ask over UDP, then TCP, with a client of half a second
// per exchange.
func dnsProbe(addr string, ask func(ctx context.Context, c *dns.Client, netw string) error) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, netw := range []string{"udp", "tcp"} {
			if err := ask(ctx, &dns.Client{Net: netw, Timeout: 500 * time.Millisecond}, netw); err != nil {
				return err
			}
		}
		return nil
	}
}
