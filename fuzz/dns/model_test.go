package dnsfuzz

import (
	"testing"

	"github.com/protospec/protospec/fuzz/engine"
	"github.com/protospec/protospec/fuzz/engine/enginetest"
	contract "github.com/protospec/protospec/internal/dns"
	_ "github.com/protospec/protospec/targets/reference"
)

// TestReferenceClean fuzzes the reference server briefly: nothing must be
// found, and every seed reaches a state.
func TestReferenceClean(t *testing.T) { enginetest.ReferenceClean(t, dnsModel{}, contract.Name) }

// TestRegistered checks the model is registered under the contract's name.
func TestRegistered(t *testing.T) { enginetest.Registered[dnsModel](t, contract.Name) }

// FuzzModel feeds arbitrary bytes to the model's sessions, as what was sent
// and what came back, and to its mutator: nothing may panic, and Parse may
// never claim more bytes than it was given.
func FuzzModel(f *testing.F) {
	f.Add(dnsQuery(7, "www.test.", 1, true, false), dnsQuery(7, "www.test.", 1, false, false), uint64(3))
	f.Add(tcpFrame(dnsQuery(7, "a.", 1, false, false)), []byte{0, 2, 0, 7}, uint64(4))
	f.Fuzz(func(t *testing.T, sent, got []byte, seed uint64) {
		if err := engine.CheckModel(dnsModel{}, sent, got, seed); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDNSJudge(t *testing.T) {
	s := &dnsSession{ids: map[uint16]int{}}
	q := dnsQuery(0x1234, "www.test.", 1, false, false)
	if n, sure := s.Sent(q); n != 1 || !sure {
		t.Fatalf("Sent: %d, %v", n, sure)
	}
	resp := append([]byte(nil), q...)
	resp[2] |= 0x80
	if _, _, err := s.Parse(resp, true); err != nil {
		t.Errorf("valid response: %v", err)
	}
	for name, b := range map[string][]byte{
		"QR clear":    q,
		"short":       resp[:7],
		"other ID":    append([]byte{0x43, 0x21}, resp[2:]...),
		"not unpacks": append(append([]byte(nil), resp[:12]...), 0xc0),
	} {
		s.Sent(q)
		if _, _, err := s.Parse(b, true); err == nil {
			t.Errorf("%s: no grammar error", name)
		}
	}
}
