package reference

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	contract "github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/reference/echo"
	"github.com/protospec/protospec/targets"
)

func init() {
	register(contract.Name, Protocol{Start: startEcho, Serve: serveEcho, Params: ServeParams(contract.Contract), Examples: []string{
		"--addr 127.0.0.1:7000                 # the five services on ports 7000-7004, TCP and UDP",
		"--addr 127.0.0.1:7007 --service echo  # one service",
	}})
}

// startEcho runs every echo service on its own ephemeral TCP and UDP
// loopback ports.
func startEcho(_ context.Context, opts targets.Options) (targets.Target, error) {
	eps := map[string]targets.Endpoint{}
	var servers []*echo.Server
	closeAll := func() error {
		var errs []error
		for _, s := range servers {
			errs = append(errs, s.Close())
		}
		return errors.Join(errs...)
	}
	for _, svc := range echo.Services {
		s := &echo.Server{Service: svc}
		servers = append(servers, s)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("reference echo: %w", err)
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			l.Close()
			closeAll()
			return nil, fmt.Errorf("reference echo: %w", err)
		}
		go s.Serve(l)
		go s.ServePacket(pc)
		eps[string(svc)+"/tcp"] = targets.Endpoint{Network: "tcp", Addr: l.Addr().String()}
		eps[string(svc)+"/udp"] = targets.Endpoint{Network: "udp", Addr: pc.LocalAddr().String()}
	}
	return &targets.Static{
		TargetName: "reference",
		Kind:       targets.KindReference,
		Version:    "protospec reference/echo",
		Endpoints:  eps,
		OnClose:    closeAll,
	}, nil
}

// serveEcho serves every echo service, each on TCP and UDP of its own
// port: the services in the contract's order on Addr's port and the ports
// after it (Addr's port 0: a free run of ports). Param service= serves that
// one alone on Addr. The connection limits of echoLimits apply to each.
func serveEcho(ctx context.Context, opts ServeOptions) error {
	svcs := echo.Services
	if name, ok := opts.Params[contract.ParamService]; ok && name != "" {
		var svc echo.Service
		for _, s := range echo.Services {
			if string(s) == name {
				svc = s
			}
		}
		if svc == "" {
			return fmt.Errorf("unknown echo service %q (one of %s)", name, serviceNames())
		}
		svcs = []echo.Service{svc}
	}
	if err := loopbackOnly(opts.Addr); err != nil {
		return err
	}
	var servers []*echo.Server
	for _, svc := range svcs {
		s := &echo.Server{Service: svc, AccessLog: opts.accessLogger()}
		if err := echoLimits(s, opts.Params); err != nil {
			return err
		}
		servers = append(servers, s)
	}
	ls, pcs, err := listenRun(opts.Addr, len(svcs))
	if err != nil {
		return err
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	eps := map[string]targets.Endpoint{}
	errc := make(chan error, 2*len(svcs))
	for i, s := range servers {
		fmt.Fprintf(log, "serving %s on tcp://%s and udp://%s\n", s.Service, ls[i].Addr(), pcs[i].LocalAddr())
		eps[string(s.Service)+"/tcp"] = targets.Endpoint{Network: "tcp", Addr: ls[i].Addr().String()}
		eps[string(s.Service)+"/udp"] = targets.Endpoint{Network: "udp", Addr: pcs[i].LocalAddr().String()}
		go func() { errc <- s.Serve(ls[i]) }()
		go func() { errc <- s.ServePacket(pcs[i]) }()
	}
	opts.serving(Serving{Endpoints: eps})
	closeAll := func() {
		for _, s := range servers {
			s.Close()
		}
	}
	select {
	case <-ctx.Done():
		closeAll()
		return nil
	case err := <-errc:
		closeAll()
		return err
	}
}

// listenRun binds TCP and UDP on n consecutive ports of addr, starting at
// its port; port 0 picks a free run (a few tries).
func listenRun(addr string, n int) ([]net.Listener, []net.PacketConn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("--addr %q: bad port", addr)
	}
	if port != 0 && port+uint64(n)-1 > 65535 {
		return nil, nil, fmt.Errorf("--addr %q: %d ports from %d do not fit", addr, n, port)
	}
	var lastErr error
	for range 50 {
		ls, pcs, err := tryRun(host, uint16(port), n)
		if err == nil || port != 0 {
			return ls, pcs, err
		}
		lastErr = err
	}
	return nil, nil, lastErr
}

// tryRun binds TCP and UDP on n consecutive ports from port (0: the first
// a free one) or closes what it bound.
func tryRun(host string, port uint16, n int) ([]net.Listener, []net.PacketConn, error) {
	var ls []net.Listener
	var pcs []net.PacketConn
	fail := func(err error) ([]net.Listener, []net.PacketConn, error) {
		for _, l := range ls {
			l.Close()
		}
		for _, pc := range pcs {
			pc.Close()
		}
		return nil, nil, err
	}
	for i := range n {
		p := 0
		if i > 0 || port != 0 {
			p = int(port) + i
			if p > 65535 {
				return fail(fmt.Errorf("no %d free ports from %d", n, port))
			}
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			return fail(err)
		}
		ls = append(ls, l)
		if i == 0 && port == 0 {
			port = uint16(l.Addr().(*net.TCPAddr).Port)
		}
		pc, err := net.ListenPacket("udp", l.Addr().String())
		if err != nil {
			return fail(err)
		}
		pcs = append(pcs, pc)
	}
	return ls, pcs, nil
}

// serviceNames lists the echo services, comma-separated.
func serviceNames() string {
	var names []string
	for _, s := range echo.Services {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// echoLimits sets the server's connection limits from params.
func echoLimits(s *echo.Server, params map[string]string) error {
	ints := []struct {
		name string
		set  func(int)
	}{
		{contract.ParamMaxConns, func(n int) { s.MaxConns = n }},
		{contract.ParamMaxConnsPerClient, func(n int) { s.MaxConnsPerClient = n }},
	}
	for _, p := range ints {
		v, ok := params[p.name]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 || n > 1<<20 {
			return fmt.Errorf("%s %q: want a positive number", p.name, v)
		}
		p.set(int(n))
	}
	return nil
}
