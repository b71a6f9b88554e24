package http1_test

import (
	"testing"

	_ "github.com/protospec/protospec/suites/http1"
	"github.com/protospec/protospec/suites/spec"
	_ "github.com/protospec/protospec/targets/all"
)

// TestHTTP1 runs the HTTP/1.x suite against the embedded reference, or
// against the target named by PROTOSPEC_TARGET.
func TestHTTP1(t *testing.T) { spec.RunSuite(t, "http1") }
