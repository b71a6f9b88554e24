package ftp

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/protospec/protospec/internal/dial"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

// probeLimits bound what the probe reads of the greeting.
var probeLimits = ftpwire.Limits{MaxLine: 1024, MaxLines: 64}

// LivenessProbe is the contract's probe, the liveness preflight of runs:
// a connection to the service (TLS from the first byte for "ftp/tls",
// without verifying the certificate: the specs judge that) must be greeted
// by a reply, whatever its code (220, or 421 from a full server, or 120
// then 220): a server that refuses the client is still alive. It reads at
// most one greeting within ctx's deadline (or two seconds).
func LivenessProbe(ctx context.Context, service, addr string) error {
	if service != ServiceTCP && service != ServiceTLS {
		return fmt.Errorf("ftp probe: no service %q", service)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	ep := dial.Endpoint{Network: "tcp", Addr: addr}
	if service == ServiceTLS {
		ep.Security = dial.TLS
	}
	d := dial.Dialer{TLS: &tls.Config{InsecureSkipVerify: true}}
	c, err := d.Dial(ctx, ep)
	if err != nil {
		return fmt.Errorf("%s at %s: %w", service, addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	rep, err := ftpwire.ReadReply(br, probeLimits)
	if err != nil && rep.Code == 0 {
		return fmt.Errorf("%s at %s: no greeting: %w", service, addr, err)
	}
	if rep.Code == 120 {
		// RFC 959 5.4: "120 Service ready in nnn minutes" precedes 220.
		rep, err = ftpwire.ReadReply(br, probeLimits)
		if err != nil && rep.Code == 0 {
			return fmt.Errorf("%s at %s: no greeting after 120: %w", service, addr, err)
		}
	}
	// QUIT politely; the answer does not matter.
	_, _ = c.Write([]byte("QUIT\r\n"))
	return nil
}

// GreetingProbe returns a readiness probe of a launched server that
// succeeds once addr greets with 220 (plain TCP).
func GreetingProbe(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(2 * time.Second)
		}
		var d dial.Dialer
		c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(deadline); err != nil {
			return err
		}
		rep, err := ftpwire.ReadReply(bufio.NewReader(c), probeLimits)
		if err != nil && rep.Code == 0 {
			return fmt.Errorf("no greeting: %w", err)
		}
		if rep.Code != 220 {
			return fmt.Errorf("greeted with %q, want 220", rep.String())
		}
		_, _ = c.Write([]byte("QUIT\r\n"))
		return nil
	}
}
