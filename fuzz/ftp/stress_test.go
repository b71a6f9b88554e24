package ftpfuzz

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/fuzz/engine/enginetest"
	"github.com/protospec/protospec/internal/stress"
	"github.com/protospec/protospec/reports"
	"github.com/protospec/protospec/targets"
	"github.com/protospec/protospec/targets/reference"
)

// TestStressReference mounts every attack of the battery on the
// reference, briefly: each must pass (the legitimate client served).
func TestStressReference(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, ok := reference.Lookup(contractName); !ok {
		t.Skip("no FTP reference is registered in this build")
	}
	tg, err := targets.Open(context.Background(), "reference", targets.Options{Protocol: contractName})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	run, err := stress.Run(context.Background(), stress.Options{Protocol: contractName, Target: tg, Duration: 2 * time.Second, Conns: 300})
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range run.Specs {
		t.Logf("%s: %s: %s", sp.ID, sp.State, strings.SplitN(sp.Message, "\n", 2)[0])
		if sp.State != reports.StatePassed {
			t.Errorf("%s: %s\n%s", sp.ID, sp.State, sp.Message)
		}
	}
}

// TestReferenceClean fuzzes the reference server briefly: nothing must be
// found, and every seed reaches a state.
func TestReferenceClean(t *testing.T) {
	if _, ok := reference.Lookup(contractName); !ok {
		t.Skip("no FTP reference is registered in this build")
	}
	enginetest.ReferenceClean(t, ftpModel{}, contractName)
}
