package echofuzz

import (
	"testing"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/fuzz/engine/enginetest"
	contract "github.com/protospec/protospec/internal/echo"
	_ "github.com/protospec/protospec/targets/reference"
)

// TestReferenceClean fuzzes the reference server briefly: nothing must be
// found, and every seed reaches a state.
func TestReferenceClean(t *testing.T) { enginetest.ReferenceClean(t, echoModel{}, contract.Name) }

// TestRegistered checks the model is registered under the contract's name.
func TestRegistered(t *testing.T) { enginetest.Registered[echoModel](t, contract.Name) }

// FuzzModel feeds arbitrary bytes to the model's sessions, as what was sent
// and what came back, and to its mutator: nothing may panic, and Parse may
// never claim more bytes than it was given.
func FuzzModel(f *testing.F) {
	f.Add([]byte("hello\r\n"), []byte("hello\r\n"), uint64(1))
	f.Add([]byte("a\nb"), []byte("a\nc"), uint64(2))
	f.Fuzz(func(t *testing.T, sent, got []byte, seed uint64) {
		if err := engine.CheckModel(echoModel{}, sent, got, seed); err != nil {
			t.Fatal(err)
		}
	})
}
