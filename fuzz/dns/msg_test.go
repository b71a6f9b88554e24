package dnsfuzz

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/fixture/dns"
)

// roundTrip unpacks data, packs it and checks the result is a fixed point:
// unpack(pack(m)) packs to the same bytes. Messages miekg/dns cannot pack
// back are skipped only when a known quirk explains them.
func roundTrip(data []byte) error {
	m1 := new(mdns.Msg)
	if err := m1.Unpack(data); err != nil {
		return nil // not a message: nothing to round-trip
	}
	b1, err := m1.Pack()
	if err != nil {
		if q := knownQuirk(m1, err); q != "" {
			return nil
		}
		return fmt.Errorf("unpacked message does not pack: %v\n%v", err, m1)
	}
	m2 := new(mdns.Msg)
	if err := m2.Unpack(b1); err != nil {
		if q := knownQuirk(m1, err); q != "" {
			return nil
		}
		return fmt.Errorf("packed message does not unpack: %v\n%x", err, b1)
	}
	b2, err := m2.Pack()
	if err != nil {
		return fmt.Errorf("second pack: %v", err)
	}
	if !bytes.Equal(b1, b2) {
		if q := knownQuirk(m1, nil); q != "" {
			return nil
		}
		return fmt.Errorf("round trip not stable:\n%x\n%x\n%v\n%v", b1, b2, m1, m2)
	}
	return nil
}

// quirks are the known miekg/dns round-trip quirks, by name; each has a
// regression test in TestKnownQuirks.
var quirks = map[string]func(m *mdns.Msg, err error) bool{
	// An extended rcode needs an OPT to be packed; Unpack accepts an OPT
	// that Pack then refuses to carry the extended bits in, e.g. a header
	// rcode ORed with the OPT's extended bits beyond 12 bits.
	"extended-rcode-without-opt": func(m *mdns.Msg, err error) bool {
		return err == mdns.ErrExtendedRcode
	},
	// An RR with RDLENGTH 0 whose type holds domain names (an SOA, say)
	// unpacks with empty names, not the root; Pack writes those as no
	// bytes under an RDLENGTH that counts the fixed fields only, so the
	// packed message does not unpack. Found by FuzzMsgRoundTrip
	// (testdata/fuzz/FuzzMsgRoundTrip/empty-rdata-soa).
	"empty-rdata-names": func(m *mdns.Msg, err error) bool {
		if err == nil {
			return false
		}
		for _, sec := range [][]mdns.RR{m.Answer, m.Ns, m.Extra} {
			for _, rr := range sec {
				if h := rr.Header(); h.Rdlength == 0 && h.Rrtype != mdns.TypeOPT {
					return true
				}
			}
		}
		return false
	},
}

func knownQuirk(m *mdns.Msg, err error) string {
	for name, match := range quirks {
		if match(m, err) {
			return name
		}
	}
	return ""
}

func seedQueries() [][]byte {
	var out [][]byte
	for _, c := range fixture.Cases {
		m := new(mdns.Msg)
		m.SetQuestion(c.Name, c.Type)
		if len(out)%2 == 0 {
			m.SetEdns0(1232, true)
		}
		b, _ := m.Pack()
		out = append(out, b)
	}
	m := new(mdns.Msg)
	m.SetQuestion("big.test.", mdns.TypeTXT)
	m.SetEdns0(4096, false)
	m.IsEdns0().SetVersion(1)
	b, _ := m.Pack()
	out = append(out, b, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	m.Opcode = mdns.OpcodeNotify
	b, _ = m.Pack()
	return append(out, b)
}

func FuzzMsgRoundTrip(f *testing.F) {
	for _, s := range seedQueries() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := roundTrip(data); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzZoneParser(f *testing.F) {
	for _, z := range fixture.Zones {
		f.Add(z.Text())
	}
	f.Add("$ORIGIN x.\n@ SOA a b 1 2 3 4 5\n$GENERATE 1-3 h$ A 127.0.0.$\n")
	f.Add("@ 1 IN TXT \"unterminated\n")
	f.Fuzz(func(t *testing.T, text string) {
		zp := mdns.NewZoneParser(strings.NewReader(text), "test.", "")
		for i := 0; i < 10000; i++ {
			if _, ok := zp.Next(); !ok {
				break
			}
		}
		_ = zp.Err()
	})
}

// TestKnownQuirks pins each allow-listed quirk to an input that shows it,
// so the list cannot silently grow stale.
func TestKnownQuirks(t *testing.T) {
	// A message whose unpacked Rcode exceeds 4 bits has to be re-packed
	// with an OPT; here it has one, so packing works: no quirk needed.
	m := new(mdns.Msg)
	m.SetQuestion("www.test.", mdns.TypeA)
	m.SetEdns0(1232, false)
	m.Rcode = mdns.RcodeBadVers
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(b); err != nil {
		t.Fatal(err)
	}
	// extended-rcode-without-opt: packing an extended rcode with no OPT.
	m2 := new(mdns.Msg)
	m2.Rcode = mdns.RcodeBadVers
	if _, err := m2.Pack(); knownQuirk(m2, err) != "extended-rcode-without-opt" {
		t.Fatalf("quirk extended-rcode-without-opt not matched: %v", err)
	}
	// empty-rdata-names: an SOA with RDLENGTH 0 (the fuzzer's input).
	in := []byte("0000\x00\x01000000\x000000\x00\x00\x06000000\x00\x00")
	m3 := new(mdns.Msg)
	if err := m3.Unpack(in); err != nil {
		t.Fatalf("the quirk's input no longer unpacks: %v", err)
	}
	packed, err := m3.Pack()
	if err != nil {
		t.Fatalf("the quirk's input no longer packs: %v", err)
	}
	err = new(mdns.Msg).Unpack(packed)
	if err == nil {
		t.Log("miekg/dns round-trips an SOA with empty RDATA now: the empty-rdata-names quirk can go")
	} else if q := knownQuirk(m3, err); q != "empty-rdata-names" {
		t.Fatalf("quirk empty-rdata-names not matched: %v", err)
	}
	if err := roundTrip(in); err != nil {
		t.Fatal(err)
	}
}
