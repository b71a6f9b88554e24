package pcap_test

import (
	"encoding/binary"
	"flag"
	"math/rand"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/protospec/protospec/pcap/pcaptest"
)

var update = flag.Bool("update", false, "rewrite pcap/testdata from the synthesizer")

// goldenCaptures makes the checked-in captures of the engine: damaged
// files (the protocols' own are in their rooms' testdata).
func goldenCaptures() map[string][]byte {
	rng := rand.New(rand.NewSource(1))
	noise := make([]byte, 2048)
	rng.Read(noise)
	pcapHdr := classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, nil)
	return map[string][]byte{
		"garbage.pcap": append(pcapHdr, noise...),
		"garbage.bin":  noise[:512],
	}
}

// TestGolden dissects the checked-in captures and compares with the
// .txt next to each; go test ./pcap -run TestGolden -update rewrites both.
func TestGolden(t *testing.T) {
	var caps map[string][]byte
	if *update {
		caps = goldenCaptures()
	}
	pcaptest.Golden(t, *update, caps)
}
