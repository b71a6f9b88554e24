package protocol_test

import (
	"strings"
	"testing"

	_ "github.com/protospec/protospec/internal/dns"
	_ "github.com/protospec/protospec/internal/echo"
	_ "github.com/protospec/protospec/internal/ftp"
	_ "github.com/protospec/protospec/internal/http1"
	"github.com/protospec/protospec/internal/protocol"
)

// TestContracts checks every registered contract: a title, services on a
// known transport, features named "<protocol>/..." with a doc line each,
// params with a doc line each, and a fixture that writes something.
func TestContracts(t *testing.T) {
	names := protocol.Names()
	if len(names) < 3 {
		t.Fatalf("registered contracts %v, want at least the three protocol packages imported", names)
	}
	for _, n := range names {
		c, _ := protocol.Lookup(n)
		if c.Name != n || c.Title == "" || len(c.Services) == 0 {
			t.Errorf("%s: name %q, title %q, %d services", n, c.Name, c.Title, len(c.Services))
		}
		for _, s := range c.Services {
			if s.Transport != "tcp" && s.Transport != "udp" && s.Transport != "tls" {
				t.Errorf("%s: service %s on transport %q", n, s.Key(), s.Transport)
			}
		}
		for _, f := range c.Features {
			if !strings.HasPrefix(f.Name, n+"/") || f.Doc == "" {
				t.Errorf("%s: feature %q (doc %q): want a name %s/... and a doc line", n, f.Name, f.Doc, n)
			}
		}
		seen := map[string]bool{}
		for _, p := range c.Params {
			if p.Name == "" || p.Doc == "" || seen[p.Name] {
				t.Errorf("%s: param %q (doc %q): want a unique name and a doc line", n, p.Name, p.Doc)
			}
			seen[p.Name] = true
		}
		if c.Fixture != nil {
			dir := t.TempDir()
			if err := c.Fixture(dir); err != nil {
				t.Errorf("%s: fixture: %v", n, err)
			}
		}
	}
}
