package targets

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/internal/netutil/netutiltest"
	"github.com/protospec/protospec/internal/protocol"
)

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		eps  []Endpoint
		svcs []string
		err  string
	}{
		{in: "127.0.0.1:7000", eps: []Endpoint{{Network: "tcp", Addr: "127.0.0.1:7000"}}, svcs: []string{""}},
		{in: "udp://[::1]:7", eps: []Endpoint{{Network: "udp", Addr: "[::1]:7"}}, svcs: []string{""}},
		{in: "uppercase/tcp=127.0.0.1:7001,echo/udp=127.0.0.1:7", eps: []Endpoint{{Network: "tcp", Addr: "127.0.0.1:7001"}, {Network: "udp", Addr: "127.0.0.1:7"}}, svcs: []string{"uppercase", "echo"}},
		{in: "uppercase=udp://127.0.0.1:9", eps: []Endpoint{{Network: "udp", Addr: "127.0.0.1:9"}}, svcs: []string{"uppercase"}},
		{in: "localhost:80", eps: []Endpoint{{Network: "tcp", Addr: "localhost:80"}}, svcs: []string{""}},
		{in: "tls://127.0.0.1:8443", eps: []Endpoint{{Network: "tcp", Addr: "127.0.0.1:8443", Security: dial.TLS}}, svcs: []string{""}},
		{in: "http/tls=127.0.0.1:8443", eps: []Endpoint{{Network: "tcp", Addr: "127.0.0.1:8443", Security: dial.TLS}}, svcs: []string{"http"}},
		{in: "http=tls://[::1]:8443", eps: []Endpoint{{Network: "tcp", Addr: "[::1]:8443", Security: dial.TLS}}, svcs: []string{"http"}},
		{in: "smtp=starttls://127.0.0.1:2525", eps: []Endpoint{{Network: "tcp", Addr: "127.0.0.1:2525", Security: dial.StartTLS}}, svcs: []string{"smtp"}},
		{in: "http/tcp=tls://127.0.0.1:8443", err: "two transports"},
		{in: "127.0.0.1", err: "bad address"},
		{in: "127.0.0.1:0", err: "bad port"},
		{in: "127.0.0.1:99999", err: "bad port"},
		{in: ":80", err: "no host"},
		{in: "http://127.0.0.1:80", err: "unsupported scheme"},
		{in: "echo/sctp=127.0.0.1:7", err: "bad transport"},
		{in: "echo/tcp=udp://127.0.0.1:7", err: "two transports"},
		{in: "127.0.0.1:7,", err: "empty endpoint"},
		{in: "=127.0.0.1:7", err: "bad service"},
	} {
		eps, svcs, err := ParseAddress(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAddress(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tc.in, err)
			continue
		}
		if len(eps) != len(tc.eps) {
			t.Errorf("ParseAddress(%q) = %v, want %v", tc.in, eps, tc.eps)
			continue
		}
		for i := range eps {
			if eps[i] != tc.eps[i] || svcs[i] != tc.svcs[i] {
				t.Errorf("ParseAddress(%q)[%d] = %v %q, want %v %q", tc.in, i, eps[i], svcs[i], tc.eps[i], tc.svcs[i])
			}
		}
	}
}

func TestOpenAddressEndpoints(t *testing.T) {
	// A server that accepts every connection and closes it.
	addr := netutiltest.ServeTCP(t, func(net.Conn) {})
	tg, err := Open(context.Background(), "uppercase="+addr+",udp://127.0.0.1:9", Options{Protocol: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if ep, err := tg.Endpoint("uppercase/tcp"); err != nil || ep.Addr != addr {
		t.Errorf("uppercase/tcp = %v, %v", ep, err)
	}
	if ep, err := tg.Endpoint("echo/udp"); err != nil || ep.Addr != "127.0.0.1:9" || ep.Network != "udp" {
		t.Errorf("echo/udp = %v, %v (the UDP endpoint serves every service)", ep, err)
	}
	_, err = tg.Endpoint("echo/tcp")
	if !errors.Is(err, ErrNotOffered) || !strings.Contains(err.Error(), "echo") {
		t.Errorf("echo/tcp: %v, want a not-offered reason", err)
	}
	if tg.Info().Kind != KindAddress {
		t.Errorf("kind %q", tg.Info().Kind)
	}
	tg2, err := Open(context.Background(), "tls://"+addr, Options{Protocol: "http1"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg2.Close()
	if ep, err := tg2.Endpoint("http/tls"); err != nil || ep.Addr != addr || ep.Security != dial.TLS || ep.Name() != "127.0.0.1" {
		t.Errorf("http/tls = %+v, %v", ep, err)
	}
	if _, err := tg2.Endpoint("http/tcp"); !errors.Is(err, ErrNotOffered) {
		t.Errorf("http/tcp on a tls:// target: %v, want not offered", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	if _, err := Open(ctx, dead, Options{Protocol: "echo"}); err == nil || !strings.Contains(err.Error(), "cannot connect to "+dead) {
		t.Errorf("closed port: %v", err)
	}
	if _, err := Open(ctx, "nosuch", Options{Protocol: "echo"}); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestFindBinaryMissing(t *testing.T) {
	_, err := FindBinary("protospec-no-such-daemon", "protospec-no-such-package")
	if !errors.Is(err, ErrMissingBinary) || !strings.Contains(err.Error(), "apt-get install protospec-no-such-package") {
		t.Errorf("FindBinary: %v", err)
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts("127.0.0.1", 4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v", ports)
		}
		seen[p] = true
		for _, network := range []string{"tcp", "udp"} {
			var c interface{ Close() error }
			var err error
			if network == "tcp" {
				c, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(p)))
			} else {
				c, err = net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", itoa(p)))
			}
			if err != nil {
				t.Errorf("port %d not free for %s: %v", p, network, err)
				continue
			}
			c.Close()
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// addrContract is a protocol whose UDP service answers the probe only at
// probeOK, and whose feature "addrtest/optional" needs declaring.
var probeOK string

var addrContract = protocol.Register(protocol.Contract{
	Name:     "addrtest",
	Services: []protocol.Service{{Name: "svc", Transport: "tcp"}, {Name: "svc", Transport: "udp"}},
	Features: []protocol.Feature{{Name: "addrtest/optional", Optional: true}, {Name: "addrtest/assumed"}},
	Probe: func(_ context.Context, service, addr string) error {
		if service == "svc/udp" && addr == probeOK {
			return nil
		}
		return errors.New("no answer")
	},
})

func TestAddressContract(t *testing.T) {
	// A server that accepts every connection and closes it.
	addr := netutiltest.ServeTCP(t, func(net.Conn) {})
	probeOK = addr
	ctx := context.Background()
	tg, err := OpenAddress(ctx, addr, Options{Protocol: addrContract.Name})
	if err != nil {
		t.Fatal(err)
	}
	if ep, err := tg.Endpoint("svc/udp"); err != nil || ep.Addr != addr || ep.Network != "udp" {
		t.Errorf("a bare address whose UDP service answers the probe: %v %v", ep, err)
	}
	if _, err := tg.Endpoint("other/tcp"); !errors.Is(err, ErrNotOffered) {
		t.Errorf("a service outside the contract: %v, want not offered", err)
	}
	if err := tg.Feature("addrtest/optional"); !errors.Is(err, ErrNotOffered) || !strings.Contains(err.Error(), "--feature addrtest/optional") {
		t.Errorf("an optional feature not declared: %v", err)
	}
	if err := tg.Feature("addrtest/assumed"); err != nil {
		t.Errorf("a feature the contract does not mark optional: %v", err)
	}
	tg, err = OpenAddress(ctx, addr, Options{Protocol: addrContract.Name, Features: []string{"addrtest/optional"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Feature("addrtest/optional"); err != nil {
		t.Errorf("a declared feature: %v", err)
	}
	probeOK = ""
	tg, err = OpenAddress(ctx, addr, Options{Protocol: addrContract.Name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Endpoint("svc/udp"); !errors.Is(err, ErrNotOffered) {
		t.Errorf("UDP that does not answer the probe: %v, want not offered", err)
	}
}

func TestPortRun(t *testing.T) {
	ports, err := PortRun("127.0.0.1", 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 9 {
		t.Fatalf("%d ports", len(ports))
	}
	for i := 1; i < len(ports); i++ {
		if ports[i] != ports[i-1]+1 {
			t.Fatalf("ports %v: the run is not consecutive", ports)
		}
	}
	if ports[0] < 20000 || ports[8] >= 32768 {
		t.Errorf("run %v outside [20000, 32768)", ports)
	}
}
