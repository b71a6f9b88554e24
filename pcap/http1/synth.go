package http1

import (
	"io"
	"net/netip"
	"time"

	"github.com/protospec/protospec/pcap"
)

// Synth writes a capture of n HTTP/1.1 connections, each with a few
// keep-alive exchanges (small and 8 KiB bodies, one chunked), 64 of them
// interleaved at a time: a load for benchmarks and a sample for tries.
func Synth(out io.Writer, n int) error {
	w, err := pcap.NewWriter(out)
	if err != nil {
		return err
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	big := make([]byte, 8192)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	server := netip.MustParseAddrPort("127.0.0.1:80")
	const batch = 64
	for start := 0; start < n; start += batch {
		var conns []*pcap.TCPConn
		for i := start; i < min(start+batch, n); i++ {
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, byte(1 + i>>16), byte(i >> 8)}), uint16(10000+i%50000))
			conns = append(conns, w.TCP(client, server, ""))
		}
		ts := base.Add(time.Duration(start) * time.Millisecond)
		for _, c := range conns {
			if err := c.Handshake(ts); err != nil {
				return err
			}
		}
		exchanges := []struct{ req, resp string }{
			{"GET /index.html HTTP/1.1\r\nHost: example.test\r\nUser-Agent: bench\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"},
			{"GET /data/8k.bin HTTP/1.1\r\nHost: example.test\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 8192\r\n\r\n" + string(big)},
			{"POST /echo HTTP/1.1\r\nHost: example.test\r\nContent-Length: 11\r\n\r\nhello world", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n"},
		}
		for _, ex := range exchanges {
			for _, c := range conns {
				ts = ts.Add(10 * time.Microsecond)
				if err := c.Data(ts, true, []byte(ex.req)); err != nil {
					return err
				}
			}
			for _, c := range conns {
				ts = ts.Add(10 * time.Microsecond)
				if err := c.Data(ts, false, []byte(ex.resp)); err != nil {
					return err
				}
			}
		}
		for _, c := range conns {
			ts = ts.Add(10 * time.Microsecond)
			if err := c.Ack(ts, true); err != nil {
				return err
			}
			if err := c.Close(ts); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}
