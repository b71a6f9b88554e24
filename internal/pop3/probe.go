package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/protospec/protospec/internal/dial"
)

// probeMaxLine bounds a line the probe reads. RFC 2449 4 bounds a
// response's first line to 512 octets; the probe allows more so that a
// long greeting is still alive.
const probeMaxLine = 4096

// LivenessProbe is the contract's probe, the liveness preflight of runs:
// a connection to the service (TLS from the first byte for "pop3/tls",
// without verifying the certificate: the specs judge that) must be greeted
// by a status line, "+OK" or "-ERR" (a server that refuses the client, such
// as a full one, is still alive), and after "+OK" the server must answer
// QUIT with a status line (a server that greets and then never reads is
// not alive). It reads within ctx's deadline (or two seconds).
func LivenessProbe(ctx context.Context, service, addr string) error {
	if service != ServiceTCP && service != ServiceTLS {
		return fmt.Errorf("pop3 probe: no service %q", service)
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
	br := bufio.NewReaderSize(c, 512)
	ok, err = readStatus(br)
	if err != nil {
		return fmt.Errorf("%s at %s: no greeting: %w", service, addr, err)
	}
	if !ok {
		return nil
	}
	if _, err := c.Write([]byte("QUIT\r\n")); err != nil {
		return fmt.Errorf("%s at %s: QUIT: %w", service, addr, err)
	}
	if _, err := readStatus(br); err != nil {
		return fmt.Errorf("%s at %s: no answer to QUIT: %w", service, addr, err)
	}
	return nil
}

// errNotStatus is a line that is not a POP3 status line.
var errNotStatus = errors.New("not a +OK or -ERR line")

// readStatus reads one line and reports whether it is +OK (true) or -ERR
// (false); anything else is an error.
func readStatus(br *bufio.Reader) (bool, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return false, err
		}
		if len(line) > probeMaxLine {
			return false, fmt.Errorf("a line over %d octets", probeMaxLine)
		}
	}
	s := strings.TrimRight(string(line), "\r\n")
	switch {
	case s == "+OK" || strings.HasPrefix(s, "+OK "):
		return true, nil
	case s == "-ERR" || strings.HasPrefix(s, "-ERR "):
		return false, nil
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return false, fmt.Errorf("%w: %q", errNotStatus, s)
}
