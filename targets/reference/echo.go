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
		"--addr 127.0.0.1:7000                 # uppercase on TCP and UDP",
		"--addr 127.0.0.1:7007 --service echo",
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

// serveEcho serves one echo service (params service=, default uppercase,
// and the connection limits of echoLimits) on Addr over both TCP and UDP.
func serveEcho(ctx context.Context, opts ServeOptions) error {
	name := opts.Params[contract.ParamService]
	if name == "" {
		name = string(echo.Uppercase)
	}
	var svc echo.Service
	for _, s := range echo.Services {
		if string(s) == name {
			svc = s
		}
	}
	if svc == "" {
		return fmt.Errorf("unknown echo service %q (one of %s)", name, serviceNames())
	}
	s := &echo.Server{Service: svc}
	if err := echoLimits(s, opts.Params); err != nil {
		return err
	}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		l.Close()
		return err
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "serving %s on tcp://%s and udp://%s\n", svc, l.Addr(), pc.LocalAddr())
	errc := make(chan error, 2)
	go func() { errc <- s.Serve(l) }()
	go func() { errc <- s.ServePacket(pc) }()
	select {
	case <-ctx.Done():
		s.Close()
		return nil
	case err := <-errc:
		s.Close()
		return err
	}
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
