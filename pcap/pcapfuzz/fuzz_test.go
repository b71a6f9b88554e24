package pcapfuzz

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/protospec/protospec/pcap"
	"github.com/protospec/protospec/pcap/pcaptest"

	// The dissectors of the protocols protospec ships.
	_ "github.com/protospec/protospec/pcap/dns"
	_ "github.com/protospec/protospec/pcap/echo"
	_ "github.com/protospec/protospec/pcap/http1"
)

// FuzzOpen feeds arbitrary file bytes through the reader, the decoder,
// the reassembly, the dissectors and the checker: none may panic, and the
// reader must end. The seed helpers take pcaptest.TB, which the libFuzzer
// shim's F satisfies.
func FuzzOpen(f *testing.F) {
	pkts := pcaptest.Frames(f)
	f.Add(pcaptest.Classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, pkts))
	f.Add(pcaptest.Classic(binary.BigEndian, true, layers.LinkTypeRaw, 100, pkts))
	f.Add(pcaptest.BigEndianNG(layers.LinkTypeLinuxSLL, pkts[:3]))
	f.Add(pcaptest.Gz(pcaptest.Classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, pkts[:4])))
	q := pcaptest.DNSQuery(1, "www.test.")
	dnsSrv := pcaptest.Addr("127.0.0.1:53")
	f.Add(pcaptest.Capture(f, func(w *pcap.Writer) {
		pcaptest.Exchange(f, w, pcaptest.Client, pcaptest.Addr("127.0.0.1:80"), pcaptest.T0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
		pcaptest.Must(f, w.UDP(pcaptest.T0, pcaptest.Client, dnsSrv, true, q, ""))
		pcaptest.Must(f, w.UDP(pcaptest.T0, dnsSrv, pcaptest.Client, false, pcaptest.DNSAnswer(q, "127.0.0.1"), ""))
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := pcap.Open(bytes.NewReader(data))
		if err != nil {
			return
		}
		c := pcap.NewChecker()
		sum, err := pcap.Analyze(r, pcap.Options{KeepRaw: true, OnMessage: c.Message, MaxBuffer: 1 << 20})
		if err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		if sum.Read.Packets > len(data) {
			t.Fatalf("%d packets from %d bytes", sum.Read.Packets, len(data))
		}
		c.Run("fuzz", sum, pcaptest.T0, "")
	})
}
