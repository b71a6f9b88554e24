package dnsfuzz

import (
	"bytes"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	fixture "github.com/protospec/protospec/internal/dns"
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
	// An RR whose RDATA ends before one of its domain names (RDLENGTH 0,
	// or an SOA whose RDATA holds only its first name) unpacks with that
	// name empty, not the root; Pack writes an empty name as no bytes, so
	// the packed RDATA is shifted and the packed message does not unpack.
	// A name read from the wire is never empty (the root is "."), so an
	// empty one marks exactly this case. Found by FuzzMsgRoundTrip
	// (testdata/fuzz/FuzzMsgRoundTrip/empty-rdata-soa, truncated-rdata-soa).
	"empty-rdata-names": func(m *mdns.Msg, err error) bool {
		if err == nil {
			return false
		}
		for _, sec := range [][]mdns.RR{m.Answer, m.Ns, m.Extra} {
			for _, rr := range sec {
				if hasEmptyName(rr) {
					return true
				}
			}
		}
		return false
	},
	// An RR whose RDATA ends before its type's fields do unpacks with the
	// missing fields at their zero values (miekg/dns stops at RDLENGTH
	// without an error); Pack then writes those zeros, or writes a length
	// field (an NSEC3's salt length, say) that no longer matches the data
	// after it, so the packed message differs or does not unpack. Such an
	// RR's last field is zero, which is what is matched; only failing
	// round trips are matched at all. Found by FuzzMsgRoundTrip
	// (testdata/fuzz/FuzzMsgRoundTrip/truncated-rdata-nsec3).
	"partial-rdata": func(m *mdns.Msg, _ error) bool {
		for _, sec := range [][]mdns.RR{m.Answer, m.Ns, m.Extra} {
			for _, rr := range sec {
				if rr.Header().Rrtype != mdns.TypeOPT && lastFieldZero(rr) {
					return true
				}
			}
		}
		return false
	},
}

// lastFieldZero reports whether the last RDATA field of rr is its zero
// value (an empty slice counts as zero).
func lastFieldZero(rr mdns.RR) bool {
	v := reflect.ValueOf(rr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct || v.Elem().NumField() < 2 {
		return false
	}
	f := v.Elem().Field(v.Elem().NumField() - 1)
	if f.Kind() == reflect.Slice {
		return f.Len() == 0
	}
	return f.IsZero()
}

// hasEmptyName reports whether one of rr's domain-name fields (tagged
// domain-name or cdomain-name by miekg/dns) is the empty string.
func hasEmptyName(rr mdns.RR) bool {
	v := reflect.ValueOf(rr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return false
	}
	v = v.Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !strings.HasSuffix(f.Tag.Get("dns"), "domain-name") {
			continue
		}
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			if fv.String() == "" {
				return true
			}
		case reflect.Slice:
			for j := 0; j < fv.Len(); j++ {
				if e := fv.Index(j); e.Kind() == reflect.String && e.String() == "" {
					return true
				}
			}
		}
	}
	return false
}

// knownQuirk returns the first quirk, in name order, that explains err
// for m (several may: a short SOA has both an empty name and a zero last
// field), or "".
func knownQuirk(m *mdns.Msg, err error) string {
	for _, name := range slices.Sorted(maps.Keys(quirks)) {
		if quirks[name](m, err) {
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
	if _, err := m2.Pack(); !quirks["extended-rcode-without-opt"](m2, err) {
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
	} else if !quirks["empty-rdata-names"](m3, err) {
		t.Fatalf("quirk empty-rdata-names not matched: %v", err)
	}
	if err := roundTrip(in); err != nil {
		t.Fatal(err)
	}
	// The same quirk with RDATA that holds the SOA's first name only.
	in = []byte("0000\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06000000\x00\x01\x00")
	m4 := new(mdns.Msg)
	if err := m4.Unpack(in); err != nil {
		t.Fatalf("the truncated SOA no longer unpacks: %v", err)
	}
	if !hasEmptyName(m4.Answer[0]) {
		t.Log("miekg/dns no longer leaves a truncated SOA's second name empty")
	}
	if err := roundTrip(in); err != nil {
		t.Fatal(err)
	}
	// partial-rdata: an NSEC3 whose RDATA ends before its salt.
	in = []byte("0000\x00\x01000000\x000000\x00\x002000000\x00\x0500000")
	m5 := new(mdns.Msg)
	if err := m5.Unpack(in); err != nil {
		t.Fatalf("the truncated NSEC3 no longer unpacks: %v", err)
	}
	if len(m5.Answer) != 1 || !lastFieldZero(m5.Answer[0]) {
		t.Fatalf("quirk partial-rdata not matched: %v", m5)
	}
	if err := roundTrip(in); err != nil {
		t.Fatal(err)
	}
	// A whole SOA has no empty name: the quirk does not hide it.
	soa, err := mdns.NewRR("test. 60 IN SOA ns.test. admin.test. 1 2 3 4 5")
	if err != nil {
		t.Fatal(err)
	}
	if hasEmptyName(soa) || lastFieldZero(soa) {
		t.Fatal("a quirk matched a whole SOA")
	}
}
