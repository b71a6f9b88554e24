package smtp

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/protospec/protospec/pcap"
)

// FuzzDissector feeds any client and server bytes to one flow's
// dissector, cut into segments and interleaved at random: nothing may
// panic, every byte of each side is in exactly one message (their Len
// sums to what was sent, TLS counted), and every answer links a reply
// to a client message.
func FuzzDissector(f *testing.F) {
	f.Add([]byte("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nDATA\r\nx\r\n..y\r\n.\r\nQUIT\r\n"), []byte("220 ESMTP\r\n250-a\r\n250 b\r\n250 ok\r\n250 ok\r\n354 go\r\n250 2.0.0 q\r\n221 bye\r\n"), uint64(1))
	f.Add([]byte("EHLO c\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello"), []byte("220 x\r\n250 ok\r\n220 go\r\n\x16\x03\x03"), uint64(2))
	f.Add([]byte("BDAT 4\r\nabcdBDAT 0 LAST\r\nDATA\r\nearly\r\n.\r\n"), []byte("220 x\r\n250 4\r\n250 q\r\n503 no\r\n500 ?\r\n500 ?\r\n"), uint64(3))
	f.Add([]byte("DATA\nx\n.\n"), []byte("220-a\r\n221 b\r\n354\n"), uint64(4))
	f.Fuzz(func(t *testing.T, client, server []byte, seed uint64) {
		var msgs []*pcap.Message
		fl := &pcap.Flow{ID: 1, Proto: contractName, Transport: "tcp"}
		e := pcap.NewEmitter(fl, true, 1<<16, func(m *pcap.Message) { msgs = append(msgs, m) })
		d := newDissector(e)
		r := rand.New(rand.NewPCG(seed, 7))
		ts := time.Unix(1e9, 0)
		in := [2][]byte{client, server}
		sides := [2]pcap.Side{pcap.Client, pcap.Server}
		for len(in[0])+len(in[1]) > 0 {
			k := r.IntN(2)
			if len(in[k]) == 0 {
				k = 1 - k
			}
			n := min(len(in[k]), 1+r.IntN(64))
			ts = ts.Add(time.Millisecond)
			d.Data(sides[k], ts, in[k][:n])
			in[k] = in[k][n:]
		}
		d.End(pcap.Client, ts, false)
		d.End(pcap.Server, ts, false)
		var sum [2]int64
		for _, m := range msgs {
			if m.Len < 0 || m.Info == nil {
				t.Fatalf("%v: len %d, info %v", m, m.Len, m.Info)
			}
			sum[m.Side] += m.Len
			if m.Peer != nil && (m.Side != pcap.Server || m.Peer.Side != pcap.Client || m.Answers != m.Peer.N) {
				t.Fatalf("%v answers %v", m, m.Peer)
			}
		}
		if sum[pcap.Client] != int64(len(client)) || sum[pcap.Server] != int64(len(server)) {
			t.Fatalf("messages hold %d client and %d server bytes of %d and %d", sum[pcap.Client], sum[pcap.Server], len(client), len(server))
		}
	})
}
