package pcap_test

import (
	"bytes"
	"encoding/binary"
	. "github.com/protospec/protospec/pcap"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// FuzzOpen feeds arbitrary file bytes through the reader, the decoder,
// the reassembly, the dissectors and the checker: none may panic, and the
// reader must end.
func FuzzOpen(f *testing.F) {
	pkts := frames(f)
	f.Add(classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, pkts))
	f.Add(classic(binary.BigEndian, true, layers.LinkTypeRaw, 100, pkts))
	f.Add(bigEndianNG(layers.LinkTypeLinuxSLL, pkts[:3]))
	f.Add(gz(classic(binary.LittleEndian, false, layers.LinkTypeEthernet, 65535, pkts[:4])))
	q := dnsQuery(1, "www.test.")
	f.Add(capture(f, func(w *Writer) {
		httpExchange(f, w, cli, t0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
		must(f, w.UDP(t0, cli, dnsSrv, true, q, ""))
		must(f, w.UDP(t0, dnsSrv, cli, false, dnsAnswer(q, "127.0.0.1"), ""))
	}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data))
		if err != nil {
			return
		}
		c := NewChecker()
		sum, err := Analyze(r, Options{KeepRaw: true, OnMessage: c.Message, MaxBuffer: 1 << 20})
		if err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		if sum.Read.Packets > len(data) {
			t.Fatalf("%d packets from %d bytes", sum.Read.Packets, len(data))
		}
		c.Run("fuzz", sum, t0, "")
	})
}
