package pcap_test

import (
	"bytes"
	. "github.com/protospec/protospec/pcap"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/protospec/protospec/internal/echo"
	"github.com/protospec/protospec/pcap/http1"
)

// TestReassembly feeds segments out of order, retransmitted, overlapping,
// and with a hole, and starts one connection mid-stream.
func TestReassembly(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz"
	seg := func(tc *TCPConn, fromClient bool, seq uint32, payload string, flags string) []byte {
		// Build a segment at an explicit sequence number.
		saved := *tc.Seq(fromClient)
		*tc.Seq(fromClient) = seq
		var buf bytes.Buffer
		w, _ := NewWriter(&buf)
		must(t, tc.OnWriter(w).Segment(t0, fromClient, flags, []byte(payload)))
		*tc.Seq(fromClient) = saved
		r, _ := Open(bytes.NewReader(flushBytes(t, w, &buf)))
		p, err := r.Next()
		must(t, err)
		return append([]byte(nil), p.Data...)
	}
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, httpSrv, "")
		must(t, tc.Handshake(t0))
		must(t, tc.Data(t0, true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
		base := *tc.Seq(false)
		parts := []struct {
			off  int
			text string
		}{{20, resp[20:40]}, {0, resp[:10]}, {0, resp[:10]}, {5, resp[5:25]}, {40, resp[40:50]}, {20, resp[20:40]}, {55, resp[55:]}}
		for i, p := range parts {
			must(t, w.WriteFrame(t0.Add(time.Duration(i)*time.Millisecond), seg(tc, false, base+uint32(p.off), p.text, "PA"), ""))
		}
		must(t, w.WriteFrame(t0.Add(time.Second), seg(tc, false, base+uint32(len(resp)), "", "FA"), ""))
		// The client acknowledges everything, the hole included.
		*tc.Seq(false) = base + uint32(len(resp)) + 1
		must(t, w.WriteFrame(t0.Add(time.Second), seg(tc, true, *tc.Seq(true), "", "FA"), ""))
		// Mid-stream: a connection whose handshake was not captured.
		mid := w.TCP(netip.MustParseAddrPort("127.0.0.1:40001"), httpSrv, "")
		mid.SetOpen()
		must(t, mid.Data(t0.Add(2*time.Second), true, []byte("GET /mid HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, mid.Data(t0.Add(2*time.Second), false, []byte("HTTP/1.1 204 No Content\r\n\r\n")))
	})
	sum, msgs, flows := analyze(t, data, Options{})
	got := strings.Join(summaries(msgs), "\n")
	want := "flow 1 -> client#0 GET / HTTP/1.1\n" +
		"flow 1 <- server#0 HTTP/1.1 200 OK (answers #0) [truncated]\n" +
		"flow 2 -> client#0 GET /mid HTTP/1.1\n" +
		"flow 2 <- server#0 HTTP/1.1 204 No Content (answers #0)"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	f := flows[0]
	if f.Gaps != 1 || f.GapBytes != 5 || f.Retransmits < 2 || f.OutOfOrder < 1 || f.End != "fin" {
		t.Errorf("flow %+v", f)
	}
	if b := string(msgs[1].Raw[http1.InfoOf(msgs[1]).HeaderLen:]); b != "abcdefghijklmnopqrstuvwxyz"[:10]+"pqrstuvwxyz"[:0]+b[10:] || !strings.HasPrefix(b, "abcdefghij") || len(b) != 21 {
		t.Errorf("body %q", b)
	}
	if !flows[1].MidStream || flows[0].MidStream || sum.Gaps != 1 {
		t.Errorf("mid-stream %v %v, gaps %d", flows[1].MidStream, flows[0].MidStream, sum.Gaps)
	}
}

func flushBytes(t *testing.T, w *Writer, buf *bytes.Buffer) []byte {
	must(t, w.Flush())
	return buf.Bytes()
}

// TestSniffAndDecodeAs: protocols on unusual ports are found by content,
// or named with DecodeAs.
func TestSniffAndDecodeAs(t *testing.T) {
	odd := netip.MustParseAddrPort("127.0.0.1:9999")
	q := dnsQuery(9, "www.test.")
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, odd, "")
		must(t, tc.Data(t0, true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
		must(t, tc.Data(t0, false, []byte("HTTP/1.1 204 No Content\r\n\r\n")))
		must(t, tc.Close(t0))
		must(t, w.UDP(t0, netip.MustParseAddrPort("127.0.0.1:5000"), netip.MustParseAddrPort("127.0.0.1:5300"), true, q, ""))
		must(t, w.UDP(t0, netip.MustParseAddrPort("127.0.0.1:5300"), netip.MustParseAddrPort("127.0.0.1:5000"), false, dnsAnswer(q, "127.0.0.1"), ""))
		must(t, w.UDP(t0, netip.MustParseAddrPort("127.0.0.1:6000"), netip.MustParseAddrPort("127.0.0.1:7777"), true, []byte("hi\n"), ""))
		must(t, w.UDP(t0, netip.MustParseAddrPort("127.0.0.1:7777"), netip.MustParseAddrPort("127.0.0.1:6000"), false, []byte("HI\n"), ""))
	})
	_, _, flows := analyze(t, data, Options{})
	var protos []string
	for _, f := range flows {
		protos = append(protos, f.Transport+"/"+f.Proto+" "+f.Client.String())
	}
	if got := strings.Join(protos, ", "); got != "tcp/http1 127.0.0.1:40000, udp/dns 127.0.0.1:5000, udp/echo 127.0.0.1:6000" {
		t.Errorf("sniffed %s", got)
	}
	_, msgs, flows := analyze(t, data, Options{DecodeAs: map[uint16]string{9999: "none", 7777: echo.Name}, Only: echo.Name})
	if flows[0].Proto != "" || len(msgs) != 2 || msgs[1].Answers != 0 {
		t.Errorf("decode-as: %+v %q", flows[0], summaries(msgs))
	}
	if _, err := ParseDecodeAs([]string{"80=gopher"}); err == nil {
		t.Error("ParseDecodeAs accepted an unknown protocol")
	}
}

// TestBoundedMemory: many concurrent connections that each hold
// out-of-order data stay within MaxBuffer, and MaxFlows evicts.
func TestBoundedMemory(t *testing.T) {
	data := capture(t, func(w *Writer) {
		var conns []*TCPConn
		for i := 0; i < 300; i++ {
			tc := w.TCP(netip.AddrPortFrom(cli.Addr(), uint16(20000+i)), httpSrv, "")
			must(t, tc.Handshake(t0))
			conns = append(conns, tc)
		}
		// Each connection skips 10 bytes, then sends 8 KiB it cannot
		// deliver.
		for _, tc := range conns {
			*tc.Seq(true) += 10
			must(t, tc.Data(t0, true, bytes.Repeat([]byte("x"), 8192)))
		}
	})
	const limit = 256 << 10
	sum, _, flows := analyze(t, data, Options{MaxBuffer: limit})
	if sum.BufferFlushes == 0 || len(flows) != 300 || sum.PeakBuffer > limit+8192 {
		t.Fatalf("flushes %d flows %d peak %d", sum.BufferFlushes, len(flows), sum.PeakBuffer)
	}
	for _, f := range flows {
		if f.Gaps != 1 || f.GapBytes != 10 {
			t.Fatalf("flow %d: gaps %d (%d bytes)", f.ID, f.Gaps, f.GapBytes)
		}
	}
	// With room for 100 flows, the least recently active are ended early
	// (and come back as new, mid-stream flows).
	sum, _, flows = analyze(t, data, Options{MaxFlows: 100})
	if sum.Evicted == 0 || len(flows) <= 300 {
		t.Fatalf("evicted %d flows %d", sum.Evicted, len(flows))
	}
}
