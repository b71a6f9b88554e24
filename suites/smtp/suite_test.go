package smtp_test

import (
	"testing"

	_ "github.com/protospec/protospec/protocols"
	"github.com/protospec/protospec/suites/spec"
)

// TestSMTP runs the SMTP suite against the embedded reference, or against
// the target named by PROTOSPEC_TARGET.
func TestSMTP(t *testing.T) { spec.RunSuite(t, "smtp") }
