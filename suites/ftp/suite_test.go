package ftp_test

import (
	"testing"

	_ "github.com/protospec/protospec/protocols"
	"github.com/protospec/protospec/suites/spec"
)

// TestFTP runs the FTP suite against the embedded reference, or against
// the target named by PROTOSPEC_TARGET.
func TestFTP(t *testing.T) { spec.RunSuite(t, "ftp") }
