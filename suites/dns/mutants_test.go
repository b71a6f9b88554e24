package dns

import (
	"encoding/binary"
	"testing"

	mdns "github.com/miekg/dns"

	contract "github.com/protospec/protospec/internal/dns"
	"github.com/protospec/protospec/targets/mutant"
)

func TestMutantDropQuestion(t *testing.T) {
	m := new(mdns.Msg)
	m.SetQuestion("www.test.", mdns.TypeA)
	rr, _ := mdns.NewRR("www.test. 300 IN A 127.0.0.1")
	m.Answer = []mdns.RR{rr}
	m.Compress = true
	wire, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var got mdns.Msg
	if err := got.Unpack(dropQuestion(wire)); err != nil {
		t.Fatal(err)
	}
	if len(got.Question) != 0 || len(got.Answer) != 1 || got.Answer[0].Header().Name != "www.test." {
		t.Errorf("without its question: %v", &got)
	}
	if out := dropQuestion([]byte{1, 2, 3}); string(out) != "\x01\x02\x03" {
		t.Errorf("a message that does not unpack changed: %q", out)
	}
}

// Over TCP a mutation that changes a message's length gets the right
// length prefix.
func TestMutantTCPFraming(t *testing.T) {
	mu, ok := mutant.Lookup(contract.Name, "drop-question")
	if !ok {
		t.Fatal("no drop-question mutant")
	}
	m := new(mdns.Msg)
	m.SetQuestion("www.test.", mdns.TypeA)
	wire, _ := m.Pack()
	framed := append(binary.BigEndian.AppendUint16(nil, uint16(len(wire))), wire...)
	toClient, _ := mu.Stream("dns/tcp")
	// In two pieces, and then the next message's first byte.
	out1, _ := toClient.Next(framed[:5], false)
	out2, _ := toClient.Next(append(append([]byte(nil), framed[5:]...), 0), false)
	if len(out1) != 0 {
		t.Errorf("forwarded %d bytes of an incomplete message", len(out1))
	}
	if n := int(binary.BigEndian.Uint16(out2)); n != len(out2)-2 || n != len(wire)-14 {
		t.Errorf("length prefix %d for a %d-byte message (%d without the question)", n, len(out2)-2, len(wire)-14)
	}
}
