package echo_test

import (
	"testing"

	_ "github.com/protospec/protospec/suites/echo"
	"github.com/protospec/protospec/suites/spec"
	_ "github.com/protospec/protospec/targets/all"
)

// TestEcho runs the echo suite against the embedded reference, or against
// the target named by PROTOSPEC_TARGET.
func TestEcho(t *testing.T) { spec.RunSuite(t, "echo") }
