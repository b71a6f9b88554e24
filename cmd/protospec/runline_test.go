package main

import (
	"testing"

	"github.com/protospec/protospec/internal/dial"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

// TestRunLine checks the run line serve prints for what it serves: a bare
// address where one address serves every TCP (or TLS) service of the
// contract, each endpoint named otherwise.
func TestRunLine(t *testing.T) {
	tcp := func(a string) targets.Endpoint { return targets.Endpoint{Network: "tcp", Addr: a} }
	udp := func(a string) targets.Endpoint { return targets.Endpoint{Network: "udp", Addr: a} }
	for _, c := range []struct {
		proto string
		s     reference.Serving
		want  string
	}{
		{"http1", reference.Serving{Endpoints: map[string]targets.Endpoint{"http/tcp": tcp("127.0.0.1:8080")}},
			"protospec run http1 --target 127.0.0.1:8080"},
		{"http1", reference.Serving{Endpoints: map[string]targets.Endpoint{"http/tls": {Network: "tcp", Addr: "127.0.0.1:8443", Security: dial.TLS}}, Flags: []string{"--ca", "/tmp/a b/ca.pem"}},
			"protospec run http1 --tls --target tls://127.0.0.1:8443 --ca '/tmp/a b/ca.pem'"},
		{"dns", reference.Serving{Endpoints: map[string]targets.Endpoint{"dns/udp": udp("127.0.0.1:5300"), "dns/tcp": tcp("127.0.0.1:5300")}, Features: []string{"dns/axfr-acl"}},
			"protospec run dns --target 127.0.0.1:5300 --feature dns/axfr-acl"},
		{"dns", reference.Serving{Endpoints: map[string]targets.Endpoint{"dns/udp": udp("127.0.0.1:5301"), "dns/tcp": tcp("127.0.0.1:5300")}},
			"protospec run dns --target '127.0.0.1:5300,dns=udp://127.0.0.1:5301'"},
		{"dns", reference.Serving{Endpoints: map[string]targets.Endpoint{"resolver/udp": udp("127.0.0.1:5301"), "resolver/tcp": tcp("127.0.0.1:5301")}},
			"protospec run dns --target 'resolver=127.0.0.1:5301,resolver=udp://127.0.0.1:5301'"},
		{"echo", reference.Serving{Endpoints: map[string]targets.Endpoint{"echo/tcp": tcp("127.0.0.1:7"), "echo/udp": udp("127.0.0.1:7")}},
			"protospec run echo --target 'echo=127.0.0.1:7,echo=udp://127.0.0.1:7'"},
	} {
		if got := runLine(c.proto, c.s); got != c.want {
			t.Errorf("%s %v:\n got %s\nwant %s", c.proto, c.s, got, c.want)
		}
	}
}
