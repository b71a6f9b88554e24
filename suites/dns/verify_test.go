package dns

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

func TestBitEntropy(t *testing.T) {
	counter := make([]uint16, 64)
	constant := make([]uint16, 64)
	random := make([]uint16, 64)
	buf := make([]byte, 128)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	for i := range counter {
		counter[i] = uint16(1000 + i)
		constant[i] = 4242
		random[i] = binary.BigEndian.Uint16(buf[2*i:])
	}
	if h := bitEntropy(constant); h != 0 {
		t.Errorf("constant: %.2f bits, want 0", h)
	}
	if h := bitEntropy(counter); h > 8 {
		t.Errorf("counter: %.2f bits, want few", h)
	}
	if h := bitEntropy(random); h < 14 || h > 16 {
		t.Errorf("random: %.2f bits, want about 16", h)
	}
}

func TestWalkMessage(t *testing.T) {
	m := new(mdns.Msg)
	m.SetQuestion("www.test.", mdns.TypeA)
	m.Answer = []mdns.RR{mustRR("www.test. 300 IN A 127.0.0.1"), mustRR("www.test. 300 IN CNAME mail.test.")}
	m.Compress = true
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	n, end, err := walkMessage(b)
	if err != nil || end != len(b) || n < 2 {
		t.Fatalf("walk: %d pointers, end %d of %d, %v", n, end, len(b), err)
	}
	// A pointer to itself (forward or same offset) is reported.
	bad := append(header(1, 0, 1, 0, 0, 0), 0xC0, 12, 0, 1, 0, 1)
	if _, _, err := walkMessage(bad); err == nil || !strings.Contains(err.Error(), "points forward") {
		t.Fatalf("self pointer: %v", err)
	}
	if _, _, err := walkMessage(b[:len(b)-3]); err == nil {
		t.Fatal("a cut message passed")
	}
}

func TestCheckSection(t *testing.T) {
	got := []mdns.RR{mustRR("WWW.test. 300 IN A 127.0.0.1")}
	if err := checkSection("answer", got, []string{"www.test.\t300\tIN\tA\t127.0.0.1"}, false); err != nil {
		t.Fatal(err)
	}
	err := checkSection("answer", got, []string{"www.test. 300 IN A 127.0.0.2"}, false)
	if err == nil || !strings.Contains(err.Error(), "expected:") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("mismatch: %v", err)
	}
	if err := checkSection("additional", got, nil, true); err != nil {
		t.Fatal(err)
	}
	if err := checkSection("authority", got, nil, false); err == nil {
		t.Fatal("extra record passed an exact check")
	}
}
