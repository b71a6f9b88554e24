// Package loadgentest holds the helpers the protocols' load-client tests
// share:
//
//	res := loadgentest.MustRun(t, loadgen.Config{Protocol: p, Requests: 100})
package loadgentest

import (
	"context"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/loadgen"
)

// MustRun runs a load that must be able to run, within 20 seconds; the
// test fails at once when it cannot.
func MustRun(t *testing.T, cfg loadgen.Config) *loadgen.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
