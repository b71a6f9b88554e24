package dns_test

import (
	"testing"

	_ "github.com/protospec/protospec/suites/dns"
	"github.com/protospec/protospec/suites/spec"
	_ "github.com/protospec/protospec/targets/all"
)

// TestDNS runs the DNS suite against the embedded reference, or against the
// target named by PROTOSPEC_TARGET.
func TestDNS(t *testing.T) { spec.RunSuite(t, "dns") }
