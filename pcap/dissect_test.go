package pcap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestHTTPFraming covers the body-length rules of RFC 9112 6.3 on one
// pipelined connection.
func TestHTTPFraming(t *testing.T) {
	req := func(s string) string { return s + " HTTP/1.1\r\nHost: x\r\n\r\n" }
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, httpSrv, "")
		ts := t0
		must(t, tc.Handshake(ts))
		// Five pipelined requests in one segment burst.
		must(t, tc.Data(ts, true, []byte(req("GET /a")+req("HEAD /b")+req("GET /c")+req("GET /d")+"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")))
		must(t, tc.Data(ts.Add(time.Millisecond), false, []byte(
			"HTTP/1.1 100 Continue\r\n\r\n"+
				"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"+
				"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+ // HEAD: no body
				"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n"+
				"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"+
				"HTTP/1.0 200 OK\r\n\r\nuntil close")))
		must(t, tc.Close(ts.Add(2*time.Millisecond)))
	})
	_, msgs, _ := analyze(t, data, Options{})
	got := strings.Join(summaries(msgs), "\n")
	want := strings.Join([]string{
		"flow 1 -> client#0 GET /a HTTP/1.1",
		"flow 1 -> client#1 HEAD /b HTTP/1.1",
		"flow 1 -> client#2 GET /c HTTP/1.1",
		"flow 1 -> client#3 GET /d HTTP/1.1",
		"flow 1 -> client#4 POST /e HTTP/1.1",
		"flow 1 <- server#0 HTTP/1.1 100 Continue (answers #0)",
		"flow 1 <- server#1 HTTP/1.1 200 OK (answers #0)",
		"flow 1 <- server#2 HTTP/1.1 200 OK (answers #1)",
		"flow 1 <- server#3 HTTP/1.1 200 OK (answers #2)",
		"flow 1 <- server#4 HTTP/1.1 304 Not Modified (answers #3)",
		"flow 1 <- server#5 HTTP/1.0 200 OK (answers #4)",
	}, "\n")
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if b := string(httpBody(msgs[8])); b != "hello" || !msgs[8].HTTP.Chunked {
		t.Errorf("chunked body %q", b)
	}
	if !msgs[10].HTTP.CloseDelimited || string(httpBody(msgs[10])) != "until close" {
		t.Errorf("close-delimited %+v", msgs[10].HTTP)
	}
	if string(httpBody(msgs[4])) != "abc" {
		t.Errorf("request body %q", httpBody(msgs[4]))
	}
	for _, m := range msgs {
		if len(m.Problems) > 0 {
			t.Errorf("%s", m)
		}
	}
}

// TestReassembly feeds segments out of order, retransmitted, overlapping,
// and with a hole, and starts one connection mid-stream.
func TestReassembly(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz"
	seg := func(tc *TCPConn, fromClient bool, seq uint32, payload string, flags string) []byte {
		// Build a segment at an explicit sequence number.
		saved := tc.sseq
		if fromClient {
			saved = tc.cseq
			tc.cseq = seq
		} else {
			tc.sseq = seq
		}
		var buf bytes.Buffer
		w, _ := NewWriter(&buf)
		c := *tc
		c.w = w
		must(t, c.segment(t0, fromClient, flags, []byte(payload)))
		if fromClient {
			tc.cseq = saved
		} else {
			tc.sseq = saved
		}
		r, _ := Open(bytes.NewReader(w.flushBytes(t, &buf)))
		p, err := r.Next()
		must(t, err)
		return append([]byte(nil), p.Data...)
	}
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, httpSrv, "")
		must(t, tc.Handshake(t0))
		must(t, tc.Data(t0, true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
		base := tc.sseq
		parts := []struct {
			off  int
			text string
		}{{20, resp[20:40]}, {0, resp[:10]}, {0, resp[:10]}, {5, resp[5:25]}, {40, resp[40:50]}, {20, resp[20:40]}, {55, resp[55:]}}
		for i, p := range parts {
			must(t, w.WriteFrame(t0.Add(time.Duration(i)*time.Millisecond), seg(tc, false, base+uint32(p.off), p.text, "PA"), ""))
		}
		must(t, w.WriteFrame(t0.Add(time.Second), seg(tc, false, base+uint32(len(resp)), "", "FA"), ""))
		// The client acknowledges everything, the hole included.
		tc.sseq = base + uint32(len(resp)) + 1
		must(t, w.WriteFrame(t0.Add(time.Second), seg(tc, true, tc.cseq, "", "FA"), ""))
		// Mid-stream: a connection whose handshake was not captured.
		mid := w.TCP(netip.MustParseAddrPort("127.0.0.1:40001"), httpSrv, "")
		mid.open = true
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
	if b := string(httpBody(msgs[1])); b != "abcdefghijklmnopqrstuvwxyz"[:10]+"pqrstuvwxyz"[:0]+b[10:] || !strings.HasPrefix(b, "abcdefghij") || len(b) != 21 {
		t.Errorf("body %q", b)
	}
	if !flows[1].MidStream || flows[0].MidStream || sum.Gaps != 1 {
		t.Errorf("mid-stream %v %v, gaps %d", flows[1].MidStream, flows[0].MidStream, sum.Gaps)
	}
}

func (w *Writer) flushBytes(t *testing.T, buf *bytes.Buffer) []byte {
	must(t, w.Flush())
	return buf.Bytes()
}

// TestDNSOverTCP frames length-prefixed messages, two in one segment and
// one split across segments, answered out of order.
func TestDNSOverTCP(t *testing.T) {
	q1, q2 := dnsQuery(1, "www.test."), dnsQuery(2, "mail.test.")
	a1, a2 := dnsAnswer(q1, "127.0.0.1"), dnsAnswer(q2, "127.0.0.2")
	prefix := func(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }
	data := capture(t, func(w *Writer) {
		tc := w.TCP(cli, dnsSrv, "")
		must(t, tc.Handshake(t0))
		must(t, tc.Data(t0, true, append(prefix(q1), prefix(q2)...)))
		both := append(prefix(a2), prefix(a1)...)
		tc.MSS = 30
		must(t, tc.Data(t0, false, both))
		must(t, tc.Close(t0))
	})
	_, msgs, _ := analyze(t, data, Options{})
	got := strings.Join(summaries(msgs), "\n")
	want := "flow 1 -> client#0 dns query id=1 www.test. A IN\n" +
		"flow 1 -> client#1 dns query id=2 mail.test. A IN\n" +
		"flow 1 <- server#0 dns response NOERROR id=2 mail.test. A IN an=1 ns=0 ar=0 (answers #1)\n" +
		"flow 1 <- server#1 dns response NOERROR id=1 www.test. A IN an=1 ns=0 ar=0 (answers #0)"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if msgs[2].DNS.Answers[0] != "mail.test. 300 IN A 127.0.0.2" {
		t.Errorf("answers %q", msgs[2].DNS.Answers)
	}
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
	_, msgs, flows := analyze(t, data, Options{DecodeAs: map[uint16]string{9999: "none", 7777: ProtoEcho}, Only: ProtoEcho})
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
			tc.cseq += 10
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
