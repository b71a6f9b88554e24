package smtp

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/protospec/protospec/internal/dial"
	ftpwire "github.com/protospec/protospec/internal/wire/ftp"
)

// probeLimits bound what the probe reads. SMTP replies share FTP's
// three-digit grammar (RFC 5321 4.2, RFC 959 4.2), so the FTP reply reader
// serves; RFC 5321 4.5.3.1.5 bounds a reply line to 512 octets, the probe
// allows more so that a long greeting is still alive.
var probeLimits = ftpwire.Limits{MaxLine: 4096, MaxLines: 256}

// LivenessProbe is the contract's probe, the liveness preflight of runs:
// a connection to smtp/tcp must be greeted by a reply, whatever its code
// (220; 554 or 421 from a server that refuses the client is still alive,
// RFC 5321 3.1 and 4.3.2), and after a 220 the server must answer EHLO
// with a reply of any code (a server that greets and then never reads is
// not alive). It reads within ctx's deadline (or two seconds).
func LivenessProbe(ctx context.Context, service, addr string) error {
	if service != ServiceTCP {
		return fmt.Errorf("smtp probe: no service %q", service)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	var d dial.Dialer
	c, err := d.Dial(ctx, dial.Endpoint{Network: "tcp", Addr: addr})
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
	if rep.Code != 220 {
		return nil
	}
	if _, err := c.Write([]byte("EHLO protospec.test\r\n")); err != nil {
		return fmt.Errorf("%s at %s: EHLO: %w", service, addr, err)
	}
	rep, err = ftpwire.ReadReply(br, probeLimits)
	if err != nil && rep.Code == 0 {
		return fmt.Errorf("%s at %s: no reply to EHLO: %w", service, addr, err)
	}
	// QUIT politely; the answer does not matter.
	_, _ = c.Write([]byte("QUIT\r\n"))
	return nil
}
